//! Column cache: copies of one field's values for every record of a type, in id order.
//!
//! Reading a field out of 100,000 record maps is bound by memory latency (each map
//! lookup chases several pointers); scanning a contiguous column is not. Columns are
//! built on first use and kept until the store changes: the [`crate::model::Backend`]
//! bumps a generation number whenever it hands out write access to the store, and a
//! column built at another generation is rebuilt. Readers must read the generation
//! while holding the store's read lock.
//!
//! The same generation rule keeps the order of unfiltered list reads
//! ([`Cache::ordered_rows`]): a read of 50,000 records 500 at a time asks for the same
//! sorted list 100 times, and each page is then a slice of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::model::Store;
use crate::query::QueryError;

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

/// What an unfiltered list read's rows depend on besides the store: the type, the sort
/// keys as written (`-` for descending), and the `return_only` and
/// `include_archived_projects` options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// Canonical entity type.
    pub entity_type: String,
    /// The sort keys, e.g. `-sg_cut_out,code` (empty: id order).
    pub sort: String,
    /// `options[return_only]=retired`.
    pub retired: bool,
    /// `options[include_archived_projects]=true`.
    pub include_archived_projects: bool,
}

/// Every row an unfiltered list read returns, in order, as `(row, id)`.
pub type OrderedRows = Arc<Vec<(usize, i64)>>;

/// One ordered list: built once by the first reader, waited for by the others.
type OrderSlot = Arc<OnceLock<Result<OrderedRows, QueryError>>>;

/// Ordered lists by key, each tagged with the generation and table length it was
/// built at.
type Orders = HashMap<OrderKey, (u64, usize, OrderSlot)>;

/// At most this many ordered lists are kept (each is 16 bytes a row).
pub const MAX_ORDERS: usize = 16;

/// Columns by (type, field), each tagged with the generation it was built at.
#[derive(Debug, Default)]
pub struct Cache {
    inner: Mutex<Columns>,
    orders: Mutex<Orders>,
    /// Set by [`Cache::set_shortcuts`]`(false)`.
    no_shortcuts: AtomicBool,
}

/// Fewer records than this are read straight from the records.
pub const MIN_ROWS: usize = 2_000;

impl Cache {
    /// An empty cache.
    pub fn new() -> Self {
        Cache::default()
    }

    /// Turns the shortcuts of list pages (`GET /entity/{type}`, `_search`) on (the
    /// default) or off: the ordered lists of [`Cache::ordered_rows`] and the id-order
    /// scan of [`crate::query::list::run_rows_with`]. Off, every page is found the long
    /// way ([`crate::query::list::run_rows_sorted`]: every matching row, sorted); tests
    /// and benchmarks compare the two.
    pub fn set_shortcuts(&self, on: bool) {
        self.no_shortcuts.store(!on, Ordering::SeqCst);
        if !on {
            self.orders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    /// Whether list reads take their shortcuts (see [`Cache::set_shortcuts`]).
    pub fn shortcuts(&self) -> bool {
        !self.no_shortcuts.load(Ordering::SeqCst)
    }

    /// The ordered rows of an unfiltered list read at `generation`, from `build` the
    /// first time (concurrent readers of the same key wait for that one build). A list
    /// built at another generation, or when the table had another length, is never
    /// returned. Call it while holding the store's read lock, with the generation read
    /// under that lock.
    pub fn ordered_rows(
        &self,
        generation: u64,
        table_len: usize,
        key: OrderKey,
        build: impl FnOnce() -> Result<Vec<(usize, i64)>, QueryError>,
    ) -> Result<OrderedRows, QueryError> {
        let slot = {
            let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
            orders.retain(|_, (g, _, _)| *g == generation);
            match orders.get(&key) {
                // The length check also catches inserts made without a generation bump.
                Some((_, len, slot)) if *len == table_len => Arc::clone(slot),
                _ => {
                    if orders.len() >= MAX_ORDERS && !orders.contains_key(&key) {
                        // All are of this generation; any one may go.
                        if let Some(k) = orders.keys().next().cloned() {
                            orders.remove(&k);
                        }
                    }
                    let slot = OrderSlot::default();
                    orders.insert(key, (generation, table_len, Arc::clone(&slot)));
                    slot
                }
            }
        };
        // Built outside the map's lock: other keys are not held up.
        slot.get_or_init(|| build().map(Arc::new)).clone()
    }

    /// How many ordered lists are kept (for tests).
    pub fn ordered_lists(&self) -> usize {
        self.orders.lock().unwrap_or_else(|e| e.into_inner()).len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn key(entity_type: &str, sort: &str) -> OrderKey {
        OrderKey {
            entity_type: entity_type.into(),
            sort: sort.into(),
            retired: false,
            include_archived_projects: false,
        }
    }

    #[test]
    fn an_ordered_list_is_kept_for_its_generation_and_table_length_only() {
        let cache = Cache::new();
        let builds = AtomicUsize::new(0);
        let get = |generation: u64, len: usize, k: OrderKey, id: i64| {
            cache
                .ordered_rows(generation, len, k, || {
                    builds.fetch_add(1, Ordering::SeqCst);
                    Ok(vec![(0, id)])
                })
                .unwrap()
        };
        assert_eq!(*get(1, 10, key("Shot", "code"), 1), vec![(0, 1)]);
        // Same generation, length and key: the kept list, not a new build.
        assert_eq!(*get(1, 10, key("Shot", "code"), 2), vec![(0, 1)]);
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        // Another key of the same type is its own list.
        assert_eq!(*get(1, 10, key("Shot", "-code"), 3), vec![(0, 3)]);
        assert_eq!(*get(1, 10, key("Asset", "code"), 4), vec![(0, 4)]);
        let mut retired = key("Shot", "code");
        retired.retired = true;
        assert_eq!(*get(1, 10, retired, 5), vec![(0, 5)]);
        assert_eq!(builds.load(Ordering::SeqCst), 4);
        // A table of another length (an insert without a generation bump): rebuilt,
        // without dropping the other types' lists.
        assert_eq!(*get(1, 11, key("Shot", "code"), 6), vec![(0, 6)]);
        assert_eq!(*get(1, 10, key("Asset", "code"), 7), vec![(0, 4)]);
        // A new generation: everything is rebuilt, and older lists are dropped.
        assert_eq!(*get(2, 11, key("Shot", "code"), 8), vec![(0, 8)]);
        assert_eq!(cache.ordered_lists(), 1);
        assert_eq!(*get(2, 10, key("Asset", "code"), 9), vec![(0, 9)]);
    }

    #[test]
    fn errors_are_returned_and_lists_are_bounded() {
        let cache = Cache::new();
        let e = cache
            .ordered_rows(1, 1, key("Shot", "x"), || {
                Err(QueryError::invalid(&Default::default(), "sort", "bad"))
            })
            .unwrap_err();
        assert_eq!(e.detail.as_deref(), Some("bad"));
        for i in 0..(MAX_ORDERS * 2) {
            let rows = cache
                .ordered_rows(1, 1, key("Shot", &i.to_string()), || {
                    Ok(vec![(0, i as i64)])
                })
                .unwrap();
            assert_eq!(*rows, vec![(0, i as i64)]);
            assert!(cache.ordered_lists() <= MAX_ORDERS);
        }
        // Turning the shortcuts off drops every kept list.
        assert!(cache.shortcuts());
        cache.set_shortcuts(false);
        assert!(!cache.shortcuts());
        assert_eq!(cache.ordered_lists(), 0);
        cache.set_shortcuts(true);
        assert!(cache.shortcuts());
    }

    #[test]
    fn concurrent_readers_of_one_key_share_one_build() {
        let cache = Cache::new();
        let builds = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        cache
                            .ordered_rows(3, 2, key("Shot", "code"), || {
                                builds.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(50));
                                Ok(vec![(0, 1), (1, 2)])
                            })
                            .unwrap()
                    })
                })
                .collect();
            for h in handles {
                assert_eq!(*h.join().unwrap(), vec![(0, 1), (1, 2)]);
            }
        });
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }
}
