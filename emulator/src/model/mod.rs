//! The site's backend model: the one place that holds state and decides outcomes.
//!
//! HTTP handlers only parse requests, call into the [`Backend`] and render what it
//! returns ("moto" style). Nothing in here knows about HTTP.

pub mod defaults;
pub mod derived;
pub mod files;
pub mod hierarchy;
pub mod links;
pub mod schema;
pub mod schema_ops;
pub mod social;
pub mod store;
pub mod webhooks;
pub mod writes;

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
    /// A write or schema change was refused: 400, code 103, with this title and source.
    #[error("{title}")]
    Invalid {
        /// Error title, e.g. "API create() Shot.foo doesn't exist."
        title: String,
        /// What in the request caused it (`{field: [message]}`, or `{}`); rendered as
        /// the error's `source`.
        origin: serde_json::Value,
    },
    /// Update, delete or revive of a record that doesn't exist (404, code 104,
    /// "Entity of type [T] with id=N does not exist.").
    #[error("Entity of type [{entity_type}] with id={id} does not exist.")]
    NoSuchEntity {
        /// Canonical entity type.
        entity_type: String,
        /// Requested id.
        id: i64,
    },
    /// A schema field that doesn't exist (404, code 104).
    #[error("{entity_type}.{field} doesn't exist.")]
    NoSuchField {
        /// Canonical entity type.
        entity_type: String,
        /// Field name as given.
        field: String,
    },
    /// One request of a `_batch` failed; nothing of the batch was applied.
    #[error("request {index}: {error}")]
    Batch {
        /// Index of the failing request in `requests`.
        index: usize,
        /// Why it failed.
        error: Box<ModelError>,
    },
    /// The write could not be made durable (`--data`); it was undone (500, code 100).
    #[error("could not persist the write: {0}")]
    Persist(String),
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
    /// Where committed writes are persisted (`--data`), if anywhere.
    persister: std::sync::OnceLock<crate::persist::Persister>,
    files: Mutex<files::FileStore>,
    webhooks: Mutex<webhooks::Webhooks>,
    social: Mutex<social::Social>,
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
            persister: std::sync::OnceLock::new(),
            files: Mutex::new(files::FileStore::default()),
            webhooks: Mutex::new(webhooks::Webhooks::new()),
            social: Mutex::new(social::Social::default()),
            generation: std::sync::atomic::AtomicU64::new(0),
            query_cache: crate::query::cache::Cache::new(),
        }
    }

    /// Direct access to the persister, if `--data` is set.
    pub fn persister(&self) -> Option<&crate::persist::Persister> {
        self.persister.get()
    }

    /// Saves sections of the data file (`--data`); `sections` is only called when
    /// there is a data file. Call it while holding the lock of every part whose
    /// section is saved, so sections are saved in commit order.
    pub fn save_sections(
        &self,
        sections: impl FnOnce() -> Vec<(&'static str, Vec<u8>)>,
    ) -> Result<(), ModelError> {
        match self.persister.get() {
            Some(p) => p
                .save(sections())
                .map_err(|e| ModelError::Persist(e.to_string())),
            None => Ok(()),
        }
    }

    /// Persists the whole state now (every section). A no-op without `--data`.
    pub fn persist_now(&self) -> Result<(), ModelError> {
        // Lock order: store, files, webhooks, social.
        let store = self.store();
        let files = self.files();
        let hooks = self.webhooks();
        let social = self.social();
        self.save_sections(|| {
            vec![
                ("store", store.section_json()),
                ("files", files.section_json()),
                ("webhooks", hooks.section_json()),
                ("social", social.section_json()),
            ]
        })
    }

    /// Restores the sections of a data file other than the store (which is restored
    /// before the backend is made): stored files (their bytes read through the
    /// persister), follows, webhooks and deliveries. Deliveries that were being sent
    /// are queued again. Returns warnings (e.g. a stored file that went missing).
    pub fn restore(&self, data: &mut crate::persist::DataFile) -> anyhow::Result<Vec<String>> {
        let mut warnings = Vec::new();
        if let Some(v) = data.files.take() {
            let snapshot: files::FilesSnapshot = serde_json::from_value(v)
                .map_err(|e| anyhow::anyhow!("data file, files section: {e}"))?;
            let persister = self.persister.get();
            let read = |sha: &str| match persister {
                Some(p) => p.load_blob(sha),
                None => Err(std::io::Error::other("no data file")),
            };
            let mut files = self.files();
            warnings.extend(files.restore(snapshot, &read));
            if let Some(p) = persister {
                p.remove_unused_blobs(&files.blob_hashes());
            }
        }
        if let Some(v) = data.social.take() {
            let snapshot: social::SocialSnapshot = serde_json::from_value(v)
                .map_err(|e| anyhow::anyhow!("data file, social section: {e}"))?;
            *self.social() = social::Social::from_snapshot(snapshot);
        }
        if let Some(v) = data.webhooks.take() {
            let snapshot: webhooks::WebhooksSnapshot = serde_json::from_value(v)
                .map_err(|e| anyhow::anyhow!("data file, webhooks section: {e}"))?;
            self.webhooks().restore(snapshot);
        }
        Ok(warnings)
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

    /// Exclusive access to uploaded files (pending uploads, blobs, signatures). Never
    /// take the store lock while holding this one.
    pub fn files(&self) -> MutexGuard<'_, files::FileStore> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access to the webhooks and their deliveries.
    pub fn webhooks(&self) -> MutexGuard<'_, webhooks::Webhooks> {
        self.webhooks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access to follows and last-accessed times.
    pub fn social(&self) -> MutexGuard<'_, social::Social> {
        self.social.lock().unwrap_or_else(|e| e.into_inner())
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
