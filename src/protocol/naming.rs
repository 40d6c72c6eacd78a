//! Entity type names ↔ URL segments, per REST-NOTES "Entity names in URLs":
//! `Shot` → `shots`, `HumanUser` → `human_users`, `CustomEntity01` → `custom_entity01s`,
//! `Status` → `statuses`, `EventLogEntry` → `event_log_entries`.

use super::error::Error;

/// Checks that `name` is an entity type as ShotGrid spells it: TitleCase ASCII letters
/// and digits (`Shot`, `HumanUser`, `CustomEntity01`). `path` names the argument in the
/// error.
pub fn validate_entity_type(name: &str, path: &str) -> Result<(), Error> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            path,
            "must be an entity type in TitleCase, e.g. \"Shot\" or \"CustomEntity01\"",
        ))
    }
}

/// Singular snake_case: `HumanUser` → `human_user`, `CustomEntity01` → `custom_entity01`
/// (no underscore before digits). Used by schema endpoints.
pub fn singular_segment(entity_type: &str) -> String {
    let mut out = String::with_capacity(entity_type.len() + 4);
    for (i, c) in entity_type.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Plural snake_case with Rails-style rules: the canonical URL segment.
pub fn url_segment(entity_type: &str) -> String {
    pluralize(&singular_segment(entity_type))
}

fn pluralize(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 3);
    let bytes = word.as_bytes();
    let n = bytes.len();
    let before_y_is_consonant = n >= 2 && !matches!(bytes[n - 2], b'a' | b'e' | b'i' | b'o' | b'u');
    if word.ends_with('y') && before_y_is_consonant {
        out.push_str(&word[..n - 1]);
        out.push_str("ies");
    } else if word.ends_with('s')
        || word.ends_with('x')
        || word.ends_with('z')
        || word.ends_with("ch")
        || word.ends_with("sh")
    {
        out.push_str(word);
        out.push_str("es");
    } else {
        out.push_str(word);
        out.push('s');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_notes_examples() {
        for (t, seg) in [
            ("Asset", "assets"),
            ("Shot", "shots"),
            ("HumanUser", "human_users"),
            ("ApiUser", "api_users"),
            ("EventLogEntry", "event_log_entries"),
            ("Status", "statuses"),
            ("TaskTemplate", "task_templates"),
            ("CustomEntity01", "custom_entity01s"),
            ("CustomEntity25", "custom_entity25s"),
            ("CustomNonProjectEntity01", "custom_non_project_entity01s"),
            ("Reply", "replies"),
            ("Day", "days"),
            ("Box", "boxes"),
            ("Patch", "patches"),
            ("Wish", "wishes"),
            ("PublishedFileType", "published_file_types"),
        ] {
            assert_eq!(url_segment(t), seg, "{t}");
        }
        assert_eq!(singular_segment("CustomEntity01"), "custom_entity01");
        assert_eq!(singular_segment("HumanUser"), "human_user");
    }

    #[test]
    fn validates_type_names() {
        for ok in ["Shot", "CustomEntity01", "A"] {
            assert!(validate_entity_type(ok, "t").is_ok(), "{ok}");
        }
        for bad in [
            "", "shot", "shots", "Shot/1", "Sh ot", "Shot?x=1", "Ünicode", "1Shot",
        ] {
            let e = validate_entity_type(bad, "entityType").unwrap_err();
            assert_eq!(
                e.source,
                Some(crate::protocol::json::sj!("entityType")),
                "{bad}"
            );
        }
        assert!(validate_entity_type(&"A".repeat(65), "t").is_err());
    }
}
