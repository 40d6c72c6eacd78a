//! Initial site contents.
//!
//! `Seed::Demo` builds a small, fully deterministic studio: the same ids, names and
//! timestamps on every start, so tests and examples can rely on them.

use serde_json::{json, Map, Value};

use crate::auth::AuthStore;
use crate::model::schema::FieldKind;
use crate::model::{ModelError, Store};

/// Script name (client_id) of the script user the demo seed adds.
pub const DEMO_SCRIPT_NAME: &str = "demo_script";
/// Script key (client_secret) of the script user the demo seed adds.
pub const DEMO_SCRIPT_KEY: &str = "demo-key-0123456789";

/// What the site starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// No records and no script users (beyond those configured).
    #[default]
    Empty,
    /// The demo studio and the `demo_script` script user.
    Demo,
}

/// Fills the stores for a seed.
pub fn apply(seed: Seed, store: &mut Store, auth: &mut AuthStore) -> Result<(), ModelError> {
    match seed {
        Seed::Empty => Ok(()),
        Seed::Demo => {
            auth.add_script_user(DEMO_SCRIPT_NAME, DEMO_SCRIPT_KEY);
            demo(store)
        }
    }
}

fn link(entity_type: &str, id: i64) -> Value {
    json!({"type": entity_type, "id": id})
}

/// A deterministic timestamp: 2024-01-15, 09:00 plus `minutes`.
fn stamp(minutes: i64) -> Value {
    let total = 9 * 60 + minutes;
    let (days, rem) = (total / (24 * 60), total % (24 * 60));
    Value::String(format!(
        "2024-01-{:02}T{:02}:{:02}:00Z",
        15 + days,
        rem / 60,
        rem % 60
    ))
}

fn record(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(mut m) => {
            let admin = link("HumanUser", 1);
            m.entry("created_by").or_insert_with(|| admin.clone());
            m.entry("updated_by").or_insert(admin);
            m
        }
        _ => Map::new(),
    }
}

fn demo(store: &mut Store) -> Result<(), ModelError> {
    let fields: &[(&str, &str, FieldKind)] = &[
        ("HumanUser", "login", FieldKind::Text),
        ("HumanUser", "email", FieldKind::Text),
        ("HumanUser", "firstname", FieldKind::Text),
        ("HumanUser", "lastname", FieldKind::Text),
        ("HumanUser", "sg_status_list", FieldKind::StatusList),
        ("Project", "sg_description", FieldKind::Text),
        ("Project", "sg_status", FieldKind::List),
        ("Project", "archived", FieldKind::Checkbox),
        ("Project", "is_template", FieldKind::Checkbox),
        ("Asset", "description", FieldKind::Text),
        ("Asset", "sg_asset_type", FieldKind::List),
        ("Asset", "sg_status_list", FieldKind::StatusList),
        ("Asset", "project", FieldKind::Entity),
        ("Sequence", "description", FieldKind::Text),
        ("Sequence", "sg_status_list", FieldKind::StatusList),
        ("Sequence", "project", FieldKind::Entity),
        ("Shot", "description", FieldKind::Text),
        ("Shot", "sg_status_list", FieldKind::StatusList),
        ("Shot", "project", FieldKind::Entity),
        ("Shot", "sg_sequence", FieldKind::Entity),
        ("Shot", "assets", FieldKind::MultiEntity),
        ("Shot", "sg_cut_in", FieldKind::Number),
        ("Shot", "sg_cut_out", FieldKind::Number),
    ];
    for (t, f, k) in fields {
        store.define_field(t, f, *k)?;
    }

    // HumanUser 1. Its own created_by is itself.
    store.insert(
        "HumanUser",
        record(json!({
            "name": "Demo Admin",
            "login": "admin",
            "email": "admin@example.com",
            "firstname": "Demo",
            "lastname": "Admin",
            "sg_status_list": "act",
            "created_at": stamp(0),
            "updated_at": stamp(0),
        })),
    )?;

    // Projects 1 and 2.
    for (i, (name, desc)) in [
        ("Demo Project", "The demo studio's main project."),
        ("Second Project", "An almost empty second project."),
    ]
    .iter()
    .enumerate()
    {
        let t = stamp(1 + i as i64);
        store.insert(
            "Project",
            record(json!({
                "name": name,
                "sg_description": desc,
                "sg_status": "Active",
                "archived": false,
                "is_template": false,
                "created_at": t,
                "updated_at": t,
            })),
        )?;
    }

    // Assets 1..4 in project 1.
    for (i, (code, kind, status)) in [
        ("Alice", "Character", "ip"),
        ("Rabbit Hole", "Environment", "wtg"),
        ("Pocket Watch", "Prop", "fin"),
        ("Teacup", "Prop", "ip"),
    ]
    .iter()
    .enumerate()
    {
        let t = stamp(10 + i as i64);
        store.insert(
            "Asset",
            record(json!({
                "code": code,
                "description": format!("{kind} asset {code}."),
                "sg_asset_type": kind,
                "sg_status_list": status,
                "project": link("Project", 1),
                "created_at": t,
                "updated_at": t,
            })),
        )?;
    }

    // Sequences 1..3 in project 1.
    for i in 1..=3i64 {
        let t = stamp(20 + i);
        store.insert(
            "Sequence",
            record(json!({
                "code": format!("SQ{:03}", i * 10),
                "description": format!("Sequence {}.", i * 10),
                "sg_status_list": "ip",
                "project": link("Project", 1),
                "created_at": t,
                "updated_at": t,
            })),
        )?;
    }

    // Shots 1..10 in project 1: 1-4 in SQ010, 5-7 in SQ020, 8-10 in SQ030.
    let statuses = ["wtg", "ip", "fin"];
    for i in 1..=10i64 {
        let seq = match i {
            1..=4 => 1,
            5..=7 => 2,
            _ => 3,
        };
        let n_in_seq = match seq {
            1 => i,
            2 => i - 4,
            _ => i - 7,
        };
        let code = format!("SQ{:03}_{:04}", seq * 10, n_in_seq * 10);
        let assets: Vec<Value> = match i % 3 {
            0 => vec![link("Asset", 1), link("Asset", 3)],
            1 => vec![link("Asset", 1)],
            _ => vec![],
        };
        let t = stamp(30 + i);
        store.insert(
            "Shot",
            record(json!({
                "code": code,
                "description": format!("Shot {code} of the demo project."),
                "sg_status_list": statuses[(i as usize - 1) % statuses.len()],
                "project": link("Project", 1),
                "sg_sequence": link("Sequence", seq),
                "assets": assets,
                "sg_cut_in": 1001,
                "sg_cut_out": 1000 + 24 * (i + 1),
                "created_at": t,
                "updated_at": stamp(60 + i),
            })),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FieldSelection, ReturnOnly};
    use std::time::Duration;

    #[test]
    fn demo_is_deterministic_and_links_resolve() {
        let build = || {
            let mut s = Store::new();
            let mut a = AuthStore::new(Duration::from_secs(600));
            apply(Seed::Demo, &mut s, &mut a).unwrap();
            assert!(a.has_script_user(DEMO_SCRIPT_NAME));
            s
        };
        let (s1, s2) = (build(), build());
        for id in 1..=10 {
            let v1 = s1
                .read("Shot", id, &FieldSelection::All, ReturnOnly::Active)
                .unwrap();
            let v2 = s2
                .read("Shot", id, &FieldSelection::All, ReturnOnly::Active)
                .unwrap();
            assert_eq!(v1, v2);
        }
        assert_eq!(
            s1.display_name("Project", 1).as_deref(),
            Some("Demo Project")
        );
        assert_eq!(
            s1.display_name("Project", 2).as_deref(),
            Some("Second Project")
        );
        assert_eq!(
            s1.display_name("HumanUser", 1).as_deref(),
            Some("Demo Admin")
        );
        assert_eq!(s1.display_name("Shot", 1).as_deref(), Some("SQ010_0010"));
        assert_eq!(s1.display_name("Shot", 10).as_deref(), Some("SQ030_0030"));
        assert!(s1.display_name("Shot", 11).is_none());
        assert_eq!(stamp(0), json!("2024-01-15T09:00:00Z"));
        assert_eq!(stamp(24 * 60 + 1), json!("2024-01-16T09:01:00Z"));
    }
}
