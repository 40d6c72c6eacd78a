//! JS ↔ Rust conversions with typed errors that name the offending argument.
//!
//! Plain-data arguments cross the boundary as one `JSON.stringify` and are read from a
//! `serde_json::Value`; results go back as one `JSON.parse`. Functions and signals are
//! read directly with `Reflect`.

use crate::protocol::json::{Map, Value};
use js_sys::{Function, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

use crate::protocol::Error;

/// Converts a JS value holding plain data to JSON. `undefined`/`null` become `Null`.
pub fn js_to_json(v: &JsValue, path: &str) -> Result<Value, Error> {
    if v.is_undefined() || v.is_null() {
        return Ok(Value::Null);
    }
    let text = JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| Error::invalid_input(path, "must be plain data (no BigInt or cycles)"))?;
    crate::protocol::json::parse(text.as_bytes())
        .ok_or_else(|| Error::invalid_input(path, "must be plain data"))
}

/// Converts JSON to a JS value (plain objects and arrays).
pub fn json_to_js(v: &Value) -> JsValue {
    text_to_js(&crate::protocol::record::json_text(v))
}

/// Parses JSON text we produced into a JS value with the engine's native `JSON.parse`.
pub fn text_to_js(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or(JsValue::NULL)
}

/// Reads an optional function-valued property of an options object.
pub fn get_function(obj: &JsValue, key: &str) -> Result<Option<Function>, Error> {
    if !obj.is_object() {
        return Ok(None);
    }
    let v = Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let mut path = String::from("options.");
    path.push_str(key);
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| Error::invalid_input(&path, "must be a function"))
}

/// The attempt sender (`send.js`) the package's `api.js` passes to `connect` under the
/// symbol `Symbol.for("shotgrid-wasm.send")` (a symbol key: invisible to `JSON.stringify`,
/// so never mistaken for a user option; see `transport::SendFn`).
pub fn sender(options: &JsValue) -> Option<Function> {
    package_hook(options, "shotgrid-wasm.send")
}

/// A function-valued option under the symbol `Symbol.for(name)`.
fn package_hook(options: &JsValue, name: &str) -> Option<Function> {
    if !options.is_object() {
        return None;
    }
    let key = js_sys::Symbol::for_(name);
    Reflect::get(options, &key)
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

/// Builds the JS error thrown to callers: an `Error` named `ShotGridError` carrying
/// `kind`, `status`, `code`, `title`, `detail`, `source`, `requestId`, `retryable`.
pub fn error_to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message());
    err.set_name("ShotGridError");
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&err, &JsValue::from_str(k), &v);
    };
    let opt_num = |n: Option<f64>| n.map_or(JsValue::NULL, JsValue::from_f64);
    let opt_str = |s: Option<&str>| s.map_or(JsValue::NULL, JsValue::from_str);
    set("kind", JsValue::from_str(e.kind.as_str()));
    set("status", opt_num(e.status.map(f64::from)));
    set("code", opt_num(e.code.map(|c| c as f64)));
    set("title", JsValue::from_str(&e.title));
    set("detail", opt_str(e.detail.as_deref()));
    set(
        "source",
        e.source.as_ref().map_or(JsValue::NULL, json_to_js),
    );
    set("requestId", opt_str(e.request_id.as_deref()));
    set("retryable", JsValue::from_bool(e.retryable));
    set("maybeApplied", JsValue::from_bool(e.maybe_applied));
    set("retryAfterMs", opt_num(e.retry_after_ms));
    err.into()
}

/// A JSON object being read as named options, with paths for errors.
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Obj<'a> {
    /// Requires `v` to be an object.
    pub fn new(v: &'a Value, path: &'a str) -> Result<Self, Error> {
        match v {
            Value::Object(map) => Ok(Obj { map, path }),
            _ => Err(Error::invalid_input(path, "must be an object")),
        }
    }

    /// `None` for `null`/`undefined`, else requires an object.
    pub fn new_optional(v: &'a Value, path: &'a str) -> Result<Option<Self>, Error> {
        if v.is_null() {
            Ok(None)
        } else {
            Obj::new(v, path).map(Some)
        }
    }

    fn child(&self, key: &str) -> String {
        let mut p = String::from(self.path);
        p.push('.');
        p.push_str(key);
        p
    }

    /// The raw member.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// Rejects members not in `allowed` (catches typos such as `clientSecrect`).
    pub fn only(&self, allowed: &[&str]) -> Result<(), Error> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => {
                let mut detail = String::from("unknown option; expected one of: ");
                detail.push_str(&crate::protocol::join(allowed, ", "));
                Err(Error::invalid_input(&self.child(k), detail))
            }
            None => Ok(()),
        }
    }

    /// A required non-empty string.
    pub fn req_str(&self, key: &str) -> Result<&'a str, Error> {
        self.opt_str(key)?
            .ok_or_else(|| Error::invalid_input(&self.child(key), "is required"))
    }

    /// An optional non-empty string.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            Some(_) => Err(Error::invalid_input(
                &self.child(key),
                "must be a non-empty string",
            )),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::invalid_input(
                &self.child(key),
                "must be true or false",
            )),
        }
    }

    /// An optional integer within `min..=max`.
    pub fn opt_int(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, Error> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|n| n.fract() == 0.0 && *n >= min as f64 && *n <= max as f64)
                .map(|n| Some(n as u64))
                .ok_or_else(|| {
                    let mut d = String::from("must be an integer from ");
                    d.push_str(&crate::protocol::dec(min));
                    d.push_str(" to ");
                    d.push_str(&crate::protocol::dec(max));
                    Error::invalid_input(&self.child(key), d)
                }),
        }
    }

    /// An optional list of strings.
    pub fn opt_str_list(&self, key: &str) -> Result<Option<Vec<String>>, Error> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_str().map(str::to_owned).ok_or_else(|| {
                        let mut p = self.child(key);
                        p.push('[');
                        p.push_str(&crate::protocol::dec(i));
                        p.push(']');
                        Error::invalid_input(&p, "must be a string")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(Error::invalid_input(
                &self.child(key),
                "must be an array of strings",
            )),
        }
    }
}

/// The boxed future every facade promise runs.
type BoxedJsFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, JsValue>>>>;

/// `wasm_bindgen_futures::future_to_promise` behind a type-erased box: its glue is
/// instantiated once for the whole facade instead of once per method (tens of KB of
/// .wasm otherwise).
pub fn future_to_promise<F>(future: F) -> js_sys::Promise
where
    F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
{
    let boxed: BoxedJsFuture = Box::pin(future);
    wasm_bindgen_futures::future_to_promise(boxed)
}
