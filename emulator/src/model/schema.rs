//! The entity types the emulated site knows and the kinds of their fields.
//!
//! This is a minimal schema: enough to know which types exist, which fields are entity
//! links (rendered under `relationships`) and which are plain values (`attributes`).
//! It grows into the full `/schema` endpoints later.

/// Built-in ShotGrid entity types that the emulated site accepts in URLs.
const BUILTIN_TYPES: &[&str] = &[
    "ActionMenuItem",
    "ApiUser",
    "AppWelcomeUserConnection",
    "Asset",
    "Attachment",
    "Booking",
    "Camera",
    "ClientUser",
    "Cut",
    "CutItem",
    "Delivery",
    "Department",
    "Episode",
    "EventLogEntry",
    "FilesystemLocation",
    "Group",
    "HumanUser",
    "Icon",
    "Launch",
    "Level",
    "LocalStorage",
    "MocapTake",
    "Note",
    "Page",
    "PageSetting",
    "PermissionRuleSet",
    "Phase",
    "PipelineConfiguration",
    "Playlist",
    "Project",
    "PublishedFile",
    "PublishedFileDependency",
    "PublishedFileType",
    "Release",
    "Reply",
    "Revision",
    "Scene",
    "Sequence",
    "Shot",
    "Software",
    "Status",
    "Step",
    "Tag",
    "Task",
    "TaskDependency",
    "TaskTemplate",
    "Ticket",
    "TimeLog",
    "Version",
];

/// All entity type names (TitleCase) known to the site: the built-in types plus the
/// numbered custom entity families.
pub fn known_types() -> Vec<String> {
    let mut out: Vec<String> = BUILTIN_TYPES.iter().map(|s| s.to_string()).collect();
    for i in 1..=80 {
        out.push(format!("CustomEntity{i:02}"));
    }
    for i in 1..=30 {
        out.push(format!("CustomNonProjectEntity{i:02}"));
    }
    for i in 1..=15 {
        out.push(format!("CustomThreadedEntity{i:02}"));
    }
    out
}

/// The field whose value is a record's display name (the `name` of a linked entity).
pub fn display_field(entity_type: &str) -> &'static str {
    match entity_type {
        "Project" | "HumanUser" | "ApiUser" | "ClientUser" | "Group" | "Department"
        | "PublishedFile" | "Playlist" | "Status" | "Tag" | "LocalStorage" | "Software"
        | "Phase" | "Page" => "name",
        "Task" => "content",
        "Note" => "subject",
        "Reply" => "content",
        "EventLogEntry" => "description",
        "Step" => "code",
        _ => "code",
    }
}

/// The data type of a field, as far as rendering needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A single-line or multi-line string.
    Text,
    /// An integer.
    Number,
    /// A floating point number.
    Float,
    /// A boolean.
    Checkbox,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A timestamp, `YYYY-MM-DDThh:mm:ssZ`.
    DateTime,
    /// A status short code.
    StatusList,
    /// A value from a list.
    List,
    /// A link to one entity, stored as `{type, id}`.
    Entity,
    /// Links to many entities, stored as `[{type, id}, …]`.
    MultiEntity,
    /// Any other JSON value (urls, serialisable, ...).
    Other,
}

impl FieldKind {
    /// Whether values of this kind are rendered under `relationships`.
    pub fn is_link(self) -> bool {
        matches!(self, FieldKind::Entity | FieldKind::MultiEntity)
    }

    /// The value a record has for this field when it was never set.
    pub fn empty_value(self) -> serde_json::Value {
        match self {
            FieldKind::MultiEntity => serde_json::Value::Array(Vec::new()),
            _ => serde_json::Value::Null,
        }
    }
}

/// The fields every entity type has.
pub fn standard_fields() -> &'static [(&'static str, FieldKind)] {
    &[
        ("created_at", FieldKind::DateTime),
        ("updated_at", FieldKind::DateTime),
        ("created_by", FieldKind::Entity),
        ("updated_by", FieldKind::Entity),
    ]
}
