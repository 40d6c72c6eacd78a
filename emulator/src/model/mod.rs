//! The site's backend model: the one place that holds state and decides outcomes.
//!
//! HTTP handlers only parse requests, call into the [`Backend`] and render what it
//! returns ("moto" style). Nothing in here knows about HTTP.

pub mod schema;
pub mod store;

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

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

/// All state of one emulated site: entity data and issued credentials.
#[derive(Debug)]
pub struct Backend {
    store: RwLock<Store>,
    auth: Mutex<AuthStore>,
}

impl Backend {
    /// A backend over the given store and credential store.
    pub fn new(store: Store, auth: AuthStore) -> Self {
        Backend {
            store: RwLock::new(store),
            auth: Mutex::new(auth),
        }
    }

    /// Shared read access to the entity store. A poisoned lock is recovered: the store
    /// is only mutated through methods that leave it consistent.
    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access to the entity store.
    pub fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
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
