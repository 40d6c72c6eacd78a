//! Engine methods for the endpoints beyond records: text search, summaries, schema,
//! preferences, hierarchy, follows, activity, webhooks, raw reads. Each one builds a
//! request with [`crate::protocol`] (which validates first), sends it, decodes the answer.
//! Reads go through `send_authed`; writes through `send_write` (never replayed).

use serde_json::Value;

use super::{push_fields_query, Client, Transport, MAX_SAFE_ID};
use crate::protocol::common::decode_error;
use crate::protocol::http::{HttpRequest, HttpResponse, Method};
use crate::protocol::naming::{url_segment, validate_entity_type};
use crate::protocol::query::{decode_page, Pager, ReadQuery};
use crate::protocol::record::parse_json;
use crate::protocol::search::{decode_summarize, decode_text_search, Summarize, TextSearch};
use crate::protocol::social::ActivityOptions;
use crate::protocol::{hooks, navigation, schema, social, Error};

impl<T: Transport> Client<T> {
    async fn send_read(&self, req: Result<HttpRequest, Error>) -> Result<HttpResponse, Error> {
        self.send_authed(req?).await
    }

    async fn send_change(&self, req: Result<HttpRequest, Error>) -> Result<HttpResponse, Error> {
        self.send_write(req?).await
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
    pub async fn summarize(&self, s: &Summarize) -> Result<Value, Error> {
        let resp = self.send_authed(s.request(self.site())).await?;
        decode_summarize(&resp)
    }

    /// Records linked through an entity or multi-entity field.
    pub async fn relationship(
        &self,
        entity_type: &str,
        id: u64,
        field: &str,
        retired: bool,
    ) -> Result<Value, Error> {
        let resp = self
            .send_read(social::relationship_request(
                self.site(),
                entity_type,
                id,
                field,
                retired,
            ))
            .await?;
        social::decode_relationship(&resp)
    }

    /// `GET /schema`: `{Type: {name: {value, editable}, …}}`.
    pub async fn schema_entities(&self, project_id: Option<u64>) -> Result<Value, Error> {
        let resp = self
            .send_read(schema::entities_request(self.site(), project_id))
            .await?;
        schema::decode_entities(&resp)
    }

    /// `GET /schema/{t}`.
    pub async fn schema_entity(
        &self,
        entity_type: &str,
        project_id: Option<u64>,
    ) -> Result<Value, Error> {
        let resp = self
            .send_read(schema::entity_request(self.site(), entity_type, project_id))
            .await?;
        schema::decode_schema_object(&resp)
    }

    /// `GET /schema/{t}/fields`.
    pub async fn schema_fields(
        &self,
        entity_type: &str,
        project_id: Option<u64>,
    ) -> Result<Value, Error> {
        let resp = self
            .send_read(schema::fields_request(self.site(), entity_type, project_id))
            .await?;
        schema::decode_schema_object(&resp)
    }

    /// `GET /schema/{t}/fields/{name}`.
    pub async fn schema_field(
        &self,
        entity_type: &str,
        field: &str,
        project_id: Option<u64>,
    ) -> Result<Value, Error> {
        let resp = self
            .send_read(schema::field_request(
                self.site(),
                entity_type,
                field,
                project_id,
            ))
            .await?;
        schema::decode_schema_object(&resp)
    }

    /// Creates a field; resolves to the site's answer (the new field's schema).
    pub async fn create_field(
        &self,
        entity_type: &str,
        data_type: &str,
        properties: &Value,
    ) -> Result<Value, Error> {
        let resp = self
            .send_change(schema::create_field_request(
                self.site(),
                entity_type,
                data_type,
                properties,
            ))
            .await?;
        schema::decode_schema_object(&resp)
    }

    /// Updates a field's properties; resolves to its schema.
    pub async fn update_field(
        &self,
        entity_type: &str,
        field: &str,
        properties: &Value,
        project_id: Option<u64>,
    ) -> Result<Value, Error> {
        let resp = self
            .send_change(schema::update_field_request(
                self.site(),
                entity_type,
                field,
                properties,
                project_id,
            ))
            .await?;
        schema::decode_schema_object(&resp)
    }

    /// Deletes (retires) a field. 204: no body.
    pub async fn delete_field(&self, entity_type: &str, field: &str) -> Result<(), Error> {
        self.send_change(schema::delete_field_request(
            self.site(),
            entity_type,
            field,
        ))
        .await
        .map(drop)
    }

    /// Revives a deleted field. 204: no body.
    pub async fn revive_field(&self, entity_type: &str, field: &str) -> Result<(), Error> {
        self.send_change(schema::revive_field_request(
            self.site(),
            entity_type,
            field,
        ))
        .await
        .map(drop)
    }

    /// Site preferences, all or the named ones.
    pub async fn preferences(&self, names: Option<&[String]>) -> Result<Value, Error> {
        let resp = self
            .send_read(navigation::preferences_request(self.site(), names))
            .await?;
        navigation::decode_preferences(&resp)
    }

    /// `POST /hierarchy/_expand` (a read).
    pub async fn hierarchy_expand(&self, body: &Value) -> Result<Value, Error> {
        let resp = self
            .send_read(navigation::expand_request(self.site(), body))
            .await?;
        navigation::decode_hierarchy(&resp)
    }

    /// `POST /hierarchy/_search` (a read).
    pub async fn hierarchy_search(&self, body: &Value) -> Result<Value, Error> {
        let resp = self
            .send_read(navigation::search_request(self.site(), body))
            .await?;
        navigation::decode_hierarchy(&resp)
    }

    /// Makes a user follow one entity or several. 204: no body.
    pub async fn follow(&self, user_id: u64, entity: &Value) -> Result<(), Error> {
        self.send_change(social::follow_request(self.site(), user_id, entity))
            .await
            .map(drop)
    }

    /// Makes a user stop following an entity. 204: no body.
    pub async fn unfollow(&self, user_id: u64, entity: &Value) -> Result<(), Error> {
        self.send_change(social::unfollow_request(self.site(), user_id, entity))
            .await
            .map(drop)
    }

    /// Users following an entity: `[{type, id, name}]`.
    pub async fn followers(&self, entity_type: &str, id: u64) -> Result<Vec<Value>, Error> {
        let resp = self
            .send_read(social::followers_request(self.site(), entity_type, id))
            .await?;
        social::decode_links(&resp)
    }

    /// Entities a user follows: `[{type, id}]`.
    pub async fn following(
        &self,
        user_id: u64,
        entity_type: Option<&str>,
        project_id: Option<u64>,
    ) -> Result<Vec<Value>, Error> {
        let resp = self
            .send_read(social::following_request(
                self.site(),
                user_id,
                entity_type,
                project_id,
            ))
            .await?;
        social::decode_links(&resp)
    }

    /// An entity's activity stream.
    pub async fn activity_stream(
        &self,
        entity_type: &str,
        id: u64,
        opts: &ActivityOptions,
    ) -> Result<Value, Error> {
        let resp = self
            .send_read(social::activity_stream_request(
                self.site(),
                entity_type,
                id,
                opts,
            ))
            .await?;
        social::decode_activity_stream(&resp)
    }

    /// A note and its replies.
    pub async fn note_thread(
        &self,
        note_id: u64,
        entity_fields: &Value,
    ) -> Result<Vec<Value>, Error> {
        let resp = self
            .send_read(social::note_thread_request(
                self.site(),
                note_id,
                entity_fields,
            ))
            .await?;
        social::decode_note_thread(&resp)
    }

    /// Records that a user accessed a project now; resolves to the project link.
    pub async fn update_project_last_accessed(
        &self,
        project_id: u64,
        user_id: u64,
    ) -> Result<Value, Error> {
        let resp = self
            .send_change(social::last_accessed_request(
                self.site(),
                project_id,
                user_id,
            ))
            .await?;
        social::decode_last_accessed(&resp)
    }

    /// One page of webhooks.
    pub async fn webhooks_list(&self, opts: &hooks::HookListOptions) -> Result<Vec<Value>, Error> {
        let resp = self
            .send_read(hooks::list_request(self.site(), opts))
            .await?;
        hooks::decode_list(&resp)
    }

    /// One webhook.
    pub async fn webhook_get(&self, id: &str) -> Result<Value, Error> {
        let resp = self.send_read(hooks::get_request(self.site(), id)).await?;
        hooks::decode_one(&resp)
    }

    /// Creates a webhook; resolves to it (`null` if the site sends no body).
    pub async fn webhook_create(&self, body: &Value) -> Result<Value, Error> {
        let resp = self
            .send_change(hooks::create_request(self.site(), body))
            .await?;
        hooks::decode_optional(&resp)
    }

    /// Updates a webhook; resolves to it (`null` if the site sends no body).
    pub async fn webhook_update(&self, id: &str, body: &Value) -> Result<Value, Error> {
        let resp = self
            .send_change(hooks::update_request(self.site(), id, body))
            .await?;
        hooks::decode_optional(&resp)
    }

    /// Deletes a webhook. 204: no body.
    pub async fn webhook_delete(&self, id: &str) -> Result<(), Error> {
        self.send_change(hooks::delete_request(self.site(), id))
            .await
            .map(drop)
    }

    /// One page of a webhook's deliveries.
    pub async fn webhook_deliveries(
        &self,
        hook_id: &str,
        opts: &hooks::DeliveryListOptions,
    ) -> Result<Vec<Value>, Error> {
        let resp = self
            .send_read(hooks::deliveries_request(self.site(), hook_id, opts))
            .await?;
        hooks::decode_list(&resp)
    }

    /// One delivery.
    pub async fn webhook_delivery(&self, id: &str) -> Result<Value, Error> {
        let resp = self
            .send_read(hooks::delivery_request(self.site(), id))
            .await?;
        hooks::decode_one(&resp)
    }

    /// Sets a delivery's acknowledgement (≤ 4 KB). The answer's body is not needed.
    pub async fn webhook_acknowledge(&self, id: &str, ack: &str) -> Result<(), Error> {
        self.send_change(hooks::acknowledge_request(self.site(), id, ack))
            .await
            .map(drop)
    }

    /// Queues a delivery again. 204: no body.
    pub async fn webhook_redeliver(&self, id: &str) -> Result<(), Error> {
        self.send_change(hooks::redeliver_request(self.site(), id))
            .await
            .map(drop)
    }

    /// Reads one record as the site's JSON:API document (`{data, links}`).
    pub async fn read_raw(
        &self,
        entity_type: &str,
        id: u64,
        fields: Option<&[String]>,
    ) -> Result<Value, Error> {
        validate_entity_type(entity_type, "entityType")?;
        if id == 0 || id > MAX_SAFE_ID {
            return Err(Error::invalid_input("id", "must be a positive integer"));
        }
        let mut path = String::from("/api/v1/entity/");
        path.push_str(&url_segment(entity_type));
        path.push('/');
        path.push_str(&id.to_string());
        if let Some(fields) = fields {
            push_fields_query(&mut path, fields, "options.fields")?;
        }
        let req = HttpRequest::new(Method::Get, self.site().url(&path))
            .header("Accept", "application/json");
        let resp = self.send_authed(req).await?;
        raw_document(&resp)
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
