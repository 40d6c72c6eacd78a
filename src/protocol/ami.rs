//! Action Menu Items (AMIs): the form POST ShotGrid sends to an AMI's URL when a user
//! runs it from a page, decoded into a typed value. Sans-IO: the caller hands over the
//! form body (`application/x-www-form-urlencoded`) or its decoded pairs.
//!
//! Fields ShotGrid sends (all as form strings), per its AMI documentation and handler
//! examples:
//!
//! | field | meaning |
//! |---|---|
//! | `user_id`, `user_login` | the HumanUser who ran the AMI (required) |
//! | `entity_type` | the entity type of the page (required) |
//! | `selected_ids` | comma-separated ids of the selected records (may be empty) |
//! | `ids` | comma-separated ids of every record the page's query returned |
//! | `project_id`, `project_name` | the page's project (absent on global pages) |
//! | `page_id`, `title`, `view` | the page, its title and its view |
//! | `server_hostname`, `referrer_path` | the site's host and the page's path |
//! | `session_uuid` | the browser session (for `poll_for_data_updates`) |
//! | `cols`, `column_display_names` | one entry per visible column, in order (repeated keys) |
//! | `sort_column`, `sort_direction` | the page's sort |
//! | `grouping_column`, `grouping_direction`, `grouping_method` | the page's grouping |
//! | `event_log_entry_id` | light payload: the EventLogEntry holding the full payload |
//!
//! Anything else is kept, as strings, in `other`.

use crate::protocol::json::{Map, Value};

use crate::protocol::json::json;

use super::naming::validate_entity_type;
use super::Error;

/// Largest id accepted (what JS represents exactly).
const MAX_ID: u64 = (1 << 53) - 1;

/// Most ids accepted in `ids` / `selected_ids` (a page holds far fewer).
const MAX_IDS: usize = 100_000;

/// A decoded AMI post.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionMenuItemPost {
    /// The page's entity type, e.g. `"Version"`.
    pub entity_type: String,
    /// Ids of the selected records, in the order sent.
    pub selected_ids: Vec<u64>,
    /// Ids of every record of the page's query.
    pub ids: Vec<u64>,
    /// The HumanUser who ran the AMI.
    pub user_id: u64,
    /// Their login.
    pub user_login: String,
    /// The page's project, when it has one: id and name.
    pub project: Option<(u64, Option<String>)>,
    /// The page id.
    pub page_id: Option<u64>,
    /// The page title.
    pub title: Option<String>,
    /// The page's view name.
    pub view: Option<String>,
    /// The site's host name.
    pub server_hostname: Option<String>,
    /// The path of the page the AMI was run from.
    pub referrer_path: Option<String>,
    /// The user's browser session.
    pub session_uuid: Option<String>,
    /// Visible columns (field names), in order.
    pub columns: Vec<String>,
    /// Their display names, in order.
    pub column_display_names: Vec<String>,
    /// `(column, direction)` of the page's sort.
    pub sort: Option<(String, Option<String>)>,
    /// `(column, direction, method)` of the page's grouping.
    pub grouping: Option<(String, Option<String>, Option<String>)>,
    /// Light payload: the EventLogEntry holding the full payload.
    pub event_log_entry_id: Option<u64>,
    /// Fields not listed above.
    pub other: Map<String, Value>,
}

/// Decodes `application/x-www-form-urlencoded` text into pairs (`+` is a space,
/// `%XX` escapes; invalid escapes are kept literally, invalid UTF-8 is replaced).
pub fn parse_form_urlencoded(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
                let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn field_path(key: &str) -> String {
    let mut p = String::from("form.");
    p.push_str(key);
    p
}

fn parse_id(key: &str, raw: &str) -> Result<u64, Error> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_ID).contains(n))
        .ok_or_else(|| Error::invalid_input(&field_path(key), "must be a positive integer id"))
}

fn parse_ids(key: &str, raw: &str) -> Result<Vec<u64>, Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in raw.split(',') {
        if out.len() >= MAX_IDS {
            return Err(Error::invalid_input(&field_path(key), "lists too many ids"));
        }
        out.push(parse_id(key, part).map_err(|_| {
            Error::invalid_input(
                &field_path(key),
                "must be a comma-separated list of positive integer ids",
            )
        })?);
    }
    Ok(out)
}

/// Decodes an AMI post from its form pairs. Rejects a post without `user_id`,
/// `user_login` or a valid `entity_type`, ids that are not positive integers, a
/// single-valued field given twice, and a sort or grouping direction other than
/// `asc`/`desc`.
pub fn parse(pairs: &[(String, String)]) -> Result<ActionMenuItemPost, Error> {
    if pairs.is_empty() {
        return Err(Error::invalid_input(
            "form",
            "is empty: not an Action Menu Item post",
        ));
    }
    let mut single: Map<String, Value> = Map::new();
    let mut columns = Vec::new();
    let mut column_display_names = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "cols" | "cols[]" => columns.push(v.clone()),
            "column_display_names" | "column_display_names[]" => {
                column_display_names.push(v.clone())
            }
            _ => {
                if single.insert(k.clone(), Value::String(v.clone())).is_some() {
                    return Err(Error::invalid_input(&field_path(k), "is given twice"));
                }
            }
        }
    }
    let mut take = |k: &str| match single.remove(k) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let required = |k: &str, v: Option<String>| {
        v.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            Error::invalid_input(&field_path(k), "is missing: not an Action Menu Item post")
        })
    };
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let direction = |k: &str, v: Option<String>| match v.as_deref() {
        None | Some("") => Ok(None),
        Some(d @ ("asc" | "desc")) => Ok(Some(d.to_owned())),
        Some(_) => Err(Error::invalid_input(
            &field_path(k),
            "must be \"asc\" or \"desc\"",
        )),
    };
    let opt_id = |k: &str, v: Option<String>| match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_id(k, s).map(Some),
    };

    let entity_type = required("entity_type", take("entity_type"))?;
    validate_entity_type(&entity_type, "form.entity_type")?;
    let user_id = parse_id("user_id", &required("user_id", take("user_id"))?)?;
    let user_login = required("user_login", take("user_login"))?;
    let selected_ids = parse_ids("selected_ids", &take("selected_ids").unwrap_or_default())?;
    let ids = parse_ids("ids", &take("ids").unwrap_or_default())?;
    let project_id = opt_id("project_id", take("project_id"))?;
    let project_name = nonempty(take("project_name"));
    let page_id = opt_id("page_id", take("page_id"))?;
    let event_log_entry_id = opt_id("event_log_entry_id", take("event_log_entry_id"))?;
    let sort_column = nonempty(take("sort_column"));
    let sort_direction = direction("sort_direction", take("sort_direction"))?;
    let grouping_column = nonempty(take("grouping_column"));
    let grouping_direction = direction("grouping_direction", take("grouping_direction"))?;
    let grouping_method = nonempty(take("grouping_method"));
    let title = nonempty(take("title"));
    let view = nonempty(take("view"));
    let server_hostname = nonempty(take("server_hostname"));
    let referrer_path = nonempty(take("referrer_path"));
    let session_uuid = nonempty(take("session_uuid"));
    Ok(ActionMenuItemPost {
        entity_type,
        selected_ids,
        ids,
        user_id,
        user_login,
        project: project_id.map(|id| (id, project_name)),
        page_id,
        title,
        view,
        server_hostname,
        referrer_path,
        session_uuid,
        columns,
        column_display_names,
        sort: sort_column.map(|c| (c, sort_direction)),
        grouping: grouping_column.map(|c| (c, grouping_direction, grouping_method)),
        event_log_entry_id,
        other: single,
    })
}

fn opt_str(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::String)
}

impl ActionMenuItemPost {
    /// The JS shape (camelCase; links as `{type, id}`), see `ActionMenuItem` in the
    /// package's types.
    pub fn to_json(&self) -> Value {
        let selection: Vec<Value> = self
            .selected_ids
            .iter()
            .map(|id| json!({"type": self.entity_type, "id": id}))
            .collect();
        json!({
            "entityType": self.entity_type,
            "selectedIds": self.selected_ids,
            "ids": self.ids,
            "selection": selection,
            "user": {"type": "HumanUser", "id": self.user_id, "login": self.user_login},
            "project": self.project.as_ref().map(|(id, name)| json!({"type": "Project", "id": id, "name": name})),
            "pageId": self.page_id,
            "title": opt_str(&self.title),
            "view": opt_str(&self.view),
            "serverHostname": opt_str(&self.server_hostname),
            "referrerPath": opt_str(&self.referrer_path),
            "sessionUuid": opt_str(&self.session_uuid),
            "columns": self.columns,
            "columnDisplayNames": self.column_display_names,
            "sort": self.sort.as_ref().map(|(c, d)| json!({"column": c, "direction": d})),
            "grouping": self.grouping.as_ref().map(|(c, d, m)| json!({"column": c, "direction": d, "method": m})),
            "eventLogEntryId": self.event_log_entry_id,
            "other": self.other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::sj as json;
    use crate::protocol::ErrorKind;

    const POST: &str = "user_id=39&user_login=flord&title=Versions&entity_type=Version\
        &server_hostname=studio.shotgrid.autodesk.com&referrer_path=%2Fpage%2F1234\
        &page_id=1234&session_uuid=8c4a&project_name=Demo+Project&project_id=84\
        &ids=7754%2C7738%2C7739&selected_ids=7754,7738\
        &cols=code&cols=image&cols=sg_qt&column_display_names=Version+Name\
        &column_display_names=Thumbnail&column_display_names=QT\
        &sort_column=code&sort_direction=asc&grouping_column=created_at\
        &grouping_direction=desc&grouping_method=day&view=Default&custom=x%26y";

    #[test]
    fn decodes_a_full_post() {
        let p = parse(&parse_form_urlencoded(POST)).unwrap();
        assert_eq!(p.entity_type, "Version");
        assert_eq!(p.selected_ids, [7754, 7738]);
        assert_eq!(p.ids, [7754, 7738, 7739]);
        assert_eq!((p.user_id, p.user_login.as_str()), (39, "flord"));
        assert_eq!(p.project, Some((84, Some("Demo Project".into()))));
        assert_eq!(p.referrer_path.as_deref(), Some("/page/1234"));
        assert_eq!(p.columns, ["code", "image", "sg_qt"]);
        assert_eq!(p.column_display_names, ["Version Name", "Thumbnail", "QT"]);
        assert_eq!(p.sort, Some(("code".into(), Some("asc".into()))));
        assert_eq!(
            p.grouping,
            Some(("created_at".into(), Some("desc".into()), Some("day".into())))
        );
        assert_eq!(p.other["custom"], "x&y");
        let j = p.to_json();
        assert_eq!(j["selection"][1], json!({"type": "Version", "id": 7738}));
        assert_eq!(j["project"]["name"], "Demo Project");
        assert_eq!(j["pageId"], 1234);
        assert_eq!(
            j,
            json!({
                "entityType": "Version",
                "selectedIds": [7754, 7738],
                "ids": [7754, 7738, 7739],
                "selection": [{"type": "Version", "id": 7754}, {"type": "Version", "id": 7738}],
                "user": {"type": "HumanUser", "id": 39, "login": "flord"},
                "project": {"type": "Project", "id": 84, "name": "Demo Project"},
                "pageId": 1234,
                "title": "Versions",
                "view": "Default",
                "serverHostname": "studio.shotgrid.autodesk.com",
                "referrerPath": "/page/1234",
                "sessionUuid": "8c4a",
                "columns": ["code", "image", "sg_qt"],
                "columnDisplayNames": ["Version Name", "Thumbnail", "QT"],
                "sort": {"column": "code", "direction": "asc"},
                "grouping": {"column": "created_at", "direction": "desc", "method": "day"},
                "eventLogEntryId": null,
                "other": {"custom": "x&y"},
            })
        );
        // Key order is part of the shape JS sees.
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys[..3], ["entityType", "selectedIds", "ids"]);
        assert_eq!(keys[17], "other");
    }

    #[test]
    fn minimal_post_from_a_global_page() {
        let p = parse(&parse_form_urlencoded(
            "user_id=1&user_login=a&entity_type=Shot&selected_ids=&ids=",
        ))
        .unwrap();
        assert!(p.selected_ids.is_empty() && p.project.is_none() && p.sort.is_none());
        let j = p.to_json();
        assert_eq!(j["project"], Value::Null);
        assert_eq!(j["sort"], Value::Null);
        assert_eq!(j["grouping"], Value::Null);
        assert_eq!(j["title"], Value::Null);
        assert_eq!(j["pageId"], Value::Null);
        assert_eq!(j["selection"], json!([]));
        let sorted = parse(&parse_form_urlencoded(
            "user_id=1&user_login=a&entity_type=Shot&project_id=2&sort_column=code&grouping_column=x",
        ))
        .unwrap()
        .to_json();
        assert_eq!(
            sorted["project"],
            json!({"type": "Project", "id": 2, "name": null})
        );
        assert_eq!(sorted["sort"], json!({"column": "code", "direction": null}));
        assert_eq!(
            sorted["grouping"],
            json!({"column": "x", "direction": null, "method": null})
        );
    }

    #[test]
    fn rejects_malformed_posts() {
        let cases = [
            ("", "form"),
            ("hello", "form.entity_type"),
            ("user_id=1&user_login=a", "form.entity_type"),
            (
                "user_id=1&user_login=a&entity_type=Not+A+Type",
                "form.entity_type",
            ),
            ("user_login=a&entity_type=Shot", "form.user_id"),
            ("user_id=x&user_login=a&entity_type=Shot", "form.user_id"),
            ("user_id=1&entity_type=Shot", "form.user_login"),
            (
                "user_id=1&user_login=a&entity_type=Shot&selected_ids=1,,2",
                "form.selected_ids",
            ),
            ("user_id=1&user_login=a&entity_type=Shot&ids=-3", "form.ids"),
            (
                "user_id=1&user_login=a&entity_type=Shot&ids=99999999999999999999",
                "form.ids",
            ),
            (
                "user_id=1&user_login=a&entity_type=Shot&project_id=p",
                "form.project_id",
            ),
            (
                "user_id=1&user_login=a&entity_type=Shot&sort_column=c&sort_direction=up",
                "form.sort_direction",
            ),
            (
                "user_id=1&user_id=2&user_login=a&entity_type=Shot",
                "form.user_id",
            ),
        ];
        for (body, at) in cases {
            let e = parse(&parse_form_urlencoded(body)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{body}");
            assert_eq!(e.source, Some(Value::String(at.into())), "{body}");
        }
    }

    #[test]
    fn form_decoding_never_panics_on_odd_escapes() {
        assert_eq!(form_decode("%"), "%");
        assert_eq!(form_decode("%4"), "%4");
        assert_eq!(form_decode("%zz%41"), "%zzA");
        assert_eq!(form_decode("%C3%A9+%FF"), "é \u{fffd}");
        assert_eq!(
            parse_form_urlencoded("a&&b=1=2"),
            [("a".into(), "".into()), ("b".into(), "1=2".into())]
        );
    }
}
