//! The facade of the integration helpers: the event-log follower behind
//! `sg.events.follow`, and `sg.acknowledgeDelivery`. The package's `extras.js` wraps
//! these in the public API (and verifies webhooks and decodes Action Menu Item posts
//! itself, with WebCrypto and URLSearchParams).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::convert::future_to_promise;
use crate::protocol::json::Value;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::convert::{error_to_js, js_to_json, json_to_js, Obj};
use super::ShotGrid;
use crate::client::events::{follow_query, FollowConfig};
use crate::client::Client;
use crate::protocol::events::{
    default_fields, matches_types, sort_page, FollowPosition, DEFAULT_HOLE_TIMEOUT_MS,
};
use crate::protocol::naming::validate_entity_type;
use crate::protocol::Error;
use crate::transport::FetchTransport;

/// Largest id JS represents exactly.
const MAX_ID: u64 = (1 << 53) - 1;

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
///
/// One request await in the loop (the newest id, or a page of events): each await of
/// its own inlined a copy of the read into this state machine.
async fn next_event(
    client: &Client<FetchTransport>,
    config: &FollowConfig,
    st: &mut FollowerState,
) -> Result<Option<Value>, Error> {
    loop {
        let query = match st.position.as_mut() {
            // Starting at the newest event: ask for its id first.
            None => follow_query(None, config)?,
            Some(position) => {
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
                follow_query(Some(&*position), config)?
            }
        };
        let page = sort_page(client.fetch_page_values(&query, 1).await?)?;
        st.polled = true;
        if st.position.is_none() {
            st.position = Some(FollowPosition::after(page.last().map_or(0, |(id, _)| *id)));
            st.caught_up = true;
        } else {
            st.caught_up = page.len() < config.page_size as usize;
            st.queue = page.into();
        }
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

impl ShotGrid {
    /// The poller behind `sg.events.follow` (prefer that). Throws on invalid options.
    pub(crate) fn event_follower(&self, options: JsValue) -> Result<EventFollower, JsValue> {
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
    pub(crate) fn acknowledge_delivery(
        &self,
        delivery_id: JsValue,
        acknowledgement: JsValue,
    ) -> Promise {
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
