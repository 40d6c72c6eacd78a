//! The site's backend model: the one place that holds state and decides outcomes.
//!
//! HTTP handlers only parse requests, call into the [`Backend`] and render what it
//! returns ("moto" style). Nothing in here knows about HTTP.

pub mod schema;
pub mod store;

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::broadcast;

pub use store::{EntityRef, EntityView, FieldSelection, FieldValue, Record, ReturnOnly, Store};

use crate::auth::AuthStore;

/// Failures of model operations, independent of how they are rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The entity type (as written by the caller) is not known to the site.
    #[error("unknown entity type {0:?}")]
    UnknownEntityType(String),
    /// No record of that type with that id (or it is retired, or not retired as asked).
    #[error("{entity_type}: {id} not found")]
    NotFound {
        /// Canonical entity type.
        entity_type: String,
        /// Requested id.
        id: i64,
    },
}

/// One committed change, published after the write that caused it: the EventLogEntry
/// that the write created, in the shape of a webhook delivery's `data` (REST-NOTES,
/// "Webhooks"): `{id, event_log_entry_id, event_type ("Shotgun_<Type>_New|Change|
/// Retirement|Revival"), operation (create|update|delete|revive), user {type,id},
/// entity {type,id}, project {type,id}|null, meta {type:"attribute_change",
/// attribute_name, entity_type, entity_id, field_data_type, old_value, new_value},
/// created_at, attribute_name, session_uuid}`.
pub type ChangeEvent = Arc<serde_json::Value>;

/// All state of one emulated site: entity data and issued credentials.
#[derive(Debug)]
pub struct Backend {
    store: RwLock<Store>,
    auth: Mutex<AuthStore>,
    events: broadcast::Sender<ChangeEvent>,
    /// Bumped each time write access to the store is handed out (see
    /// [`crate::query::cache`]).
    generation: std::sync::atomic::AtomicU64,
    /// Columns cached for list queries, valid for one generation.
    query_cache: crate::query::cache::Cache,
}

impl Backend {
    /// A backend over the given store and credential store.
    pub fn new(store: Store, auth: AuthStore) -> Self {
        Backend {
            store: RwLock::new(store),
            auth: Mutex::new(auth),
            events: broadcast::channel(4096).0,
            generation: std::sync::atomic::AtomicU64::new(0),
            query_cache: crate::query::cache::Cache::new(),
        }
    }

    /// Publishes a committed change to every subscriber (webhooks, followers). Call it
    /// after the write is applied, never while holding the store lock.
    pub fn publish(&self, event: ChangeEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    /// Receives every change published from now on, in commit order.
    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.events.subscribe()
    }

    /// Shared read access to the entity store. A poisoned lock is recovered: the store
    /// is only mutated through methods that leave it consistent.
    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access to the entity store.
    pub fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        let guard = self.store.write().unwrap_or_else(|e| e.into_inner());
        // Under the write lock, so a reader that takes the read lock afterwards sees it.
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        guard
    }

    /// The store's change generation: read it while holding [`Backend::store`]'s guard.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The column cache of list queries.
    pub fn query_cache(&self) -> &crate::query::cache::Cache {
        &self.query_cache
    }

    /// Exclusive access to the credential store.
    pub fn auth(&self) -> MutexGuard<'_, AuthStore> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads one record; `entity` may be any accepted URL spelling of the type.
    pub fn read_record(
        &self,
        entity: &str,
        id: i64,
        selection: &FieldSelection,
        return_only: ReturnOnly,
    ) -> Result<EntityView, ModelError> {
        let store = self.store();
        let entity_type = store.resolve_type(entity)?;
        store.read(&entity_type, id, selection, return_only)
    }
}
