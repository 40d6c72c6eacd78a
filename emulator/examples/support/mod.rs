//! Helpers shared by the emulator's examples (benchmarks).

use serde_json::{Map, Value};
use shotgrid_emulator::model::schema::FieldKind;
use shotgrid_emulator::model::store::Store;

/// Defines the Shot fields the benchmark's seed writes (bench/cases.mjs `seedShots`).
pub fn define_bench_shot_fields(store: &mut Store) -> anyhow::Result<()> {
    for (f, k) in [
        ("description", FieldKind::Text),
        ("sg_status_list", FieldKind::StatusList),
        ("sg_cut_in", FieldKind::Number),
        ("sg_cut_out", FieldKind::Number),
        ("sg_cut_duration", FieldKind::Number),
        ("project", FieldKind::Entity),
        ("sg_sequence", FieldKind::Entity),
    ] {
        store.define_field("Shot", f, k)?;
    }
    Ok(())
}

/// The fields of a JSON object (an empty map for anything else).
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `Bearer <token>` for the script user `id` of the site at `url`.
pub async fn bearer(
    client: &reqwest::Client,
    url: &str,
    id: &str,
    key: &str,
) -> anyhow::Result<String> {
    let token: Value = client
        .post(format!("{url}/api/v1/auth/access_token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", key),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = token["access_token"].as_str().unwrap_or_default();
    anyhow::ensure!(!token.is_empty(), "no token for {id}");
    Ok(format!("Bearer {token}"))
}
