//! Conformance with the REST v1 reference: every endpoint's documented request example
//! ("Body parameter") is replayed against a demo site and the answer must have the shape
//! of the documented example response ("Example responses"): same keys, same JSON value
//! types (values ignored, `null` matches any type; see `support/shape.rs`).
//!
//! The cases live in `tests/fixtures/reference_examples.json`, extracted once from the
//! reference text by `tests/support/extract_reference_examples.py`. Each case holds the
//! documented endpoint, request body, status and example response, the concrete request
//! sent (placeholders such as `"string"` and ids of the reference's site replaced by demo
//! records; `{name}` stands for a value captured from an earlier answer), the status the
//! emulator must give, per-path key rules (`exact` by default; `common`, `at_least`,
//! `skip`, `{"optional": [...]}`), and, where the reference example is known to be
//! wrong, an `exception` saying why and what is expected instead. The exceptions, in
//! short:
//! - relationships in the list/search/batch examples are bare entity hashes; real sites
//!   (recorded fixtures) and the reference's own "Read one record" example use
//!   `{data, links}`;
//! - `GET /schema`: the example wraps the entity map in a one-element array; real sites
//!   answer an object keyed by entity type (decided from the recorded fixtures and
//!   production clients): the emulator's object form is canonical;
//! - `GET /preferences`: the example lacks the `{data, links}` envelope of the recording;
//! - the relationship endpoint's example is a copy of the upload-URL answer;
//! - creating a field: the example is a copy of the whole field map;
//! - endpoints documented only by a "401" example whose body is a 400/103 error: replayed
//!   without a token, the error object must have the documented keys, with 401/102;
//! - `servers` in the OpenAPI example is `{}` (an array in OpenAPI 3).
//!
//! Cases run in file order on one site (`sg` storage, as the upload examples show).

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use shotgrid_emulator::StorageMode;
use support::shape::{diff, Keys, Policy};
use support::{normalize_content_type, Answer, Site, SCRIPT, SCRIPT_KEY};

fn load() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference_examples.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: Value = serde_json::from_str(&text).expect("reference_examples.json");
    doc["cases"].as_array().expect("cases").clone()
}

fn keys_rule(v: &Value) -> Keys {
    match v {
        Value::String(s) => match s.as_str() {
            "exact" => Keys::Exact,
            "common" => Keys::Common,
            "at_least" => Keys::AtLeast,
            "skip" => Keys::Skip,
            other => panic!("unknown key rule {other}"),
        },
        Value::Object(o) => {
            let names: Vec<&str> = o["optional"]
                .as_array()
                .expect("optional list")
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            Keys::optional(&names)
        }
        other => panic!("bad key rule {other}"),
    }
}

fn substitute(s: &str, vars: &HashMap<String, Value>) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out = out.replace(&format!("{{{k}}}"), &text);
    }
    assert!(
        !out.contains('{') || out.starts_with('{') || out.starts_with('['),
        "unresolved placeholder in {out}"
    );
    out
}

/// The documented example, corrected where the case says the reference is wrong.
fn expected_body(case: &Value, actual: &Value) -> Value {
    let doc = case["documented_response"].clone();
    if let Some(e) = case.get("expected") {
        return e.clone();
    }
    match case["expected_transform"].as_str() {
        None => doc,
        Some("schema_data_object") => {
            json!({"data": doc["data"][0].clone(), "links": doc["links"].clone()})
        }
        Some("rekey_first_field") => {
            let first = doc["data"]
                .as_object()
                .and_then(|m| m.values().next().cloned())
                .expect("a documented field");
            let name = actual["data"]
                .as_object()
                .and_then(|m| m.keys().next().cloned())
                .unwrap_or_default();
            json!({"data": {name: first}, "links": doc["links"].clone()})
        }
        Some("wrap_in_data") => json!({"data": doc, "links": {"self": "/api/v1/preferences"}}),
        Some(other) => panic!("unknown transform {other}"),
    }
}

fn merge(a: &Value, b: &Value) -> Value {
    let mut out = a.as_object().cloned().unwrap_or_default();
    for (k, v) in b.as_object().cloned().unwrap_or_default() {
        out.insert(k, v);
    }
    Value::Object(out)
}

async fn send(
    site: &Site,
    req: &Value,
    token: Option<&str>,
    vars: &HashMap<String, Value>,
) -> Answer {
    let path = substitute(req["path"].as_str().unwrap(), vars);
    let method = Method::from_bytes(req["method"].as_str().unwrap().as_bytes()).unwrap();
    if let Some(form) = req["form"].as_object() {
        let mut vals: Vec<(String, String)> = Vec::new();
        for (k, v) in form {
            let v = v
                .as_str()
                .unwrap()
                .replace("{script}", SCRIPT)
                .replace("{script_key}", SCRIPT_KEY);
            vals.push((k.clone(), v));
        }
        let pairs: Vec<(&str, &str)> = vals.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        return site.form(&path, &pairs).await;
    }
    let (ctype, body) = if let Some(raw) = req["raw_body"].as_str() {
        (req["content_type"].as_str(), Some(raw.to_string()))
    } else if !req["body"].is_null() {
        (
            Some(req["content_type"].as_str().unwrap_or("application/json")),
            Some(req["body"].to_string()),
        )
    } else {
        (None, None)
    };
    site.send(method, &path, token, ctype, body).await
}

#[tokio::test]
async fn every_documented_example_has_the_documented_shape() {
    let cases = load();
    assert!(cases.len() >= 50, "cases: {}", cases.len());
    let site = Site::demo_with(StorageMode::Sg).await;
    let token = site.token().await;
    let mut vars: HashMap<String, Value> = HashMap::new();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = format!("#{i} {}", case["name"].as_str().unwrap());
        for before in case["before"].as_array().into_iter().flatten() {
            let a = send(&site, before, Some(&token), &vars).await;
            assert!(a.status < 300, "{name}: setup request: {}", a.text);
        }
        let mut req = case["request"].clone();
        let auth = req["auth"].as_bool().unwrap_or(true);
        if let Some(kind) = case["use_upload_info"].as_str() {
            let info = merge(
                &vars[&format!("{kind}_info")],
                &vars[&format!("{kind}_put")],
            );
            req["body"]["upload_info"] = info;
        }
        let mut actual = send(&site, &req, auth.then_some(token.as_str()), &vars).await;
        if case["wait_for_data"].as_bool() == Some(true) {
            for _ in 0..100 {
                if actual.json["data"]
                    .as_array()
                    .is_some_and(|d| !d.is_empty())
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                actual = send(&site, &req, Some(&token), &vars).await;
            }
        }
        if let Err(msg) = check(case, &actual) {
            failures.push(format!(
                "{name}\n  request: {} {}\n  {msg}\n  emulator body: {}",
                req["method"].as_str().unwrap(),
                substitute(req["path"].as_str().unwrap(), &vars),
                actual.text.chars().take(500).collect::<String>()
            ));
            continue;
        }
        for (var, pointer) in case["capture"].as_object().into_iter().flatten() {
            let v = actual
                .json
                .pointer(pointer.as_str().unwrap())
                .unwrap_or_else(|| panic!("{name}: nothing at {pointer} to capture"))
                .clone();
            vars.insert(var.clone(), v);
        }
    }
    site.site.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} of {} reference examples differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn check(case: &Value, actual: &Answer) -> Result<(), String> {
    let allowed: Vec<u64> = match &case["status"] {
        Value::Array(list) => list.iter().filter_map(Value::as_u64).collect(),
        v => vec![v.as_u64().expect("status")],
    };
    if !allowed.contains(&u64::from(actual.status)) {
        return Err(format!("status {} (expected {allowed:?})", actual.status));
    }
    if actual.status == 204 {
        return if actual.text.is_empty() {
            Ok(())
        } else {
            Err("204 with a body".into())
        };
    }
    if case["compare_body"].as_bool() == Some(false) && actual.text.is_empty() {
        // e.g. complete upload: 201 with no body (REST-NOTES: "201 or 204").
        return Ok(());
    }
    let ct = actual.content_type.as_deref().unwrap_or("(none)");
    if normalize_content_type(ct) != "application/json; charset=utf-8" {
        return Err(format!("content type {ct}"));
    }
    if !actual.json.is_object() {
        return Err("the body is not a JSON object".into());
    }
    if case["error"].as_bool() == Some(true) {
        let e = &actual.json["errors"][0];
        if e["status"] != json!(actual.status) {
            return Err(format!(
                "error status {} under HTTP {}",
                e["status"], actual.status
            ));
        }
        let expected_code = if actual.status == 401 {
            102
        } else {
            e["code"].as_u64().unwrap_or(0)
        };
        if actual.status == 400 && e["code"] != 102 {
            return Err(format!(
                "bad credentials: code {} (expected 102)",
                e["code"]
            ));
        }
        if e["code"] != json!(expected_code) {
            return Err(format!("error code {}", e["code"]));
        }
        // The documented error object's keys and types, not its status/code (see exception).
        let documented = &case["documented_response"];
        return diff(
            documented,
            &actual.json,
            &Policy::new().with("errors.[].source", Keys::Skip),
        );
    }
    if case["compare_body"].as_bool() == Some(false) {
        return Ok(());
    }
    let expected = expected_body(case, &actual.json);
    let mut policy = Policy::new();
    for (pattern, rule) in case["keys"].as_object().into_iter().flatten() {
        policy = policy.with(pattern, keys_rule(rule));
    }
    diff(&expected, &actual.json, &policy)?;
    // A documented non-empty list must be matched by a non-empty one, or nothing was compared.
    if let (Some(e), Some(a)) = (expected["data"].as_array(), actual.json["data"].as_array()) {
        if !e.is_empty() && a.is_empty() {
            return Err("documented records, the emulator returned none".into());
        }
    }
    Ok(())
}
