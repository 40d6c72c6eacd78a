//! The default schema of a new site: the usual fields of the common entity types, with
//! the schema properties real sites report (display name, editability, valid types of
//! entity links, valid values of lists and status lists, defaults).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::schema::FieldKind;

/// The schema of one field: its data type and every property `GET /schema/{t}/fields`
/// reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    /// Data type.
    pub kind: FieldKind,
    /// Display name (`name` in the schema).
    pub display_name: String,
    /// Free text description.
    #[serde(default)]
    pub description: String,
    /// Whether values can be written through the API.
    pub editable: bool,
    /// Whether a create must give a value.
    #[serde(default)]
    pub mandatory: bool,
    /// Whether values must be unique within the type.
    #[serde(default)]
    pub unique: bool,
    /// Whether the field is shown.
    #[serde(default = "yes")]
    pub visible: bool,
    /// Value of a new record that doesn't give one.
    #[serde(default)]
    pub default_value: Value,
    /// Default summary of the field in the web UI (`none`, `record_count`, ...).
    #[serde(default = "none")]
    pub summary_default: String,
    /// Entity link fields: allowed types (empty: any type).
    #[serde(default)]
    pub valid_types: Vec<String>,
    /// List and status list fields: allowed values (empty: any).
    #[serde(default)]
    pub valid_values: Vec<String>,
    /// Status lists: display name of each value.
    #[serde(default)]
    pub display_values: BTreeMap<String, String>,
    /// Free text metadata.
    #[serde(default)]
    pub custom_metadata: String,
}

fn yes() -> bool {
    true
}

fn none() -> String {
    "none".to_string()
}

impl FieldDef {
    /// A new editable, visible field with a display name derived from its field name.
    pub fn new(name: &str, kind: FieldKind) -> Self {
        let editable = !matches!(
            kind,
            FieldKind::Summary | FieldKind::PivotColumn | FieldKind::Calculated
        );
        let summary_default = match kind {
            FieldKind::StatusList => "status_list",
            FieldKind::Summary => "record_count",
            _ => "none",
        };
        FieldDef {
            kind,
            display_name: display_name_of(name),
            description: String::new(),
            editable,
            mandatory: false,
            unique: false,
            visible: true,
            default_value: if kind == FieldKind::Checkbox {
                json!(false)
            } else {
                Value::Null
            },
            summary_default: summary_default.to_string(),
            valid_types: Vec::new(),
            valid_values: Vec::new(),
            display_values: BTreeMap::new(),
            custom_metadata: String::new(),
        }
    }

    fn links(mut self, types: &[&str]) -> Self {
        self.valid_types = types.iter().map(|s| s.to_string()).collect();
        self
    }

    fn values(mut self, values: &[&str]) -> Self {
        self.valid_values = values.iter().map(|s| s.to_string()).collect();
        if self.kind == FieldKind::StatusList {
            self.display_values = values
                .iter()
                .map(|v| (v.to_string(), status_display(v).to_string()))
                .collect();
        }
        self
    }

    fn default(mut self, v: Value) -> Self {
        self.default_value = v;
        self
    }

    fn readonly(mut self) -> Self {
        self.editable = false;
        self
    }

    fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }

    fn named(mut self, display: &str) -> Self {
        self.display_name = display.to_string();
        self
    }
}

/// `sg_cut_in` → `Cut In`, `task_assignees` → `Task Assignees`.
pub fn display_name_of(field: &str) -> String {
    let base = field.strip_prefix("sg_").unwrap_or(field);
    base.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Display names of the usual status codes.
pub fn status_display(code: &str) -> &'static str {
    match code {
        "wtg" => "Waiting to Start",
        "rdy" => "Ready to Start",
        "ip" => "In Progress",
        "rev" => "Pending Review",
        "fin" => "Final",
        "hld" => "On Hold",
        "omt" => "Omit",
        "apr" => "Approved",
        "vwd" => "Viewed",
        "na" => "N/A",
        "opn" => "Open",
        "clsd" => "Closed",
        "act" => "Active",
        "dis" => "Disabled",
        "cmpt" => "Complete",
        _ => "",
    }
}

/// The status codes of production entities and tasks.
pub const WORK_STATUSES: &[&str] = &["wtg", "rdy", "ip", "rev", "fin", "hld", "omt"];
const VERSION_STATUSES: &[&str] = &["na", "rev", "vwd", "apr", "ip", "fin", "hld", "omt"];
const NOTE_STATUSES: &[&str] = &["opn", "ip", "clsd"];
const USER_STATUSES: &[&str] = &["act", "dis"];
const USERS: &[&str] = &["HumanUser", "ApiUser"];
const PEOPLE: &[&str] = &["HumanUser", "Group"];

/// Display name of an entity type in `/schema` (`ApiUser` → "Script").
pub fn entity_display_name(entity_type: &str) -> String {
    match entity_type {
        "ApiUser" => "Script".into(),
        "HumanUser" => "Person".into(),
        "EventLogEntry" => "Event Log Entry".into(),
        "PublishedFile" => "Published File".into(),
        "PublishedFileType" => "Published File Type".into(),
        "Step" => "Pipeline Step".into(),
        "CustomEntity01" => "Custom Entity 01".into(),
        t => {
            // Split TitleCase words; digits stay with their run.
            let mut out = String::new();
            let mut prev_lower = false;
            for c in t.chars() {
                if c.is_ascii_uppercase() && prev_lower {
                    out.push(' ');
                }
                if c.is_ascii_digit() && prev_lower {
                    out.push(' ');
                }
                prev_lower = c.is_ascii_lowercase();
                out.push(c);
            }
            out
        }
    }
}

/// Whether records of a type belong to a project (have a `project` field).
pub fn is_project_entity(entity_type: &str) -> bool {
    !matches!(
        entity_type,
        "Project"
            | "HumanUser"
            | "ApiUser"
            | "ClientUser"
            | "Group"
            | "Department"
            | "Step"
            | "Tag"
            | "Status"
            | "PublishedFileType"
            | "LocalStorage"
            | "Software"
            | "PermissionRuleSet"
            | "ActionMenuItem"
            | "AppWelcomeUserConnection"
            | "Icon"
            | "PageSetting"
            | "TaskTemplate"
    ) && !entity_type.starts_with("CustomNonProjectEntity")
}

/// Every field a new site's type has, in declaration order.
pub fn default_fields(entity_type: &str, display_field: &str) -> Vec<(String, FieldDef)> {
    use FieldKind as K;
    let n = FieldDef::new;
    let mut out: Vec<(&str, FieldDef)> = vec![
        ("id", n("id", K::Number).readonly().named("Id")),
        (
            "created_at",
            n("created_at", K::DateTime)
                .readonly()
                .named("Date Created"),
        ),
        (
            "updated_at",
            n("updated_at", K::DateTime)
                .readonly()
                .named("Date Updated"),
        ),
        (
            "created_by",
            n("created_by", K::Entity)
                .readonly()
                .named("Created by")
                .links(USERS),
        ),
        (
            "updated_by",
            n("updated_by", K::Entity)
                .readonly()
                .named("Updated by")
                .links(USERS),
        ),
        (
            "cached_display_name",
            n("cached_display_name", K::Text).readonly(),
        ),
    ];
    if is_project_entity(entity_type) && entity_type != "EventLogEntry" {
        out.push(("project", n("project", K::Entity).links(&["Project"])));
    }
    let status = |values: &[&str], default: &str| {
        n("sg_status_list", K::StatusList)
            .named("Status")
            .values(values)
            .default(json!(default))
    };
    let specific: Vec<(&str, FieldDef)> = match entity_type {
        "Project" => vec![
            ("name", n("name", K::Text).named("Project Name").mandatory()),
            ("code", n("code", K::Text)),
            ("sg_description", n("sg_description", K::Text)),
            (
                "sg_status",
                n("sg_status", K::List)
                    .named("Status")
                    .values(&["Active", "Bidding", "Complete", "Lost"]),
            ),
            (
                "sg_type",
                n("sg_type", K::List).named("Type").values(&[
                    "Feature",
                    "Episodic",
                    "Commercial",
                    "Game",
                    "Other",
                ]),
            ),
            ("archived", n("archived", K::Checkbox)),
            ("is_template", n("is_template", K::Checkbox)),
            ("is_demo", n("is_demo", K::Checkbox)),
            ("start_date", n("start_date", K::Date)),
            ("end_date", n("end_date", K::Date)),
            ("duration", n("duration", K::Duration)),
            ("color", n("color", K::Color)),
            ("billboard", n("billboard", K::Url)),
            ("tank_name", n("tank_name", K::Text)),
            ("users", n("users", K::MultiEntity).links(&["HumanUser"])),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            (
                "layout_project",
                n("layout_project", K::Entity).links(&["Project"]),
            ),
            ("image", n("image", K::Image).named("Thumbnail")),
        ],
        "Asset" => vec![
            ("code", n("code", K::Text).named("Asset Name")),
            ("description", n("description", K::Text)),
            (
                "sg_asset_type",
                n("sg_asset_type", K::List).named("Type").values(&[
                    "Character",
                    "Vehicle",
                    "Prop",
                    "Environment",
                    "Set",
                    "FX",
                    "Graphic",
                    "Matte Painting",
                ]),
            ),
            ("sg_status_list", status(&["wtg", "ip", "fin"], "wtg")),
            ("shots", n("shots", K::MultiEntity).links(&["Shot"])),
            (
                "sequences",
                n("sequences", K::MultiEntity)
                    .named("Sequence")
                    .links(&["Sequence"]),
            ),
            (
                "parents",
                n("parents", K::MultiEntity)
                    .named("Parent Assets")
                    .links(&["Asset"]),
            ),
            (
                "assets",
                n("assets", K::MultiEntity)
                    .named("Sub Assets")
                    .links(&["Asset"]),
            ),
            ("tasks", n("tasks", K::MultiEntity).links(&["Task"])),
            ("notes", n("notes", K::MultiEntity).links(&["Note"])),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            (
                "task_template",
                n("task_template", K::Entity).links(&["TaskTemplate"]),
            ),
            ("sg_keep", n("sg_keep", K::Checkbox)),
            ("sg_outsource", n("sg_outsource", K::Checkbox)),
            ("sg_creative_brief", n("sg_creative_brief", K::Url)),
            ("open_notes_count", n("open_notes_count", K::Summary)),
            ("image", n("image", K::Image).named("Thumbnail")),
            (
                "filmstrip_image",
                n("filmstrip_image", K::Image).named("Filmstrip Thumbnail"),
            ),
        ],
        "Sequence" => vec![
            ("code", n("code", K::Text).named("Sequence Name")),
            ("description", n("description", K::Text)),
            ("sg_status_list", status(WORK_STATUSES, "wtg")),
            ("shots", n("shots", K::MultiEntity).links(&["Shot"])),
            ("assets", n("assets", K::MultiEntity).links(&["Asset"])),
            ("tasks", n("tasks", K::MultiEntity).links(&["Task"])),
            ("notes", n("notes", K::MultiEntity).links(&["Note"])),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            ("image", n("image", K::Image).named("Thumbnail")),
        ],
        "Shot" => vec![
            ("code", n("code", K::Text).named("Shot Code")),
            ("description", n("description", K::Text)),
            ("sg_status_list", status(WORK_STATUSES, "wtg")),
            (
                "sg_sequence",
                n("sg_sequence", K::Entity).links(&["Sequence"]),
            ),
            ("assets", n("assets", K::MultiEntity).links(&["Asset"])),
            ("tasks", n("tasks", K::MultiEntity).links(&["Task"])),
            ("notes", n("notes", K::MultiEntity).links(&["Note"])),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            (
                "sg_versions",
                n("sg_versions", K::MultiEntity)
                    .named("Versions")
                    .links(&["Version"]),
            ),
            ("sg_cut_in", n("sg_cut_in", K::Number)),
            ("sg_cut_out", n("sg_cut_out", K::Number)),
            ("sg_cut_duration", n("sg_cut_duration", K::Number)),
            ("sg_head_in", n("sg_head_in", K::Number)),
            ("sg_tail_out", n("sg_tail_out", K::Number)),
            ("sg_cut_order", n("sg_cut_order", K::Number)),
            ("sg_working_duration", n("sg_working_duration", K::Duration)),
            ("sg_frame_rate", n("sg_frame_rate", K::Float)),
            (
                "sg_shot_type",
                n("sg_shot_type", K::List)
                    .named("Type")
                    .values(&["Bg only", "Fg only", "Full CG", "Element"]),
            ),
            ("smart_cut_in", n("smart_cut_in", K::Number).readonly()),
            ("open_notes_count", n("open_notes_count", K::Summary)),
            ("image", n("image", K::Image).named("Thumbnail")),
            (
                "filmstrip_image",
                n("filmstrip_image", K::Image).named("Filmstrip Thumbnail"),
            ),
        ],
        "Task" => vec![
            ("content", n("content", K::Text).named("Task Name")),
            (
                "entity",
                n("entity", K::Entity).named("Link").links(&[
                    "Asset",
                    "Shot",
                    "Sequence",
                    "Project",
                    "CustomEntity01",
                    "CustomEntity02",
                    "CustomEntity03",
                    "CustomEntity04",
                    "CustomEntity05",
                ]),
            ),
            (
                "step",
                n("step", K::Entity).named("Pipeline Step").links(&["Step"]),
            ),
            (
                "task_assignees",
                n("task_assignees", K::MultiEntity)
                    .named("Assigned To")
                    .links(PEOPLE),
            ),
            (
                "task_reviewers",
                n("task_reviewers", K::MultiEntity)
                    .named("Reviewers")
                    .links(PEOPLE),
            ),
            ("sg_status_list", status(WORK_STATUSES, "wtg")),
            ("start_date", n("start_date", K::Date)),
            ("due_date", n("due_date", K::Date)),
            ("duration", n("duration", K::Duration)),
            ("est_in_mins", n("est_in_mins", K::Duration).named("Bid")),
            (
                "time_logs_sum",
                n("time_logs_sum", K::Summary).named("Time Logged"),
            ),
            (
                "sg_priority_1",
                n("sg_priority_1", K::List)
                    .named("Priority")
                    .values(&["1", "2", "3", "4"]),
            ),
            ("color", n("color", K::Color)),
            ("milestone", n("milestone", K::Checkbox)),
            ("notes", n("notes", K::MultiEntity).links(&["Note"])),
            (
                "sg_versions",
                n("sg_versions", K::MultiEntity)
                    .named("Versions")
                    .links(&["Version"]),
            ),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            ("image", n("image", K::Image).named("Thumbnail")),
        ],
        "Step" => vec![
            ("code", n("code", K::Text).named("Step Name")),
            ("short_name", n("short_name", K::Text)),
            ("description", n("description", K::Text)),
            ("entity_type", n("entity_type", K::EntityType)),
            ("list_order", n("list_order", K::Number)),
            ("color", n("color", K::Color)),
        ],
        "Version" => vec![
            ("code", n("code", K::Text).named("Version Name")),
            ("description", n("description", K::Text)),
            (
                "entity",
                n("entity", K::Entity).named("Link").links(&[
                    "Asset",
                    "Shot",
                    "Sequence",
                    "Project",
                    "CustomEntity01",
                ]),
            ),
            (
                "sg_task",
                n("sg_task", K::Entity).named("Task").links(&["Task"]),
            ),
            ("user", n("user", K::Entity).named("Artist").links(USERS)),
            ("sg_status_list", status(VERSION_STATUSES, "rev")),
            ("sg_uploaded_movie", n("sg_uploaded_movie", K::Url)),
            ("sg_path_to_movie", n("sg_path_to_movie", K::Text)),
            ("sg_path_to_frames", n("sg_path_to_frames", K::Text)),
            ("sg_first_frame", n("sg_first_frame", K::Number)),
            ("sg_last_frame", n("sg_last_frame", K::Number)),
            ("frame_count", n("frame_count", K::Number)),
            ("frame_range", n("frame_range", K::Text)),
            (
                "sg_version_type",
                n("sg_version_type", K::List)
                    .named("Type")
                    .values(&["Daily", "Review", "Final"]),
            ),
            (
                "playlists",
                n("playlists", K::MultiEntity).links(&["Playlist"]),
            ),
            ("notes", n("notes", K::MultiEntity).links(&["Note"])),
            (
                "published_files",
                n("published_files", K::MultiEntity).links(&["PublishedFile"]),
            ),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            ("image", n("image", K::Image).named("Thumbnail")),
            (
                "filmstrip_image",
                n("filmstrip_image", K::Image).named("Filmstrip Thumbnail"),
            ),
        ],
        "PublishedFile" => vec![
            ("code", n("code", K::Text).named("Published File Name")),
            ("name", n("name", K::Text)),
            ("description", n("description", K::Text)),
            (
                "entity",
                n("entity", K::Entity)
                    .named("Link")
                    .links(&["Asset", "Shot", "Sequence", "Project"]),
            ),
            ("task", n("task", K::Entity).links(&["Task"])),
            ("version", n("version", K::Entity).links(&["Version"])),
            ("version_number", n("version_number", K::Number)),
            (
                "published_file_type",
                n("published_file_type", K::Entity).links(&["PublishedFileType"]),
            ),
            ("path", n("path", K::Url)),
            ("path_cache", n("path_cache", K::Text)),
            (
                "sg_status_list",
                status(&["wtg", "ip", "cmpt", "fin"], "cmpt"),
            ),
            (
                "upstream_published_files",
                n("upstream_published_files", K::MultiEntity).links(&["PublishedFile"]),
            ),
            (
                "downstream_published_files",
                n("downstream_published_files", K::MultiEntity).links(&["PublishedFile"]),
            ),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            ("image", n("image", K::Image).named("Thumbnail")),
        ],
        "PublishedFileType" => vec![
            ("code", n("code", K::Text).named("Published File Type")),
            ("short_name", n("short_name", K::Text)),
            ("description", n("description", K::Text)),
        ],
        "Note" => vec![
            ("subject", n("subject", K::Text)),
            ("content", n("content", K::Text).named("Body")),
            ("note_links", n("note_links", K::MultiEntity).named("Links")),
            (
                "addressings_to",
                n("addressings_to", K::Addressing).named("To").links(PEOPLE),
            ),
            (
                "addressings_cc",
                n("addressings_cc", K::Addressing).named("Cc").links(PEOPLE),
            ),
            ("user", n("user", K::Entity).named("Author").links(USERS)),
            ("replies", n("replies", K::MultiEntity).links(&["Reply"])),
            (
                "attachments",
                n("attachments", K::MultiEntity).links(&["Attachment"]),
            ),
            ("tasks", n("tasks", K::MultiEntity).links(&["Task"])),
            ("sg_status_list", status(NOTE_STATUSES, "opn")),
            (
                "sg_note_type",
                n("sg_note_type", K::List)
                    .named("Type")
                    .values(&["Client", "Internal", "Director"]),
            ),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
        ],
        "Reply" => vec![
            ("content", n("content", K::Text).named("Body")),
            (
                "entity",
                n("entity", K::Entity).links(&["Note"]).mandatory(),
            ),
            ("user", n("user", K::Entity).named("Author").links(USERS)),
        ],
        "Attachment" => vec![
            ("this_file", n("this_file", K::Url).named("File/Link")),
            ("display_name", n("display_name", K::Text)),
            ("filename", n("filename", K::Text)),
            (
                "attachment_links",
                n("attachment_links", K::MultiEntity).named("Links"),
            ),
            ("description", n("description", K::Text)),
            ("file_size", n("file_size", K::Number)),
            ("tag_list", n("tag_list", K::TagList).named("Tags")),
            ("image", n("image", K::Image).named("Thumbnail")),
        ],
        "Playlist" => vec![
            ("code", n("code", K::Text).named("Playlist Name")),
            ("description", n("description", K::Text)),
            (
                "versions",
                n("versions", K::MultiEntity).links(&["Version"]),
            ),
            ("locked", n("locked", K::Checkbox)),
            ("sg_date_and_time", n("sg_date_and_time", K::DateTime)),
            ("notes", n("notes", K::MultiEntity).links(&["Note"])),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
        ],
        "Tag" => vec![("name", n("name", K::Text).named("Tag Name").mandatory())],
        "HumanUser" => vec![
            ("name", n("name", K::Text)),
            ("login", n("login", K::Text).mandatory()),
            ("email", n("email", K::Text)),
            ("firstname", n("firstname", K::Text).named("First Name")),
            ("lastname", n("lastname", K::Text).named("Last Name")),
            ("sg_status_list", status(USER_STATUSES, "act")),
            (
                "password_proxy",
                n("password_proxy", K::Password).named("Password"),
            ),
            ("groups", n("groups", K::MultiEntity).links(&["Group"])),
            (
                "projects",
                n("projects", K::MultiEntity).links(&["Project"]),
            ),
            (
                "department",
                n("department", K::Entity).links(&["Department"]),
            ),
            (
                "permission_rule_set",
                n("permission_rule_set", K::Entity)
                    .named("Permission Group")
                    .links(&["PermissionRuleSet"]),
            ),
            ("image", n("image", K::Image).named("Thumbnail")),
        ],
        "ApiUser" => vec![
            ("firstname", n("firstname", K::Text).named("Script Name")),
            ("lastname", n("lastname", K::Text).named("Version")),
            ("name", n("name", K::Text).readonly()),
            ("description", n("description", K::Text)),
            ("email", n("email", K::Text)),
            (
                "salted_password",
                n("salted_password", K::Password)
                    .named("Application Key")
                    .readonly(),
            ),
            (
                "projects",
                n("projects", K::MultiEntity).links(&["Project"]),
            ),
            ("generated", n("generated", K::Checkbox).readonly()),
        ],
        "Group" => vec![
            ("code", n("code", K::Text).named("Group Name").mandatory()),
            (
                "users",
                n("users", K::MultiEntity).links(&["HumanUser", "ApiUser"]),
            ),
            ("sg_status_list", status(USER_STATUSES, "act")),
        ],
        "EventLogEntry" => vec![
            ("event_type", n("event_type", K::Text)),
            ("description", n("description", K::Text)),
            ("entity", n("entity", K::Entity)),
            ("project", n("project", K::Entity).links(&["Project"])),
            ("user", n("user", K::Entity).links(USERS)),
            ("meta", n("meta", K::Serializable)),
            ("attribute_name", n("attribute_name", K::Text)),
            ("session_uuid", n("session_uuid", K::Uuid)),
            ("filmstrip_image", n("filmstrip_image", K::Image).readonly()),
        ],
        "Status" => vec![
            ("code", n("code", K::Text).mandatory()),
            ("name", n("name", K::Text)),
            ("icon", n("icon", K::Entity).links(&["Icon"])),
            (
                "bg_color",
                n("bg_color", K::Color).named("Background Color"),
            ),
        ],
        t if t.starts_with("CustomEntity") || t.starts_with("CustomNonProjectEntity") => vec![
            ("code", n("code", K::Text).named("Name")),
            ("description", n("description", K::Text)),
            ("sg_status_list", status(WORK_STATUSES, "wtg")),
            ("tags", n("tags", K::MultiEntity).links(&["Tag"])),
            ("image", n("image", K::Image).named("Thumbnail")),
        ],
        _ => Vec::new(),
    };
    out.extend(specific);
    let mut fields: Vec<(String, FieldDef)> =
        out.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    if !fields.iter().any(|(k, _)| k == display_field) {
        fields.push((
            display_field.to_string(),
            FieldDef::new(display_field, FieldKind::Text),
        ));
    }
    fields
}
