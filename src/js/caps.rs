//! Facade methods for the capabilities beyond records. Flat wasm methods
//! (`schemaEntities`, `webhooksList`, …); the package's `api.js` groups them into
//! `sg.schema`, `sg.hierarchy` and `sg.webhooks`. Each one parses its JS arguments into
//! validated values (typed `invalid_input` errors naming the argument), then runs the
//! engine method in a promise.

use crate::protocol::json::Value;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::convert::{js_to_json, json_to_js, Obj};
use super::{entity_type_arg, reject, run_one, spawn, ShotGrid};
use crate::client::MAX_SAFE_ID;
use crate::protocol::hooks::{DeliveryListOptions, HookListOptions};
use crate::protocol::search::{Summarize, TextSearch};
use crate::protocol::social::ActivityOptions;
use crate::protocol::Error;

fn id_at(v: &JsValue, path: &str) -> Result<u64, Error> {
    v.as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= MAX_SAFE_ID as f64)
        .map(|n| n as u64)
        .ok_or_else(|| Error::invalid_input(path, "must be a positive integer"))
}

fn str_at(v: &JsValue, path: &str) -> Result<String, Error> {
    v.as_string()
        .ok_or_else(|| Error::invalid_input(path, "must be a string"))
}

/// Options object (`null`/`undefined` allowed) restricted to `allowed` keys.
fn options(v: &JsValue, allowed: &[&str]) -> Result<Value, Error> {
    let value = js_to_json(v, "options")?;
    if let Some(o) = Obj::new_optional(&value, "options")? {
        o.only(allowed)?;
    }
    Ok(value)
}

fn with_opts<R>(
    value: &Value,
    f: impl FnOnce(Option<&Obj>) -> Result<R, Error>,
) -> Result<R, Error> {
    let o = Obj::new_optional(value, "options")?;
    f(o.as_ref())
}

fn project_id(o: Option<&Obj>) -> Result<Option<u64>, Error> {
    o.map_or(Ok(None), |o| o.opt_int("projectId", 1, MAX_SAFE_ID))
}

fn json_out(v: Value) -> JsValue {
    json_to_js(&v)
}

fn list_out(v: Vec<Value>) -> JsValue {
    json_to_js(&Value::Array(v))
}

fn unit_out((): ()) -> JsValue {
    JsValue::UNDEFINED
}

macro_rules! run {
    ($self:ident, $args:expr, |$c:ident, $a:pat_param| $body:expr, $out:expr) => {{
        #[allow(unused_braces, clippy::redundant_closure_call)]
        let args = (|| -> Result<_, Error> { $args })();
        match args {
            Ok($a) => spawn(&$self.inner, move |$c| async move { $body }, $out),
            Err(e) => reject(e),
        }
    }};
}

/// Like `run!` for a one-request call: the body builds a [`OneShot`] synchronously
/// (from validated arguments) and [`run_one`] sends it.
macro_rules! call {
    ($self:ident, $args:expr, |$c:ident, $a:pat_param| $body:expr, $out:expr) => {{
        #[allow(unused_braces, clippy::redundant_closure_call)]
        let args = (|| -> Result<_, Error> { $args })();
        match args {
            Ok($a) => {
                let $c = &*$self.inner;
                let call = $body;
                run_one(&$self.inner, call, $out)
            }
            Err(e) => reject(e),
        }
    }};
}

impl ShotGrid {
    /// Text search across entity types: `{ Type: filters }`. Without `options.page`,
    /// reads every page up to `options.limit`.
    pub(crate) fn text_search(
        &self,
        text: JsValue,
        entity_types: JsValue,
        opts: JsValue,
    ) -> Promise {
        run!(
            self,
            {
                let text = str_at(&text, "text")?;
                let types = js_to_json(&entity_types, "entityTypes")?;
                let o = options(&opts, &["sort", "page", "pageSize", "limit"])?;
                let (sort, page, page_size, limit) = with_opts(&o, |o| match o {
                    None => Ok((Vec::new(), None, None, None)),
                    Some(o) => Ok((
                        o.opt_str_list("sort")?.unwrap_or_default(),
                        o.opt_int("page", 1, u64::from(u32::MAX))?.map(|n| n as u32),
                        o.opt_int("pageSize", 1, 5000)?.map(|n| n as u32),
                        o.opt_int("limit", 0, MAX_SAFE_ID)?,
                    )),
                })?;
                if page.is_some() && limit.is_some() {
                    return Err(Error::invalid_input(
                        "options.limit",
                        "give page or limit, not both",
                    ));
                }
                Ok((
                    TextSearch::new(&text, &types, sort, page_size)?,
                    page,
                    limit,
                ))
            },
            |c, (s, page, limit)| c.text_search(&s, page, limit).await,
            list_out
        )
    }

    /// Summaries of matching records, optionally grouped: `{ summaries, groups }`.
    pub(crate) fn summarize(
        &self,
        entity_type: JsValue,
        filters: JsValue,
        summary_fields: JsValue,
        opts: JsValue,
    ) -> Promise {
        call!(
            self,
            {
                let ty = entity_type_arg(&entity_type)?;
                let filters = js_to_json(&filters, "filters")?;
                let fields = js_to_json(&summary_fields, "summaryFields")?;
                let o = options(&opts, &["grouping", "includeArchivedProjects"])?;
                let (grouping, archived) = with_opts(&o, |o| match o {
                    None => Ok((Value::Null, None)),
                    Some(o) => Ok((
                        o.get("grouping").cloned().unwrap_or(Value::Null),
                        o.opt_bool("includeArchivedProjects")?,
                    )),
                })?;
                Summarize::new(&ty, &filters, &fields, &grouping, archived)
            },
            |c, s| c.summarize(&s),
            json_out
        )
    }

    /// Records linked through `field`: a list for multi-entity fields, one record or
    /// `null` for entity fields.
    pub(crate) fn relationship(
        &self,
        entity_type: JsValue,
        id: JsValue,
        field: JsValue,
        opts: JsValue,
    ) -> Promise {
        call!(
            self,
            {
                let ty = entity_type_arg(&entity_type)?;
                let id = id_at(&id, "id")?;
                let field = str_at(&field, "field")?;
                let o = options(&opts, &["retired"])?;
                let retired = with_opts(&o, |o| o.map_or(Ok(None), |o| o.opt_bool("retired")))?;
                Ok((ty, id, field, retired.unwrap_or(false)))
            },
            |c, (ty, id, field, retired)| c.relationship(&ty, id, &field, retired),
            json_out
        )
    }

    /// `GET /schema` (used by `sg.schema.entities`).
    pub(crate) fn schema_entities(&self, opts: JsValue) -> Promise {
        call!(
            self,
            {
                let o = options(&opts, &["projectId"])?;
                with_opts(&o, project_id)
            },
            |c, p| c.schema_entities(p),
            json_out
        )
    }

    /// `GET /schema/{t}` (used by `sg.schema.entity`).
    pub(crate) fn schema_entity(&self, entity_type: JsValue, opts: JsValue) -> Promise {
        call!(
            self,
            {
                let ty = entity_type_arg(&entity_type)?;
                let o = options(&opts, &["projectId"])?;
                Ok((ty, with_opts(&o, project_id)?))
            },
            |c, (ty, p)| c.schema_entity(&ty, p),
            json_out
        )
    }

    /// `GET /schema/{t}/fields` (used by `sg.schema.fields`).
    pub(crate) fn schema_fields(&self, entity_type: JsValue, opts: JsValue) -> Promise {
        call!(
            self,
            {
                let ty = entity_type_arg(&entity_type)?;
                let o = options(&opts, &["projectId"])?;
                Ok((ty, with_opts(&o, project_id)?))
            },
            |c, (ty, p)| c.schema_fields(&ty, p),
            json_out
        )
    }

    /// `GET /schema/{t}/fields/{name}` (used by `sg.schema.field`).
    pub(crate) fn schema_field(
        &self,
        entity_type: JsValue,
        field: JsValue,
        opts: JsValue,
    ) -> Promise {
        call!(
            self,
            {
                let ty = entity_type_arg(&entity_type)?;
                let field = str_at(&field, "fieldName")?;
                let o = options(&opts, &["projectId"])?;
                Ok((ty, field, with_opts(&o, project_id)?))
            },
            |c, (ty, f, p)| c.schema_field(&ty, &f, p),
            json_out
        )
    }

    /// Creates a field (used by `sg.schema.createField`).
    pub(crate) fn schema_create_field(
        &self,
        entity_type: JsValue,
        data_type: JsValue,
        properties: JsValue,
    ) -> Promise {
        call!(
            self,
            {
                Ok((
                    entity_type_arg(&entity_type)?,
                    str_at(&data_type, "dataType")?,
                    js_to_json(&properties, "properties")?,
                ))
            },
            |c, (ty, dt, props)| c.create_field(&ty, &dt, &props),
            json_out
        )
    }

    /// Updates a field's properties (used by `sg.schema.updateField`).
    pub(crate) fn schema_update_field(
        &self,
        entity_type: JsValue,
        field: JsValue,
        properties: JsValue,
        opts: JsValue,
    ) -> Promise {
        call!(
            self,
            {
                let ty = entity_type_arg(&entity_type)?;
                let field = str_at(&field, "fieldName")?;
                let props = js_to_json(&properties, "properties")?;
                let o = options(&opts, &["projectId"])?;
                Ok((ty, field, props, with_opts(&o, project_id)?))
            },
            |c, (ty, f, props, p)| c.update_field(&ty, &f, &props, p),
            json_out
        )
    }

    /// Deletes a field (used by `sg.schema.deleteField`).
    pub(crate) fn schema_delete_field(&self, entity_type: JsValue, field: JsValue) -> Promise {
        call!(
            self,
            { Ok((entity_type_arg(&entity_type)?, str_at(&field, "fieldName")?)) },
            |c, (ty, f)| c.delete_field(&ty, &f),
            unit_out
        )
    }

    /// Revives a deleted field (used by `sg.schema.reviveField`).
    pub(crate) fn schema_revive_field(&self, entity_type: JsValue, field: JsValue) -> Promise {
        call!(
            self,
            { Ok((entity_type_arg(&entity_type)?, str_at(&field, "fieldName")?)) },
            |c, (ty, f)| c.revive_field(&ty, &f),
            unit_out
        )
    }

    /// Site preferences: all, or the named ones.
    pub(crate) fn preferences(&self, names: JsValue) -> Promise {
        call!(
            self,
            {
                let v = js_to_json(&names, "names")?;
                match v {
                    Value::Null => Ok(None),
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, n)| {
                            n.as_str().map(str::to_owned).ok_or_else(|| {
                                Error::invalid_input(
                                    &crate::protocol::common::indexed("names", i),
                                    "must be a string",
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(Some),
                    _ => Err(Error::invalid_input(
                        "names",
                        "must be a list of preference names",
                    )),
                }
            },
            |c, names| c.preferences(names.as_deref()),
            json_out
        )
    }

    /// `POST /hierarchy/_expand` (used by `sg.hierarchy.expand`).
    pub(crate) fn hierarchy_expand(&self, body: JsValue) -> Promise {
        call!(
            self,
            { js_to_json(&body, "body") },
            |c, b| c.hierarchy_expand(&b),
            json_out
        )
    }

    /// `POST /hierarchy/_search` (used by `sg.hierarchy.search`).
    pub(crate) fn hierarchy_search(&self, body: JsValue) -> Promise {
        call!(
            self,
            { js_to_json(&body, "body") },
            |c, b| c.hierarchy_search(&b),
            json_out
        )
    }

    /// Makes user `userId` follow an entity (or a list of them).
    pub(crate) fn follow(&self, user_id: JsValue, entity: JsValue) -> Promise {
        call!(
            self,
            { Ok((id_at(&user_id, "userId")?, js_to_json(&entity, "entity")?)) },
            |c, (u, e)| c.follow(u, &e),
            unit_out
        )
    }

    /// Makes user `userId` stop following an entity.
    pub(crate) fn unfollow(&self, user_id: JsValue, entity: JsValue) -> Promise {
        call!(
            self,
            { Ok((id_at(&user_id, "userId")?, js_to_json(&entity, "entity")?)) },
            |c, (u, e)| c.unfollow(u, &e),
            unit_out
        )
    }

    /// Users following an entity.
    pub(crate) fn followers(&self, entity_type: JsValue, id: JsValue) -> Promise {
        call!(
            self,
            { Ok((entity_type_arg(&entity_type)?, id_at(&id, "id")?)) },
            |c, (ty, id)| c.followers(&ty, id),
            list_out
        )
    }

    /// Entities user `userId` follows, optionally of one type or project.
    pub(crate) fn following(&self, user_id: JsValue, opts: JsValue) -> Promise {
        call!(
            self,
            {
                let u = id_at(&user_id, "userId")?;
                let o = options(&opts, &["entityType", "projectId"])?;
                let (ty, p) = with_opts(&o, |o| match o {
                    None => Ok((None, None)),
                    Some(o) => Ok((
                        o.opt_str("entityType")?.map(str::to_owned),
                        project_id(Some(o))?,
                    )),
                })?;
                Ok((u, ty, p))
            },
            |c, (u, ty, p)| c.following(u, ty.as_deref(), p),
            list_out
        )
    }

    /// An entity's activity stream.
    pub(crate) fn activity_stream(
        &self,
        entity_type: JsValue,
        id: JsValue,
        opts: JsValue,
    ) -> Promise {
        call!(
            self,
            {
                let ty = entity_type_arg(&entity_type)?;
                let id = id_at(&id, "id")?;
                let o = options(&opts, &["entityFields", "minId", "maxId", "limit"])?;
                let a = with_opts(&o, |o| match o {
                    None => Ok(ActivityOptions::default()),
                    Some(o) => Ok(ActivityOptions {
                        entity_fields: o.get("entityFields").cloned().unwrap_or(Value::Null),
                        min_id: o.opt_int("minId", 0, MAX_SAFE_ID)?,
                        max_id: o.opt_int("maxId", 0, MAX_SAFE_ID)?,
                        limit: o.opt_int("limit", 1, 500)?,
                    }),
                })?;
                Ok((ty, id, a))
            },
            |c, (ty, id, a)| c.activity_stream(&ty, id, &a),
            json_out
        )
    }

    /// A note and its replies.
    pub(crate) fn note_thread(&self, note_id: JsValue, opts: JsValue) -> Promise {
        call!(
            self,
            {
                let id = id_at(&note_id, "noteId")?;
                let o = options(&opts, &["entityFields"])?;
                let ef = with_opts(&o, |o| {
                    Ok(o.and_then(|o| o.get("entityFields").cloned())
                        .unwrap_or(Value::Null))
                })?;
                Ok((id, ef))
            },
            |c, (id, ef)| c.note_thread(id, &ef),
            list_out
        )
    }

    /// Records that user `userId` accessed project `projectId` now.
    pub(crate) fn update_project_last_accessed(
        &self,
        project_id: JsValue,
        user_id: JsValue,
    ) -> Promise {
        call!(
            self,
            { Ok((id_at(&project_id, "projectId")?, id_at(&user_id, "userId")?)) },
            |c, (p, u)| c.update_project_last_accessed(p, u),
            json_out
        )
    }

    /// One page of webhooks (used by `sg.webhooks.list`).
    pub(crate) fn webhooks_list(&self, opts: JsValue) -> Promise {
        call!(
            self,
            {
                let o = options(&opts, &["status", "url", "page", "pageSize"])?;
                with_opts(&o, |o| match o {
                    None => Ok(HookListOptions::default()),
                    Some(o) => Ok(HookListOptions {
                        status: o.opt_str("status")?.map(str::to_owned),
                        url: o.opt_str("url")?.map(str::to_owned),
                        page: o.opt_int("page", 1, u64::from(u32::MAX))?,
                        page_size: o.opt_int("pageSize", 1, 5000)?,
                    }),
                })
            },
            |c, o| c.webhooks_list(&o),
            list_out
        )
    }

    /// One webhook (used by `sg.webhooks.get`).
    pub(crate) fn webhooks_get(&self, id: JsValue) -> Promise {
        call!(
            self,
            { str_at(&id, "id") },
            |c, id| c.webhook_get(&id),
            json_out
        )
    }

    /// Creates a webhook (used by `sg.webhooks.create`).
    pub(crate) fn webhooks_create(&self, hook: JsValue) -> Promise {
        call!(
            self,
            { js_to_json(&hook, "hook") },
            |c, h| c.webhook_create(&h),
            json_out
        )
    }

    /// Updates a webhook (used by `sg.webhooks.update`).
    pub(crate) fn webhooks_update(&self, id: JsValue, hook: JsValue) -> Promise {
        call!(
            self,
            { Ok((str_at(&id, "id")?, js_to_json(&hook, "hook")?)) },
            |c, (id, h)| c.webhook_update(&id, &h),
            json_out
        )
    }

    /// Deletes a webhook (used by `sg.webhooks.delete`).
    pub(crate) fn webhooks_delete(&self, id: JsValue) -> Promise {
        call!(
            self,
            { str_at(&id, "id") },
            |c, id| c.webhook_delete(&id),
            unit_out
        )
    }

    /// One page of a webhook's deliveries (used by `sg.webhooks.deliveries`).
    pub(crate) fn webhooks_deliveries(&self, hook_id: JsValue, opts: JsValue) -> Promise {
        call!(
            self,
            {
                let id = str_at(&hook_id, "hookId")?;
                let o = options(
                    &opts,
                    &[
                        "status",
                        "from",
                        "to",
                        "entityId",
                        "entityType",
                        "acknowledgement",
                        "page",
                        "pageSize",
                    ],
                )?;
                let d = with_opts(&o, |o| match o {
                    None => Ok(DeliveryListOptions::default()),
                    Some(o) => Ok(DeliveryListOptions {
                        status: o.opt_str("status")?.map(str::to_owned),
                        from: o.opt_int("from", 0, MAX_SAFE_ID)?,
                        to: o.opt_int("to", 0, MAX_SAFE_ID)?,
                        entity_id: o.opt_int("entityId", 1, MAX_SAFE_ID)?,
                        entity_type: o.opt_str("entityType")?.map(str::to_owned),
                        acknowledgement: o.opt_str("acknowledgement")?.map(str::to_owned),
                        page: o.opt_int("page", 1, u64::from(u32::MAX))?,
                        page_size: o.opt_int("pageSize", 1, 5000)?,
                    }),
                })?;
                Ok((id, d))
            },
            |c, (id, d)| c.webhook_deliveries(&id, &d),
            list_out
        )
    }

    /// One delivery (used by `sg.webhooks.delivery`).
    pub(crate) fn webhooks_delivery(&self, id: JsValue) -> Promise {
        call!(
            self,
            { str_at(&id, "id") },
            |c, id| c.webhook_delivery(&id),
            json_out
        )
    }

    /// Sets a delivery's acknowledgement, ≤ 4096 bytes (used by `sg.webhooks.acknowledge`).
    pub(crate) fn webhooks_acknowledge(&self, id: JsValue, ack: JsValue) -> Promise {
        call!(
            self,
            { Ok((str_at(&id, "id")?, str_at(&ack, "acknowledgement")?)) },
            |c, (id, a)| c.webhook_acknowledge(&id, &a),
            unit_out
        )
    }

    /// Queues a delivery again (used by `sg.webhooks.redeliver`).
    pub(crate) fn webhooks_redeliver(&self, id: JsValue) -> Promise {
        call!(
            self,
            { str_at(&id, "id") },
            |c, id| c.webhook_redeliver(&id),
            unit_out
        )
    }
}
