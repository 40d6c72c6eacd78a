//! [`Transport::send_ext`](crate::client::Transport::send_ext) over `fetch`: bodies
//! and signals that stay in JS (a `Blob` slice or `Uint8Array` view is handed to
//! `fetch` as it is, never copied into wasm memory), `redirect: "manual"`, and 2xx
//! response bodies left in JS as the `Response` itself.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit};

use super::{js_failure, FetchTransport};
use crate::client::upload::{Extras, Handle};
use crate::protocol::http::{HttpRequest, HttpResponse, RESPONSE_HEADERS};
use crate::protocol::Error;

fn set(init: &RequestInit, key: &str, value: &JsValue) {
    let _ = Reflect::set(init, &JsValue::from_str(key), value);
}

/// Sends `req` with `extras` through the transport's `fetch`.
pub(super) async fn send(
    t: &FetchTransport,
    req: HttpRequest,
    extras: &Extras,
) -> Result<(HttpResponse, Option<Handle>), Error> {
    let init = RequestInit::new();
    init.set_method(req.method.as_str());
    let headers = Headers::new().map_err(|e| js_failure(&e))?;
    for (name, value) in &req.headers {
        headers
            .append(name, value)
            .map_err(|_| Error::invalid_input("headers", "a header value is not valid"))?;
    }
    init.set_headers(&headers);
    match (&extras.body, &req.body) {
        (Some(h), _) => {
            if let Some(js) = h.get::<JsValue>() {
                init.set_body(js);
            } else if let Some(bytes) = h.get::<Vec<u8>>() {
                init.set_body(&Uint8Array::from(bytes.as_slice()));
            }
        }
        (None, Some(body)) => init.set_body(&Uint8Array::from(body.as_slice())),
        (None, None) => {}
    }
    if extras.manual_redirect {
        set(&init, "redirect", &JsValue::from_str("manual"));
    }
    // The upload's or download's own signal and the call's signal both abort it.
    let extra_signal = extras.signal.as_ref().and_then(|h| h.get::<JsValue>());
    let (resp, guard) = t
        .call_fetch(&req.url, &init, extra_signal, extras.body.is_some())
        .await?;
    // The headers the protocol reads (as the JS sender copies them): one `get` each
    // instead of iterating every header through the iterator protocol.
    let mut headers = Vec::new();
    let all = resp.headers();
    for name in RESPONSE_HEADERS {
        if let Ok(Some(v)) = all.get(name) {
            headers.push(((*name).to_owned(), v));
        }
    }
    let opaque = Reflect::get(&resp, &JsValue::from_str("type"))
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|t| t == "opaqueredirect");
    let status = if opaque { 0 } else { resp.status() };
    if opaque || (extras.manual_redirect && (300..400).contains(&status)) {
        // Nothing to read; release the connection.
        cancel_body(&resp);
        return Ok((
            HttpResponse {
                status,
                headers,
                body: Vec::new(),
            },
            None,
        ));
    }
    if extras.keep_body && (200..300).contains(&status) {
        // The body is read later by the caller: aborting must still reach it.
        guard.keep();
        return Ok((
            HttpResponse {
                status,
                headers,
                body: Vec::new(),
            },
            Some(Handle::new(JsValue::from(resp))),
        ));
    }
    let buffer = JsFuture::from(resp.array_buffer().map_err(|e| js_failure(&e))?)
        .await
        .map_err(|e| {
            if guard.any_aborted() {
                super::aborted()
            } else {
                js_failure(&e)
            }
        })?;
    drop(guard);
    Ok((
        HttpResponse {
            status,
            headers,
            body: Uint8Array::new(&buffer).to_vec(),
        },
        None,
    ))
}

/// Cancels a response's body stream, if it has one (releases the connection).
pub(crate) fn cancel_body(resp: &JsValue) {
    let Ok(body) = Reflect::get(resp, &JsValue::from_str("body")) else {
        return;
    };
    if body.is_object() {
        if let Ok(cancel) = Reflect::get(&body, &JsValue::from_str("cancel"))
            .and_then(|f| f.dyn_into::<js_sys::Function>())
        {
            // Cancelling an unread body resolves; the promise needs no handler.
            let _ = cancel.call0(&body);
        }
    }
}
