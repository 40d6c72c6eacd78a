#![cfg(not(target_arch = "wasm32"))]
//! Recorded traffic (issue 4): every response recorded from a real ShotGrid site
//! (`emulator/tests/fixtures/recorded/`, a copy of `../shared/fixtures/recorded/`)
//! decodes with the client's own decoders and gives exactly the records, links and
//! errors its body holds. Each interaction is classified by its request (method and
//! path) and checked against the parsed JSON of its body; an interaction that fits no
//! known kind fails the test rather than being skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};

use shotgrid_wasm::protocol::auth::parse_token_response;
use shotgrid_wasm::protocol::error::Error;
use shotgrid_wasm::protocol::http::HttpResponse;
use shotgrid_wasm::protocol::json;
use shotgrid_wasm::protocol::navigation::decode_preferences;
use shotgrid_wasm::protocol::query::decode_page;
use shotgrid_wasm::protocol::record::{decode_single, flatten_resource, parse_json, take_data};
use shotgrid_wasm::protocol::schema::{decode_entities, decode_schema_object};
use shotgrid_wasm::protocol::search::{decode_summarize, decode_text_search};
use shotgrid_wasm::protocol::transcode::{transcode_page, transcode_single};
use shotgrid_wasm::protocol::write::decode_revive;

#[derive(Deserialize)]
struct Cassette {
    http_interactions: Vec<Interaction>,
}

#[derive(Deserialize)]
struct Interaction {
    request: RecordedRequest,
    response: RecordedResponse,
}

#[derive(Deserialize)]
struct RecordedRequest {
    method: String,
    uri: String,
}

#[derive(Deserialize)]
struct RecordedResponse {
    status: Status,
    #[serde(default)]
    headers: IndexMap<String, HeaderValues>,
    body: Body,
}

#[derive(Deserialize)]
struct Status {
    code: u16,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HeaderValues {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Body {
    string: Option<String>,
}

fn recorded_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("emulator/tests/fixtures/recorded")
}

fn cassettes(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            cassettes(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

fn to_response(r: &RecordedResponse) -> Result<HttpResponse, String> {
    let mut headers = Vec::new();
    for (name, values) in &r.headers {
        match values {
            HeaderValues::One(v) => headers.push((name.clone(), v.clone())),
            HeaderValues::Many(vs) => headers.extend(vs.iter().map(|v| (name.clone(), v.clone()))),
        }
    }
    let body = r
        .body
        .string
        .as_ref()
        .ok_or("the response body has no `string` (base64 bodies are not expected)")?;
    Ok(HttpResponse {
        status: r.status.code,
        headers,
        body: body.as_bytes().to_vec(),
    })
}

/// The request's path below `/api/v1`, split into segments, and its query string.
fn route(uri: &str) -> Result<(Vec<String>, String), String> {
    let rest = uri
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| format!("not an absolute URL: {uri}"))?;
    let path_and_query = rest.find('/').map_or("/", |i| &rest[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let below = path
        .strip_prefix("/api/v1")
        .ok_or_else(|| format!("not a REST v1 path: {path}"))?;
    let segments = below
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok((segments, query.to_owned()))
}

/// A value the client's decoders return (its own `protocol::json::Value`) as serde_json's,
/// which reads the recorded bodies here independently of the client's reader.
fn sj(v: &json::Value) -> Value {
    match v {
        json::Value::Null => Value::Null,
        json::Value::Bool(b) => Value::Bool(*b),
        json::Value::Number(n) => Value::Number(if let Some(u) = n.as_u64() {
            u.into()
        } else if let Some(i) = n.as_i64() {
            i.into()
        } else {
            serde_json::Number::from_f64(n.as_f64().unwrap()).unwrap()
        }),
        json::Value::String(s) => Value::String(s.clone()),
        json::Value::Array(items) => Value::Array(items.iter().map(sj).collect()),
        json::Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), sj(v))).collect())
        }
    }
}

/// A recorded value as the client's, for the decoders that take one.
fn ours(v: &Value) -> json::Value {
    json::parse(serde_json::to_string(v).unwrap().as_bytes()).expect("serde_json's text reads back")
}

fn body_json(resp: &HttpResponse) -> Result<Value, String> {
    serde_json::from_slice(&resp.body).map_err(|e| format!("the recorded body is not JSON: {e}"))
}

fn body_data(resp: &HttpResponse) -> Result<Value, String> {
    body_json(resp)?
        .get("data")
        .cloned()
        .ok_or_else(|| "the recorded body has no `data`".to_owned())
}

fn ok<T>(r: Result<T, Error>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {}", e.message()))
}

fn same(what: &str, got: &Value, want: &Value) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: decoded {got} but the body holds {want}"))
    }
}

/// A linked entity as the client gives it: `{type, id, name?, …}` in that order.
fn check_link_order(what: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Object(o) if o.contains_key("type") && o.contains_key("id") => {
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            let lead: &[&str] = if o.contains_key("name") {
                &["type", "id", "name"]
            } else {
                &["type", "id"]
            };
            if keys.starts_with(lead) {
                Ok(())
            } else {
                Err(format!("{what}: link keys in order {keys:?}"))
            }
        }
        Value::Array(items) => items.iter().try_for_each(|i| check_link_order(what, i)),
        _ => Ok(()),
    }
}

/// Compares one flat record with the JSON:API resource it came from: same type and id,
/// every attribute carried over, every relationship's `data` carried over (links in
/// `{type, id, name}` order), and nothing else.
fn check_record(flat: &Value, resource: &Value, what: &str) -> Result<(), String> {
    let flat = flat
        .as_object()
        .ok_or_else(|| format!("{what}: the record is not an object"))?;
    let res = resource
        .as_object()
        .ok_or_else(|| format!("{what}: the recorded resource is not an object"))?;
    for key in ["type", "id"] {
        let want = res
            .get(key)
            .ok_or_else(|| format!("{what}: the recorded resource has no `{key}`"))?;
        same(&format!("{what}.{key}"), &flat[key], want)?;
    }
    let keys: Vec<&str> = flat.keys().take(2).map(String::as_str).collect();
    if keys != ["type", "id"] {
        return Err(format!("{what}: the record starts with {keys:?}"));
    }
    let empty = Map::new();
    let attrs = res
        .get("attributes")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let rels = res
        .get("relationships")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut expected = 2;
    for (k, v) in attrs {
        if k == "type" || k == "id" {
            continue;
        }
        expected += 1;
        let got = flat
            .get(k)
            .ok_or_else(|| format!("{what}: attribute `{k}` is missing"))?;
        same(&format!("{what}.{k}"), got, v)?;
    }
    for (k, v) in rels {
        if k == "type" || k == "id" {
            continue;
        }
        if !attrs.contains_key(k) {
            expected += 1;
        }
        let want = v
            .get("data")
            .ok_or_else(|| format!("{what}: the recorded relationship `{k}` has no `data`"))?;
        let got = flat
            .get(k)
            .ok_or_else(|| format!("{what}: relationship `{k}` is missing"))?;
        same(&format!("{what}.{k}"), got, want)?;
        check_link_order(&format!("{what}.{k}"), got)?;
    }
    if flat.len() != expected {
        let extra: Vec<&String> = flat
            .keys()
            .filter(|k| {
                !matches!(k.as_str(), "type" | "id")
                    && !attrs.contains_key(*k)
                    && !rels.contains_key(*k)
            })
            .collect();
        return Err(format!("{what}: unexpected keys {extra:?}"));
    }
    Ok(())
}

/// The fast transcoder's text must parse to the `Value` flattener's record, key order
/// included.
fn check_transcoded(text: &str, flat: &Value, what: &str) -> Result<(), String> {
    let parsed: Value = serde_json::from_str(text)
        .map_err(|e| format!("{what}: the transcoded text is not JSON ({e}): {text}"))?;
    same(&format!("{what} (transcoded)"), &parsed, flat)?;
    let a = serde_json::to_string(&parsed).unwrap();
    let b = serde_json::to_string(flat).unwrap();
    if a != b {
        return Err(format!(
            "{what}: transcoded key order differs\n  fast:  {a}\n  value: {b}"
        ));
    }
    Ok(())
}

fn check_page(resp: &HttpResponse, text_search: bool) -> Result<(), String> {
    let data = body_data(resp)?;
    let resources = data
        .as_array()
        .ok_or("the recorded list's `data` is not an array")?;
    let records: Vec<Value> = if text_search {
        ok(decode_text_search(resp), "decode_text_search")?
    } else {
        ok(decode_page(resp), "decode_page")?
    }
    .iter()
    .map(sj)
    .collect();
    if records.len() != resources.len() {
        return Err(format!(
            "decode_page gave {} records, the body holds {}",
            records.len(),
            resources.len()
        ));
    }
    let page = ok(transcode_page(resp), "transcode_page")?;
    if page.records.len() != resources.len() {
        return Err(format!(
            "transcode_page gave {} records, the body holds {}",
            page.records.len(),
            resources.len()
        ));
    }
    let ids: Vec<i64> = resources
        .iter()
        .map(|r| {
            r["id"]
                .as_i64()
                .ok_or("a recorded resource has no integer id")
        })
        .collect::<Result<_, _>>()?;
    if page.ids != ids {
        return Err(format!(
            "transcode_page ids {:?}, body ids {ids:?}",
            page.ids
        ));
    }
    for (i, ((flat, resource), text)) in
        records.iter().zip(resources).zip(&page.records).enumerate()
    {
        let what = format!("data[{i}]");
        check_record(flat, resource, &what)?;
        let alone = flatten_resource(ours(resource))
            .ok_or_else(|| format!("{what}: flatten_resource gave nothing"))?;
        same(&format!("{what} (flatten_resource)"), &sj(&alone), flat)?;
        check_transcoded(text, flat, &what)?;
    }
    Ok(())
}

fn check_single(resp: &HttpResponse) -> Result<(), String> {
    let resource = body_data(resp)?;
    let flat = sj(&ok(decode_single(resp), "decode_single")?);
    check_record(&flat, &resource, "data")?;
    let text = ok(transcode_single(resp), "transcode_single")?;
    check_transcoded(&text, &flat, "data")
}

fn check_error(resp: &HttpResponse, token: bool) -> Result<(), String> {
    let body = body_json(resp)?;
    let first = body
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .and_then(Value::as_object)
        .ok_or("the recorded error body has no `errors[0]` object")?;
    let e = if token {
        parse_token_response(resp, 0.0)
            .err()
            .ok_or("parse_token_response accepted an error status")?
    } else {
        Error::from_response(resp)
    };
    if e.status != Some(resp.status) {
        return Err(format!("status {:?}, response {}", e.status, resp.status));
    }
    if let Some(s) = first.get("status").and_then(Value::as_u64) {
        if u64::from(resp.status) != s {
            return Err(format!(
                "errors[0].status {s} but HTTP status {}",
                resp.status
            ));
        }
    }
    if e.code != first.get("code").and_then(Value::as_i64) {
        return Err(format!("code {:?}, body {:?}", e.code, first.get("code")));
    }
    match first.get("title").and_then(Value::as_str) {
        Some(t) if e.title == t => {}
        Some(t) => return Err(format!("title {:?}, body {t:?}", e.title)),
        None => return Err("the recorded error has no title".into()),
    }
    let detail = first.get("detail").and_then(Value::as_str);
    if e.detail.as_deref() != detail {
        return Err(format!("detail {:?}, body {detail:?}", e.detail));
    }
    let source = first.get("source").filter(|s| !s.is_null());
    if e.source.as_ref().map(sj).as_ref() != source {
        return Err(format!("source {:?}, body {source:?}", e.source));
    }
    if e.request_id.as_deref() != resp.header("x-request-id") {
        return Err(format!("request id {:?}", e.request_id));
    }
    Ok(())
}

fn check_tokens(resp: &HttpResponse) -> Result<(), String> {
    let body = body_json(resp)?;
    let now = 1_623_833_776_000.0;
    let t = ok(parse_token_response(resp, now), "parse_token_response")?;
    let access = body["access_token"]
        .as_str()
        .ok_or("no access_token in the body")?;
    if t.access_token.expose() != access {
        return Err("the access token differs from the body's".into());
    }
    let refresh = body["refresh_token"].as_str().filter(|r| !r.is_empty());
    if t.refresh_token.as_ref().map(|r| r.expose()) != refresh {
        return Err("the refresh token differs from the body's".into());
    }
    let expires_in = body["expires_in"].as_f64().unwrap_or(600.0);
    if t.expires_at_ms != now + expires_in * 1000.0 {
        return Err(format!(
            "expires_at_ms {} for expires_in {expires_in}",
            t.expires_at_ms
        ));
    }
    Ok(())
}

fn check_data_object(decoded: json::Value, resp: &HttpResponse, what: &str) -> Result<(), String> {
    let data = body_data(resp)?;
    if !data.is_object() {
        return Err(format!("{what}: the recorded `data` is not an object"));
    }
    same(what, &sj(&decoded), &data)
}

fn check_summarize(resp: &HttpResponse) -> Result<(), String> {
    let decoded = ok(decode_summarize(resp), "decode_summarize")?;
    let mut data = body_data(resp)?;
    if data.get("groups").is_none_or(Value::is_null) {
        data["groups"] = Value::Array(Vec::new());
    }
    same("summarize", &sj(&decoded), &data)
}

fn check_revive(resp: &HttpResponse) -> Result<(), String> {
    let body = body_json(resp)?;
    let want = body["meta"]["did_revive"]
        .as_bool()
        .ok_or("the recorded revive has no meta.did_revive")?;
    let got = ok(decode_revive(resp), "decode_revive")?;
    if got != want {
        return Err(format!(
            "decode_revive gave {got}, meta.did_revive is {want}"
        ));
    }
    Ok(())
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Classifies one interaction by its request, checks it, and returns its kind.
fn check(interaction: &Interaction) -> Result<&'static str, String> {
    let resp = to_response(&interaction.response)?;
    let method = interaction.request.method.to_ascii_uppercase();
    let (seg, query) = route(&interaction.request.uri)?;
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let token = seg == ["auth", "access_token"];
    if !resp.is_success() {
        check_error(&resp, token)?;
        return Ok(if token { "token error" } else { "error" });
    }
    let kind = match (method.as_str(), seg.as_slice()) {
        ("POST", ["auth", "access_token"]) => {
            check_tokens(&resp)?;
            "token"
        }
        ("GET", []) => {
            let decoded = ok(
                take_data(ok(parse_json(&resp), "parse_json")?, &resp),
                "take_data",
            )?;
            check_data_object(decoded, &resp, "server info")?;
            "server info"
        }
        ("GET", ["entity", _]) => {
            check_page(&resp, false)?;
            "list (GET entity)"
        }
        ("POST", ["entity", _, "_search"]) => {
            check_page(&resp, false)?;
            "list (_search)"
        }
        ("POST", ["entity", "_text_search"]) => {
            check_page(&resp, true)?;
            "list (_text_search)"
        }
        ("POST", ["entity", _, "_summarize"]) => {
            check_summarize(&resp)?;
            "summarize"
        }
        ("POST", ["entity", _]) => {
            check_single(&resp)?;
            "single (create)"
        }
        ("GET", ["entity", _, id]) if is_id(id) => {
            check_single(&resp)?;
            "single (read)"
        }
        ("PUT" | "PATCH", ["entity", _, id]) if is_id(id) => {
            check_single(&resp)?;
            "single (update)"
        }
        ("POST", ["entity", _, id])
            if is_id(id) && query.split('&').any(|p| p == "revive=true") =>
        {
            check_revive(&resp)?;
            "revive"
        }
        ("DELETE", ["entity", _, id]) if is_id(id) => {
            // The client reads nothing from a delete's answer: it must be an empty 204.
            if resp.status != 204 || !resp.body.is_empty() {
                return Err(format!(
                    "a delete answered {} with {} body bytes",
                    resp.status,
                    resp.body.len()
                ));
            }
            "delete (204, empty)"
        }
        ("GET", ["schema"]) => {
            let decoded = ok(decode_entities(&resp), "decode_entities")?;
            // Real sites answer a list holding one object; the decoder merges the list.
            let want = match body_data(&resp)? {
                Value::Array(items) => Value::Object(
                    items
                        .iter()
                        .filter_map(Value::as_object)
                        .flat_map(|o| o.clone())
                        .collect(),
                ),
                other => other,
            };
            same("schema", &sj(&decoded), &want)?;
            "schema (entities)"
        }
        ("GET", ["schema", _]) => {
            let decoded = ok(decode_schema_object(&resp), "decode_schema_object")?;
            check_data_object(decoded, &resp, "entity schema")?;
            "schema (entity)"
        }
        ("GET", ["schema", _, "fields"]) | ("GET", ["schema", _, "fields", _]) => {
            let decoded = ok(decode_schema_object(&resp), "decode_schema_object")?;
            check_data_object(decoded, &resp, "field schema")?;
            "schema (fields)"
        }
        ("GET", ["preferences"]) => {
            let decoded = ok(decode_preferences(&resp), "decode_preferences")?;
            check_data_object(decoded, &resp, "preferences")?;
            "preferences"
        }
        _ => {
            return Err(format!(
                "UNCLASSIFIED: {method} /api/v1/{} ({}) has no decoder in this test",
                seg.join("/"),
                resp.status
            ))
        }
    };
    Ok(kind)
}

#[test]
fn every_recorded_response_decodes_to_what_it_holds() {
    let dir = recorded_dir();
    let mut files = Vec::new();
    cassettes(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no cassettes under {}", dir.display());

    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut total = 0;
    for path in &files {
        let rel = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let cassette: Cassette =
            serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{rel}: bad cassette: {e}"));
        assert!(
            !cassette.http_interactions.is_empty(),
            "{rel}: no interactions"
        );
        for (i, interaction) in cassette.http_interactions.iter().enumerate() {
            total += 1;
            match check(interaction) {
                Ok(kind) => *counts.entry(kind).or_default() += 1,
                Err(e) => failures.push(format!(
                    "{rel} #{i} ({} {}): {e}",
                    interaction.request.method, interaction.request.uri
                )),
            }
        }
    }

    println!(
        "recorded traffic: {} cassettes, {total} interactions",
        files.len()
    );
    for (kind, n) in &counts {
        println!("  {kind:<20} {n}");
    }
    assert!(
        failures.is_empty(),
        "{} of {total} recorded interactions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let classified: usize = counts.values().sum();
    assert_eq!(
        classified, total,
        "every interaction must be classified and checked"
    );
}
