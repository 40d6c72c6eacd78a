//! Benchmark: a 5,000-record page from a 100,000-record Shot table, with a filter and a
//! sort, served over HTTP by a local emulator. Prints timings; asserts nothing.
//!
//! `cargo run -p shotgrid-emulator --release --example bench_query`

mod support;

use support::obj;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shotgrid_emulator::{start_with, Config, ScriptUser, ServerOptions};

const SHOTS: i64 = 100_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let log = std::env::var_os("BENCH_LOG").is_some();
    let running = start_with(
        Config {
            script_users: vec![ScriptUser {
                name: "bench".into(),
                key: "bench-key".into(),
            }],
            ..Config::default()
        },
        ServerOptions {
            log_requests: log,
            ..ServerOptions::default()
        },
    )
    .await?;
    {
        let mut store = running.backend().store_mut();
        support::define_bench_shot_fields(&mut store)?;
        store.insert("Project", obj(json!({"name": "Bench"})))?;
        for s in 1..=100 {
            store.insert("Sequence", obj(json!({"code": format!("SQ{s:03}")})))?;
        }
        let statuses = ["wtg", "ip", "fin", "hld", "omt"];
        for i in 0..SHOTS {
            store.insert(
                "Shot",
                obj(json!({
                    "code": format!("SQ{:03}_{:05}", i % 100, i),
                    "description": format!("Shot number {i} of the benchmark."),
                    "sg_status_list": statuses[(i % 5) as usize],
                    "sg_cut_in": 1001,
                    "sg_cut_out": 1001 + (i * 7919) % 500,
                    "project": {"type": "Project", "id": 1},
                    "sg_sequence": {"type": "Sequence", "id": 1 + i % 100},
                    "created_at": "2024-01-15T09:00:00Z",
                    "updated_at": "2024-01-15T09:00:00Z",
                })),
            )?;
        }
    }

    phases(&running);
    let client = reqwest::Client::new();
    let url = running.url();
    let bearer = support::bearer(&client, &url, "bench", "bench-key").await?;

    let list_url = format!(
        "{url}/api/v1/entity/shots?filter[sg_status_list]=ip,fin,wtg&sort=-sg_cut_out,code\
         &page[size]=5000&page[number]=2&fields=code,sg_status_list,sg_cut_out,project,sg_sequence"
    );
    let search_url = format!(
        "{url}/api/v1/entity/shots/_search?sort=-sg_cut_out,code&page[size]=5000\
         &fields=code,sg_status_list,sg_cut_out,project,sg_sequence"
    );
    let search_body = json!({"filters": {"logical_operator": "and", "conditions": [
        ["sg_status_list", "in", ["ip", "fin", "wtg"]],
        ["sg_cut_out", "greater_than", 1100]
    ]}});
    // The very page GET list serves, asked for through `_search`.
    let same_url = format!(
        "{url}/api/v1/entity/shots/_search?sort=-sg_cut_out,code&page[size]=5000&page[number]=2\
         &fields=code,sg_status_list,sg_cut_out,project,sg_sequence"
    );
    let same_body = json!({"filters": [["sg_status_list", "in", ["ip", "fin", "wtg"]]]});

    let mut list_times = Vec::new();
    let mut search_times = Vec::new();
    let mut same_times = Vec::new();
    let mut same_data = true;
    let mut sizes = (0, 0, 0);
    for _ in 0..15 {
        let t = Instant::now();
        let res = client
            .get(&list_url)
            .header("authorization", &bearer)
            .send()
            .await?;
        let bytes_list = res.bytes().await?;
        list_times.push(t.elapsed());
        let doc: Value = serde_json::from_slice(&bytes_list)?;
        sizes.0 = doc["data"].as_array().map_or(0, Vec::len);
        sizes.1 = bytes_list.len();

        let t = Instant::now();
        let res = client
            .post(&search_url)
            .header("authorization", &bearer)
            .header("content-type", "application/vnd+shotgun.api3_hash+json")
            .body(search_body.to_string())
            .send()
            .await?;
        let bytes = res.bytes().await?;
        search_times.push(t.elapsed());
        let doc: Value = serde_json::from_slice(&bytes)?;
        sizes.2 = doc["data"].as_array().map_or(0, Vec::len);

        let t = Instant::now();
        let res = client
            .post(&same_url)
            .header("authorization", &bearer)
            .header("content-type", "application/vnd+shotgun.api3_array+json")
            .body(same_body.to_string())
            .send()
            .await?;
        let same = res.bytes().await?;
        same_times.push(t.elapsed());
        // Both bodies end with their own `links`; the records before them must match.
        let data = |b: &[u8]| {
            let end = b
                .windows(10)
                .rposition(|w| w == b"],\"links\":")
                .unwrap_or(0);
            b[..end].to_vec()
        };
        same_data &= data(&bytes_list) == data(&same);
    }
    println!(
        "GET list (filter in, 2-key sort, page 2 of 5000): {} records, {} KiB, median {:.1} ms, best {:.1} ms",
        sizes.0,
        sizes.1 / 1024,
        median(list_times.clone()).as_secs_f64() * 1000.0,
        list_times.iter().min().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    println!(
        "POST _search (hash filter, 2-key sort, 5000): {} records, median {:.1} ms, best {:.1} ms",
        sizes.2,
        median(search_times.clone()).as_secs_f64() * 1000.0,
        search_times
            .iter()
            .min()
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0
    );
    println!(
        "POST _search (the same page as GET list): median {:.1} ms, best {:.1} ms, same records: {}",
        median(same_times.clone()).as_secs_f64() * 1000.0,
        same_times.iter().min().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        if same_data { "yes" } else { "NO" }
    );
    running.shutdown().await;
    Ok(())
}

/// Times the engine phases directly (no HTTP), to show where the time goes.
fn phases(running: &shotgrid_emulator::Running) {
    use shotgrid_emulator::model::{FieldSelection, ReturnOnly};
    use shotgrid_emulator::query::list::{self, parse_sort, ListQuery, Page};
    use shotgrid_emulator::query::{Filter, FilterSyntax, SourcePath};
    let store = running.backend().store();
    let f = json!([["sg_status_list", "in", ["ip", "fin", "wtg"]]]);
    let now = chrono_now();
    for _ in 0..3 {
        let t = Instant::now();
        let table = store.table("Shot").expect("table");
        let n = table
            .records
            .values()
            .filter(|r| r.fields.get("sg_status_list").and_then(|v| v.as_str()) == Some("ip"))
            .count();
        let n2 = table.records.values().filter(|r| !r.retired).count();
        println!(
            "bare lookup loop: {:.1} ms ({n}, {n2})",
            t.elapsed().as_secs_f64() * 1e3
        );
        let t0 = Instant::now();
        let filter = Filter::parse(
            &store,
            "Shot",
            &f,
            FilterSyntax::Array,
            &SourcePath::root("filters"),
            now,
        )
        .expect("filter");
        let mut recs =
            list::matching(&store, "Shot", &filter, ReturnOnly::Active, false).expect("match");
        let t1 = Instant::now();
        let sort = parse_sort(&store, "Shot", "-sg_cut_out,code").expect("sort");
        list::sort_records(&store, &mut recs, &sort);
        let t2 = Instant::now();
        let q = ListQuery {
            entity_type: "Shot",
            filter,
            sort,
            page: Page {
                number: 2,
                size: 5000,
            },
            return_only: ReturnOnly::Active,
            include_archived_projects: false,
        };
        let ids = list::run(&store, &q).expect("run");
        let t3 = Instant::now();
        let backend = running.backend();
        let cols = backend.query_cache().columns(
            &store,
            backend.generation(),
            "Shot",
            list::fields_read(&q),
        );
        let t3a = Instant::now();
        let ids2 = list::run_with(&store, &q, &cols).expect("run");
        assert_eq!(ids, ids2);
        let t3b = Instant::now();
        println!(
            "engine with column cache: build/fetch columns {:.1} ms, run {:.1} ms",
            (t3a - t3).as_secs_f64() * 1e3,
            (t3b - t3a).as_secs_f64() * 1e3
        );
        let t3 = Instant::now();
        let sel = FieldSelection::parse(Some("code,sg_status_list,sg_cut_out,project,sg_sequence"));
        let views: Vec<_> = ids
            .iter()
            .map(|id| {
                store
                    .read("Shot", *id, &sel, ReturnOnly::Active)
                    .expect("read")
            })
            .collect();
        let t4 = Instant::now();
        println!(
            "engine: filter {:.1} ms ({} matches), sort {:.1} ms, full run {:.1} ms, read 5000 views {:.1} ms",
            (t1 - t0).as_secs_f64() * 1e3, recs.len(), (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3, (t4 - t3).as_secs_f64() * 1e3
        );
        drop(views);
        // The best of a few runs: the machine is shared. As the server renders a page:
        // from the rows the query found, with the columns it loaded.
        let rows = list::run_rows_with(&store, &q, &cols).expect("run");
        let plan = store
            .read_plan("Shot", &sel)
            .expect("plan")
            .with_columns(|f| cols.get(f));
        let mut best = Duration::MAX;
        let mut size = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let mut out = Vec::with_capacity(rows.len() * 512);
            shotgrid_emulator::render::RecordWriter::new()
                .write_rows(&mut out, &plan, &rows)
                .expect("render");
            best = best.min(t.elapsed());
            size = out.len();
        }
        println!(
            "render 5000 records (read plan with columns + writer): best {:.1} ms, {} KiB",
            best.as_secs_f64() * 1e3,
            size / 1024
        );
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
