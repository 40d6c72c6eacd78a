//! The emulator's own OpenAPI document: served as JSON and YAML, valid OpenAPI 3.0 in
//! shape, and covering every route the router declares (found by reading the sources,
//! so routes added in any area file are checked too).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use shotgrid_emulator::{start, Config};

const METHODS: &[&str] = &["get", "post", "put", "delete", "patch"];

/// `{record_id}` and `{id}` alike become `{}`.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('{');
            }
            '}' => {
                in_param = false;
                out.push('}');
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every `.route(PATH, method(..).method(..))` in the crate's sources.
fn declared_routes() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut routes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let text: String = std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let args = rest.trim_start();
            let (path, after) = if let Some(lit) = args.strip_prefix('"') {
                let end = lit.find('"').unwrap();
                (lit[..end].to_string(), &lit[end + 1..])
            } else if let Some(after) = args.strip_prefix("API_PREFIX") {
                ("/api/v1".to_string(), after)
            } else {
                panic!(
                    "{}: unrecognised route path near {:?}",
                    f.display(),
                    &args[..40.min(args.len())]
                );
            };
            // The method router runs to the `)` closing `.route(`.
            let mut depth = 1;
            let mut end = after.len();
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let expr = &after[..end];
            let entry = routes.entry(path).or_default();
            for m in METHODS {
                let needle = format!("{m}(");
                let mut s = expr;
                while let Some(i) = s.find(&needle) {
                    let before = expr.len() - s.len() + i;
                    let prev = expr[..before].chars().last();
                    if prev.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
                        entry.insert((*m).to_string());
                    }
                    s = &s[i + needle.len()..];
                }
            }
        }
    }
    routes
}

fn spec() -> Value {
    serde_json::from_str(shotgrid_emulator::routes::openapi::OPENAPI_JSON).unwrap()
}

#[test]
fn every_route_is_documented() {
    let routes = declared_routes();
    assert!(routes.len() > 20, "found only {} routes", routes.len());
    assert!(routes.contains_key("/api/v1/webhook/hooks"));
    let doc = spec();
    let documented: BTreeMap<String, BTreeSet<String>> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, ops)| {
            (
                normalize(p),
                ops.as_object().unwrap().keys().cloned().collect(),
            )
        })
        .collect();
    let mut missing = Vec::new();
    for (path, methods) in &routes {
        assert!(!methods.is_empty(), "no methods parsed for {path}");
        let have = documented.get(&normalize(path));
        for m in methods {
            if !have.is_some_and(|h| h.contains(m)) {
                missing.push(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undocumented routes (add them to emulator/openapi.json): {missing:#?}"
    );
}

#[test]
fn document_is_openapi_3_with_sound_references() {
    let doc = spec();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0."));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let paths = doc["paths"].as_object().unwrap();
    let mut op_ids = BTreeSet::new();
    for (p, ops) in paths {
        assert!(p.starts_with('/'), "{p}");
        for (m, op) in ops.as_object().unwrap() {
            assert!(METHODS.contains(&m.as_str()), "{m} {p}");
            assert!(!op["responses"].as_object().unwrap().is_empty(), "{m} {p}");
            assert!(
                op_ids.insert(op["operationId"].as_str().unwrap().to_string()),
                "duplicate operationId at {m} {p}"
            );
            // Every path template parameter is declared.
            let params: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
            let names: BTreeSet<String> = params
                .iter()
                .map(|prm| resolve(&doc, prm))
                .filter(|prm| prm["in"] == "path")
                .map(|prm| prm["name"].as_str().unwrap().to_string())
                .collect();
            for seg in p.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    names.contains(name),
                    "{m} {p}: path parameter {name} not declared"
                );
            }
        }
    }
    // Every $ref resolves.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_string());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

#[tokio::test]
async fn served_as_json_and_yaml_without_a_token() {
    let site = start(Config::default()).await.unwrap();
    let client = Client::new();
    let res = client
        .get(format!("{}/api/v1/spec.json", site.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let json: Value = res.json().await.unwrap();
    assert_eq!(json, spec());

    let res = client
        .get(format!("{}/api/v1/spec.yaml", site.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/yaml"));
    let text = res.text().await.unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("openapi: 3.0.")),
        "not YAML: {}",
        &text[..80.min(text.len())]
    );
    let yaml: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(yaml, json, "YAML and JSON forms describe the same document");

    let res = client
        .get(format!("{}/api/v1/spec.xml", site.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    site.shutdown().await;
}
