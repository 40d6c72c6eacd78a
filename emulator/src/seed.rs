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
            demo(store)?;
            crate::model::writes::ensure_api_user(store, DEMO_SCRIPT_NAME);
            store.reconcile_links();
            store.refresh_all_derived();
            Ok(())
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

/// Login of the demo seed's admin HumanUser.
pub const DEMO_ADMIN_LOGIN: &str = "admin";
/// Password of the demo seed's admin HumanUser (for the `password` grant).
pub const DEMO_ADMIN_PASSWORD: &str = "admin-password-demo";

const ASSET_NAMES: &[(&str, &str)] = &[
    ("Alice", "Character"),
    ("Rabbit Hole", "Environment"),
    ("Pocket Watch", "Prop"),
    ("Teacup", "Prop"),
    ("White Rabbit", "Character"),
    ("Cheshire Cat", "Character"),
    ("Mad Hatter", "Character"),
    ("March Hare", "Character"),
    ("Dormouse", "Character"),
    ("Queen of Hearts", "Character"),
    ("King of Hearts", "Character"),
    ("Caterpillar", "Character"),
    ("Duchess", "Character"),
    ("Card Soldier", "Character"),
    ("Flamingo", "Character"),
    ("Hedgehog", "Character"),
    ("Tea Table", "Prop"),
    ("Mushroom", "Prop"),
    ("Hookah", "Prop"),
    ("Golden Key", "Prop"),
    ("Drink Me Bottle", "Prop"),
    ("Eat Me Cake", "Prop"),
    ("Croquet Mallet", "Prop"),
    ("Rose Bush", "Prop"),
    ("Tarts", "Prop"),
    ("Hall of Doors", "Environment"),
    ("Garden", "Environment"),
    ("Tea Party", "Set"),
    ("Courtroom", "Set"),
    ("Croquet Ground", "Environment"),
    ("Forest", "Environment"),
    ("River Bank", "Environment"),
    ("Duchess Kitchen", "Set"),
    ("Pool of Tears", "FX"),
    ("Smoke Rings", "FX"),
    ("Fading Grin", "FX"),
    ("Shrinking", "FX"),
    ("Title Card", "Graphic"),
    ("Sky Dome", "Matte Painting"),
    ("Rowing Boat", "Vehicle"),
    ("Lobster", "Character"),
    ("Mock Turtle", "Character"),
    ("Gryphon", "Character"),
    ("Beach", "Environment"),
    ("Quadrille Props", "Prop"),
    ("Lighthouse", "Set"),
    ("Waves", "FX"),
    ("Seashells", "Prop"),
    ("Sea Cliff", "Environment"),
    ("Logo", "Graphic"),
];

const STEPS: &[(&str, &str, &str)] = &[
    ("Art", "Asset", "art"),
    ("Model", "Asset", "mdl"),
    ("Rig", "Asset", "rig"),
    ("Texture", "Asset", "tex"),
    ("Layout", "Shot", "lay"),
    ("Animation", "Shot", "anm"),
    ("Lighting", "Shot", "lgt"),
    ("Comp", "Shot", "cmp"),
];

const ARTISTS: &[(&str, &str)] = &[
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"),
];

fn demo(store: &mut Store) -> Result<(), ModelError> {
    let fields: &[(&str, &str, FieldKind)] = &[("Shot", "sg_cut_in", FieldKind::Number)];
    for (t, f, k) in fields {
        store.define_field(t, f, *k)?;
    }
    let work = crate::model::defaults::WORK_STATUSES;

    // HumanUser 1 (admin; its own created_by is itself), then artists 2..=6.
    store.insert(
        "HumanUser",
        record(json!({
            "name": "Demo Admin",
            "login": DEMO_ADMIN_LOGIN,
            "email": "admin@example.com",
            "firstname": "Demo",
            "lastname": "Admin",
            "sg_status_list": "act",
            "password_proxy": DEMO_ADMIN_PASSWORD,
            "created_at": stamp(0),
            "updated_at": stamp(0),
        })),
    )?;
    for (i, (first, last)) in ARTISTS.iter().enumerate() {
        let login = first.to_ascii_lowercase();
        store.insert(
            "HumanUser",
            record(json!({
                "name": format!("{first} {last}"),
                "login": login,
                "email": format!("{login}@example.com"),
                "firstname": first,
                "lastname": last,
                "sg_status_list": "act",
                "password_proxy": format!("{login}-password-demo"),
                "projects": [link("Project", 1)],
                "created_at": stamp(1 + i as i64),
                "updated_at": stamp(1 + i as i64),
            })),
        )?;
    }
    let user = |n: i64| link("HumanUser", 2 + (n.rem_euclid(ARTISTS.len() as i64)));

    // Groups 1..2.
    store.insert(
        "Group",
        record(json!({"code": "Artists", "users": (2..=6).map(|i| link("HumanUser", i)).collect::<Vec<_>>(), "sg_status_list": "act", "created_at": stamp(2), "updated_at": stamp(2)})),
    )?;
    store.insert(
        "Group",
        record(json!({"code": "Supervisors", "users": [link("HumanUser", 1), link("HumanUser", 2)], "sg_status_list": "act", "created_at": stamp(2), "updated_at": stamp(2)})),
    )?;

    // Projects 1 and 2 (active) and 3 (archived).
    for (i, (name, desc, archived)) in [
        ("Demo Project", "The demo studio's main project.", false),
        ("Second Project", "A smaller second project.", false),
        ("Old Project", "A finished, archived project.", true),
    ]
    .iter()
    .enumerate()
    {
        let t = stamp(1 + i as i64);
        store.insert(
            "Project",
            record(json!({
                "name": name,
                "code": name.to_ascii_lowercase().replace(' ', "_"),
                "sg_description": desc,
                "sg_status": if *archived { "Complete" } else { "Active" },
                "sg_type": "Feature",
                "archived": archived,
                "is_template": false,
                "users": (1..=6).map(|u| link("HumanUser", u)).collect::<Vec<_>>(),
                "created_at": t,
                "updated_at": t,
            })),
        )?;
    }

    // Tags, steps, statuses, published file types.
    for (i, name) in ["hero", "fx-heavy", "cleanup", "retake"].iter().enumerate() {
        store.insert("Tag", record(json!({"name": name, "created_at": stamp(3 + i as i64), "updated_at": stamp(3 + i as i64)})))?;
    }
    for (i, (code, et, short)) in STEPS.iter().enumerate() {
        store.insert(
            "Step",
            record(json!({"code": code, "short_name": short, "entity_type": et, "list_order": i as i64 + 1, "created_at": stamp(4), "updated_at": stamp(4)})),
        )?;
    }
    for code in work {
        store.insert(
            "Status",
            record(json!({"code": code, "name": crate::model::defaults::status_display(code), "created_at": stamp(5), "updated_at": stamp(5)})),
        )?;
    }
    for code in ["Maya Scene", "Image", "Alembic Cache", "Movie"] {
        store.insert(
            "PublishedFileType",
            record(json!({"code": code, "created_at": stamp(5), "updated_at": stamp(5)})),
        )?;
    }

    // Assets 1..=50: 1..=40 in project 1, 41..=50 in project 2.
    let asset_statuses = ["ip", "wtg", "fin", "ip"];
    for (i, (code, kind)) in ASSET_NAMES.iter().enumerate() {
        let id = i as i64 + 1;
        let t = stamp(10 + id);
        let status = asset_statuses[i % asset_statuses.len()];
        store.insert(
            "Asset",
            record(json!({
                "code": code,
                "description": format!("{kind} asset {code}."),
                "sg_asset_type": kind,
                "sg_status_list": status,
                "project": link("Project", if id <= 40 { 1 } else { 2 }),
                "tags": if id % 7 == 0 { vec![link("Tag", 1)] } else { vec![] },
                "created_at": t,
                "updated_at": t,
            })),
        )?;
    }

    // Sequences: 1..=3 hold shots 1..=10 (as in earlier versions); 4..=13 hold 19 or
    // 20 shots each. Sequences 1..=10 are in project 1, 11..=13 in project 2.
    let seq_project = |seq: i64| if seq <= 10 { 1 } else { 2 };
    for seq in 1..=13i64 {
        let t = stamp(60 + seq);
        store.insert(
            "Sequence",
            record(json!({
                "code": format!("SQ{:03}", seq * 10),
                "description": format!("Sequence {}.", seq * 10),
                "sg_status_list": if seq <= 3 { "ip" } else { work[(seq as usize) % work.len()] },
                "project": link("Project", seq_project(seq)),
                "created_at": t,
                "updated_at": t,
            })),
        )?;
    }

    // Shots 1..=200.
    let statuses = ["wtg", "ip", "fin"];
    for i in 1..=200i64 {
        let (seq, n_in_seq) = match i {
            1..=4 => (1, i),
            5..=7 => (2, i - 4),
            8..=10 => (3, i - 7),
            _ => (4 + (i - 11) / 19, (i - 11) % 19 + 1),
        };
        let code = format!("SQ{:03}_{:04}", seq * 10, n_in_seq * 10);
        let assets: Vec<Value> = match i % 3 {
            0 => vec![link("Asset", 1), link("Asset", 3)],
            1 => vec![link("Asset", 1)],
            _ => vec![link("Asset", 1 + (i % 40))],
        };
        let cut_out = 1000 + 24 * (i % 10 + 1 + (i / 10) % 3);
        let t = stamp(100 + i);
        store.insert(
            "Shot",
            record(json!({
                "code": code,
                "description": format!("Shot {code} of the {} project.", if seq_project(seq) == 1 { "demo" } else { "second" }),
                "sg_status_list": if i <= 10 { statuses[(i as usize - 1) % 3] } else { work[(i as usize * 7) % work.len()] },
                "project": link("Project", seq_project(seq)),
                "sg_sequence": link("Sequence", seq),
                "assets": assets,
                "sg_cut_in": 1001,
                "sg_cut_out": cut_out,
                "sg_cut_duration": cut_out - 1000,
                "sg_cut_order": n_in_seq,
                "tags": if i % 11 == 0 { vec![link("Tag", 2)] } else { vec![] },
                "created_at": t,
                "updated_at": stamp(400 + i),
            })),
        )?;
    }
    // Sequence.shots mirrors Shot.sg_sequence.
    for seq in 1..=13i64 {
        let shots: Vec<Value> = store
            .table("Shot")?
            .records
            .values()
            .filter(|r| r.fields.get("sg_sequence") == Some(&link("Sequence", seq)))
            .map(|r| link("Shot", r.id))
            .collect();
        if let Some(r) = store.record_mut("Sequence", seq) {
            r.fields.insert("shots".into(), Value::Array(shots));
        }
    }

    // Tasks: three per asset (Art/Model/Rig or Model/Texture/Rig), four per shot.
    let mut minute = 1000;
    let mut task_of = std::collections::BTreeMap::<(&str, i64), Vec<Value>>::new();
    let mut add_task = |store: &mut Store,
                        parent: &'static str,
                        pid: i64,
                        project: i64,
                        step: i64,
                        n: i64|
     -> Result<i64, ModelError> {
        minute += 1;
        let step_name = STEPS[(step - 1) as usize].0;
        let status = work[((pid * 3 + step) as usize) % work.len()];
        let day = 1 + (pid + step) % 27;
        let id = store.insert(
            "Task",
            record(json!({
                "content": step_name,
                "entity": link(parent, pid),
                "project": link("Project", project),
                "step": link("Step", step),
                "task_assignees": [user(pid + step + n)],
                "sg_status_list": status,
                "start_date": format!("2024-02-{day:02}"),
                "due_date": format!("2024-03-{day:02}"),
                "duration": 60 * 8 * (1 + (pid + step) % 5),
                "est_in_mins": 60 * 8 * (1 + (pid + step) % 4),
                "created_at": stamp(minute),
                "updated_at": stamp(minute),
            })),
        )?;
        task_of
            .entry((parent, pid))
            .or_default()
            .push(link("Task", id));
        Ok(id)
    };
    for a in 1..=50i64 {
        let project = if a <= 40 { 1 } else { 2 };
        let steps: [i64; 3] = if a % 2 == 0 { [1, 2, 3] } else { [2, 4, 3] };
        for (n, step) in steps.iter().enumerate() {
            add_task(store, "Asset", a, project, *step, n as i64)?;
        }
    }
    for s in 1..=200i64 {
        let project = store
            .get("Shot", s, crate::model::ReturnOnly::Active)?
            .fields
            .get("project")
            .and_then(|p| p.get("id"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        for (n, step) in [5i64, 6, 7, 8].iter().enumerate() {
            add_task(store, "Shot", s, project, *step, n as i64)?;
        }
    }
    for ((parent, pid), tasks) in task_of {
        if let Some(r) = store.record_mut(parent, pid) {
            r.fields.insert("tasks".into(), Value::Array(tasks));
        }
    }

    // Versions: two per shot for shots 1..=100 (on the Animation and Comp tasks), one
    // per asset for assets 1..=20.
    let mut version_ids: Vec<(i64, &str, i64)> = Vec::new();
    for s in 1..=100i64 {
        let shot_code = store.display_name("Shot", s).unwrap_or_default();
        for v in 1..=2i64 {
            // Tasks of shot s: 151 + (s-1)*4 .. (4 per shot after 150 asset tasks).
            let task = 150 + (s - 1) * 4 + if v == 1 { 2 } else { 4 };
            minute += 1;
            let code = format!("{shot_code}_v{v:03}");
            let id = store.insert(
                "Version",
                record(json!({
                    "code": code,
                    "description": format!("Version {v} of {shot_code}."),
                    "entity": link("Shot", s),
                    "project": link("Project", 1),
                    "sg_task": link("Task", task),
                    "user": user(s + v),
                    "sg_status_list": (["rev", "vwd", "apr", "na"][((s + v) % 4) as usize]),
                    "sg_path_to_movie": format!("/mnt/projects/demo/{code}.mov"),
                    "sg_first_frame": 1001,
                    "sg_last_frame": 1048 + s % 5 * 8,
                    "frame_count": 48 + s % 5 * 8,
                    "frame_range": format!("1001-{}", 1048 + s % 5 * 8),
                    "sg_version_type": (["Daily", "Review"][(v - 1) as usize]),
                    "created_at": stamp(minute),
                    "updated_at": stamp(minute),
                })),
            )?;
            version_ids.push((id, "Shot", s));
        }
    }
    for a in 1..=20i64 {
        let asset_code = store.display_name("Asset", a).unwrap_or_default();
        minute += 1;
        let id = store.insert(
            "Version",
            record(json!({
                "code": format!("{asset_code} v001"),
                "entity": link("Asset", a),
                "project": link("Project", 1),
                "sg_task": link("Task", (a - 1) * 3 + 1),
                "user": user(a),
                "sg_status_list": "rev",
                "frame_count": 1,
                "created_at": stamp(minute),
                "updated_at": stamp(minute),
            })),
        )?;
        version_ids.push((id, "Asset", a));
    }
    let mut versions_of = std::collections::BTreeMap::<(&str, i64), Vec<Value>>::new();
    for (id, parent, pid) in &version_ids {
        versions_of
            .entry((parent, *pid))
            .or_default()
            .push(link("Version", *id));
    }
    for ((parent, pid), versions) in versions_of {
        if parent == "Shot" {
            if let Some(r) = store.record_mut(parent, pid) {
                r.fields
                    .insert("sg_versions".into(), Value::Array(versions));
            }
        }
    }

    // Published files for the versions of shots 1..=30.
    for (n, (vid, _, s)) in version_ids
        .iter()
        .filter(|(_, p, s)| *p == "Shot" && *s <= 30)
        .enumerate()
    {
        let code = store.display_name("Version", *vid).unwrap_or_default();
        minute += 1;
        store.insert(
            "PublishedFile",
            record(json!({
                "code": format!("{code}.ma"),
                "name": format!("{code}.ma"),
                "entity": link("Shot", *s),
                "project": link("Project", 1),
                "version": link("Version", *vid),
                "version_number": 1 + (n as i64 % 2),
                "published_file_type": link("PublishedFileType", 1),
                "path": {"local_path": format!("/mnt/projects/demo/{code}.ma"), "name": format!("{code}.ma"), "link_type": "local"},
                "path_cache": format!("demo/{code}.ma"),
                "sg_status_list": "cmpt",
                "created_at": stamp(minute),
                "updated_at": stamp(minute),
            })),
        )?;
    }

    // Playlists 1..=3 with versions.
    for p in 1..=3i64 {
        let versions: Vec<Value> = (0..8)
            .map(|k| link("Version", (p - 1) * 8 + k + 1))
            .collect();
        minute += 1;
        let id = store.insert(
            "Playlist",
            record(json!({
                "code": format!("Dailies 2024-02-{:02}", p * 2),
                "description": format!("Review session {p}."),
                "project": link("Project", 1),
                "versions": versions,
                "sg_date_and_time": format!("2024-02-{:02}T16:00:00Z", p * 2),
                "created_at": stamp(minute),
                "updated_at": stamp(minute),
            })),
        )?;
        for v in (0..8).map(|k| (p - 1) * 8 + k + 1) {
            if let Some(r) = store.record_mut("Version", v) {
                r.fields
                    .insert("playlists".into(), json!([link("Playlist", id)]));
            }
        }
    }

    // Notes 1..=60 on shots 1..=60 (with their first version), replies on most.
    for n in 1..=60i64 {
        let shot_code = store.display_name("Shot", n).unwrap_or_default();
        minute += 1;
        let author = user(n);
        let note = store.insert(
            "Note",
            record(json!({
                "subject": format!("Feedback on {shot_code}"),
                "content": format!("Please tighten the timing of {shot_code} around frame {}.", 1001 + n * 3),
                "note_links": [link("Shot", n), link("Version", (n - 1) * 2 + 1)],
                "addressings_to": [user(n + 1)],
                "addressings_cc": if n % 4 == 0 { vec![link("Group", 2)] } else { vec![] },
                "project": link("Project", 1),
                "user": author,
                "tasks": [link("Task", 150 + (n - 1) * 4 + 2)],
                "sg_status_list": (["opn", "ip", "clsd"][(n % 3) as usize]),
                "sg_note_type": (["Client", "Internal", "Director"][(n % 3) as usize]),
                "created_at": stamp(minute),
                "updated_at": stamp(minute),
            })),
        )?;
        let mut replies = Vec::new();
        for k in 0..(n % 3) {
            minute += 1;
            let reply = store.insert(
                "Reply",
                record(json!({
                    "content": (["On it.", "Updated in the next version.", "Looks good now."][k as usize]),
                    "entity": link("Note", note),
                    "user": user(n + 1 + k),
                    "created_at": stamp(minute),
                    "updated_at": stamp(minute),
                })),
            )?;
            replies.push(link("Reply", reply));
        }
        if let Some(r) = store.record_mut("Note", note) {
            r.fields.insert("replies".into(), Value::Array(replies));
        }
        if let Some(r) = store.record_mut("Shot", n) {
            r.fields.insert("notes".into(), json!([link("Note", note)]));
        }
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
        assert!(s1.display_name("Shot", 200).is_some());
        assert!(s1.display_name("Shot", 201).is_none());
        assert_eq!(s1.table("Asset").unwrap().records.len(), 50);
        assert_eq!(
            s1.display_name("Project", 3).as_deref(),
            Some("Old Project")
        );
        assert_eq!(
            crate::model::writes::check_human_password(&s1, DEMO_ADMIN_LOGIN, DEMO_ADMIN_PASSWORD),
            Some(1)
        );
        assert_eq!(
            crate::model::writes::check_human_password(&s1, DEMO_ADMIN_LOGIN, "nope"),
            None
        );
        // Every link in the seed points at an existing record of an allowed type.
        for t in s1.entity_types() {
            let table = s1.table(t).unwrap();
            for r in table.records.values() {
                for (name, v) in &r.fields {
                    let def = table
                        .defs
                        .get(name)
                        .unwrap_or_else(|| panic!("{t}.{name} undeclared"));
                    let links: Vec<&Value> = match def.kind {
                        FieldKind::Entity if !v.is_null() => vec![v],
                        FieldKind::MultiEntity | FieldKind::Addressing => {
                            v.as_array().unwrap().iter().collect()
                        }
                        _ => vec![],
                    };
                    for l in links {
                        let lt = l["type"].as_str().unwrap();
                        assert!(
                            def.valid_types.is_empty() || def.valid_types.iter().any(|x| x == lt),
                            "{t}.{name} -> {lt}"
                        );
                        assert!(
                            s1.display_name(lt, l["id"].as_i64().unwrap()).is_some()
                                || lt == "ApiUser",
                            "{t}.{name} -> {l}"
                        );
                    }
                }
            }
        }
        assert_eq!(stamp(0), json!("2024-01-15T09:00:00Z"));
        assert_eq!(stamp(24 * 60 + 1), json!("2024-01-16T09:01:00Z"));
    }
}
