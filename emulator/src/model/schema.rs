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
        "Project" | "HumanUser" | "ApiUser" | "ClientUser" | "Department" | "Tag"
        | "LocalStorage" | "Software" | "Phase" | "Page" => "name",
        "Attachment" => "display_name",
        "Task" => "content",
        "Note" => "subject",
        "Reply" => "content",
        "EventLogEntry" => "description",
        "Step" => "code",
        _ => "code",
    }
}

/// The data type of a field: every type of the reference's "Data Types" table, plus
/// the few other types real schemas report. `as_str` gives the schema's `data_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// `addressing`: a list of HumanUser/Group links (e.g. Note.addressings_to).
    Addressing,
    /// `checkbox`: a boolean.
    Checkbox,
    /// `color`: `"255,0,0"` or `"pipeline_step"`.
    Color,
    /// `currency`: a float.
    Currency,
    /// `date`: `YYYY-MM-DD`.
    Date,
    /// `date_time`: `YYYY-MM-DDThh:mm:ssZ`.
    DateTime,
    /// `duration`: an integer number of minutes.
    Duration,
    /// `entity`: a link to one entity, stored as `{type, id}`.
    Entity,
    /// `entity_type`: the name of an entity type.
    EntityType,
    /// `float`.
    Float,
    /// `footage`: `FF-ff`.
    Footage,
    /// `image`: read-only thumbnail URL.
    Image,
    /// `list`: one value from the field's valid values.
    List,
    /// `multi_entity`: links to many entities, stored as `[{type, id}, …]`.
    MultiEntity,
    /// `number`: a 32-bit integer.
    Number,
    /// `password`: write-only, read back as `*******`.
    Password,
    /// `percent`: an integer percentage.
    Percent,
    /// `serializable`: any JSON object.
    Serializable,
    /// `status_list`: a status short code.
    StatusList,
    /// `summary`: a computed summary field (read-only).
    Summary,
    /// `tag_list`: a list of tag names.
    TagList,
    /// `text`: a string.
    Text,
    /// `timecode`: an integer number of milliseconds.
    Timecode,
    /// `url`: a file/link object.
    Url,
    /// `uuid`: a UUID string.
    Uuid,
    /// `pivot_column`: read-only.
    PivotColumn,
    /// `calculated`: a query/calculated field (read-only).
    Calculated,
    /// Anything else: an opaque JSON value.
    Other,
}

/// Every data type with its schema name.
pub const FIELD_KINDS: &[(FieldKind, &str)] = &[
    (FieldKind::Addressing, "addressing"),
    (FieldKind::Checkbox, "checkbox"),
    (FieldKind::Color, "color"),
    (FieldKind::Currency, "currency"),
    (FieldKind::Date, "date"),
    (FieldKind::DateTime, "date_time"),
    (FieldKind::Duration, "duration"),
    (FieldKind::Entity, "entity"),
    (FieldKind::EntityType, "entity_type"),
    (FieldKind::Float, "float"),
    (FieldKind::Footage, "footage"),
    (FieldKind::Image, "image"),
    (FieldKind::List, "list"),
    (FieldKind::MultiEntity, "multi_entity"),
    (FieldKind::Number, "number"),
    (FieldKind::Password, "password"),
    (FieldKind::Percent, "percent"),
    (FieldKind::Serializable, "serializable"),
    (FieldKind::StatusList, "status_list"),
    (FieldKind::Summary, "summary"),
    (FieldKind::TagList, "tag_list"),
    (FieldKind::Text, "text"),
    (FieldKind::Timecode, "timecode"),
    (FieldKind::Url, "url"),
    (FieldKind::Uuid, "uuid"),
    (FieldKind::PivotColumn, "pivot_column"),
    (FieldKind::Calculated, "calculated"),
    (FieldKind::Other, "other"),
];

impl FieldKind {
    /// The schema's `data_type` name, e.g. `"multi_entity"`.
    pub fn as_str(self) -> &'static str {
        FIELD_KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("other", |(_, n)| n)
    }

    /// Parses a schema `data_type` name.
    pub fn parse(name: &str) -> Option<FieldKind> {
        FIELD_KINDS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
    }

    /// Whether values of this kind are rendered under `relationships`.
    pub fn is_link(self) -> bool {
        matches!(
            self,
            FieldKind::Entity | FieldKind::MultiEntity | FieldKind::Addressing
        )
    }

    /// The value a record has for this field when it was never set.
    pub fn empty_value(self) -> serde_json::Value {
        match self {
            FieldKind::MultiEntity | FieldKind::Addressing | FieldKind::TagList => {
                serde_json::Value::Array(Vec::new())
            }
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

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (k, n) in FIELD_KINDS {
            assert_eq!(k.as_str(), *n);
            assert_eq!(FieldKind::parse(n), Some(*k));
        }
        assert_eq!(FieldKind::parse("nope"), None);
    }
}
