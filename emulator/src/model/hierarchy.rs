//! The navigation hierarchy: `/` → projects → entity types → entities.
//!
//! Paths look like `/`, `/Project/70`, `/Project/70/Shot`, `/Project/70/Shot/5`.

use serde_json::{json, Map, Value};

use super::social::{EntityFields, SocialError};
use super::store::{FieldSelection, FieldValue, ReturnOnly, Store};
use super::Backend;

/// Entity types shown under a project, with their labels, in display order.
pub const NAV_TYPES: &[(&str, &str)] = &[
    ("Asset", "Assets"),
    ("Episode", "Episodes"),
    ("Sequence", "Sequences"),
    ("Shot", "Shots"),
    ("Level", "Levels"),
    ("Scene", "Scenes"),
];

/// Decides whether a record (type, id) is a search hit.
type Matcher<'a> = Box<dyn Fn(&str, i64) -> bool + 'a>;

/// Most results of one hierarchy search.
pub const MAX_SEARCH_RESULTS: usize = 500;

fn invalid(param: &str, message: impl Into<String>) -> SocialError {
    SocialError::Invalid {
        param: param.to_string(),
        message: message.into(),
    }
}

/// A parsed hierarchy path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavPath {
    /// `/`
    Root,
    /// `/Project/{id}`
    Project(i64),
    /// `/Project/{id}/{Type}`
    EntityType(i64, String),
    /// `/Project/{id}/{Type}/{id}`
    Entity(i64, String, i64),
}

impl NavPath {
    /// Parses a path; `None` when it is not one of the four forms.
    pub fn parse(raw: &str) -> Option<NavPath> {
        if !raw.starts_with('/') {
            return None;
        }
        let parts: Vec<&str> = raw.trim_end_matches('/').split('/').collect();
        let id = |s: &str| s.parse::<i64>().ok().filter(|i| *i > 0);
        let nav = |s: &str| NAV_TYPES.iter().any(|(t, _)| *t == s);
        match parts.as_slice() {
            [""] => Some(NavPath::Root),
            ["", "Project", p] => Some(NavPath::Project(id(p)?)),
            ["", "Project", p, t] if nav(t) => Some(NavPath::EntityType(id(p)?, t.to_string())),
            ["", "Project", p, t, e] if nav(t) => {
                Some(NavPath::Entity(id(p)?, t.to_string(), id(e)?))
            }
            _ => None,
        }
    }

    /// The path as text.
    pub fn render(&self) -> String {
        match self {
            NavPath::Root => "/".into(),
            NavPath::Project(p) => format!("/Project/{p}"),
            NavPath::EntityType(p, t) => format!("/Project/{p}/{t}"),
            NavPath::Entity(p, t, e) => format!("/Project/{p}/{t}/{e}"),
        }
    }

    fn parent(&self) -> Option<NavPath> {
        match self {
            NavPath::Root => None,
            NavPath::Project(_) => Some(NavPath::Root),
            NavPath::EntityType(p, _) => Some(NavPath::Project(*p)),
            NavPath::Entity(p, t, _) => Some(NavPath::EntityType(*p, t.clone())),
        }
    }
}

fn in_project(store: &Store, entity_type: &str, project: i64) -> Vec<i64> {
    let Ok(table) = store.table(entity_type) else {
        return Vec::new();
    };
    table
        .records
        .values()
        .filter(|r| !r.retired)
        .filter(|r| {
            r.fields.get("project").and_then(|p| {
                Some((p.get("type")?.as_str()? == "Project") && p.get("id")?.as_i64()? == project)
            }) == Some(true)
        })
        .map(|r| r.id)
        .collect()
}

/// Projects shown in the navigation: live and not archived (as on real sites).
fn live_projects(store: &Store) -> Vec<i64> {
    store
        .table("Project")
        .map(|t| {
            t.records
                .values()
                .filter(|r| !r.retired)
                .filter(|r| {
                    r.fields
                        .get("archived")
                        .and_then(serde_json::Value::as_bool)
                        != Some(true)
                })
                .map(|r| r.id)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses `entity_fields: [{entity, fields:[…]}]`.
fn parse_entity_fields(store: &Store, v: Option<&Value>) -> Result<EntityFields, SocialError> {
    let mut out = EntityFields::new();
    let items = match v {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("entity_fields", "entity_fields must be an array")),
    };
    for item in items {
        let bad = || invalid("entity_fields", "each entry must be {entity, fields:[…]}");
        let t = item.get("entity").and_then(Value::as_str).ok_or_else(bad)?;
        let t = store
            .resolve_type(t)
            .map_err(|_| invalid("entity_fields", format!("{t} is not a valid entity type")))?;
        let fields = item
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(bad)?
            .iter()
            .map(|f| f.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        let sel = if fields.iter().any(|f| f == "*") {
            FieldSelection::All
        } else {
            FieldSelection::Only(fields)
        };
        out.insert(t, sel);
    }
    Ok(out)
}

/// Parses `seed_entity_field` (`Version.entity`) into (type, field).
fn parse_seed(store: &Store, v: Option<&Value>) -> Result<Option<(String, String)>, SocialError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let bad = || {
                invalid(
                    "seed_entity_field",
                    "seed_entity_field must look like Type.field",
                )
            };
            let (t, f) = s.split_once('.').ok_or_else(bad)?;
            let t = store.resolve_type(t).map_err(|_| bad())?;
            if f.is_empty() {
                return Err(bad());
            }
            Ok(Some((t, f.to_string())))
        }
        Some(_) => Err(invalid(
            "seed_entity_field",
            "seed_entity_field must be a string",
        )),
    }
}

fn entity_value(store: &Store, t: &str, id: i64, fields: &EntityFields) -> Value {
    let mut v = Map::new();
    v.insert("type".into(), json!(t));
    v.insert("id".into(), json!(id));
    if let Some(sel) = fields.get(t) {
        if let Ok(view) = store.read(t, id, sel, ReturnOnly::Active) {
            for (name, value) in view.fields {
                let link = |r: &super::EntityRef| json!({"type": r.entity_type, "id": r.id, "name": r.name});
                let value = match value {
                    FieldValue::Attribute(v) => v,
                    FieldValue::Link(None) => Value::Null,
                    FieldValue::Link(Some(r)) => link(&r),
                    FieldValue::MultiLink(items) => Value::Array(items.iter().map(link).collect()),
                };
                v.insert(name, value);
            }
        }
    }
    Value::Object(v)
}

struct Ctx<'a> {
    store: &'a Store,
    fields: EntityFields,
    seed: Option<(String, String)>,
}

impl Ctx<'_> {
    fn label(&self, p: &NavPath) -> Value {
        match p {
            NavPath::Root => json!("Projects"),
            NavPath::Project(id) => json!(self.store.display_name("Project", *id)),
            NavPath::EntityType(_, t) => {
                json!(NAV_TYPES
                    .iter()
                    .find(|(n, _)| n == t)
                    .map_or(t.as_str(), |(_, l)| l))
            }
            NavPath::Entity(_, t, id) => json!(self.store.display_name(t, *id)),
        }
    }

    fn children(&self, p: &NavPath) -> Vec<NavPath> {
        match p {
            NavPath::Root => live_projects(self.store)
                .into_iter()
                .map(NavPath::Project)
                .collect(),
            NavPath::Project(pid) => NAV_TYPES
                .iter()
                .filter(|(t, _)| !in_project(self.store, t, *pid).is_empty())
                .map(|(t, _)| NavPath::EntityType(*pid, t.to_string()))
                .collect(),
            NavPath::EntityType(pid, t) => {
                let mut ids = in_project(self.store, t, *pid);
                ids.sort_by_key(|id| (self.store.display_name(t, *id), *id));
                ids.into_iter()
                    .map(|id| NavPath::Entity(*pid, t.clone(), id))
                    .collect()
            }
            NavPath::Entity(..) => Vec::new(),
        }
    }

    fn node(&self, p: &NavPath, with_children: bool) -> Value {
        let reference = match p {
            NavPath::Root => json!({"kind": "root", "value": null}),
            NavPath::Project(id) => {
                json!({"kind": "entity", "value": entity_value(self.store, "Project", *id, &self.fields)})
            }
            NavPath::EntityType(_, t) => json!({"kind": "entity_type", "value": t}),
            NavPath::Entity(_, t, id) => {
                json!({"kind": "entity", "value": entity_value(self.store, t, *id, &self.fields)})
            }
        };
        let children = self.children(p);
        let path = p.render();
        let mut n = Map::new();
        n.insert("label".into(), self.label(p));
        n.insert("ref".into(), reference);
        if with_children {
            n.insert(
                "parent_path".into(),
                p.parent().map_or(Value::Null, |pp| json!(pp.render())),
            );
        }
        n.insert("path".into(), json!(path));
        if let (Some((t, f)), false) = (&self.seed, *p == NavPath::Root) {
            n.insert(
                "target_entities".into(),
                json!({
                    "type": t,
                    "additional_filter_presets": [{
                        "preset_name": "NAV_ENTRIES",
                        "path": path,
                        "seed": {"type": t, "field": f},
                    }],
                }),
            );
        }
        n.insert("has_children".into(), json!(!children.is_empty()));
        if with_children {
            n.insert(
                "children".into(),
                Value::Array(children.iter().map(|c| self.node(c, false)).collect()),
            );
        }
        Value::Object(n)
    }
}

/// Checks that every record a path names exists (and belongs to its project).
fn check_exists(store: &Store, p: &NavPath) -> Result<(), SocialError> {
    match p {
        NavPath::Root => Ok(()),
        NavPath::Project(pid) | NavPath::EntityType(pid, _) => {
            store.get("Project", *pid, ReturnOnly::Active)?;
            Ok(())
        }
        NavPath::Entity(pid, t, id) => {
            store.get("Project", *pid, ReturnOnly::Active)?;
            store.get(t, *id, ReturnOnly::Active)?;
            if !in_project(store, t, *pid).contains(id) {
                return Err(invalid("path", "path is not valid"));
            }
            Ok(())
        }
    }
}

impl Backend {
    /// `POST /hierarchy/_expand`: the node at `path` with its children.
    pub fn hierarchy_expand(&self, body: &Value) -> Result<Value, SocialError> {
        let store = self.store();
        if !body.is_object() {
            return Err(invalid("body", "the body must be a JSON object"));
        }
        let path = match body.get("path") {
            Some(Value::String(s)) => {
                NavPath::parse(s).ok_or_else(|| invalid("path", "path is not valid"))?
            }
            None | Some(Value::Null) => return Err(invalid("path", "path is required")),
            Some(_) => return Err(invalid("path", "path must be a string")),
        };
        check_exists(&store, &path)?;
        let ctx = Ctx {
            store: &store,
            fields: parse_entity_fields(&store, body.get("entity_fields"))?,
            seed: parse_seed(&store, body.get("seed_entity_field"))?,
        };
        Ok(ctx.node(&path, true))
    }

    /// `POST /hierarchy/_search`: entities whose name contains `search_string`
    /// (case-insensitive), or the one `entity`, under `root_path`.
    pub fn hierarchy_search(&self, body: &Value) -> Result<Vec<Value>, SocialError> {
        let store = self.store();
        if !body.is_object() {
            return Err(invalid("body", "the body must be a JSON object"));
        }
        let root = match body.get("root_path") {
            None | Some(Value::Null) => NavPath::Root,
            Some(Value::String(s)) => {
                NavPath::parse(s).ok_or_else(|| invalid("root_path", "root_path is not valid"))?
            }
            Some(_) => return Err(invalid("root_path", "root_path must be a string")),
        };
        check_exists(&store, &root)?;
        let criteria = body
            .get("search_criteria")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("search_criteria", "search_criteria is required"))?;
        parse_seed(&store, body.get("seed_entity_field"))?;
        let text = criteria.get("search_string");
        let entity = criteria.get("entity");
        let one_of = || {
            invalid(
                "search_criteria",
                "search_criteria must contain exactly one of search_string, entity",
            )
        };
        let wanted: Matcher<'_> = match (text, entity) {
            (Some(Value::String(s)), None) => {
                let needle = s.trim().to_lowercase();
                if needle.is_empty() {
                    return Err(invalid("search_string", "search_string must not be empty"));
                }
                let store_ref = &*store;
                Box::new(move |t: &str, id: i64| {
                    store_ref
                        .display_name(t, id)
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
                })
            }
            (None, Some(e)) => {
                let t = e.get("type").and_then(Value::as_str);
                let id = e.get("id").and_then(Value::as_i64);
                let (Some(t), Some(id)) = (t, id) else {
                    return Err(invalid("entity", "entity must be {type, id}"));
                };
                let t = store
                    .resolve_type(t)
                    .map_err(|_| invalid("entity", "entity is not valid"))?;
                Box::new(move |ct: &str, cid: i64| ct == t && cid == id)
            }
            (Some(_), None) => {
                return Err(invalid("search_string", "search_string must be a string"))
            }
            _ => return Err(one_of()),
        };
        let projects: Vec<i64> = match &root {
            NavPath::Root => live_projects(&store),
            NavPath::Project(p) | NavPath::EntityType(p, _) | NavPath::Entity(p, _, _) => vec![*p],
        };
        let only_type = match &root {
            NavPath::EntityType(_, t) | NavPath::Entity(_, t, _) => Some(t.clone()),
            _ => None,
        };
        let mut out = Vec::new();
        for pid in projects {
            let pname = store.display_name("Project", pid).unwrap_or_default();
            if only_type.is_none() && wanted("Project", pid) {
                out.push(json!({
                    "label": pname,
                    "incremental_path": ["/", format!("/Project/{pid}")],
                    "path_label": pname,
                    "ref": {"id": pid, "type": "Project"},
                    "project_id": pid,
                }));
            }
            for (t, label) in NAV_TYPES {
                if only_type.as_deref().is_some_and(|o| o != *t) {
                    continue;
                }
                for id in in_project(&store, t, pid) {
                    if let NavPath::Entity(_, _, only) = root {
                        if id != only {
                            continue;
                        }
                    }
                    if !wanted(t, id) {
                        continue;
                    }
                    let name = store.display_name(t, id).unwrap_or_default();
                    out.push(json!({
                        "label": name,
                        "incremental_path": [
                            "/",
                            format!("/Project/{pid}"),
                            format!("/Project/{pid}/{t}"),
                            format!("/Project/{pid}/{t}/{id}"),
                        ],
                        "path_label": format!("{pname} > {label} > {name}"),
                        "ref": {"id": id, "type": t},
                        "project_id": pid,
                    }));
                    if out.len() >= MAX_SEARCH_RESULTS {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_render() {
        for p in ["/", "/Project/1", "/Project/1/Shot", "/Project/1/Shot/7"] {
            assert_eq!(NavPath::parse(p).map(|n| n.render()).as_deref(), Some(p));
        }
        for bad in [
            "",
            "Project/1",
            "/Project/x",
            "/Project/0",
            "/Project/1/Widget",
            "/Project/1/Shot/1/2",
            "/Shot/1",
        ] {
            assert_eq!(NavPath::parse(bad), None, "{bad}");
        }
    }
}
