//! Small helpers shared by the endpoint modules: argument paths for errors, request
//! shapes, id and name checks, and response decoding that tolerates the forms seen on
//! real sites.

use crate::protocol::json::{Map, Value};

use super::error::Error;
use super::http::{percent_encode_into, HttpRequest, HttpResponse, Method};
use super::record::{flatten_resource, parse_json, take_data};

/// Largest id JS can represent exactly.
pub const MAX_SAFE_ID: u64 = (1 << 53) - 1;

/// `base.key`
pub fn child(base: &str, key: &str) -> String {
    let mut p = String::with_capacity(base.len() + key.len() + 1);
    p.push_str(base);
    p.push('.');
    p.push_str(key);
    p
}

/// `base[i]`
pub fn indexed(base: &str, i: usize) -> String {
    let mut p = String::with_capacity(base.len() + 6);
    p.push_str(base);
    p.push('[');
    p.push_str(&crate::protocol::dec(i));
    p.push(']');
    p
}

/// Checks a record id: a positive integer JS can represent.
pub fn check_id(id: u64, path: &str) -> Result<(), Error> {
    if id == 0 || id > MAX_SAFE_ID {
        Err(Error::invalid_input(path, "must be a positive integer"))
    } else {
        Ok(())
    }
}

/// Reads a positive integer id out of JSON (`1`, not `1.5`, `"1"` or `0`).
pub fn json_id(v: Option<&Value>, path: &str) -> Result<u64, Error> {
    let id = v
        .and_then(|v| match v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 1.0)
                    .map(|f| f as u64)
            }),
            _ => None,
        })
        .unwrap_or(0);
    check_id(id, path)?;
    Ok(id)
}

/// Checks a plain field name as it appears in a URL path: letters, digits and `_`.
pub fn check_field_name(name: &str, path: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            path,
            "must be a field name (letters, digits and _), e.g. \"sg_status_list\"",
        ))
    }
}

/// Rejects members of `obj` not in `allowed`; `path` names the object.
pub fn only_keys(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), Error> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => {
            let mut d = String::from("unknown key; expected one of: ");
            d.push_str(&crate::protocol::join(allowed, ", "));
            Err(Error::invalid_input(&child(path, k), d))
        }
        None => Ok(()),
    }
}

/// Requires `v` to be a JSON object.
pub fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Error> {
    v.as_object()
        .ok_or_else(|| Error::invalid_input(path, "must be an object"))
}

/// Builds a URL path with a query string, percent-encoding names and values.
pub struct PathBuilder {
    path: String,
    has_query: bool,
}

impl PathBuilder {
    /// Starts at `base` (e.g. `/api/v1/schema`).
    pub fn new(base: &str) -> Self {
        PathBuilder {
            path: base.to_owned(),
            has_query: false,
        }
    }

    /// Appends `/segment`, percent-encoded.
    pub fn segment(mut self, segment: &str) -> Self {
        self.path.push('/');
        percent_encode_into(&mut self.path, segment);
        self
    }

    /// Appends a literal `/segment` (already safe).
    pub fn raw(mut self, segment: &str) -> Self {
        self.path.push('/');
        self.path.push_str(segment);
        self
    }

    /// Appends `name=value` to the query.
    pub fn pair(&mut self, name: &str, value: &str) {
        self.path.push(if self.has_query { '&' } else { '?' });
        self.has_query = true;
        percent_encode_into(&mut self.path, name);
        self.path.push('=');
        percent_encode_into(&mut self.path, value);
    }

    /// Appends `name=a,b,c` with each item encoded and the commas kept.
    pub fn list(&mut self, name: &str, items: &[String]) {
        self.path.push(if self.has_query { '&' } else { '?' });
        self.has_query = true;
        percent_encode_into(&mut self.path, name);
        self.path.push('=');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.path.push(',');
            }
            percent_encode_into(&mut self.path, item);
        }
    }

    /// The finished path.
    pub fn finish(self) -> String {
        self.path
    }
}

/// A GET accepting JSON.
pub fn get(url: String) -> HttpRequest {
    HttpRequest::new(Method::Get, url).header("Accept", "application/json")
}

/// A request with a JSON body.
pub fn json(method: Method, url: String, body: &Value) -> HttpRequest {
    json_typed(method, url, body, "application/json")
}

/// A request with a JSON body of a given Content-Type.
pub fn json_typed(method: Method, url: String, body: &Value, content_type: &str) -> HttpRequest {
    HttpRequest::new(method, url)
        .header("Accept", "application/json")
        .header("Content-Type", content_type)
        .body(super::record::json_text(body).into_bytes())
}

/// A request without a body that accepts JSON.
pub fn bare(method: Method, url: String) -> HttpRequest {
    HttpRequest::new(method, url).header("Accept", "application/json")
}

/// A decode error for `resp`.
pub fn decode_error(resp: &HttpResponse, detail: &str) -> Error {
    Error::decode_from(detail, resp)
}

/// The top-level `data` member of a JSON response.
pub fn decode_data(resp: &HttpResponse) -> Result<Value, Error> {
    take_data(parse_json(resp)?, resp)
}

/// The top-level `data` member, which must be a list.
pub fn decode_data_list(resp: &HttpResponse) -> Result<Vec<Value>, Error> {
    match decode_data(resp)? {
        Value::Array(items) => Ok(items),
        _ => Err(decode_error(resp, "the response's `data` is not a list")),
    }
}

/// The top-level `data` member, which must be an object.
pub fn decode_data_object(resp: &HttpResponse) -> Result<Map<String, Value>, Error> {
    match decode_data(resp)? {
        Value::Object(o) => Ok(o),
        _ => Err(decode_error(resp, "the response's `data` is not an object")),
    }
}

/// A resource or bare link as a plain value: JSON:API resources (with `attributes` or
/// `relationships`) are flattened to `{type, id, ...fields}`; bare links become
/// `{type, id, name?, ...}` without their `links`. `None` when it has no type and id.
pub fn record_or_link(v: Value) -> Option<Value> {
    let Value::Object(mut o) = v else {
        return None;
    };
    if !(o.get("type").is_some_and(Value::is_string) && o.get("id").is_some_and(Value::is_number)) {
        return None;
    }
    if o.contains_key("attributes") || o.contains_key("relationships") {
        return flatten_resource(Value::Object(o));
    }
    o.remove("links");
    let mut out = Map::with_capacity(o.len());
    for key in ["type", "id", "name"] {
        if let Some(val) = o.remove(key) {
            out.insert(key.to_owned(), val);
        }
    }
    out.extend(o);
    Some(Value::Object(out))
}

/// A list of resources or links, each as [`record_or_link`].
pub fn records_or_links(resp: &HttpResponse, items: Vec<Value>) -> Result<Vec<Value>, Error> {
    items
        .into_iter()
        .map(|item| {
            record_or_link(item)
                .ok_or_else(|| decode_error(resp, "an item of `data` has no `type` and `id`"))
        })
        .collect()
}

/// Rewrites an invalid-input `source` that starts with `from` to start with `to`
/// (e.g. `filters[1]` → `entityTypes.Shot[1]`).
pub fn rebase_source(mut e: Error, from: &str, to: &str) -> Error {
    if let Some(Value::String(s)) = &e.source {
        if let Some(rest) = s.strip_prefix(from) {
            let mut p = String::from(to);
            p.push_str(rest);
            e.source = Some(Value::String(p));
        }
    }
    e
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for unit tests: responses and recorded fixtures.

    use super::super::error::Error;
    use super::super::http::{HttpRequest, HttpResponse};
    use super::super::site::Site;
    use super::super::value::Value;

    /// The site the request builders' tests use.
    pub fn site() -> Site {
        Site::parse("http://h:1").unwrap()
    }

    /// An error's `source` (the path of the bad input), or "".
    pub fn src(e: Error) -> String {
        e.source
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// A request's JSON body.
    pub fn body(r: &HttpRequest) -> Value {
        serde_json::from_slice(r.body.as_deref().unwrap()).unwrap()
    }

    /// A response with `status` and `body`.
    pub fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("x-request-id".into(), "rid".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The response bodies of a recorded VCR cassette under
    /// `../shared/fixtures/recorded/`, in order; `None` when the folder is not there.
    /// Handles the cassettes' YAML: single-quoted scalars folded over several lines.
    pub fn recorded_bodies(rel: &str) -> Option<Vec<String>> {
        let mut path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        path.push("../shared/fixtures/recorded");
        path.push(rel);
        let text = std::fs::read_to_string(path).ok()?;
        let mut out = Vec::new();
        let mut in_response = false;
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.starts_with("  response:") {
                in_response = true;
            } else if line.starts_with("- request:") {
                in_response = false;
            }
            let trimmed = line.trim_start();
            if !(in_response && trimmed.starts_with("string: '")) {
                continue;
            }
            let mut raw = trimmed["string: '".len()..].to_owned();
            while !ends_quoted(&raw) {
                let Some(next) = lines.next() else { break };
                let next = next.trim();
                if next.is_empty() {
                    raw.push('\n');
                } else {
                    if !raw.ends_with('\n') {
                        raw.push(' ');
                    }
                    raw.push_str(next);
                }
            }
            raw.pop(); // closing quote
            out.push(raw.replace("''", "'"));
        }
        Some(out)
    }

    fn ends_quoted(s: &str) -> bool {
        // An odd run of quotes at the end closes the scalar (`''` is an escaped quote).
        let n = s.chars().rev().take_while(|c| *c == '\'').count();
        n % 2 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::sj as json;

    #[test]
    fn links_and_records_become_plain_values() {
        assert_eq!(
            record_or_link(
                json!({"id": 5, "name": "A", "type": "HumanUser", "links": {"self": "/x"}})
            ),
            Some(json!({"type": "HumanUser", "id": 5, "name": "A"}))
        );
        assert_eq!(
            record_or_link(
                json!({"id": 5, "type": "HumanUser", "attributes": {"name": "A"}, "links": {}})
            ),
            Some(json!({"type": "HumanUser", "id": 5, "name": "A"}))
        );
        assert_eq!(record_or_link(json!({"id": "5", "type": "X"})), None);
        assert_eq!(record_or_link(json!([1])), None);
    }

    #[test]
    fn path_builder_encodes() {
        let mut p = PathBuilder::new("/api/v1/x").segment("a b").raw("c");
        p.pair("k[1]", "v/w");
        p.list("l", &["a".into(), "b,c".into()]);
        assert_eq!(p.finish(), "/api/v1/x/a%20b/c?k%5B1%5D=v%2Fw&l=a,b%2Cc");
    }

    #[test]
    fn ids_and_sources() {
        assert_eq!(json_id(Some(&json!(3)), "id").unwrap(), 3);
        for bad in [json!(0), json!(-1), json!(1.5), json!("1"), json!(null)] {
            assert!(json_id(Some(&bad), "id").is_err(), "{bad}");
        }
        assert!(json_id(None, "id").is_err());
        if let Some(bodies) = testing::recorded_bodies(
            "ShotgridApiRuby_Preferences/1_1/all_preferences/parses_the_preferences_from_shotgrid.yml",
        ) {
            assert_eq!(bodies.len(), 2, "token answer and preferences");
            assert!(bodies[0].contains("<ACCESS_TOKEN>"));
            assert!(bodies[1].contains("\"- $1,000\""), "{}", bodies[1]);
        }
        let e = rebase_source(
            Error::invalid_input("filters[1][0]", "x"),
            "filters",
            "entityTypes.Shot",
        );
        assert_eq!(e.source, Some(json!("entityTypes.Shot[1][0]")));
    }
}
