//! Column cache: copies of one field's values for every record of a type, in id order.
//!
//! Reading a field out of 100,000 record maps is bound by memory latency (each map
//! lookup chases several pointers); scanning a contiguous column is not. Columns are
//! built on first use and kept until the store changes: the [`crate::model::Backend`]
//! bumps a generation number whenever it hands out write access to the store, and a
//! column built at another generation is rebuilt. Readers must read the generation
//! while holding the store's read lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::model::Store;

/// The values of some fields of one type, row `i` being the `i`-th record in id order
/// (live and retired alike).
///
/// A query loads a handful of columns and looks one up for every row it tests, so they
/// are kept in a short list (a scan of a few names beats hashing the name each time).
#[derive(Debug, Default, Clone)]
pub struct ColumnSet {
    cols: Vec<(String, Arc<Vec<Value>>)>,
}

/// The name the retired flags are cached under (no field has a space in its name).
const RETIRED: &str = " retired";

impl ColumnSet {
    /// Each record's retired flag (as a JSON boolean), if the columns were loaded.
    pub fn retired(&self) -> Option<&[Value]> {
        self.get(RETIRED)
    }

    /// The column of a field, if it was loaded.
    pub fn get(&self, field: &str) -> Option<&[Value]> {
        self.cols
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, c)| c.as_slice())
    }
}

/// A column tagged with the generation it was built at, by (type, field).
type Columns = HashMap<(String, String), (u64, Arc<Vec<Value>>)>;

/// Columns by (type, field), each tagged with the generation it was built at.
#[derive(Debug, Default)]
pub struct Cache {
    inner: Mutex<Columns>,
}

/// Fewer records than this are read straight from the records.
pub const MIN_ROWS: usize = 2_000;

impl Cache {
    /// An empty cache.
    pub fn new() -> Self {
        Cache::default()
    }

    /// The columns of `fields` of `entity_type` at `generation`, building missing or
    /// stale ones from `store`. `id` and `type` are never cached (records have them).
    pub fn columns<'f>(
        &self,
        store: &Store,
        generation: u64,
        entity_type: &str,
        fields: impl IntoIterator<Item = &'f str>,
    ) -> ColumnSet {
        let Ok(table) = store.table(entity_type) else {
            return ColumnSet::default();
        };
        if table.records.len() < MIN_ROWS {
            return ColumnSet::default();
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Drop everything built at another generation: it can't be used again.
        inner.retain(|_, (g, _)| *g == generation);
        let mut set = ColumnSet::default();
        for field in std::iter::once(RETIRED).chain(fields) {
            if field == "id" || field == "type" || set.get(field).is_some() {
                continue;
            }
            let key = (entity_type.to_string(), field.to_string());
            let col = match inner.get(&key) {
                // The length check also catches inserts made without a generation bump.
                Some((_, col)) if col.len() == table.records.len() => Arc::clone(col),
                _ => {
                    let col: Arc<Vec<Value>> = Arc::new(if field == RETIRED {
                        table
                            .records
                            .values()
                            .map(|r| Value::Bool(r.retired))
                            .collect()
                    } else {
                        table
                            .records
                            .values()
                            .map(|r| r.fields.get(field).cloned().unwrap_or(Value::Null))
                            .collect()
                    });
                    inner.insert(key, (generation, Arc::clone(&col)));
                    col
                }
            };
            set.cols.push((field.to_string(), col));
        }
        set
    }
}
