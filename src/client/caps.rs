//! Engine methods for the endpoints beyond records: text search, summaries, schema,
//! preferences, hierarchy, follows, activity, webhooks, raw reads. Each one builds a
//! request with [`crate::protocol`] (which validates first), sends it, decodes the answer.
//! Reads go through `send_authed`; writes through `send_write` (never replayed).

use crate::protocol::json::Value;

use super::{Client, Transport};
use crate::protocol::common::decode_error;
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::protocol::query::{decode_page, Pager, ReadQuery};
use crate::protocol::record::parse_json;
use crate::protocol::search::{decode_summarize, decode_text_search, Summarize, TextSearch};
use crate::protocol::social::ActivityOptions;
use crate::protocol::{hooks, navigation, schema, social, Error};

/// A call that is one request and one answer: the request is built (and its input
/// validated) when the value is made; [`Client::run`] sends it and decodes the answer.
/// Most capabilities have this shape, and running them all through one `run` keeps
/// one async state machine per result type in the .wasm instead of one per method.
#[must_use = "a OneShot does nothing until given to Client::run"]
pub struct OneShot<R> {
    req: Result<HttpRequest, Error>,
    write: bool,
    /// Sent with the bearer token (all but the public server info).
    auth: bool,
    decode: fn(&HttpResponse) -> Result<R, Error>,
}

impl<R> OneShot<R> {
    /// A read: retried per the policy.
    pub fn read(
        req: Result<HttpRequest, Error>,
        decode: fn(&HttpResponse) -> Result<R, Error>,
    ) -> Self {
        OneShot {
            req,
            write: false,
            auth: true,
            decode,
        }
    }

    /// A read sent without the token (the server info): retried per the policy.
    pub fn public(
        req: Result<HttpRequest, Error>,
        decode: fn(&HttpResponse) -> Result<R, Error>,
    ) -> Self {
        OneShot {
            req,
            write: false,
            auth: false,
            decode,
        }
    }

    /// A write: never replayed once it may have reached the server.
    pub fn write(
        req: Result<HttpRequest, Error>,
        decode: fn(&HttpResponse) -> Result<R, Error>,
    ) -> Self {
        OneShot {
            req,
            write: true,
            auth: true,
            decode,
        }
    }

    /// The request (or why it could not be built), whether it is a write, whether it
    /// carries the token, and the decoder: for a caller that sends with [`Client::send_call`] and decodes in a
    /// continuation that is not generic over `R` (the facade does, so the .wasm holds
    /// one async state machine for every result type).
    #[allow(clippy::type_complexity)]
    pub fn into_parts(
        self,
    ) -> (
        Result<HttpRequest, Error>,
        bool,
        bool,
        fn(&HttpResponse) -> Result<R, Error>,
    ) {
        (self.req, self.write, self.auth, self.decode)
    }
}

/// The decoded answer of a call; for a write whose 2xx answer cannot be decoded (a body
/// cut off mid-response, say), the error says the write may have been applied: the
/// site accepted it, only its answer is lost.
pub fn decoded<R>(write: bool, result: Result<R, Error>) -> Result<R, Error> {
    match result {
        Err(e) if write => Err(e.mark_write_outcome_unknown()),
        result => result,
    }
}

/// The decoder of answers whose body is not needed (204s and acknowledgements).
fn nothing(_: &HttpResponse) -> Result<(), Error> {
    Ok(())
}

impl<T: Transport> Client<T> {
    /// Sends a [`OneShot`]'s request (with the bearer token; reads retried, writes
    /// never replayed) and decodes the answer.
    pub async fn run<R>(&self, call: OneShot<R>) -> Result<R, Error> {
        let resp = self.send_call(call.req, call.write, call.auth).await?;
        decoded(call.write, (call.decode)(&resp))
    }

    /// Sends the request of a [`OneShot`] taken apart with [`OneShot::into_parts`]
    /// (with the bearer token unless `auth` is false; reads retried, writes never
    /// replayed). An error status is an error.
    pub async fn send_call(
        &self,
        req: Result<HttpRequest, Error>,
        write: bool,
        auth: bool,
    ) -> Result<HttpResponse, Error> {
        self.send_call_expecting(req, write, auth, None, None)
            .await
            .map(|(resp, _)| resp)
    }

    /// [`Client::send_call`] for a call whose 2xx answer is `kind` (if known): the
    /// answer comes with what [`Transport::send_expecting`] kept of it (the record or
    /// page the runtime decoded on arrival). A call without the token is sent as
    /// with `kind` unknown. `first`: its first attempt, already sent (see
    /// [`Client::send_with_token_from`]).
    pub async fn send_call_expecting(
        &self,
        req: Result<HttpRequest, Error>,
        write: bool,
        auth: bool,
        kind: Option<super::AnswerKind>,
        first: Option<super::FirstAttempt>,
    ) -> Result<(HttpResponse, Option<super::upload::Handle>), Error> {
        let req = req?;
        if auth {
            return self.send_with_token_from(req, write, kind, first).await;
        }
        let resp = self.send_idempotent(&req).await?;
        if resp.is_success() {
            Ok((resp, None))
        } else {
            Err(Error::from_response(&resp))
        }
    }

    /// Text search: one page when `page` is given, else every page up to `limit`.
    pub async fn text_search(
        &self,
        search: &TextSearch,
        page: Option<u32>,
        limit: Option<u64>,
    ) -> Result<Vec<Value>, Error> {
        let site = self.site().clone();
        if let Some(page) = page {
            if page == 0 {
                return Err(Error::invalid_input(
                    "options.page",
                    "must be a positive integer",
                ));
            }
            let resp = self.send_authed(search.page_request(&site, page)).await?;
            return decode_text_search(&resp);
        }
        let mut pager = Pager::new(search.page_size, limit);
        let mut out = Vec::new();
        while let Some(n) = pager.next_page() {
            let resp = self.send_authed(search.page_request(&site, n)).await?;
            let mut records = pager.accept(decode_text_search(&resp)?)?;
            out.append(&mut records);
        }
        Ok(out)
    }

    /// `_summarize`: `{summaries, groups}`.
    pub fn summarize(&self, s: &Summarize) -> OneShot<Value> {
        OneShot::read(Ok(s.request(self.site())), decode_summarize)
    }

    /// Records linked through an entity or multi-entity field.
    pub fn relationship(
        &self,
        entity_type: &str,
        id: u64,
        field: &str,
        retired: bool,
    ) -> OneShot<Value> {
        OneShot::read(
            social::relationship_request(self.site(), entity_type, id, field, retired),
            social::decode_relationship,
        )
    }

    /// `GET /schema`: `{Type: {name: {value, editable}, …}}`.
    pub fn schema_entities(&self, project_id: Option<u64>) -> OneShot<Value> {
        OneShot::read(
            schema::entities_request(self.site(), project_id),
            schema::decode_entities,
        )
    }

    /// `GET /schema/{t}`.
    pub fn schema_entity(&self, entity_type: &str, project_id: Option<u64>) -> OneShot<Value> {
        OneShot::read(
            schema::entity_request(self.site(), entity_type, project_id),
            schema::decode_schema_object,
        )
    }

    /// `GET /schema/{t}/fields`.
    pub fn schema_fields(&self, entity_type: &str, project_id: Option<u64>) -> OneShot<Value> {
        OneShot::read(
            schema::fields_request(self.site(), entity_type, project_id),
            schema::decode_schema_object,
        )
    }

    /// `GET /schema/{t}/fields/{name}`.
    pub fn schema_field(
        &self,
        entity_type: &str,
        field: &str,
        project_id: Option<u64>,
    ) -> OneShot<Value> {
        OneShot::read(
            schema::field_request(self.site(), entity_type, field, project_id),
            schema::decode_schema_object,
        )
    }

    /// Creates a field; resolves to the site's answer (the new field's schema).
    pub fn create_field(
        &self,
        entity_type: &str,
        data_type: &str,
        properties: &Value,
    ) -> OneShot<Value> {
        OneShot::write(
            schema::create_field_request(self.site(), entity_type, data_type, properties),
            schema::decode_schema_object,
        )
    }

    /// Updates a field's properties; resolves to its schema.
    pub fn update_field(
        &self,
        entity_type: &str,
        field: &str,
        properties: &Value,
        project_id: Option<u64>,
    ) -> OneShot<Value> {
        OneShot::write(
            schema::update_field_request(self.site(), entity_type, field, properties, project_id),
            schema::decode_schema_object,
        )
    }

    /// Deletes (retires) a field. 204: no body.
    pub fn delete_field(&self, entity_type: &str, field: &str) -> OneShot<()> {
        OneShot::write(
            schema::delete_field_request(self.site(), entity_type, field),
            nothing,
        )
    }

    /// Revives a deleted field. 204: no body.
    pub fn revive_field(&self, entity_type: &str, field: &str) -> OneShot<()> {
        OneShot::write(
            schema::revive_field_request(self.site(), entity_type, field),
            nothing,
        )
    }

    /// Site preferences, all or the named ones.
    pub fn preferences(&self, names: Option<&[String]>) -> OneShot<Value> {
        OneShot::read(
            navigation::preferences_request(self.site(), names),
            navigation::decode_preferences,
        )
    }

    /// `POST /hierarchy/_expand` (a read).
    pub fn hierarchy_expand(&self, body: &Value) -> OneShot<Value> {
        OneShot::read(
            navigation::expand_request(self.site(), body),
            navigation::decode_hierarchy,
        )
    }

    /// `POST /hierarchy/_search` (a read).
    pub fn hierarchy_search(&self, body: &Value) -> OneShot<Value> {
        OneShot::read(
            navigation::search_request(self.site(), body),
            navigation::decode_hierarchy,
        )
    }

    /// Makes a user follow one entity or several. 204: no body.
    pub fn follow(&self, user_id: u64, entity: &Value) -> OneShot<()> {
        OneShot::write(
            social::follow_request(self.site(), user_id, entity),
            nothing,
        )
    }

    /// Makes a user stop following an entity. 204: no body.
    pub fn unfollow(&self, user_id: u64, entity: &Value) -> OneShot<()> {
        OneShot::write(
            social::unfollow_request(self.site(), user_id, entity),
            nothing,
        )
    }

    /// Users following an entity: `[{type, id, name}]`.
    pub fn followers(&self, entity_type: &str, id: u64) -> OneShot<Vec<Value>> {
        OneShot::read(
            social::followers_request(self.site(), entity_type, id),
            social::decode_links,
        )
    }

    /// Entities a user follows: `[{type, id}]`.
    pub fn following(
        &self,
        user_id: u64,
        entity_type: Option<&str>,
        project_id: Option<u64>,
    ) -> OneShot<Vec<Value>> {
        OneShot::read(
            social::following_request(self.site(), user_id, entity_type, project_id),
            social::decode_links,
        )
    }

    /// An entity's activity stream.
    pub fn activity_stream(
        &self,
        entity_type: &str,
        id: u64,
        opts: &ActivityOptions,
    ) -> OneShot<Value> {
        OneShot::read(
            social::activity_stream_request(self.site(), entity_type, id, opts),
            social::decode_activity_stream,
        )
    }

    /// A note and its replies.
    pub fn note_thread(&self, note_id: u64, entity_fields: &Value) -> OneShot<Vec<Value>> {
        OneShot::read(
            social::note_thread_request(self.site(), note_id, entity_fields),
            social::decode_note_thread,
        )
    }

    /// Records that a user accessed a project now; resolves to the project link.
    pub fn update_project_last_accessed(&self, project_id: u64, user_id: u64) -> OneShot<Value> {
        OneShot::write(
            social::last_accessed_request(self.site(), project_id, user_id),
            social::decode_last_accessed,
        )
    }

    /// One page of webhooks.
    pub fn webhooks_list(&self, opts: &hooks::HookListOptions) -> OneShot<Vec<Value>> {
        OneShot::read(hooks::list_request(self.site(), opts), hooks::decode_list)
    }

    /// One webhook.
    pub fn webhook_get(&self, id: &str) -> OneShot<Value> {
        OneShot::read(hooks::get_request(self.site(), id), hooks::decode_one)
    }

    /// Creates a webhook; resolves to it (`null` if the site sends no body).
    pub fn webhook_create(&self, body: &Value) -> OneShot<Value> {
        OneShot::write(
            hooks::create_request(self.site(), body),
            hooks::decode_optional,
        )
    }

    /// Updates a webhook; resolves to it (`null` if the site sends no body).
    pub fn webhook_update(&self, id: &str, body: &Value) -> OneShot<Value> {
        OneShot::write(
            hooks::update_request(self.site(), id, body),
            hooks::decode_optional,
        )
    }

    /// Deletes a webhook. 204: no body.
    pub fn webhook_delete(&self, id: &str) -> OneShot<()> {
        OneShot::write(hooks::delete_request(self.site(), id), nothing)
    }

    /// One page of a webhook's deliveries.
    pub fn webhook_deliveries(
        &self,
        hook_id: &str,
        opts: &hooks::DeliveryListOptions,
    ) -> OneShot<Vec<Value>> {
        OneShot::read(
            hooks::deliveries_request(self.site(), hook_id, opts),
            hooks::decode_list,
        )
    }

    /// One delivery.
    pub fn webhook_delivery(&self, id: &str) -> OneShot<Value> {
        OneShot::read(hooks::delivery_request(self.site(), id), hooks::decode_one)
    }

    /// Sets a delivery's acknowledgement (≤ 4 KB). The answer's body is not needed.
    pub fn webhook_acknowledge(&self, id: &str, ack: &str) -> OneShot<()> {
        OneShot::write(hooks::acknowledge_request(self.site(), id, ack), nothing)
    }

    /// Queues a delivery again. 204: no body.
    pub fn webhook_redeliver(&self, id: &str) -> OneShot<()> {
        OneShot::write(hooks::redeliver_request(self.site(), id), nothing)
    }
    /// Reads one record as the site's JSON:API document (`{data, links}`).
    pub async fn read_raw(
        &self,
        entity_type: &str,
        id: u64,
        fields: Option<&[String]>,
    ) -> Result<Value, Error> {
        self.run(self.read_raw_call(entity_type, id, fields)).await
    }

    /// [`Client::read_raw`] as a [`OneShot`].
    pub fn read_raw_call(
        &self,
        entity_type: &str,
        id: u64,
        fields: Option<&[String]>,
    ) -> OneShot<Value> {
        OneShot::read(
            super::read_request(self.site(), entity_type, id, fields),
            raw_document,
        )
    }

    /// Like [`Client::find`], giving the JSON:API document of each page read; the last
    /// page's `data` is cut to `limit`.
    pub async fn find_raw(
        &self,
        query: &ReadQuery,
        limit: Option<u64>,
    ) -> Result<Vec<Value>, Error> {
        let mut pager = Pager::new(query.page_size, limit);
        let mut out = Vec::new();
        while let Some(page) = pager.next_page() {
            let resp = self
                .send_authed(query.page_request(self.site(), page))
                .await?;
            let records = decode_page(&resp)?;
            let kept = pager.accept(records)?.len();
            let mut doc = raw_document(&resp)?;
            if let Some(Value::Array(items)) = doc.get_mut("data") {
                items.truncate(kept);
            }
            out.push(doc);
        }
        Ok(out)
    }
}

/// A success body as the JSON:API document it is; it must carry `data`.
fn raw_document(resp: &HttpResponse) -> Result<Value, Error> {
    let doc = parse_json(resp)?;
    if doc.get("data").is_none() {
        return Err(decode_error(resp, "the response has no `data` member"));
    }
    Ok(doc)
}
