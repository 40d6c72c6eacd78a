//! Benchmark: the emulator's CPU per page of the bench's pagination case (case 4 of
//! `cargo xtask bench`: 50,000 Shots, `GET /api/v1/entity/shots?fields=code&sort=id`,
//! 500 per page), over real HTTP on 127.0.0.1.
//!
//! `cargo run -p shotgrid-emulator --release --example page_cost`
//!
//! The server runs on a Tokio runtime of its own whose threads are named `emu-server`;
//! its CPU time is read from `/proc/self/task/*/stat` (Linux), so the client's work
//! (reqwest, here on the main thread) is not counted. For each sort it reads the 100
//! pages with the list shortcuts off and on in turn (`Cache::set_shortcuts`: off is
//! every matching row sorted for every page, as before the shortcuts), checks both
//! ways sent the same bytes, and prints the server's CPU ms per page and the wall time
//! per page of each, side by side. `PAGE_SORTS=id,-id` narrows the sorts.

mod support;

use support::obj;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shotgrid_emulator::{start_with, Config, ScriptUser, ServerOptions};

const SHOTS: usize = 50_000;
const PAGE: usize = 500;
const ROUNDS: usize = 5;

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// CPU time (user + system) of this process's threads whose name starts with `prefix`.
fn threads_cpu(prefix: &str) -> Duration {
    // Linux reports these in USER_HZ ticks, which is 100 on every architecture.
    const TICKS_PER_SEC: u64 = 100;
    let mut ticks = 0u64;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    for task in dir.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| {
            fields
                .get(i)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // `rest` starts at field 3 (state), so field n is at index n - 3.
        ticks += num(14 - 3) + num(15 - 3);
    }
    Duration::from_millis(ticks * 1000 / TICKS_PER_SEC)
}

fn main() -> anyhow::Result<()> {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("emu-server")
        .enable_all()
        .build()?;
    let running = server_rt.block_on(start_with(
        Config {
            script_users: vec![ScriptUser {
                name: "bench".into(),
                key: "bench-key".into(),
            }],
            ..Config::default()
        },
        ServerOptions::default(),
    ))?;
    seed(&running)?;
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    client_rt.block_on(measure(&running))?;
    server_rt.block_on(running.shutdown());
    Ok(())
}

/// 50,000 Shots with the bench's fields (bench/cases.mjs `seedShots`).
fn seed(running: &shotgrid_emulator::Running) -> anyhow::Result<()> {
    let mut store = running.backend().store_mut();
    support::define_bench_shot_fields(&mut store)?;
    store.insert("Project", obj(json!({"name": "Bench Project"})))?;
    for s in 0..10 {
        store.insert("Sequence", obj(json!({"code": format!("BSQ{s}")})))?;
    }
    let statuses = ["wtg", "ip", "fin"];
    for i in 0..SHOTS {
        store.insert(
            "Shot",
            obj(json!({
                "code": format!("BENCH_{i:06}"),
                "description": format!("Shot {i} of the benchmark set"),
                "sg_status_list": statuses[i % 3],
                "project": {"type": "Project", "id": 1},
                "sg_sequence": {"type": "Sequence", "id": 1 + i % 10},
                "sg_cut_in": 1001,
                "sg_cut_out": 1001 + (i % 200),
                "sg_cut_duration": i % 200,
                "created_at": "2026-11-30T09:00:00Z",
                "updated_at": "2026-11-30T09:00:00Z",
            })),
        )?;
    }
    Ok(())
}

async fn measure(running: &shotgrid_emulator::Running) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = running.url();
    let bearer = support::bearer(&client, &url, "bench", "bench-key").await?;
    let pages = SHOTS / PAGE;
    let cache = running.backend().query_cache();
    let sorts = std::env::var("PAGE_SORTS").unwrap_or_else(|_| "id,-id,code".into());
    for sort in sorts.split(',') {
        // [off, on]: server CPU per page and wall per page of each round.
        let mut cpu = [Vec::new(), Vec::new()];
        let mut wall = [Vec::new(), Vec::new()];
        let mut bodies: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
        for round in 0..ROUNDS {
            // Alternate which mode goes first, so drift hits both alike.
            let order = if round % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            };
            for on in order {
                cache.set_shortcuts(on);
                let m = usize::from(on);
                let cpu0 = threads_cpu("emu-server");
                let t0 = Instant::now();
                let mut got = Vec::with_capacity(pages);
                for page in 1..=pages {
                    let res = client
                        .get(format!(
                            "{url}/api/v1/entity/shots?fields=code&sort={sort}&page%5Bnumber%5D={page}&page%5Bsize%5D={PAGE}"
                        ))
                        .header("authorization", &bearer)
                        .header("accept", "application/json")
                        .send()
                        .await?;
                    anyhow::ensure!(res.status().is_success(), "page {page}: {}", res.status());
                    got.push(res.bytes().await?.to_vec());
                }
                wall[m].push(t0.elapsed().as_secs_f64() * 1e3 / pages as f64);
                cpu[m].push((threads_cpu("emu-server") - cpu0).as_secs_f64() * 1e3 / pages as f64);
                bodies[m] = got;
            }
        }
        // Both modes sent the same bytes, and together the pages hold every record once.
        anyhow::ensure!(
            bodies[0] == bodies[1],
            "sort={sort}: the pages differ with shortcuts on"
        );
        let mut ids = std::collections::HashSet::new();
        for body in &bodies[1] {
            let doc: Value = serde_json::from_slice(body)?;
            for rec in doc["data"].as_array().into_iter().flatten() {
                ids.insert(rec["id"].as_i64().unwrap_or(0));
            }
        }
        anyhow::ensure!(
            ids.len() == SHOTS,
            "sort={sort}: read {} distinct records",
            ids.len()
        );
        let (off, on) = (median(&cpu[0]), median(&cpu[1]));
        println!(
            "sort={sort:<5} server CPU per page: shortcuts off {off:.2} ms, on {on:.2} ms ({:.1}x less); wall per page: off {:.2} ms, on {:.2} ms (medians of {ROUNDS} rounds of {pages} pages; same bytes both ways)",
            off / on.max(0.01),
            median(&wall[0]),
            median(&wall[1]),
        );
    }
    cache.set_shortcuts(true);
    Ok(())
}
