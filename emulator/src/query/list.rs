//! List reads: matching records, multi-key sort, pages.
//!
//! Sorting is stable with ties broken by ascending id (records are visited in id
//! order). Text sorts case-insensitively; links sort by display name; nulls come last
//! in ascending order and first in descending order (PostgreSQL's default).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value;

use super::cache::ColumnSet;
use super::filter::Filter;
use super::path::FieldPath;
use super::{archived_projects, in_archived_project, QueryError, SourcePath};
use super::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::model::{Record, ReturnOnly, Store};

/// One sort key.
#[derive(Debug, Clone)]
pub struct SortSpec<'s> {
    /// Field (or dotted path) to sort on.
    pub path: FieldPath<'s>,
    /// Descending when the key was written `-field`.
    pub desc: bool,
}

/// Parses `sort=a,-b` for the canonical type. Errors name `{"sort":[…]}`.
pub fn parse_sort<'s>(
    store: &'s Store,
    entity_type: &str,
    raw: &str,
) -> Result<Vec<SortSpec<'s>>, QueryError> {
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (desc, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let path = FieldPath::resolve(store, entity_type, name).map_err(|_| {
            QueryError::invalid(
                &SourcePath::default(),
                "sort",
                format!("{entity_type}.{name} is not a field that can be sorted on"),
            )
        })?;
        out.push(SortSpec { path, desc });
    }
    Ok(out)
}

/// A page of a list (`page[number]` is 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number.
    pub number: usize,
    /// Records per page.
    pub size: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

fn positive(v: Option<&Value>) -> Option<Option<i64>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::Number(n)) => n.as_i64().map(Some),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok().map(Some),
        Some(_) => None,
    }
}

impl Page {
    /// Validates `page[number]` and `page[size]` (JSON numbers or numeric strings).
    /// Size must be 1..=5000, number ≥ 1; errors name `{"page":{"size":[…]}}`.
    pub fn parse(number: Option<&Value>, size: Option<&Value>) -> Result<Page, QueryError> {
        let at = SourcePath::root("page");
        let size = match positive(size) {
            Some(None) => DEFAULT_PAGE_SIZE,
            Some(Some(n)) if (1..=MAX_PAGE_SIZE as i64).contains(&n) => n as usize,
            _ => {
                return Err(QueryError::invalid(
                    &at,
                    "size",
                    format!("page size must be an integer between 1 and {MAX_PAGE_SIZE}"),
                ))
            }
        };
        let number = match positive(number) {
            Some(None) => 1,
            Some(Some(n)) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => {
                return Err(QueryError::invalid(
                    &at,
                    "number",
                    "page number must be an integer of at least 1",
                ))
            }
        };
        Ok(Page { number, size })
    }

    /// Index of the first record of the page.
    pub fn offset(&self) -> usize {
        (self.number - 1).saturating_mul(self.size)
    }
}

/// Everything a list read needs.
#[derive(Debug, Clone)]
pub struct ListQuery<'s> {
    /// Canonical entity type.
    pub entity_type: &'s str,
    /// Compiled filter.
    pub filter: Filter<'s>,
    /// Sort keys (empty: by id).
    pub sort: Vec<SortSpec<'s>>,
    /// Which page.
    pub page: Page,
    /// Live or retired records.
    pub return_only: ReturnOnly,
    /// Also return records of archived projects.
    pub include_archived_projects: bool,
}

/// The records of a type that pass the filter, the retired flag and the archived
/// project rule, in id order.
pub fn matching<'s>(
    store: &'s Store,
    entity_type: &str,
    filter: &Filter<'s>,
    return_only: ReturnOnly,
    include_archived_projects: bool,
) -> Result<Vec<&'s Record>, QueryError> {
    Ok(matching_rows(
        store,
        entity_type,
        filter,
        return_only,
        include_archived_projects,
        &ColumnSet::default(),
    )?
    .into_iter()
    .map(|(_, r)| r)
    .collect())
}

/// Like [`matching`], with each record's row (its position in id order among all the
/// type's records), reading fields from `cols` where loaded.
pub fn matching_rows<'s>(
    store: &'s Store,
    entity_type: &str,
    filter: &Filter<'s>,
    return_only: ReturnOnly,
    include_archived_projects: bool,
    cols: &ColumnSet,
) -> Result<Vec<(usize, &'s Record)>, QueryError> {
    let mut out = Vec::new();
    scan_rows(
        store,
        entity_type,
        filter,
        (return_only, include_archived_projects),
        cols,
        false,
        |row| {
            out.push(row);
            true
        },
    )?;
    Ok(out)
}

/// Visits the matching rows (as [`matching_rows`] finds them) in id order, or in
/// reverse id order when `reverse`, until `visit` returns false.
fn scan_rows<'s>(
    store: &'s Store,
    entity_type: &str,
    filter: &Filter<'s>,
    (return_only, include_archived_projects): (ReturnOnly, bool),
    cols: &ColumnSet,
    reverse: bool,
    mut visit: impl FnMut((usize, &'s Record)) -> bool,
) -> Result<(), QueryError> {
    let table = store.table(entity_type).map_err(|_| {
        QueryError::invalid(&SourcePath::default(), "entity", "entity is not valid")
    })?;
    let archived: HashSet<i64> = if include_archived_projects {
        HashSet::new()
    } else {
        archived_projects(store)
    };
    let retired = return_only == ReturnOnly::Retired;
    let project = cols.get("project");
    let archived_at = |row: usize, r: &Record| -> bool {
        if archived.is_empty() {
            return false;
        }
        match project.and_then(|c| c.get(row)) {
            Some(p) => p.get("id").and_then(Value::as_i64).is_some_and(|id| {
                p.get("type").and_then(Value::as_str) == Some("Project") && archived.contains(&id)
            }),
            None => in_archived_project(r, &archived),
        }
    };
    let retired_col = cols.retired();
    let is_retired = |row: usize, r: &Record| match retired_col.and_then(|c| c.get(row)) {
        Some(v) => v.as_bool() == Some(true),
        None => r.retired,
    };
    let bound = filter.bind(cols);
    // With cached columns, the records themselves are only touched by conditions that
    // follow links.
    let rows = table
        .records
        .values()
        .enumerate()
        .filter(|(row, r)| is_retired(*row, r) == retired)
        .filter(|(row, r)| !archived_at(*row, r))
        .filter(|(row, r)| filter.matches_row(r, &bound, *row));
    if reverse {
        for row in rows.rev() {
            if !visit(row) {
                break;
            }
        }
    } else {
        for row in rows {
            if !visit(row) {
                break;
            }
        }
    }
    Ok(())
}

/// A value to sort on.
#[derive(Debug, Clone, PartialEq)]
enum SortVal<'a> {
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    Null,
}

fn sort_val<'r>(store: &Store, path: &FieldPath<'r>, record: &'r Record) -> SortVal<'r> {
    sort_val_from(store, path, record, None)
}

fn sort_val_from<'r>(
    store: &Store,
    path: &FieldPath<'r>,
    record: &'r Record,
    cached: Option<&'r Value>,
) -> SortVal<'r> {
    let owner: &'r Record = if path.hops.is_empty() {
        record
    } else {
        match path.reach(record).first() {
            Some(r) => r,
            None => return SortVal::Null,
        }
    };
    if path.field == "id" {
        return SortVal::Num(owner.id as f64);
    }
    let v = match cached.or_else(|| owner.fields.get(&path.field)) {
        Some(v) => v,
        None if path.field == "type" => return SortVal::Str(Cow::Owned(path.owner.clone())),
        None => return SortVal::Null,
    };
    let name = |v: &Value| -> SortVal<'r> {
        let o = v.as_object();
        let t = o.and_then(|o| o.get("type")).and_then(Value::as_str);
        let id = o.and_then(|o| o.get("id")).and_then(Value::as_i64);
        match (t, id) {
            (Some(t), Some(id)) => store
                .display_name(t, id)
                .map_or(SortVal::Null, |n| SortVal::Str(Cow::Owned(n))),
            _ => SortVal::Null,
        }
    };
    match v {
        Value::Null => SortVal::Null,
        Value::Bool(b) => SortVal::Bool(*b),
        Value::Number(n) => n.as_f64().map_or(SortVal::Null, SortVal::Num),
        Value::String(s) => SortVal::Str(Cow::Borrowed(s.as_str())),
        Value::Array(items) => match items.first() {
            Some(Value::String(s)) => SortVal::Str(Cow::Borrowed(s.as_str())),
            Some(first) => name(first),
            None => SortVal::Null,
        },
        Value::Object(_) => name(v),
    }
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
            .then_with(|| a.cmp(b))
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .cmp(b.chars().flat_map(char::to_lowercase))
            .then_with(|| a.cmp(b))
    }
}

/// Ascending order with nulls last.
fn cmp_vals(a: &SortVal<'_>, b: &SortVal<'_>) -> Ordering {
    use SortVal::*;
    let rank = |v: &SortVal<'_>| match v {
        Bool(_) => 0,
        Num(_) => 1,
        Str(_) => 2,
        Null => 3,
    };
    match (a, b) {
        (Bool(x), Bool(y)) => x.cmp(y),
        (Num(x), Num(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Str(x), Str(y)) => cmp_text(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A number ordered like [`cmp_vals`] orders values, where it can: `prefix(a) <
/// prefix(b)` implies `a < b`; equal prefixes decide nothing. The kind's rank is in the
/// top two bits; booleans are exact, numbers keep their top 62 order bits (nearly equal
/// numbers may share a prefix), texts only have their rank.
fn prefix(v: &SortVal<'_>) -> u64 {
    let (rank, low): (u64, u64) = match v {
        SortVal::Bool(b) => (0, u64::from(*b)),
        SortVal::Num(x) => {
            // -0.0 == 0.0; flipping the sign bit (all bits when negative) makes the
            // bits of other numbers sort like the numbers.
            let bits = if *x == 0.0 {
                0f64.to_bits()
            } else {
                x.to_bits()
            };
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits | 1 << 63
            };
            (1, ordered >> 2)
        }
        SortVal::Str(_) => (2, 0),
        SortVal::Null => (3, 0),
    };
    rank << 62 | low
}

/// Compares two records (possibly of different types) on one key each, ascending;
/// a missing key is null.
pub fn compare_records(
    store: &Store,
    a_key: Option<&SortSpec<'_>>,
    a: &Record,
    b_key: Option<&SortSpec<'_>>,
    b: &Record,
) -> Ordering {
    let va = a_key.map_or(SortVal::Null, |k| sort_val(store, &k.path, a));
    let vb = b_key.map_or(SortVal::Null, |k| sort_val(store, &k.path, b));
    cmp_vals(&va, &vb)
}

/// Sorts records in place (stable: ties keep id order).
pub fn sort_records<'s>(store: &'s Store, records: &mut Vec<&'s Record>, sort: &[SortSpec<'s>]) {
    let mut rows: Vec<(usize, &'s Record)> = records.iter().map(|r| (0, *r)).collect();
    sort_rows(store, &mut rows, sort, &ColumnSet::default(), usize::MAX);
    *records = rows.into_iter().map(|(_, r)| r).collect();
}

/// Sorts rows by the keys, ties by id; only the first `limit` rows are guaranteed to
/// be in order (the rest are the larger ones, unordered).
///
/// Every row first gets a number ordered like its first key wherever that key alone
/// decides ([`prefix`]). When only the first `limit` rows are wanted, rows whose number
/// is above the `limit`-th smallest cannot be among them (at least `limit` rows are
/// smaller), so only the others get their full keys and are compared.
pub fn sort_rows<'s: 'c, 'c>(
    store: &'s Store,
    rows: &mut Vec<(usize, &'s Record)>,
    sort: &'c [SortSpec<'s>],
    cols: &'c ColumnSet,
    limit: usize,
) {
    if sort.is_empty() || rows.len() < 2 {
        return;
    }
    let columns: Vec<Option<&'c [Value]>> = sort
        .iter()
        .map(|s| {
            if s.path.hops.is_empty() {
                cols.get(&s.path.field)
            } else {
                None
            }
        })
        .collect();
    let key = |k: usize, (row, r): (usize, &'s Record)| -> SortVal<'c> {
        sort_val_from(store, &sort[k].path, r, columns[k].and_then(|c| c.get(row)))
    };
    let first_desc = sort[0].desc;
    let ordered = |p: u64| if first_desc { !p } else { p };
    // (prefix, index into rows)
    let mut pre: Vec<(u64, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (ordered(prefix(&key(0, *row))), i as u32))
        .collect();
    let mut rest = Vec::new();
    if limit < pre.len() && limit > 0 {
        let (_, &mut (cut, _), _) = pre.select_nth_unstable_by_key(limit - 1, |e| e.0);
        rest = pre.iter().filter(|e| e.0 > cut).map(|e| e.1).collect();
        pre.retain(|e| e.0 <= cut);
    }
    // The keys of candidate `c` are `keys[c * width..][..width]`: one allocation for all.
    let width = sort.len();
    let mut keys: Vec<SortVal<'c>> = Vec::with_capacity(pre.len() * width);
    for (_, i) in &pre {
        for k in 0..width {
            keys.push(key(k, rows[*i as usize]));
        }
    }
    // (prefix, candidate, id)
    let mut order: Vec<(u64, u32, i64)> = pre
        .iter()
        .enumerate()
        .map(|(c, (p, i))| (*p, c as u32, rows[*i as usize].1.id))
        .collect();
    let cmp = |&(pa, a, ida): &(u64, u32, i64), &(pb, b, idb): &(u64, u32, i64)| {
        if pa != pb {
            return pa.cmp(&pb);
        }
        let ka = &keys[a as usize * width..][..width];
        let kb = &keys[b as usize * width..][..width];
        for ((x, y), spec) in ka.iter().zip(kb).zip(sort) {
            let o = cmp_vals(x, y);
            let o = if spec.desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        ida.cmp(&idb)
    };
    // Ids are unique, so the order is total and an unstable sort is stable in effect.
    if limit < order.len() {
        order.select_nth_unstable_by(limit, cmp);
        order[..limit].sort_unstable_by(cmp);
    } else {
        order.sort_unstable_by(cmp);
    }
    let sorted: Vec<(usize, &'s Record)> = order
        .iter()
        .map(|(_, c, _)| rows[pre[*c as usize].1 as usize])
        .chain(rest.iter().map(|i| rows[*i as usize]))
        .collect();
    *rows = sorted;
}

/// Runs a list query: the ids of the requested page, in order.
pub fn run(store: &Store, q: &ListQuery<'_>) -> Result<Vec<i64>, QueryError> {
    run_with(store, q, &ColumnSet::default())
}

/// [`run`], reading fields from cached columns where loaded.
pub fn run_with(
    store: &Store,
    q: &ListQuery<'_>,
    cols: &ColumnSet,
) -> Result<Vec<i64>, QueryError> {
    Ok(run_rows_with(store, q, cols)?
        .into_iter()
        .map(|(_, r)| r.id)
        .collect())
}

/// [`run_with`], giving each record of the page with its row (its position in id
/// order among all the type's records, as in [`ColumnSet`]).
///
/// When the order asked for is id order or its reverse ([`id_order`]), the matching
/// rows already come in that order: nothing is sorted, and the scan stops at the end of
/// the page. [`run_rows_sorted`] gives the same rows the long way.
pub fn run_rows_with<'s>(
    store: &'s Store,
    q: &ListQuery<'s>,
    cols: &ColumnSet,
) -> Result<Vec<(usize, &'s Record)>, QueryError> {
    let Some(reverse) = id_order(&q.sort) else {
        return run_rows_sorted(store, q, cols);
    };
    let (offset, size) = (q.page.offset(), q.page.size);
    if size == 0 {
        return Ok(Vec::new());
    }
    let mut skipped = 0usize;
    let mut out = Vec::with_capacity(size.min(MAX_PAGE_SIZE));
    scan_rows(
        store,
        q.entity_type,
        &q.filter,
        (q.return_only, q.include_archived_projects),
        cols,
        reverse,
        |row| {
            if skipped < offset {
                skipped += 1;
                return true;
            }
            out.push(row);
            out.len() < size
        },
    )?;
    Ok(out)
}

/// [`run_rows_with`] without its shortcut: every matching row, sorted, then the page.
pub fn run_rows_sorted<'s>(
    store: &'s Store,
    q: &ListQuery<'s>,
    cols: &ColumnSet,
) -> Result<Vec<(usize, &'s Record)>, QueryError> {
    let mut rows = matching_rows(
        store,
        q.entity_type,
        &q.filter,
        q.return_only,
        q.include_archived_projects,
        cols,
    )?;
    let end = q.page.offset().saturating_add(q.page.size);
    sort_rows(store, &mut rows, &q.sort, cols, end);
    Ok(rows
        .into_iter()
        .skip(q.page.offset())
        .take(q.page.size)
        .collect())
}

/// Whether records in id order are already in the order `sort` asks for: `Some(false)`
/// when they are (no keys, or a first key `id`: ids are unique, so later keys never
/// decide), `Some(true)` when the order is their reverse (`-id` first), `None` when
/// they must be sorted.
pub fn id_order(sort: &[SortSpec<'_>]) -> Option<bool> {
    match sort.first() {
        None => Some(false),
        Some(s) if s.path.hops.is_empty() && s.path.field == "id" => Some(s.desc),
        Some(_) => None,
    }
}

/// Every matching row of an unfiltered list query in its sort order, as `(row, id)`:
/// what [`crate::query::cache::Cache::ordered_rows`] keeps so that each page of a long
/// read is a slice of it instead of a scan and a sort of the whole table.
pub fn ordered_rows(
    store: &Store,
    q: &ListQuery<'_>,
    cols: &ColumnSet,
) -> Result<Vec<(usize, i64)>, QueryError> {
    let whole = ListQuery {
        page: Page {
            number: 1,
            size: usize::MAX,
        },
        ..q.clone()
    };
    Ok(run_rows_with(store, &whole, cols)?
        .into_iter()
        .map(|(row, r)| (row, r.id))
        .collect())
}

/// The plain fields a list query reads (for [`crate::query::cache::Cache::columns`]).
pub fn fields_read<'a>(q: &'a ListQuery<'_>) -> Vec<&'a str> {
    let mut out = q.filter.plain_fields();
    out.extend(
        q.sort
            .iter()
            .filter(|s| s.path.hops.is_empty())
            .map(|s| s.path.field.as_str()),
    );
    if !q.include_archived_projects {
        out.push("project");
    }
    out
}
