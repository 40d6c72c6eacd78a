//! The dispatcher: every `ShotGrid` method JS sees goes through one of two exports,
//! `__call(op, a, b, c, d)` (the methods that answer with a promise) and
//! `__sync(op, a, b, c)` (the ones that answer at once or throw). The package's
//! `api.js` defines the public methods (`sg.read`, `sg.schema.fields`, …) over them
//! from the name lists [`CALLS`] and [`SYNC`]: an op code is the method's index in
//! its list, and `tests/wasm_node.rs` holds `api.js` to the same lists.
//!
//! One export instead of one per method: wasm-bindgen's per-export glue (externref
//! slots, the `RcRef` borrow of `self`, its throw paths, one JS wrapper each) exists
//! once. Missing arguments arrive as `undefined`, as they did with one export per
//! method, and the methods keep their own argument checks and typed errors.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use super::{plan_record, read_args, reject, ShotGrid};
use crate::protocol::Error;

/// Declares an op list: the enum of its ops (in order) and the JS method names.
macro_rules! ops {
    ($(#[$meta:meta])* $list:ident, $enum:ident { $($variant:ident = $name:literal,)* }) => {
        #[derive(Clone, Copy)]
        enum $enum {
            $($variant,)*
        }

        impl $enum {
            const ALL: &'static [$enum] = &[$($enum::$variant,)*];

            fn from_code(op: u32) -> Option<$enum> {
                Self::ALL.get(op as usize).copied()
            }
        }

        $(#[$meta])*
        pub const $list: &[&str] = &[$($name,)*];
    };
}

ops! {
    /// The promise-returning methods, in op-code order (`__call`).
    CALLS, Call {
        Info = "info",
        Read = "read",
        Find = "find",
        FindOne = "findOne",
        Create = "create",
        Update = "update",
        Delete = "delete",
        Revive = "revive",
        Batch = "batch",
        TextSearch = "textSearch",
        Summarize = "summarize",
        Relationship = "relationship",
        SchemaEntities = "schemaEntities",
        SchemaEntity = "schemaEntity",
        SchemaFields = "schemaFields",
        SchemaField = "schemaField",
        SchemaCreateField = "schemaCreateField",
        SchemaUpdateField = "schemaUpdateField",
        SchemaDeleteField = "schemaDeleteField",
        SchemaReviveField = "schemaReviveField",
        Preferences = "preferences",
        HierarchyExpand = "hierarchyExpand",
        HierarchySearch = "hierarchySearch",
        Follow = "follow",
        Unfollow = "unfollow",
        Followers = "followers",
        Following = "following",
        ActivityStream = "activityStream",
        NoteThread = "noteThread",
        UpdateProjectLastAccessed = "updateProjectLastAccessed",
        WebhooksList = "webhooksList",
        WebhooksGet = "webhooksGet",
        WebhooksCreate = "webhooksCreate",
        WebhooksUpdate = "webhooksUpdate",
        WebhooksDelete = "webhooksDelete",
        WebhooksDeliveries = "webhooksDeliveries",
        WebhooksDelivery = "webhooksDelivery",
        WebhooksAcknowledge = "webhooksAcknowledge",
        WebhooksRedeliver = "webhooksRedeliver",
        UploadSource = "uploadSource",
        Download = "download",
        FileInfo = "fileInfo",
        AcknowledgeDelivery = "acknowledgeDelivery",
    }
}

ops! {
    /// The methods and getters that answer at once (or throw), in op-code order
    /// (`__sync`).
    SYNC, Sync {
        Cursor = "cursor",
        EventFollower = "eventFollower",
        Scoped = "scoped",
        Site = "site",
        TokenExpiresAt = "tokenExpiresAt",
        ToString = "toString",
        ToJson = "toJSON",
    }
}

fn unknown_op() -> Error {
    Error::invalid_input("op", "is not a method of ShotGrid")
}

#[wasm_bindgen]
impl ShotGrid {
    /// Runs the promise-returning method [`CALLS`]`[op]` with its arguments (the
    /// package's `api.js` calls it; use the named methods).
    #[wasm_bindgen(js_name = __call)]
    pub fn call(&self, op: u32, a: JsValue, b: JsValue, c: JsValue, d: JsValue) -> Promise {
        let Some(op) = Call::from_code(op) else {
            return reject(unknown_op());
        };
        match op {
            Call::Info => self.info(),
            Call::Read => self.read(a, b, c),
            Call::Find => self.find(a, b, c),
            Call::FindOne => self.find_one(a, b, c),
            Call::Create => self.create(a, b, c),
            Call::Update => self.update(a, b, c, d),
            Call::Delete => self.delete(a, b),
            Call::Revive => self.revive(a, b),
            Call::Batch => self.batch(a, b),
            Call::TextSearch => self.text_search(a, b, c),
            Call::Summarize => self.summarize(a, b, c, d),
            Call::Relationship => self.relationship(a, b, c, d),
            Call::SchemaEntities => self.schema_entities(a),
            Call::SchemaEntity => self.schema_entity(a, b),
            Call::SchemaFields => self.schema_fields(a, b),
            Call::SchemaField => self.schema_field(a, b, c),
            Call::SchemaCreateField => self.schema_create_field(a, b, c),
            Call::SchemaUpdateField => self.schema_update_field(a, b, c, d),
            Call::SchemaDeleteField => self.schema_delete_field(a, b),
            Call::SchemaReviveField => self.schema_revive_field(a, b),
            Call::Preferences => self.preferences(a),
            Call::HierarchyExpand => self.hierarchy_expand(a),
            Call::HierarchySearch => self.hierarchy_search(a),
            Call::Follow => self.follow(a, b),
            Call::Unfollow => self.unfollow(a, b),
            Call::Followers => self.followers(a, b),
            Call::Following => self.following(a, b),
            Call::ActivityStream => self.activity_stream(a, b, c),
            Call::NoteThread => self.note_thread(a, b),
            Call::UpdateProjectLastAccessed => self.update_project_last_accessed(a, b),
            Call::WebhooksList => self.webhooks_list(a),
            Call::WebhooksGet => self.webhooks_get(a),
            Call::WebhooksCreate => self.webhooks_create(a),
            Call::WebhooksUpdate => self.webhooks_update(a, b),
            Call::WebhooksDelete => self.webhooks_delete(a),
            Call::WebhooksDeliveries => self.webhooks_deliveries(a, b),
            Call::WebhooksDelivery => self.webhooks_delivery(a),
            Call::WebhooksAcknowledge => self.webhooks_acknowledge(a, b),
            Call::WebhooksRedeliver => self.webhooks_redeliver(a),
            Call::UploadSource => self.upload_source(a, b, c, d),
            Call::Download => self.download(a, b, c, d),
            Call::FileInfo => self.file_info(a, b, c),
            Call::AcknowledgeDelivery => self.acknowledge_delivery(a, b),
        }
    }

    /// Starts the one-record call [`CALLS`]`[op]` (read, create, update) on its fast
    /// path: `[id, promise]`, or `undefined` when the call should go through
    /// `__call` (the package's `api.js` calls it; see `js::plan_record`).
    #[wasm_bindgen(js_name = __plan)]
    pub fn plan_call(&self, op: u32, a: JsValue, b: JsValue, c: JsValue, d: JsValue) -> JsValue {
        // (request, write); bad input and raw reads take `__call`, which answers them.
        let call = match Call::from_code(op) {
            Some(Call::Read) => read_args(&a, &b, &c)
                .ok()
                .filter(|(_, _, _, raw)| !raw)
                .and_then(|(ty, id, fields, _)| {
                    self.inner.read_req(&ty, id, fields.as_deref()).ok()
                })
                .map(|req| (req, false)),
            Some(Call::Create) => self.create_req(&a, &b, &c).ok().map(|req| (req, true)),
            Some(Call::Update) => self.update_req(&a, &b, &c, &d).ok().map(|req| (req, true)),
            _ => None,
        };
        call.and_then(|(req, write)| plan_record(&self.inner, req, write))
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// Runs the method or getter [`SYNC`]`[op]`: its value, or a thrown
    /// `ShotGridError` (the package's `api.js` calls it; use the named members).
    #[wasm_bindgen(js_name = __sync)]
    pub fn call_sync(
        &self,
        op: u32,
        a: JsValue,
        b: JsValue,
        c: JsValue,
    ) -> Result<JsValue, JsValue> {
        let Some(op) = Sync::from_code(op) else {
            return Err(super::error_to_js(&unknown_op()));
        };
        match op {
            Sync::Cursor => self.cursor(a, b, c).map(JsValue::from),
            Sync::EventFollower => self.event_follower(a).map(JsValue::from),
            Sync::Scoped => self.scoped(a, b, c).map(JsValue::from),
            Sync::Site => Ok(JsValue::from_str(&self.site())),
            Sync::TokenExpiresAt => Ok(self
                .token_expires_at()
                .map_or(JsValue::UNDEFINED, JsValue::from_f64)),
            Sync::ToString => Ok(JsValue::from_str(&self.to_js_string())),
            Sync::ToJson => Ok(self.to_json()),
        }
    }
}
