//! The facade of the integration helpers: `verifyWebhook`, the form half of
//! `parseActionMenuItem`, the event-log follower behind `sg.events.follow`, and
//! `sg.acknowledgeDelivery`. The package's `extras.js` wraps these in the public API.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::convert::future_to_promise;
use crate::protocol::json::Value;
use js_sys::{Array, ArrayBuffer, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::convert::{error_to_js, js_to_json, json_to_js, Obj};
use super::ShotGrid;
use crate::client::events::FollowConfig;
use crate::client::Client;
use crate::protocol::ami;
use crate::protocol::events::{
    default_fields, matches_types, FollowPosition, DEFAULT_HOLE_TIMEOUT_MS,
};
use crate::protocol::naming::validate_entity_type;
use crate::protocol::Error;
use crate::transport::FetchTransport;
use crate::webhook;

/// Largest id JS represents exactly.
const MAX_ID: u64 = (1 << 53) - 1;

/// The raw body as bytes: a string (UTF-8), a `Uint8Array` or an `ArrayBuffer`.
fn body_bytes(raw: &JsValue) -> Result<Vec<u8>, Error> {
    if let Some(s) = raw.as_string() {
        return Ok(s.into_bytes());
    }
    if let Some(a) = raw.dyn_ref::<Uint8Array>() {
        return Ok(a.to_vec());
    }
    if let Some(b) = raw.dyn_ref::<ArrayBuffer>() {
        return Ok(Uint8Array::new(b).to_vec());
    }
    Err(Error::invalid_input(
        "rawBody",
        "must be the request body exactly as received: a string, Uint8Array or ArrayBuffer (read it with request.text() or request.arrayBuffer(), never re-serialize JSON)",
    ))
}

/// Verifies a webhook delivery's `x-sg-signature` (HMAC-SHA1 of the raw body keyed by
/// the hook's token, compared in constant time) and returns `{ timestamp, batched,
/// deliveries }`. Throws a `ShotGridError`: `invalid_input` for a missing or malformed
/// header, `auth` for a signature that does not match, `decode` for a body that is
/// not a delivery payload.
#[wasm_bindgen(js_name = verifyWebhookSignature, unchecked_return_type = "WebhookPayload")]
pub fn verify_webhook(
    raw_body: JsValue,
    signature_header: JsValue,
    token: JsValue,
) -> Result<JsValue, JsValue> {
    let run = || {
        let body = body_bytes(&raw_body)?;
        let header = if signature_header.is_undefined() || signature_header.is_null() {
            None
        } else {
            Some(signature_header.as_string().ok_or_else(|| {
                Error::invalid_input("signatureHeader", "must be a string or null")
            })?)
        };
        let token = token
            .as_string()
            .ok_or_else(|| Error::invalid_input("token", "must be a string"))?;
        webhook::verify(&body, header.as_deref(), &token)
    };
    run()
        .map(|p| json_to_js(&p.to_json()))
        .map_err(|e| error_to_js(&e))
}

/// Decodes an Action Menu Item post from its form: the urlencoded body as a string, or
/// an array of `[name, value]` pairs. Throws `invalid_input` errors naming the field.
#[wasm_bindgen(js_name = parseActionMenuItemForm, unchecked_return_type = "ActionMenuItem")]
pub fn parse_action_menu_item_form(form: JsValue) -> Result<JsValue, JsValue> {
    let run = || {
        let pairs = if let Some(s) = form.as_string() {
            ami::parse_form_urlencoded(&s)
        } else if Array::is_array(&form) {
            let v = js_to_json(&form, "form")?;
            let items = v.as_array().map(Vec::as_slice).unwrap_or(&[]);
            let mut pairs = Vec::with_capacity(items.len());
            for item in items {
                let pair = item.as_array().map(Vec::as_slice).unwrap_or(&[]);
                match pair {
                    [Value::String(k), Value::String(v)] => pairs.push((k.clone(), v.clone())),
                    _ => {
                        return Err(Error::invalid_input(
                            "form",
                            "must hold [name, value] pairs of strings (file fields are not part of an AMI post)",
                        ))
                    }
                }
            }
            pairs
        } else {
            return Err(Error::invalid_input(
                "form",
                "must be the urlencoded body or [name, value] pairs",
            ));
        };
        ami::parse(&pairs)
    };
    run()
        .map(|p| json_to_js(&p.to_json()))
        .map_err(|e| error_to_js(&e))
}

/// Reads the event log for `sg.events.follow` (which adds waiting, `untilCaughtUp`
/// and `signal` in JS). Create one with `sg.eventFollower(options)`.
///
/// Events are handed out one at a time and the position moves only past events handed
/// out (and the non-matching ones before them), so a caller that stops early resumes
/// exactly where it stopped.
#[wasm_bindgen]
pub struct EventFollower {
    inner: Rc<Client<FetchTransport>>,
    config: FollowConfig,
    state: Rc<RefCell<Option<FollowerState>>>,
}

struct FollowerState {
    /// `None` until the first poll when starting at the newest event.
    position: Option<FollowPosition>,
    /// Polled records not handed out yet, sorted by id.
    queue: VecDeque<(u64, Value)>,
    /// The last poll returned a partial page.
    caught_up: bool,
    /// A poll happened since `next` last answered `null`.
    polled: bool,
}

/// The next event, or `None` when caught up. Errors leave the state as it was.
async fn next_event(
    client: &Client<FetchTransport>,
    config: &FollowConfig,
    st: &mut FollowerState,
) -> Result<Option<Value>, Error> {
    loop {
        let Some(position) = st.position.as_mut() else {
            st.position = Some(FollowPosition::after(client.latest_event_id().await?));
            st.caught_up = true;
            st.polled = true;
            continue;
        };
        let now = client.now_ms();
        while let Some((id, record)) = st.queue.pop_front() {
            if position.advance(id, now) && matches_types(&record, &config.entity_types) {
                return Ok(Some(record));
            }
        }
        if st.polled && st.caught_up {
            st.polled = false;
            return Ok(None);
        }
        position.expire(now, config.hole_timeout_ms);
        let page = client.fetch_event_page(position, config).await?;
        st.caught_up = page.len() < config.page_size as usize;
        st.polled = true;
        st.queue = page.into();
    }
}

fn parse_follow(options: &JsValue) -> Result<(FollowConfig, Option<FollowPosition>), Error> {
    let v = js_to_json(options, "options")?;
    let empty = Value::Object(crate::protocol::json::Map::new());
    let opts = match Obj::new_optional(&v, "options")? {
        Some(o) => o,
        None => Obj::new(&empty, "options")?,
    };
    opts.only(&[
        "afterId",
        "position",
        "entityTypes",
        "pageSize",
        "fields",
        "holeTimeoutMs",
    ])?;
    let after = opts.opt_int("afterId", 0, MAX_ID)?;
    let position = match (after, opts.get("position")) {
        (Some(_), Some(p)) if !p.is_null() => {
            return Err(Error::invalid_input(
                "options.position",
                "give either afterId or position, not both",
            ))
        }
        (Some(id), _) => Some(FollowPosition::after(id)),
        (None, Some(p)) if !p.is_null() => Some(FollowPosition::from_json(p, "options.position")?),
        _ => None,
    };
    let entity_types = opts.opt_str_list("entityTypes")?.unwrap_or_default();
    for t in &entity_types {
        validate_entity_type(t, "options.entityTypes")?;
    }
    let mut fields = opts.opt_str_list("fields")?.unwrap_or_else(default_fields);
    for required in ["id", "event_type", "entity"] {
        if !fields.iter().any(|f| f == required) {
            fields.push(required.to_owned());
        }
    }
    let hole_timeout_ms = opts
        .opt_int("holeTimeoutMs", 0, 24 * 3_600_000)?
        .map_or(DEFAULT_HOLE_TIMEOUT_MS, |n| n as f64);
    Ok((
        FollowConfig {
            page_size: opts.opt_int("pageSize", 1, 5000)?.map_or(500, |n| n as u32),
            entity_types,
            fields,
            hole_timeout_ms,
        },
        position,
    ))
}

#[wasm_bindgen]
impl EventFollower {
    /// The next new event (in id order; a late-committed event after higher ids), or
    /// `null` when there is nothing more right now. Call again only after it settles.
    #[wasm_bindgen(unchecked_return_type = "Promise<EventLogEntry | null>")]
    pub fn next(&self) -> Promise {
        let inner = self.inner.clone();
        let config = self.config.clone();
        let state = self.state.clone();
        future_to_promise(async move {
            let taken = state.borrow_mut().take();
            let Some(mut st) = taken else {
                return Err(error_to_js(&Error::invalid_input(
                    "next",
                    "called again before the previous call settled",
                )));
            };
            let result = next_event(&inner, &config, &mut st).await;
            *state.borrow_mut() = Some(st);
            match result.map_err(|e| error_to_js(&e))? {
                Some(event) => Ok(json_to_js(&event)),
                None => Ok(JsValue::NULL),
            }
        })
    }

    /// Where the follower is, `{ lastId, holes }`: store it and pass it back as
    /// `position` to resume. `null` before the first call of a follower started at the
    /// newest event, or while a call is running.
    #[wasm_bindgen(getter, unchecked_return_type = "EventPosition | null")]
    pub fn position(&self) -> JsValue {
        match self
            .state
            .borrow()
            .as_ref()
            .and_then(|s| s.position.as_ref())
        {
            Some(p) => json_to_js(&p.to_json()),
            None => JsValue::NULL,
        }
    }
}

#[wasm_bindgen]
impl ShotGrid {
    /// The poller behind `sg.events.follow` (prefer that). Throws on invalid options.
    #[wasm_bindgen(js_name = eventFollower)]
    pub fn event_follower(&self, options: JsValue) -> Result<EventFollower, JsValue> {
        let (config, position) = parse_follow(&options).map_err(|e| error_to_js(&e))?;
        Ok(EventFollower {
            inner: self.inner.clone(),
            config,
            state: Rc::new(RefCell::new(Some(FollowerState {
                position,
                queue: VecDeque::new(),
                caught_up: false,
                polled: false,
            }))),
        })
    }

    /// Sets the acknowledgement (≤ 4 KB) of a webhook delivery; resolves to the
    /// delivery record.
    #[wasm_bindgen(js_name = acknowledgeDelivery, unchecked_return_type = "Promise<Record<string, unknown>>")]
    pub fn acknowledge_delivery(&self, delivery_id: JsValue, acknowledgement: JsValue) -> Promise {
        let args = (|| {
            let id = delivery_id
                .as_string()
                .ok_or_else(|| Error::invalid_input("deliveryId", "must be a string"))?;
            let ack = acknowledgement
                .as_string()
                .ok_or_else(|| Error::invalid_input("acknowledgement", "must be a string"))?;
            Ok::<_, Error>((id, ack))
        })();
        let (id, ack) = match args {
            Ok(a) => a,
            Err(e) => return Promise::reject(&error_to_js(&e)),
        };
        super::run_one(
            &self.inner,
            self.inner.acknowledge_delivery_call(&id, &ack),
            |v| json_to_js(&v),
        )
    }
}
