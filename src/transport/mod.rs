//! The `fetch` transport for every JS runtime (browsers, Node ≥ 18, workerd).
//!
//! Runtime-agnostic by construction: it calls a `fetch` function (the global one or one
//! injected by the caller) with an absolute URL and a plain init object, and never sets
//! `credentials`, `mode` or `referrer`, which workerd rejects.

mod ext;

use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::client::Transport;
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::protocol::{Error, ErrorKind};

/// Sends requests with a JS `fetch` function.
pub struct FetchTransport {
    fetch: Function,
}

impl FetchTransport {
    /// Uses `fetch` if given (service bindings, proxies, tests), else `globalThis.fetch`.
    pub fn new(fetch: Option<Function>) -> Result<Self, Error> {
        let fetch = match fetch {
            Some(f) => f,
            None => Reflect::get(&js_sys::global(), &JsValue::from_str("fetch"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| {
                    Error::invalid_input(
                        "fetch",
                        "this runtime has no global fetch; pass one in the options",
                    )
                })?,
        };
        Ok(FetchTransport { fetch })
    }
}

fn js_failure(err: &JsValue) -> Error {
    let name = Reflect::get(err, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let message = Reflect::get(err, &JsValue::from_str("message"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let (kind, title) = match name.as_str() {
        "AbortError" => (ErrorKind::Aborted, "The operation was aborted"),
        "TimeoutError" => (ErrorKind::Timeout, "The request timed out"),
        _ => (ErrorKind::Network, "The request did not get a response"),
    };
    let mut e = Error::new(kind, title);
    if !message.is_empty() {
        e.detail = Some(message);
    }
    e.retryable = kind != ErrorKind::Aborted;
    e
}

impl Transport for FetchTransport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        let init = RequestInit::new();
        init.set_method(req.method.as_str());
        let headers = Headers::new().map_err(|e| js_failure(&e))?;
        for (name, value) in &req.headers {
            headers
                .append(name, value)
                .map_err(|_| Error::invalid_input("headers", "a header value is not valid"))?;
        }
        init.set_headers(&headers);
        if let Some(body) = &req.body {
            init.set_body(&Uint8Array::from(body.as_slice()));
        }
        let promise = self
            .fetch
            .call2(&JsValue::UNDEFINED, &JsValue::from_str(&req.url), &init)
            .map_err(|e| js_failure(&e))?;
        let value = JsFuture::from(js_sys::Promise::resolve(&promise))
            .await
            .map_err(|e| js_failure(&e))?;
        let resp: Response = value
            .dyn_into()
            .map_err(|_| Error::new(ErrorKind::Decode, "fetch did not return a Response"))?;
        let mut headers = Vec::new();
        if let Ok(Some(iter)) = js_sys::try_iter(&resp.headers()) {
            for entry in iter.flatten() {
                let pair: js_sys::Array = entry.unchecked_into();
                if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                    headers.push((k, v));
                }
            }
        }
        let buffer = JsFuture::from(resp.array_buffer().map_err(|e| js_failure(&e))?)
            .await
            .map_err(|e| js_failure(&e))?;
        Ok(HttpResponse {
            status: resp.status(),
            headers,
            body: Uint8Array::new(&buffer).to_vec(),
        })
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn sleep(&self, ms: f64) {
        // setTimeout exists in every runtime we target (browsers, Node, workerd).
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let global = js_sys::global();
            if let Ok(set_timeout) = Reflect::get(&global, &JsValue::from_str("setTimeout"))
                .and_then(|f| f.dyn_into::<Function>())
            {
                let _ = set_timeout.call2(&global, &resolve, &JsValue::from_f64(ms.max(0.0)));
            } else {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        });
        let _ = JsFuture::from(promise).await;
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    async fn send_ext(
        &self,
        req: HttpRequest,
        extras: &crate::client::upload::Extras,
    ) -> Result<(HttpResponse, Option<crate::client::upload::Handle>), Error> {
        ext::send(self, req, extras).await
    }
}
