//! Following the event log (EventLogEntry), sans-IO: the position of a follower, the
//! filters of its next poll, and what a polled page means.
//!
//! ShotGrid assigns event ids when a transaction starts but makes them visible when it
//! commits, so a poll for `id > last` can see id 12 before id 11 exists. Skipping 11 for
//! good would lose an event; waiting for it forever would stall. Like ShotGrid's Python
//! event daemon (shotgunEvents), the follower remembers such *holes* (ids below its
//! position it has not seen) with the time they were first noticed, asks for them again
//! in every poll (`id in [holes]` OR `id > last`), yields a hole's event when it shows
//! up, and forgets a hole after a timeout (default 5 minutes: a rolled-back transaction
//! never fills its id). Events are therefore yielded in id order, except that an event
//! filling a hole comes after higher ids already yielded; no event is yielded twice.
//!
//! Filtering by entity type happens here, after the position has moved, not in the
//! server query: a server-side filter would make other types' ids look like holes.

use crate::protocol::json::Value;

use crate::protocol::json::json;

use super::Error;

/// Default time a hole is waited for.
pub const DEFAULT_HOLE_TIMEOUT_MS: f64 = 5.0 * 60.0 * 1000.0;
/// Most holes remembered (the lowest are dropped first).
pub const MAX_HOLES: usize = 200;
/// Fields read from each EventLogEntry unless the caller names others.
pub const DEFAULT_FIELDS: &[&str] = &[
    "id",
    "event_type",
    "attribute_name",
    "meta",
    "entity",
    "user",
    "project",
    "session_uuid",
    "created_at",
    "description",
];

/// Largest id accepted (what JS represents exactly).
const MAX_ID: u64 = (1 << 53) - 1;

/// Where a follower is: the highest id it has yielded and the holes below it. Serializes
/// to `{lastId, holes: [[id, firstSeenMs], …]}` so a Worker can store it between runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FollowPosition {
    /// Highest event id yielded (or the starting point).
    pub last_id: u64,
    /// Ids below `last_id` not seen yet → when the hole was first noticed (ms).
    pub holes: Holes,
}

/// The holes of a position: ids → when each was first noticed (ms), sorted by id, at
/// most [`MAX_HOLES`] of them. A sorted vector rather than a `BTreeMap`: with so few
/// entries it is as quick, and it keeps the B-tree's code out of the .wasm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Holes(Vec<(u64, f64)>);

impl Holes {
    /// Records `id` as a hole first noticed at `seen` (replacing an earlier time).
    pub fn insert(&mut self, id: u64, seen: f64) {
        match self.0.binary_search_by_key(&id, |h| h.0) {
            Ok(i) => {
                if let Some(h) = self.0.get_mut(i) {
                    h.1 = seen;
                }
            }
            Err(i) => self.0.insert(i, (id, seen)),
        }
    }

    /// Forgets `id`; returns whether it was a hole.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.0.binary_search_by_key(&id, |h| h.0) {
            Ok(i) => {
                self.0.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Keeps only the `max` highest ids.
    fn keep_highest(&mut self, max: usize) {
        let extra = self.0.len().saturating_sub(max);
        self.0.drain(..extra);
    }

    /// The ids, ascending.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &u64> {
        self.0.iter().map(|h| &h.0)
    }

    /// `(id, first noticed ms)` pairs, ascending by id.
    pub fn iter(&self) -> impl Iterator<Item = &(u64, f64)> {
        self.0.iter()
    }

    /// How many holes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What one polled page produced.
#[derive(Debug, Default, PartialEq)]
pub struct Polled {
    /// Events to hand to the caller, in the order to yield them.
    pub events: Vec<Value>,
    /// The page was not full: nothing more is available right now.
    pub caught_up: bool,
}

fn pos_err(path: &str, detail: &str) -> Error {
    Error::invalid_input(path, detail)
}

fn as_id(v: &Value) -> Option<u64> {
    v.as_u64().filter(|n| *n <= MAX_ID)
}

impl FollowPosition {
    /// A position after `last_id`, with no holes.
    pub fn after(last_id: u64) -> Self {
        FollowPosition {
            last_id,
            holes: Holes::default(),
        }
    }

    /// Reads a stored position `{lastId, holes?}`; `path` names it in errors.
    pub fn from_json(v: &Value, path: &str) -> Result<Self, Error> {
        let o = v
            .as_object()
            .ok_or_else(|| pos_err(path, "must be an object { lastId, holes }"))?;
        let last_id = o
            .get("lastId")
            .and_then(as_id)
            .ok_or_else(|| pos_err(path, "lastId must be a non-negative integer"))?;
        let mut holes = Holes::default();
        match o.get("holes") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items.iter().take(MAX_HOLES) {
                    let pair = item.as_array().map(Vec::as_slice);
                    let (Some(id), Some(seen)) = (
                        pair.and_then(|p| p.first()).and_then(as_id),
                        pair.and_then(|p| p.get(1))
                            .and_then(Value::as_f64)
                            .filter(|t| t.is_finite()),
                    ) else {
                        return Err(pos_err(path, "holes must be [id, firstSeenMs] pairs"));
                    };
                    if id < last_id {
                        holes.insert(id, seen);
                    }
                }
            }
            Some(_) => return Err(pos_err(path, "holes must be an array")),
        }
        Ok(FollowPosition { last_id, holes })
    }

    /// `{lastId, holes}` (see [`FollowPosition::from_json`]).
    pub fn to_json(&self) -> Value {
        let holes: Vec<Value> = self.holes.iter().map(|(id, t)| json!([id, t])).collect();
        json!({"lastId": self.last_id, "holes": holes})
    }

    /// The filters of the next poll: `id > last` OR `id in holes`.
    pub fn filters(&self) -> Value {
        let newer = json!(["id", "greater_than", self.last_id]);
        if self.holes.is_empty() {
            return json!([newer]);
        }
        let ids: Vec<u64> = self.holes.keys().copied().collect();
        json!({
            "logical_operator": "or",
            "conditions": [newer, ["id", "in", ids]],
        })
    }

    /// Forgets holes first noticed more than `timeout_ms` before `now_ms`.
    pub fn expire(&mut self, now_ms: f64, timeout_ms: f64) {
        self.holes.0.retain(|h| now_ms - h.1 <= timeout_ms);
    }

    /// Moves past one polled event id: returns whether it is new (above the position,
    /// or filling a hole) rather than one yielded before. Ids skipped on the way up
    /// become holes first noticed at `now_ms`.
    pub fn advance(&mut self, id: u64, now_ms: f64) -> bool {
        if id <= self.last_id {
            // Only a hole's event is new; anything else was yielded before.
            return self.holes.remove(id);
        }
        // Starting fresh (last_id 0) there is nothing to wait for. Only the MAX_HOLES
        // ids just below `id` can become holes, whatever the gap.
        if self.last_id > 0 {
            let first = self
                .last_id
                .saturating_add(1)
                .max(id.saturating_sub(MAX_HOLES as u64));
            for missing in first..id {
                self.holes.insert(missing, now_ms);
            }
            // Keep the newest holes: the oldest are the least likely to fill.
            self.holes.keep_highest(MAX_HOLES);
        }
        self.last_id = id;
        true
    }

    /// Takes one polled page (records sorted by id, at most `page_size`): moves the
    /// position, records new holes, fills old ones, and returns the events to yield
    /// (only those matching `entity_types` when it is not empty).
    pub fn accept(
        &mut self,
        page: Vec<Value>,
        page_size: u32,
        entity_types: &[String],
        now_ms: f64,
    ) -> Result<Polled, Error> {
        let caught_up = page.len() < page_size as usize;
        let records = sort_page(page)?;
        let mut events = Vec::new();
        for (id, record) in records {
            if self.advance(id, now_ms) && matches_types(&record, entity_types) {
                events.push(record);
            }
        }
        Ok(Polled { events, caught_up })
    }
}

/// The id of a polled EventLogEntry.
pub fn record_id(record: &Value) -> Result<u64, Error> {
    record
        .get("id")
        .and_then(as_id)
        .ok_or_else(|| Error::decode("an EventLogEntry without a valid id", 200, None))
}

/// Sorts polled records by id and drops duplicate ids (the first one stays). Pages
/// arrive sorted by id (the poll asks for it), so each record is placed by a binary
/// search and normally appended: linear for a sorted page, and no general-purpose sort
/// in the .wasm.
pub fn sort_page(page: Vec<Value>) -> Result<Vec<(u64, Value)>, Error> {
    let mut records: Vec<(u64, Value)> = Vec::with_capacity(page.len());
    for r in page {
        let id = record_id(&r)?;
        let i = records.partition_point(|(x, _)| *x < id);
        if records.get(i).is_some_and(|(x, _)| *x == id) {
            continue;
        }
        records.insert(i, (id, r));
    }
    Ok(records)
}

/// Whether an event concerns one of `types` (all when empty): its `entity.type`, or
/// the `<Type>` of an `event_type` such as `Shotgun_Shot_Change`.
pub fn matches_types(event: &Value, types: &[String]) -> bool {
    if types.is_empty() {
        return true;
    }
    let entity_type = event
        .get("entity")
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str);
    if let Some(t) = entity_type {
        if types.iter().any(|x| x == t) {
            return true;
        }
    }
    let event_type = event
        .get("event_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    types.iter().any(|t| {
        event_type
            .strip_prefix("Shotgun_")
            .and_then(|rest| rest.strip_prefix(t.as_str()))
            .is_some_and(|rest| rest.starts_with('_'))
    })
}

/// `{fields}` helper: the default field list as owned strings.
pub fn default_fields() -> Vec<String> {
    DEFAULT_FIELDS.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::sj as json;

    fn ev(id: u64, ty: &str) -> Value {
        json!({"type": "EventLogEntry", "id": id, "event_type": format!("Shotgun_{ty}_Change"), "entity": {"type": ty, "id": 1}})
    }

    fn ids(p: &Polled) -> Vec<u64> {
        p.events.iter().map(|e| e["id"].as_u64().unwrap()).collect()
    }

    #[test]
    fn yields_in_order_and_never_twice() {
        let mut pos = FollowPosition::after(10);
        let p = pos
            .accept(vec![ev(12, "Shot"), ev(11, "Shot")], 5, &[], 0.0)
            .unwrap();
        assert_eq!(ids(&p), [11, 12]);
        assert!(p.caught_up);
        let p = pos.accept(vec![ev(12, "Shot")], 5, &[], 1.0).unwrap();
        assert!(p.events.is_empty());
        assert_eq!(pos.last_id, 12);
    }

    #[test]
    fn sorts_a_page_and_keeps_the_first_of_repeated_ids() {
        let page = vec![
            ev(5, "Shot"),
            ev(3, "Asset"),
            ev(5, "Asset"),
            ev(4, "Shot"),
            ev(1, "Shot"),
        ];
        let sorted = sort_page(page).unwrap();
        let ids: Vec<u64> = sorted.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [1, 3, 4, 5]);
        assert_eq!(sorted[3].1["entity"]["type"], "Shot");
        let many: Vec<Value> = (1..=300).rev().map(|i| ev(i, "Shot")).collect();
        let ids: Vec<u64> = sort_page(many).unwrap().iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, (1..=300).collect::<Vec<_>>());
    }

    #[test]
    fn remembers_holes_and_yields_them_when_they_commit() {
        let mut pos = FollowPosition::after(10);
        let p = pos
            .accept(vec![ev(11, "Shot"), ev(14, "Shot")], 5, &[], 100.0)
            .unwrap();
        assert_eq!(ids(&p), [11, 14]);
        assert_eq!(pos.holes.keys().copied().collect::<Vec<_>>(), [12, 13]);
        assert_eq!(
            pos.filters(),
            json!({"logical_operator": "or", "conditions": [["id", "greater_than", 14], ["id", "in", [12, 13]]]})
        );
        // 13 commits late, with a newer 15.
        let p = pos
            .accept(vec![ev(13, "Asset"), ev(15, "Shot")], 5, &[], 200.0)
            .unwrap();
        assert_eq!(ids(&p), [13, 15]);
        assert_eq!(pos.holes.keys().copied().collect::<Vec<_>>(), [12]);
        // 12 never commits: forgotten after the timeout.
        pos.expire(100.0 + DEFAULT_HOLE_TIMEOUT_MS, DEFAULT_HOLE_TIMEOUT_MS);
        assert_eq!(pos.holes.len(), 1);
        pos.expire(101.0 + DEFAULT_HOLE_TIMEOUT_MS, DEFAULT_HOLE_TIMEOUT_MS);
        assert!(pos.holes.is_empty());
        assert_eq!(pos.filters(), json!([["id", "greater_than", 15]]));
    }

    #[test]
    fn position_round_trips_through_json() {
        let mut pos = FollowPosition::after(3);
        pos.accept(vec![ev(6, "Shot")], 5, &[], 7.0).unwrap();
        let back = FollowPosition::from_json(&pos.to_json(), "position").unwrap();
        assert_eq!(back, pos);
        assert_eq!(back.holes.len(), 2);
        // Stored holes in any order, repeated: sorted by id, the last time kept, and
        // only those below lastId.
        let stored = json!({"lastId": 9, "holes": [[7, 1.0], [3, 2.0], [7, 5.0], [9, 1.0]]});
        let read = FollowPosition::from_json(&stored, "position").unwrap();
        assert_eq!(
            read.holes.iter().copied().collect::<Vec<_>>(),
            [(3, 2.0), (7, 5.0)]
        );
        assert_eq!(
            read.to_json(),
            json!({"lastId": 9, "holes": [[3, 2.0], [7, 5.0]]})
        );
        for bad in [
            json!(3),
            json!({}),
            json!({"lastId": -1}),
            json!({"lastId": 1, "holes": 3}),
            json!({"lastId": 5, "holes": [[1]]}),
        ] {
            assert!(
                FollowPosition::from_json(&bad, "position").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn filters_by_entity_type_after_moving() {
        let mut pos = FollowPosition::after(0);
        let types = vec!["Shot".to_owned()];
        let mut asset_deleted = ev(3, "Asset");
        asset_deleted["entity"] = Value::Null;
        let mut shot_deleted = ev(4, "Shot");
        shot_deleted["entity"] = Value::Null;
        let p = pos
            .accept(
                vec![ev(1, "Shot"), ev(2, "ShotX"), asset_deleted, shot_deleted],
                4,
                &types,
                0.0,
            )
            .unwrap();
        assert_eq!(ids(&p), [1, 4]);
        assert!(!p.caught_up);
        assert_eq!(pos.last_id, 4);
        assert!(pos.holes.is_empty());
    }

    #[test]
    fn caps_holes_and_rejects_bad_records() {
        let mut pos = FollowPosition::after(1);
        pos.accept(vec![ev(10_000, "Shot")], 5, &[], 0.0).unwrap();
        assert_eq!(pos.holes.len(), MAX_HOLES);
        pos.accept(vec![ev(MAX_ID, "Shot")], 5, &[], 0.0).unwrap();
        assert_eq!(pos.holes.len(), MAX_HOLES);
        assert_eq!(pos.holes.keys().next_back(), Some(&(MAX_ID - 1)));
        let e = pos
            .accept(vec![json!({"id": "x"})], 5, &[], 0.0)
            .unwrap_err();
        assert_eq!(e.kind, crate::protocol::ErrorKind::Decode);
    }
}
