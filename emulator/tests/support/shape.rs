//! Shape comparison of JSON documents for the conformance tests.
//!
//! Two documents have the same shape when their object keys match (per the key policy of
//! each path) and every value has the same JSON type (`null`, `bool`, `number`, `string`,
//! `array`, `object`). Concrete values (ids, names, timestamps, tokens, request ids) are
//! ignored. `null` on either side matches any type: whether a field holds a value depends
//! on the record, not on the shape. Every element of an array is compared with the first
//! element of the expected array (lists of records are homogeneous); an empty array on
//! either side is not looked into.
//!
//! Paths are written `data[].relationships.project.links`: `[]` stands for any array
//! index; [`Policy`] patterns may use `*` for one segment (a field name, a map key).

use serde_json::Value;

/// How the keys of an object at a path are compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    /// Same key sets on both sides.
    Exact,
    /// Only the keys present on both sides are compared (site-specific maps: the fields of
    /// a `fields=*` read, the schema of a site).
    Common,
    /// Same key sets, except that these keys may be missing on either side.
    Optional(Vec<String>),
    /// Every expected key must be present; more keys are allowed (an abbreviated
    /// documentation example).
    AtLeast,
    /// The value at this path is not compared at all (a documented known-wrong example).
    Skip,
}

impl Keys {
    /// [`Keys::Optional`] from a list of names.
    pub fn optional(names: &[&str]) -> Keys {
        Keys::Optional(names.iter().map(|s| s.to_string()).collect())
    }
}

/// Path patterns and their key policy; the first match wins, [`Keys::Exact`] otherwise.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    rules: Vec<(String, Keys)>,
}

impl Policy {
    pub fn new() -> Self {
        Policy::default()
    }

    /// Adds a rule; `pattern` segments are separated by `.`, `*` matches one segment.
    pub fn with(mut self, pattern: &str, keys: Keys) -> Self {
        self.rules.push((pattern.to_string(), keys));
        self
    }

    fn keys_at(&self, path: &[String]) -> Keys {
        for (pattern, keys) in &self.rules {
            if matches(pattern, path) {
                return keys.clone();
            }
        }
        Keys::Exact
    }
}

fn matches(pattern: &str, path: &[String]) -> bool {
    let segs: Vec<&str> = if pattern.is_empty() {
        Vec::new()
    } else {
        pattern.split('.').collect()
    };
    segs.len() == path.len() && segs.iter().zip(path).all(|(p, s)| *p == "*" || p == s)
}

/// The JSON type name of a value.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn show(path: &[String]) -> String {
    if path.is_empty() {
        "$".to_string()
    } else {
        format!("$.{}", path.join(".")).replace(".[]", "[]")
    }
}

fn brief(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Compares the shape of `actual` with `expected`; the error names the path of the first
/// difference and both sides there.
pub fn diff(expected: &Value, actual: &Value, policy: &Policy) -> Result<(), String> {
    let mut path = Vec::new();
    walk(expected, actual, policy, &mut path)
}

fn walk(
    expected: &Value,
    actual: &Value,
    policy: &Policy,
    path: &mut Vec<String>,
) -> Result<(), String> {
    if policy.keys_at(path) == Keys::Skip {
        return Ok(());
    }
    match (expected, actual) {
        (Value::Null, _) | (_, Value::Null) => Ok(()),
        (Value::Object(e), Value::Object(a)) => {
            let keys = policy.keys_at(path);
            let optional: &[String] = match &keys {
                Keys::Optional(list) => list,
                _ => &[],
            };
            if keys != Keys::Common {
                let missing: Vec<&String> = e
                    .keys()
                    .filter(|k| !a.contains_key(*k) && !optional.contains(*k))
                    .collect();
                let extra: Vec<&String> = a
                    .keys()
                    .filter(|k| {
                        keys != Keys::AtLeast && !e.contains_key(*k) && !optional.contains(*k)
                    })
                    .collect();
                if !missing.is_empty() || !extra.is_empty() {
                    return Err(format!(
                        "{}: keys differ: missing {missing:?}, unexpected {extra:?}\n  expected keys {:?}\n  actual keys   {:?}",
                        show(path),
                        e.keys().collect::<Vec<_>>(),
                        a.keys().collect::<Vec<_>>()
                    ));
                }
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    path.push(k.clone());
                    walk(ev, av, policy, path)?;
                    path.pop();
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            let Some(template) = e.first() else {
                return Ok(());
            };
            path.push("[]".to_string());
            for (i, av) in a.iter().enumerate() {
                walk(template, av, policy, path).map_err(|m| format!("{m}\n  (element {i})"))?;
            }
            path.pop();
            Ok(())
        }
        (e, a) if kind(e) == kind(a) => Ok(()),
        (e, a) => Err(format!(
            "{}: type differs: expected {} ({}), got {} ({})",
            show(path),
            kind(e),
            brief(e),
            kind(a),
            brief(a)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_the_path_of_the_first_difference() {
        let p = Policy::new();
        let e = json!({"data": [{"id": 1, "attributes": {"code": "a"}}]});
        let a = json!({"data": [{"id": 2, "attributes": {"code": 3}}]});
        let err = diff(&e, &a, &p).unwrap_err();
        assert!(
            err.starts_with("$.data[].attributes.code: type differs"),
            "{err}"
        );
        let a = json!({"data": [{"id": 2, "attributes": {"name": "x"}}]});
        let err = diff(&e, &a, &p).unwrap_err();
        assert!(err.starts_with("$.data[].attributes: keys differ"), "{err}");
        let p = Policy::new().with("data.[].attributes", Keys::Common);
        assert!(diff(&e, &a, &p).is_ok());
        assert!(diff(&json!({"a": null}), &json!({"a": [1]}), &p).is_ok());
        let p = Policy::new().with("links", Keys::optional(&["next"]));
        assert!(diff(
            &json!({"links": {"self": "/", "next": "/"}}),
            &json!({"links": {"self": "/x"}}),
            &p
        )
        .is_ok());
    }
}
