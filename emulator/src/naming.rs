//! Entity type names as they appear in URLs.
//!
//! ShotGrid entity types have a canonical TitleCase name (`Shot`, `HumanUser`,
//! `CustomEntity01`). Request paths accept many spellings (`Shot`, `shots`, `Shots`,
//! `human_users`, `HumanUsers`, `custom_entity_01s`, ...), but every link the server
//! generates uses the plural snake_case form with no underscore before digits
//! (`shots`, `human_users`, `custom_entity01s`, `statuses`).
//!
//! Resolution is done by normalising both the request spelling and every form of each
//! known type to a lookup key (lower case, underscores removed), so a table of known
//! types maps any accepted spelling back to its canonical name.

use std::collections::HashMap;

/// Converts a TitleCase type name to singular snake_case, with no underscore before
/// digits: `HumanUser` → `human_user`, `CustomEntity01` → `custom_entity01`.
pub fn to_snake(type_name: &str) -> String {
    let chars: Vec<char> = type_name.chars().collect();
    let mut out = String::with_capacity(type_name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = if i > 0 {
                chars.get(i - 1).copied()
            } else {
                None
            };
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                // "APIUser" → "api_user": an upper case run followed by a lower case letter.
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Words that Rails leaves unchanged in the plural.
const UNCOUNTABLE: &[&str] = &[
    "equipment",
    "information",
    "rice",
    "money",
    "species",
    "series",
    "fish",
    "sheep",
    "jeans",
    "police",
];

/// Pluralises a snake_case word following the Rails rules ShotGrid uses for URLs:
/// consonant + `y` → `ies`, `s`/`x`/`z`/`ch`/`sh` → `es`, otherwise `s`.
pub fn pluralize(snake: &str) -> String {
    let last_word = snake.rsplit('_').next().unwrap_or(snake);
    if UNCOUNTABLE.contains(&last_word) {
        return snake.to_string();
    }
    let bytes = snake.as_bytes();
    let n = bytes.len();
    if n >= 2 && bytes[n - 1] == b'y' && !b"aeiou".contains(&bytes[n - 2]) {
        return format!("{}ies", &snake[..n - 1]);
    }
    if snake.ends_with('s')
        || snake.ends_with('x')
        || snake.ends_with('z')
        || snake.ends_with("ch")
        || snake.ends_with("sh")
    {
        return format!("{snake}es");
    }
    format!("{snake}s")
}

/// The canonical URL form of a TitleCase type: plural snake_case
/// (`Shot` → `shots`, `Status` → `statuses`, `CustomEntity01` → `custom_entity01s`).
pub fn url_name(type_name: &str) -> String {
    pluralize(&to_snake(type_name))
}

/// Normalises a spelling to a lookup key: ASCII lower case with underscores removed.
fn key(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Maps every accepted spelling of a set of entity types to the canonical TitleCase name.
#[derive(Debug, Clone, Default)]
pub struct TypeResolver {
    by_key: HashMap<String, String>,
}

impl TypeResolver {
    /// Builds a resolver for the given canonical TitleCase type names.
    pub fn new<I, S>(types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut r = TypeResolver::default();
        for t in types {
            r.add(t.as_ref());
        }
        r
    }

    /// Registers one canonical type name (singular and plural spellings).
    pub fn add(&mut self, type_name: &str) {
        let snake = to_snake(type_name);
        let plural = pluralize(&snake);
        // Singular forms never shadow a plural of another type that was already added.
        for form in [plural.as_str(), snake.as_str(), type_name] {
            self.by_key
                .entry(key(form))
                .or_insert_with(|| type_name.to_string());
        }
    }

    /// Resolves any accepted spelling (`Shot`, `shots`, `Shots`, `human_users`,
    /// `HumanUsers`, `custom_entity_01s`, ...) to the canonical TitleCase type name.
    pub fn resolve(&self, input: &str) -> Option<&str> {
        if input.is_empty() || input.len() > 128 {
            return None;
        }
        if !input.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        self.by_key.get(&key(input)).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &[(&str, &str, &str)] = &[
        // (TitleCase, singular snake, plural URL form)
        ("Asset", "asset", "assets"),
        ("Shot", "shot", "shots"),
        ("HumanUser", "human_user", "human_users"),
        ("ApiUser", "api_user", "api_users"),
        ("EventLogEntry", "event_log_entry", "event_log_entries"),
        ("Status", "status", "statuses"),
        ("TaskTemplate", "task_template", "task_templates"),
        ("CustomEntity01", "custom_entity01", "custom_entity01s"),
        (
            "CustomNonProjectEntity01",
            "custom_non_project_entity01",
            "custom_non_project_entity01s",
        ),
        ("Project", "project", "projects"),
        ("Sequence", "sequence", "sequences"),
        (
            "PublishedFileDependency",
            "published_file_dependency",
            "published_file_dependencies",
        ),
        ("Delivery", "delivery", "deliveries"),
        ("Launch", "launch", "launches"),
        ("Box", "box", "boxes"),
        ("Wish", "wish", "wishes"),
        ("Day", "day", "days"),
    ];

    #[test]
    fn canonical_forms() {
        for (title, snake, plural) in CANONICAL {
            assert_eq!(to_snake(title), *snake, "snake of {title}");
            assert_eq!(url_name(title), *plural, "url of {title}");
        }
    }

    #[test]
    fn acronym_runs() {
        assert_eq!(to_snake("APIUser"), "api_user");
        assert_eq!(
            to_snake("CustomThreadedEntity15"),
            "custom_threaded_entity15"
        );
    }

    fn resolver() -> TypeResolver {
        TypeResolver::new(CANONICAL.iter().map(|(t, _, _)| *t))
    }

    #[test]
    fn resolves_every_accepted_spelling() {
        let r = resolver();
        let cases: &[(&str, &str)] = &[
            ("Asset", "Asset"),
            ("assets", "Asset"),
            ("Assets", "Asset"),
            ("asset", "Asset"),
            ("Shot", "Shot"),
            ("shots", "Shot"),
            ("Shots", "Shot"),
            ("HumanUsers", "HumanUser"),
            ("HumanUser", "HumanUser"),
            ("human_users", "HumanUser"),
            ("human_user", "HumanUser"),
            ("api_users", "ApiUser"),
            ("event_log_entries", "EventLogEntry"),
            ("EventLogEntries", "EventLogEntry"),
            ("statuses", "Status"),
            ("Status", "Status"),
            ("task_templates", "TaskTemplate"),
            ("CustomEntity01", "CustomEntity01"),
            ("custom_entity01s", "CustomEntity01"),
            ("custom_entity_01s", "CustomEntity01"),
            ("custom_entity01", "CustomEntity01"),
            ("custom_entity_01", "CustomEntity01"),
            ("CustomNonProjectEntity01", "CustomNonProjectEntity01"),
            ("custom_non_project_entity01s", "CustomNonProjectEntity01"),
            ("custom_non_project_entity_01s", "CustomNonProjectEntity01"),
        ];
        for (input, want) in cases {
            assert_eq!(r.resolve(input), Some(*want), "resolve {input}");
        }
    }

    #[test]
    fn rejects_unknown_and_garbage() {
        let r = resolver();
        for input in [
            "", "Widget", "widgets", "shots/", "../etc", "sh ots", "shöts",
        ] {
            assert_eq!(r.resolve(input), None, "resolve {input:?}");
        }
        let long = "a".repeat(1000);
        assert_eq!(r.resolve(&long), None);
    }
}
