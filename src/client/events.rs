//! Event-log following and webhook acknowledgements over the engine. The decisions
//! (filters, holes, ordering) live in [`crate::protocol::events`]; this only fetches.

use crate::protocol::json::Value;

use crate::protocol::json::json;

use super::{Client, OneShot, Transport};
use crate::protocol::events::{sort_page, FollowPosition};
use crate::protocol::filters::validate as validate_filters;
use crate::protocol::http::{percent_encode_into, HttpRequest, Method};
use crate::protocol::query::{ReadMethod, ReadQuery, ReturnOnly};
use crate::protocol::record::{json_text, parse_json, take_data};
use crate::protocol::Error;

/// How a follower polls.
#[derive(Clone, Debug)]
pub struct FollowConfig {
    /// Events per request (1–5000).
    pub page_size: u32,
    /// Only events about these entity types (all when empty).
    pub entity_types: Vec<String>,
    /// EventLogEntry fields to read.
    pub fields: Vec<String>,
    /// How long a hole is waited for, in ms.
    pub hole_timeout_ms: f64,
}

/// The read of a follower: without a position, the newest EventLogEntry's id
/// ([`Client::latest_event_id`]); with one, a page of events after it
/// ([`Client::fetch_event_page`]). One constructor for both (each read built
/// apart was a copy of its own in the follower's state machine).
pub fn follow_query(
    position: Option<&FollowPosition>,
    config: &FollowConfig,
) -> Result<ReadQuery, Error> {
    let (filters, fields, sort, page_size, method) = match position {
        None => (
            Value::Null,
            vec!["id".to_owned()],
            "-id",
            1,
            ReadMethod::Auto,
        ),
        Some(p) => (
            p.filters(),
            config.fields.clone(),
            "id",
            config.page_size,
            ReadMethod::Search,
        ),
    };
    ReadQuery::new(
        "EventLogEntry",
        validate_filters(&filters)?,
        fields,
        vec![sort.to_owned()],
        Some(page_size),
        ReturnOnly::Active,
        position.is_some(),
        method,
    )
}

impl<T: Transport> Client<T> {
    /// The id of the newest EventLogEntry (0 when the log is empty): where a follower
    /// without a stored position starts.
    pub async fn latest_event_id(&self) -> Result<u64, Error> {
        let config = FollowConfig {
            page_size: 1,
            entity_types: Vec::new(),
            fields: Vec::new(),
            hole_timeout_ms: 0.0,
        };
        let page = self.fetch_page(&follow_query(None, &config)?, 1).await?;
        Ok(page
            .ids
            .first()
            .and_then(|id| u64::try_from(*id).ok())
            .unwrap_or(0))
    }

    /// One page of the event log after `position` (newer ids and its holes), sorted by
    /// id: at most `config.page_size` records. Feed them to
    /// [`FollowPosition::advance`] one by one as they are handed out.
    pub async fn fetch_event_page(
        &self,
        position: &FollowPosition,
        config: &FollowConfig,
    ) -> Result<Vec<(u64, Value)>, Error> {
        sort_page(
            self.fetch_page_values(&follow_query(Some(position), config)?, 1)
                .await?,
        )
    }

    /// Milliseconds since the epoch, from the transport's clock.
    pub fn now_ms(&self) -> f64 {
        self.transport.now_ms()
    }

    /// Sets a webhook delivery's acknowledgement (`PUT /webhook/deliveries/{id}`, at
    /// most 4 KB), shown with the delivery in ShotGrid's webhook log. Returns the
    /// delivery.
    pub async fn acknowledge_delivery(
        &self,
        delivery_id: &str,
        acknowledgement: &str,
    ) -> Result<Value, Error> {
        self.run(self.acknowledge_delivery_call(delivery_id, acknowledgement))
            .await
    }

    /// [`Client::acknowledge_delivery`] as a [`OneShot`] (a write: setting the same
    /// acknowledgement twice is harmless, but writes stay unretried).
    pub fn acknowledge_delivery_call(
        &self,
        delivery_id: &str,
        acknowledgement: &str,
    ) -> OneShot<Value> {
        let req = (|| {
            let valid_id = !delivery_id.is_empty()
                && delivery_id.len() <= 128
                && delivery_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid_id {
                return Err(Error::invalid_input(
                    "deliveryId",
                    "must be a delivery id such as the delivery_id of a webhook payload",
                ));
            }
            if acknowledgement.len() > 4096 {
                return Err(Error::invalid_input(
                    "acknowledgement",
                    "must be at most 4096 bytes",
                ));
            }
            let mut path = String::from("/api/v1/webhook/deliveries/");
            percent_encode_into(&mut path, delivery_id);
            let body = json_text(&json!({ "acknowledgement": acknowledgement }));
            Ok(HttpRequest::new(Method::Put, self.config.site.url(&path))
                .header("Accept", "application/json")
                .header("Content-Type", "application/json")
                .body(body.into_bytes()))
        })();
        OneShot::write(req, |resp| take_data(parse_json(resp)?, resp))
    }
}
