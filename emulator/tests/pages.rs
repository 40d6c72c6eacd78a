//! List pages served through the emulator's shortcuts (the ordered list kept per sort
//! until the next write, and id order read without sorting) are the pages the long
//! way serves (every matching row sorted for every request), byte for byte, and follow
//! every write at once.
//!
//! The expected orders are computed here from the test's own copy of the data, not
//! from the emulator; each check also reads the same pages with the shortcuts off
//! (`Cache::set_shortcuts(false)`) and compares the bytes.

mod common;

use std::cmp::Ordering;

use common::Site;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shotgrid_emulator::{Config, ScriptUser, ServerOptions};

const ID: &str = "pages-tests";
const SECRET: &str = "pages-secret";
/// Shots in the table: more than the column cache's threshold (2,000), so cached
/// columns are part of every read, as on a large site.
const SHOTS: i64 = 2_600;

/// What the test knows of one Shot.
#[derive(Debug, Clone)]
struct Shot {
    id: i64,
    code: String,
    cut_in: Option<i64>,
    project: i64,
    retired: bool,
}

/// A site with projects 1 and 2 and `SHOTS` Shots: codes repeat and differ in case
/// (ties decided by id), some cut-ins are null, every 13th Shot is retired.
async fn site() -> (Site, Vec<Shot>) {
    let config = Config {
        script_users: vec![ScriptUser {
            name: ID.into(),
            key: SECRET.into(),
        }],
        ..Config::default()
    };
    let site = Site::start(config, ServerOptions::default(), ID, SECRET).await;
    let mut shots = Vec::new();
    {
        let mut store = site.backend().store_mut();
        for name in ["One", "Two"] {
            store
                .insert("Project", obj(json!({"name": name, "archived": false})))
                .expect("project");
        }
        for i in 0..SHOTS {
            let code = format!(
                "{}{:03}",
                ["sh", "SH", "Sh"][(i % 3) as usize],
                (i * 7919) % 997
            );
            let cut_in = (i % 5 != 0).then_some((i * 31) % 101);
            let project = 1 + i % 2;
            let id = store
                .insert(
                    "Shot",
                    obj(json!({
                        "code": code,
                        "sg_cut_in": cut_in,
                        "project": {"type": "Project", "id": project},
                    })),
                )
                .expect("shot");
            shots.push(Shot {
                id,
                code,
                cut_in,
                project,
                retired: false,
            });
        }
    }
    for s in shots.iter_mut().filter(|s| s.id % 13 == 0) {
        let (status, _) = site
            .call("DELETE", &format!("/entity/shots/{}", s.id), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        s.retired = true;
    }
    (site, shots)
}

fn obj(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().expect("an object").clone()
}

fn cmp_code(a: &str, b: &str) -> Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

/// Nulls last ascending, first descending (the emulator's documented order).
fn cmp_cut(a: Option<i64>, b: Option<i64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The ids a list read with `sort` returns, in order, from the test's own data.
fn expected(shots: &[Shot], sort: &str, retired: bool, hidden_project: Option<i64>) -> Vec<i64> {
    let mut v: Vec<&Shot> = shots
        .iter()
        .filter(|s| s.retired == retired && Some(s.project) != hidden_project)
        .collect();
    v.sort_by(|a, b| {
        let mut o = Ordering::Equal;
        for key in sort.split(',').filter(|k| !k.is_empty()) {
            let (desc, name) = match key.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, key),
            };
            let k = match name {
                "id" => a.id.cmp(&b.id),
                "code" => cmp_code(&a.code, &b.code),
                "sg_cut_in" => cmp_cut(a.cut_in, b.cut_in),
                other => panic!("no expectation for {other}"),
            };
            o = o.then(if desc { k.reverse() } else { k });
        }
        o.then(a.id.cmp(&b.id))
    });
    v.iter().map(|s| s.id).collect()
}

/// The body of one list page, as bytes.
async fn page(site: &Site, query: &str, number: usize, size: usize) -> Vec<u8> {
    let sep = if query.is_empty() { "" } else { "&" };
    let res = site
        .client
        .get(site.url(&format!(
            "/entity/shots?{query}{sep}page%5Bnumber%5D={number}&page%5Bsize%5D={size}"
        )))
        .bearer_auth(&site.token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK, "{query} page {number}");
    res.bytes().await.expect("body").to_vec()
}

fn ids(body: &[u8]) -> Vec<i64> {
    let doc: Value = serde_json::from_slice(body).expect("JSON");
    doc["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

/// Every page of a read (and one past the end) with the shortcuts on, then the same
/// pages with them off: the bytes must match and the ids follow `want`.
async fn check_read(site: &Site, query: &str, size: usize, want: &[i64]) {
    let pages = want.len().div_ceil(size) + 1;
    let mut on = Vec::new();
    for n in 1..=pages {
        on.push(page(site, query, n, size).await);
    }
    let cache = site.backend().query_cache();
    cache.set_shortcuts(false);
    let mut off = Vec::new();
    for n in 1..=pages {
        off.push(page(site, query, n, size).await);
    }
    cache.set_shortcuts(true);
    let got: Vec<i64> = on.iter().flat_map(|b| ids(b)).collect();
    assert_eq!(got.len(), want.len(), "{query}: record count");
    assert!(got == want, "{query}: order differs from the expected one");
    assert!(ids(&on[pages - 1]).is_empty(), "{query}: page past the end");
    for (n, (a, b)) in on.iter().zip(&off).enumerate() {
        assert!(
            a == b,
            "{query} page {}: shortcuts on and off sent different bytes",
            n + 1
        );
    }
}

#[tokio::test]
async fn id_order_and_other_sorts_serve_the_pages_of_the_long_way() {
    let (site, shots) = site().await;
    for (query, sort) in [
        ("fields=code&sort=id", "id"),
        ("fields=code&sort=-id", "-id"),
        ("fields=code", ""),
        ("fields=code,sg_cut_in&sort=id,code", "id"),
        ("fields=code&sort=-id,code", "-id"),
        ("fields=code&sort=code", "code"),
        (
            "fields=code,sg_cut_in&sort=-sg_cut_in,code",
            "-sg_cut_in,code",
        ),
        ("fields=*&sort=sg_cut_in,-id", "sg_cut_in,-id"),
    ] {
        check_read(&site, query, 500, &expected(&shots, sort, false, None)).await;
    }
    // (query, page size, sort, retired, project hidden by the filter)
    for (query, size, sort, retired, hidden) in [
        // Retired records are a list of their own.
        (
            "fields=code&sort=-id&options%5Breturn_only%5D=retired",
            50,
            "-id",
            true,
            None,
        ),
        (
            "fields=code&sort=code&options%5Breturn_only%5D=retired",
            50,
            "code",
            true,
            None,
        ),
        // A filtered read in id order stops at its page; other filtered reads sort.
        (
            "fields=code&sort=-id&filter%5Bproject%5D=Project:2",
            300,
            "-id",
            false,
            Some(1),
        ),
        (
            "fields=code&sort=code&filter%5Bproject%5D=Project:2",
            300,
            "code",
            false,
            Some(1),
        ),
        // Page sizes that do not divide the count, and the largest page.
        ("fields=code&sort=id", 333, "id", false, None),
        ("fields=code&sort=code", 5000, "code", false, None),
    ] {
        check_read(&site, query, size, &expected(&shots, sort, retired, hidden)).await;
    }
    // Far past the end: empty, with links.
    let body: Value =
        serde_json::from_slice(&page(&site, "fields=code&sort=id", 999_999, 500).await)
            .expect("JSON");
    assert_eq!(body["data"], json!([]));
    assert!(body["links"]["next"].as_str().is_some(), "{body}");
    // One kept list per unfiltered order, not per page (check_read's last step, the
    // shortcuts turned off, dropped the others).
    let cache = site.backend().query_cache();
    assert_eq!(cache.ordered_lists(), 1);
    page(&site, "fields=code&sort=id", 3, 100).await;
    page(&site, "fields=*&sort=id", 7, 20).await;
    assert_eq!(cache.ordered_lists(), 1);
    page(&site, "fields=code&sort=-id", 1, 100).await;
    page(
        &site,
        "fields=code&sort=id&filter%5Bproject%5D=Project:2",
        1,
        100,
    )
    .await;
    assert_eq!(cache.ordered_lists(), 2);
}

#[tokio::test]
async fn kept_orders_follow_every_write() {
    let (site, mut shots) = site().await;
    let reads = [
        ("fields=code&sort=code", "code"),
        ("fields=code&sort=id", "id"),
        ("fields=code&sort=-id", "-id"),
        (
            "fields=code,sg_cut_in&sort=-sg_cut_in,code",
            "-sg_cut_in,code",
        ),
    ];
    // Each step first reads every order (so a list is kept), then writes, then checks
    // the next read sees the write.
    async fn check_all(site: &Site, reads: &[(&str, &str)], shots: &[Shot]) {
        for (q, sort) in reads {
            check_read(site, q, 500, &expected(shots, sort, false, None)).await;
        }
    }
    async fn warm(site: &Site, reads: &[(&str, &str)]) {
        for (q, _) in reads {
            page(site, q, 2, 500).await;
        }
    }

    // A create that sorts first by code and by cut-in.
    warm(&site, &reads).await;
    let (status, body) = site
        .call(
            "POST",
            "/entity/shots",
            Some(json!({"code": "AAA first", "sg_cut_in": 100_000})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let new_id = body["data"]["id"].as_i64().expect("id");
    shots.push(Shot {
        id: new_id,
        code: "AAA first".into(),
        cut_in: Some(100_000),
        project: 0,
        retired: false,
    });
    assert_eq!(
        ids(&page(&site, "fields=code&sort=code", 1, 500).await)[0],
        new_id
    );
    assert_eq!(
        ids(&page(&site, "fields=code&sort=-id", 1, 500).await)[0],
        new_id
    );
    check_all(&site, &reads, &shots).await;

    // An update that moves a record to the other end of an order.
    warm(&site, &reads).await;
    let moved = shots[7].id;
    let (status, body) = site
        .call(
            "PUT",
            &format!("/entity/shots/{moved}"),
            Some(json!({"code": "zzz last", "sg_cut_in": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    shots[7].code = "zzz last".into();
    shots[7].cut_in = None;
    let want = expected(&shots, "code", false, None);
    assert_eq!(want.last(), Some(&moved));
    let last = ids(&page(
        &site,
        "fields=code&sort=code",
        want.len().div_ceil(500),
        500,
    )
    .await);
    assert_eq!(last.last(), Some(&moved));
    check_all(&site, &reads, &shots).await;

    // A delete (retire) and a revive.
    warm(&site, &reads).await;
    let gone = shots[1].id;
    let (status, _) = site
        .call("DELETE", &format!("/entity/shots/{gone}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    shots[1].retired = true;
    assert!(!ids(&page(&site, "fields=code&sort=id", 1, 500).await).contains(&gone));
    check_all(&site, &reads, &shots).await;
    check_read(
        &site,
        "fields=code&sort=id&options%5Breturn_only%5D=retired",
        500,
        &expected(&shots, "id", true, None),
    )
    .await;
    warm(&site, &reads).await;
    let revived = shots[13 * 3 - 1].id;
    assert!(shots[13 * 3 - 1].retired);
    let (status, body) = site
        .call(
            "POST",
            &format!("/entity/shots/{revived}?revive=true"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    shots[13 * 3 - 1].retired = false;
    check_all(&site, &reads, &shots).await;

    // A batch, all at once.
    warm(&site, &reads).await;
    let (a, b) = (shots[100].id, shots[200].id);
    let (status, body) = site
        .call(
            "POST",
            "/entity/_batch",
            Some(json!({"requests": [
                {"request_type": "update", "entity": "Shot", "record_id": a, "data": {"code": "0 batch"}},
                {"request_type": "delete", "entity": "Shot", "record_id": b},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    shots[100].code = "0 batch".into();
    shots[200].retired = true;
    check_all(&site, &reads, &shots).await;

    // Archiving project 1 hides its Shots (unless asked for) from the kept lists too.
    warm(&site, &reads).await;
    let (status, body) = site
        .call("PUT", "/entity/projects/1", Some(json!({"archived": true})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (q, sort) in reads {
        check_read(&site, q, 500, &expected(&shots, sort, false, Some(1))).await;
        let all = format!("{q}&options%5Binclude_archived_projects%5D=true");
        check_read(&site, &all, 500, &expected(&shots, sort, false, None)).await;
    }
}

#[tokio::test]
async fn concurrent_pages_right_after_a_write_are_all_current() {
    let (site, mut shots) = site().await;
    for round in 0..3 {
        page(&site, "fields=code&sort=code", 1, 500).await;
        let target = shots[round * 11].id;
        let code = format!("!{round} first");
        let (status, body) = site
            .call(
                "PUT",
                &format!("/entity/shots/{target}"),
                Some(json!({"code": code})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        shots[round * 11].code = code;
        let want = expected(&shots, "code", false, None);
        // Eight pages at once, as the client's prefetch asks for them: whichever
        // request builds the new list, every one of them must see it.
        let mut set = tokio::task::JoinSet::new();
        for n in 1..=8usize {
            let (client, token) = (site.client.clone(), site.token.clone());
            let url = site.url(&format!(
                "/entity/shots?fields=code&sort=code&page%5Bnumber%5D={n}&page%5Bsize%5D=300"
            ));
            set.spawn(async move {
                let res = client.get(url).bearer_auth(token).send().await;
                let body = res.expect("request").bytes().await.expect("body");
                (n, body.to_vec())
            });
        }
        let mut got = set.join_all().await;
        got.sort_by_key(|(n, _)| *n);
        let all: Vec<i64> = got.iter().flat_map(|(_, b)| ids(b)).collect();
        assert!(all == want[..all.len()], "round {round}: a page is stale");
        assert_eq!(all.len(), 2_400, "round {round}");
    }
}
