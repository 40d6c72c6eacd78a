use super::*;
use crate::protocol::auth::Secret;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

/// A transport that answers from a script and records what was sent.
struct Scripted {
    answers: RefCell<VecDeque<HttpResponse>>,
    sent: RefCell<Vec<HttpRequest>>,
    now: Cell<f64>,
    slept: RefCell<Vec<f64>>,
}

impl Scripted {
    fn new(answers: Vec<(u16, &str)>) -> Self {
        Scripted {
            answers: RefCell::new(
                answers
                    .into_iter()
                    .map(|(status, body)| HttpResponse {
                        status,
                        headers: vec![("x-request-id".into(), "r".into())],
                        body: body.as_bytes().to_vec(),
                    })
                    .collect(),
            ),
            sent: RefCell::new(vec![]),
            now: Cell::new(1_000_000.0),
            slept: RefCell::new(vec![]),
        }
    }
}

impl Transport for &Scripted {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        self.sent.borrow_mut().push(req);
        self.answers
            .borrow_mut()
            .pop_front()
            .ok_or_else(|| Error::new(ErrorKind::Network, "script exhausted"))
    }
    fn now_ms(&self) -> f64 {
        self.now.get()
    }
    async fn sleep(&self, ms: f64) {
        self.slept.borrow_mut().push(ms);
    }
    fn random(&self) -> f64 {
        0.5
    }
}

/// Parses engine JSON text for assertions.
fn json(text: String) -> Value {
    serde_json::from_str(&text).unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    // The scripted transport never pends, so one poll with a no-op waker completes.
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("scripted future pended"),
    }
}

fn config() -> Config {
    Config {
        site: Site::parse("http://127.0.0.1:9").unwrap(),
        grant: Grant::ClientCredentials {
            client_id: "script".into(),
            client_secret: Secret::new("key"),
        },
        scope: TokenScope::default(),
        refresh_margin_ms: DEFAULT_REFRESH_MARGIN_MS,
        batch_limit: 2,
        retry: RetryPolicy::default(),
        tokens: None,
    }
}

const TOKEN: &str =
    r#"{"token_type":"Bearer","access_token":"A1","expires_in":600,"refresh_token":"R1"}"#;
const TOKEN2: &str =
    r#"{"token_type":"Bearer","access_token":"A2","expires_in":600,"refresh_token":"R2"}"#;
const SHOT: &str = r#"{"data":{"type":"Shot","id":7,"attributes":{"code":"sh010"},"relationships":{"project":{"data":{"type":"Project","id":1,"name":"P"}}}}}"#;

fn auth_header(r: &HttpRequest) -> Option<&str> {
    r.headers
        .iter()
        .find(|(k, _)| k == "Authorization")
        .map(|(_, v)| v.as_str())
}

#[test]
fn connect_then_read_sends_bearer_and_flattens() {
    let t = Scripted::new(vec![(200, TOKEN), (200, SHOT)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let fields = vec!["code".to_owned(), "project.Project.name".to_owned()];
    let r = json(block_on(c.read("Shot", 7, Some(&fields))).unwrap());
    assert_eq!(r["code"], "sh010");
    assert_eq!(r["project"]["name"], "P");
    let sent = t.sent.borrow();
    assert_eq!(
        sent[1].url,
        "http://127.0.0.1:9/api/v1/entity/shots/7?fields=code,project.Project.name"
    );
    assert_eq!(auth_header(&sent[1]), Some("Bearer A1"));
    assert_eq!(auth_header(&sent[0]), None);
    assert!(!sent[0].url.contains("key"));
}

#[test]
fn bad_credentials_fail_connect_with_auth_error() {
    let t = Scripted::new(vec![(
        400,
        r#"{"errors":[{"status":400,"code":102,"title":"Can't authenticate user 'script'"}]}"#,
    )]);
    let e = block_on(Client::connect(config(), &t)).unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.code),
        (ErrorKind::Auth, Some(400), Some(102))
    );
}

#[test]
fn refreshes_before_expiry_with_refresh_token() {
    let t = Scripted::new(vec![(200, TOKEN), (200, TOKEN2), (200, SHOT)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    t.now.set(t.now.get() + 550_000.0); // inside the 60 s margin
    block_on(c.read("Shot", 7, None)).unwrap();
    let sent = t.sent.borrow();
    let body = String::from_utf8(sent[1].body.clone().unwrap()).unwrap();
    assert_eq!(body, "grant_type=refresh_token&refresh_token=R1");
    assert_eq!(auth_header(&sent[2]), Some("Bearer A2"));
}

#[test]
fn spent_refresh_token_falls_back_to_full_grant() {
    let invalid =
        r#"{"errors":[{"status":401,"code":102,"title":"Unauthorized","detail":"Token invalid"}]}"#;
    let t = Scripted::new(vec![
        (200, TOKEN),
        (401, invalid),
        (200, TOKEN2),
        (200, SHOT),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    t.now.set(t.now.get() + 700_000.0);
    block_on(c.read("Shot", 7, None)).unwrap();
    let sent = t.sent.borrow();
    assert!(String::from_utf8_lossy(sent[2].body.as_deref().unwrap())
        .starts_with("grant_type=client_credentials"));
    assert_eq!(auth_header(&sent[3]), Some("Bearer A2"));
}

#[test]
fn token_expired_answer_is_replayed_once() {
    let expired =
        r#"{"errors":[{"status":401,"code":102,"title":"Unauthorized","detail":"Token Expired"}]}"#;
    let t = Scripted::new(vec![
        (200, TOKEN),
        (401, expired),
        (200, TOKEN2),
        (200, SHOT),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let r = json(block_on(c.read("Shot", 7, None)).unwrap());
    assert_eq!(r["id"], 7);
    assert_eq!(t.sent.borrow().len(), 4);
    // A second expired answer is not replayed again.
    let t = Scripted::new(vec![
        (200, TOKEN),
        (401, expired),
        (200, TOKEN2),
        (401, expired),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e = block_on(c.read("Shot", 7, None)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(t.sent.borrow().len(), 4);
}

#[test]
fn missing_record_is_404_error() {
    let nf = r#"{"errors":[{"id":"x","status":404,"code":104,"title":"Not Found","source":null,"detail":"Entity of type [Shot] with id=9 does not exist.","meta":null}]}"#;
    let t = Scripted::new(vec![(200, TOKEN), (404, nf)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e = block_on(c.read("Shot", 9, None)).unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.code),
        (ErrorKind::Http, Some(404), Some(104))
    );
    assert_eq!(e.request_id.as_deref(), Some("r"));
}

#[test]
fn invalid_input_is_rejected_before_sending() {
    let t = Scripted::new(vec![(200, TOKEN)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let cases: Vec<(&str, u64, Option<Vec<String>>, &str)> = vec![
        ("shots", 1, None, "entityType"),
        ("Shot", 0, None, "id"),
        ("Shot", MAX_SAFE_ID + 1, None, "id"),
        ("Shot", 1, Some(vec![]), "options.fields"),
        (
            "Shot",
            1,
            Some(vec!["code".into(), "a&b".into()]),
            "options.fields[1]",
        ),
    ];
    for (ty, id, fields, path) in cases {
        let e = block_on(c.read(ty, id, fields.as_deref())).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(e.source, Some(Value::String(path.into())));
    }
    assert_eq!(t.sent.borrow().len(), 1, "nothing sent for invalid input");
}

#[test]
fn decode_errors_for_garbage_success_bodies() {
    let t = Scripted::new(vec![(200, TOKEN), (200, "<html>"), (200, "{}")]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    assert_eq!(
        block_on(c.read("Shot", 1, None)).unwrap_err().kind,
        ErrorKind::Decode
    );
    assert_eq!(block_on(c.info()).unwrap_err().kind, ErrorKind::Decode);
}

fn page_body(ids: std::ops::Range<i64>) -> String {
    let items: Vec<String> = ids
        .map(|id| format!(r#"{{"type":"Shot","id":{id},"attributes":{{"code":"s{id}"}},"relationships":{{}}}}"#))
        .collect();
    format!(
        r#"{{"data":[{}],"links":{{"next":"/ignored"}}}}"#,
        items.join(",")
    )
}

#[test]
fn find_walks_pages_until_a_short_one() {
    use crate::protocol::filters::validate;
    use crate::protocol::query::{ReadMethod, ReadQuery, ReturnOnly};
    let (p1, p2) = (page_body(1..3), page_body(3..4));
    let t = Scripted::new(vec![(200, TOKEN), (200, &p1), (200, &p2)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = ReadQuery::new(
        "Shot",
        validate(&crate::protocol::json::sj!([["code", "contains", "s"]])).unwrap(),
        vec!["code".into()],
        vec![],
        Some(2),
        ReturnOnly::Active,
        false,
        ReadMethod::Auto,
    )
    .unwrap();
    let all = block_on(c.find(&q, None, 1)).unwrap();
    let all: Vec<Value> = serde_json::from_str(&all).unwrap();
    let ids: Vec<i64> = all.iter().filter_map(|r| r["id"].as_i64()).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    let sent = t.sent.borrow();
    assert_eq!(
        sent.len(),
        3,
        "stops after the short page despite links.next"
    );
    assert!(sent[2].url.contains("page%5Bnumber%5D=2"));
    assert_eq!(auth_header(&sent[1]), Some("Bearer A1"));
}

#[test]
fn a_write_that_fails_after_sending_may_have_been_applied() {
    // Script ends after the token: the create gets a network error.
    let t = Scripted::new(vec![(200, TOKEN)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e =
        block_on(c.create("Shot", &crate::protocol::json::sj!({"code": "x"}), &[])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert!(e.maybe_applied);
    assert!(!e.retryable);
    assert!(e
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("may have been applied"));
    assert_eq!(
        t.sent.borrow().len(),
        2,
        "the create was sent once, never replayed"
    );
    // A read that fails the same way is not a write.
    let t = Scripted::new(vec![(200, TOKEN)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e = block_on(c.read("Shot", 1, None)).unwrap_err();
    assert!(!e.maybe_applied);
}

#[test]
fn a_write_accepted_with_an_unreadable_answer_may_have_been_applied() {
    // The site answered 201 but the body broke off: the create happened, its answer
    // is lost. The error says so, and the write is not replayed.
    let t = Scripted::new(vec![
        (200, TOKEN),
        (201, r#"{"data":{"type":"Shot","id":9,"attri"#),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e =
        block_on(c.create("Shot", &crate::protocol::json::sj!({"code": "x"}), &[])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert_eq!(e.status, Some(201));
    assert!(e.maybe_applied);
    assert!(!e.retryable);
    assert!(e
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("may have been applied"));
    assert_eq!(t.sent.borrow().len(), 2, "sent once, never replayed");
    // A batch likewise: its transaction was committed.
    let t = Scripted::new(vec![(200, TOKEN), (200, r#"{"data":[{"type":"Sh"#)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let reqs =
        crate::protocol::json::sj!([{"request_type": "delete", "entity": "Shot", "record_id": 1}]);
    let e = block_on(c.batch(&reqs, false)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(e.maybe_applied);
    assert_eq!(t.sent.borrow().len(), 2, "the batch was sent once");
    // The same answer to a read is a plain decode error.
    let t = Scripted::new(vec![
        (200, TOKEN),
        (200, r#"{"data":{"type":"Shot","id":9,"attri"#),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e = block_on(c.read("Shot", 9, None)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(!e.maybe_applied);
}

#[test]
fn a_failed_token_request_is_not_an_unknown_write() {
    let t = Scripted::new(vec![(200, TOKEN)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    t.now.set(t.now.get() + 10_000_000.0); // token expired: the next call refreshes first
    let e = block_on(c.delete("Shot", 1)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert!(!e.maybe_applied, "the delete was never sent");
    assert!(t.sent.borrow().iter().all(|r| r.method != Method::Delete));
}

#[test]
fn writes_send_json_and_decode() {
    let created = r#"{"data":{"type":"Shot","id":9,"attributes":{"code":"x"},"relationships":{}}}"#;
    let revived = r#"{"data":{"type":"Shot","id":9},"meta":{"did_revive":true}}"#;
    let t = Scripted::new(vec![
        (200, TOKEN),
        (201, created),
        (200, created),
        (204, ""),
        (200, revived),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let data = crate::protocol::json::sj!({"code": "x"});
    assert_eq!(
        json(block_on(c.create("Shot", &data, &["code".into()])).unwrap())["id"],
        9
    );
    assert_eq!(
        json(block_on(c.update("Shot", 9, &data, &[])).unwrap())["code"],
        "x"
    );
    block_on(c.delete("Shot", 9)).unwrap();
    assert!(block_on(c.revive("Shot", 9)).unwrap());
    let sent = t.sent.borrow();
    assert_eq!(sent[1].method, Method::Post);
    assert_eq!(sent[2].method, Method::Put);
    assert_eq!(sent[3].method, Method::Delete);
    assert!(sent[4].url.ends_with("/shots/9?revive=true"));
}

#[test]
fn split_batches_go_in_order_and_report_partial_progress() {
    let ok2 = r#"{"data":[{"type":"Shot","id":1},{"type":"Shot","id":2}]}"#;
    let fail = r#"{"errors":[{"status":400,"code":103,"title":"Request Parameters invalid.","detail":"request 0: bad"}]}"#;
    let t = Scripted::new(vec![(200, TOKEN), (200, ok2), (400, fail)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let reqs: Vec<Value> = (0..4)
        .map(|i| crate::protocol::json::sj!({"request_type": "create", "entity": "Shot", "data": {"code": i.to_string()}}))
        .collect();
    let e = block_on(c.batch(&Value::Array(reqs.clone()), true)).unwrap_err();
    let d = e.detail.clone().unwrap_or_default();
    assert!(
        d.contains("chunk 2 of 2") && d.contains("before index 2 were applied"),
        "{d}"
    );
    let sent = t.sent.borrow();
    let first: Value = serde_json::from_slice(sent[1].body.as_deref().unwrap()).unwrap();
    assert_eq!(first["requests"][0]["data"]["code"], "0");
    assert_eq!(first["requests"].as_array().map(Vec::len), Some(2));
    drop(sent);
    // Without split, too many requests is an input error and nothing is sent.
    let before = t.sent.borrow().len();
    let e = block_on(c.batch(&Value::Array(reqs), false)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert_eq!(t.sent.borrow().len(), before);
}

/// A transport whose every send yields to the executor once before answering, so
/// concurrent calls really overlap. Token requests are counted.
struct Yielding {
    token_requests: Cell<u32>,
    now: Cell<f64>,
}

struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl Transport for &Yielding {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        YieldOnce(false).await;
        let body = if req.url.ends_with("/auth/access_token") {
            self.token_requests.set(self.token_requests.get() + 1);
            let n = self.token_requests.get();
            format!(
                r#"{{"token_type":"Bearer","access_token":"A{n}","expires_in":600,"refresh_token":"R{n}"}}"#
            )
        } else {
            SHOT.to_owned()
        };
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: body.into_bytes(),
        })
    }
    fn now_ms(&self) -> f64 {
        self.now.get()
    }
    async fn sleep(&self, ms: f64) {
        let _ = ms;
    }
    fn random(&self) -> f64 {
        0.5
    }
}

#[test]
fn concurrent_calls_at_expiry_make_one_token_request() {
    let t = Yielding {
        token_requests: Cell::new(0),
        now: Cell::new(0.0),
    };
    let c = futures::executor::block_on(Client::connect(config(), &t)).unwrap();
    assert_eq!(t.token_requests.get(), 1);
    t.now.set(10_000_000.0); // every token expired
    let reads = (0..50).map(|_| c.read("Shot", 7, None));
    let results = futures::executor::block_on(futures::future::join_all(reads));
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        t.token_requests.get(),
        2,
        "one refresh for 50 concurrent calls"
    );
}

/// A site that can expire its tokens: an entity request with any token but the current
/// one gets 401 "Token Expired". Requests take different numbers of executor turns, so
/// answers to requests sent with the old token keep arriving after the new token is in.
struct ExpiringSite {
    valid: RefCell<String>,
    token_requests: Cell<u32>,
    sends: Cell<u32>,
}

struct Yield(u32);

impl std::future::Future for Yield {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 == 0 {
            std::task::Poll::Ready(())
        } else {
            self.0 -= 1;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

impl Transport for &ExpiringSite {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        let n = self.sends.get();
        self.sends.set(n + 1);
        if req.url.ends_with("/auth/access_token") {
            Yield(2).await;
            self.token_requests.set(self.token_requests.get() + 1);
            let k = self.token_requests.get();
            *self.valid.borrow_mut() = format!("Bearer A{k}");
            let body = format!(
                r#"{{"token_type":"Bearer","access_token":"A{k}","expires_in":600,"refresh_token":"R{k}"}}"#
            );
            return Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: body.into_bytes(),
            });
        }
        let sent_with = auth_header(&req).unwrap_or_default().to_owned();
        Yield(1 + n % 7).await;
        let (status, body) = if sent_with == *self.valid.borrow() {
            (200, SHOT)
        } else {
            (
                401,
                r#"{"errors":[{"status":401,"code":102,"title":"Unauthorized","detail":"Token Expired"}]}"#,
            )
        };
        Ok(HttpResponse {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        })
    }
    fn now_ms(&self) -> f64 {
        1_000_000.0
    }
    async fn sleep(&self, ms: f64) {
        let _ = ms;
    }
    fn random(&self) -> f64 {
        0.5
    }
}

#[test]
fn concurrent_calls_when_the_site_expires_the_token_make_one_token_request() {
    let t = ExpiringSite {
        valid: RefCell::new(String::new()),
        token_requests: Cell::new(0),
        sends: Cell::new(0),
    };
    let c = futures::executor::block_on(Client::connect(config(), &t)).unwrap();
    assert_eq!(t.token_requests.get(), 1);
    // The site forgets every token it issued (what an expiry before ours looks like).
    *t.valid.borrow_mut() = "Bearer none".into();
    let reads = (0..200).map(|_| c.read("Shot", 7, None));
    let results = futures::executor::block_on(futures::future::join_all(reads));
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    // A 401 for a request sent with the old token must not discard the new one.
    assert_eq!(
        t.token_requests.get(),
        2,
        "one token request for 200 calls that all met the expired token"
    );
}

#[test]
fn a_cancelled_refresh_leader_hands_over() {
    use futures::FutureExt;
    let t = Yielding {
        token_requests: Cell::new(0),
        now: Cell::new(0.0),
    };
    let c = futures::executor::block_on(Client::connect(config(), &t)).unwrap();
    t.now.set(10_000_000.0);
    // Poll the first read once (it becomes the refresh leader and pends), then drop it.
    let mut first = Box::pin(c.read("Shot", 7, None));
    let waker = futures::task::noop_waker();
    assert!(first
        .as_mut()
        .poll_unpin(&mut std::task::Context::from_waker(&waker))
        .is_pending());
    let second = c.read("Shot", 7, None);
    drop(first);
    assert!(
        futures::executor::block_on(second).is_ok(),
        "the waiter took over"
    );
}

const UNAVAILABLE: &str = r#"{"errors":[{"status":503,"code":100,"title":"Service Unavailable"}]}"#;

/// A Scripted transport whose answers can carry headers.
fn with_retry_after(t: &Scripted, index: usize, value: &str) {
    if let Some(r) = t.answers.borrow_mut().get_mut(index) {
        r.headers.push(("Retry-After".into(), value.into()));
    }
}

#[test]
fn reads_retry_5xx_and_network_errors_with_backoff() {
    let t = Scripted::new(vec![
        (200, TOKEN),
        (503, UNAVAILABLE),
        (502, "<html>bad gateway</html>"),
        (200, SHOT),
    ]);
    with_retry_after(&t, 1, "2");
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let r = json(block_on(c.read("Shot", 7, None)).unwrap());
    assert_eq!(r["id"], 7);
    assert_eq!(t.sent.borrow().len(), 4, "token + 3 attempts");
    // Retry-After 2 s honoured, then full jitter on the 100 ms base (random 0.5, 2nd retry: 0.5 * 200).
    assert_eq!(*t.slept.borrow(), vec![2000.0, 100.0]);
}

#[test]
fn reads_give_up_after_three_attempts() {
    let t = Scripted::new(vec![
        (200, TOKEN),
        (500, ""),
        (500, ""),
        (500, ""),
        (200, SHOT),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e = block_on(c.read("Shot", 7, None)).unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Http, Some(500)));
    assert_eq!(
        t.sent.borrow().len(),
        4,
        "token + 3 attempts, the 4th answer unused"
    );
}

#[test]
fn writes_are_never_retried() {
    let t = Scripted::new(vec![(200, TOKEN), (503, UNAVAILABLE), (201, SHOT)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e =
        block_on(c.create("Shot", &crate::protocol::json::sj!({"code": "x"}), &[])).unwrap_err();
    assert_eq!(e.status, Some(503));
    assert_eq!(t.sent.borrow().len(), 2, "the create was sent once");
    assert!(t.slept.borrow().is_empty());
}

#[test]
fn a_long_retry_after_is_a_rate_limited_error() {
    let t = Scripted::new(vec![(200, TOKEN), (429, ""), (200, SHOT)]);
    with_retry_after(&t, 1, "3600");
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let e = block_on(c.read("Shot", 7, None)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after_ms, Some(3_600_000.0));
    assert!(t.slept.borrow().is_empty(), "did not wait an hour");
}

#[test]
fn token_requests_are_retried() {
    let t = Scripted::new(vec![(503, UNAVAILABLE), (200, TOKEN), (200, SHOT)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    block_on(c.read("Shot", 7, None)).unwrap();
    assert_eq!(t.slept.borrow().len(), 1);
}

#[test]
fn retry_can_be_turned_off() {
    let t = Scripted::new(vec![(200, TOKEN), (503, UNAVAILABLE), (200, SHOT)]);
    let mut cfg = config();
    cfg.retry.max_attempts = 1;
    let c = block_on(Client::connect(cfg, &t)).unwrap();
    assert_eq!(
        block_on(c.read("Shot", 7, None)).unwrap_err().status,
        Some(503)
    );
}

type Seen = std::rc::Rc<RefCell<Vec<Tokens>>>;

fn connect_listening(
    t: &Scripted,
    tokens: Option<crate::protocol::auth::ImportedTokens>,
) -> (Result<Client<&Scripted>, Error>, Seen) {
    let seen = std::rc::Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let mut cfg = config();
    cfg.tokens = tokens;
    let c = block_on(Client::connect_with(
        cfg,
        t,
        Some(Box::new(move |tk: &Tokens| {
            sink.borrow_mut().push(tk.clone())
        })),
    ));
    (c, seen)
}

#[test]
fn on_tokens_sees_every_grant_and_refresh() {
    let t = Scripted::new(vec![(200, TOKEN), (200, TOKEN2), (200, SHOT)]);
    let (c, seen) = connect_listening(&t, None);
    let c = c.unwrap();
    assert_eq!(seen.borrow().len(), 1);
    assert_eq!(seen.borrow()[0].access_token.expose(), "A1");
    assert_eq!(seen.borrow()[0].expires_at_ms, 1_000_000.0 + 600_000.0);
    t.now.set(t.now.get() + 550_000.0);
    block_on(c.read("Shot", 7, None)).unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].refresh_token.as_ref().map(Secret::expose),
        Some("R2")
    );
}

#[test]
fn concurrent_prefetch_keeps_page_order_and_stops_at_the_short_page() {
    use crate::protocol::filters::validate;
    use crate::protocol::query::{ReadMethod, ReadQuery, ReturnOnly};
    // Window of 3: pages 1-3 full, page 4 short. Pages 5 and 6 enter the window while
    // page 4 is in flight; page 4 landing short drops them before they are sent.
    let pages: Vec<String> = vec![
        page_body(1..3),
        page_body(3..5),
        page_body(5..7),
        page_body(7..8),
        page_body(8..10),
        page_body(10..12),
    ];
    let mut script = vec![(200, TOKEN)];
    script.extend(pages.iter().map(|p| (200, p.as_str())));
    let t = Scripted::new(script);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = ReadQuery::new(
        "Shot",
        validate(&Value::Null).unwrap(),
        vec![],
        vec![],
        Some(2),
        ReturnOnly::Active,
        false,
        ReadMethod::Auto,
    )
    .unwrap();
    let all = block_on(c.find(&q, None, 3)).unwrap();
    let all: Vec<Value> = serde_json::from_str(&all).unwrap();
    let ids: Vec<i64> = all.iter().filter_map(|r| r["id"].as_i64()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        t.sent.borrow().len(),
        5,
        "token + pages 1-4, none past the short one"
    );
}

#[test]
fn imported_tokens_resume_without_a_grant() {
    use crate::protocol::auth::ImportedTokens;
    let t = Scripted::new(vec![(200, SHOT)]);
    let imported = ImportedTokens {
        access_token: Some(Secret::new("KEPT")),
        refresh_token: Secret::new("RK"),
        expires_at_ms: Some(1_000_000.0 + 300_000.0),
    };
    let (c, seen) = connect_listening(&t, Some(imported));
    let c = c.unwrap();
    assert_eq!(t.sent.borrow().len(), 0, "nothing sent at connect");
    block_on(c.read("Shot", 7, None)).unwrap();
    assert_eq!(auth_header(&t.sent.borrow()[0]), Some("Bearer KEPT"));
    assert!(seen.borrow().is_empty(), "no grant, no callback");
}

#[test]
fn imported_refresh_token_is_used_then_full_grant_on_refusal() {
    use crate::protocol::auth::ImportedTokens;
    // Only a refresh token: connect refreshes with it.
    let t = Scripted::new(vec![(200, TOKEN)]);
    let imported = ImportedTokens {
        access_token: None,
        refresh_token: Secret::new("RK"),
        expires_at_ms: None,
    };
    let (c, seen) = connect_listening(&t, Some(imported.clone()));
    c.unwrap();
    assert_eq!(
        String::from_utf8_lossy(t.sent.borrow()[0].body.as_deref().unwrap()),
        "grant_type=refresh_token&refresh_token=RK"
    );
    assert_eq!(seen.borrow().len(), 1);
    // A spent refresh token falls back to the full grant.
    let invalid =
        r#"{"errors":[{"status":401,"code":102,"title":"Unauthorized","detail":"Token invalid"}]}"#;
    let t = Scripted::new(vec![(401, invalid), (200, TOKEN2)]);
    let (c, seen) = connect_listening(&t, Some(imported.clone()));
    c.unwrap();
    assert!(
        String::from_utf8_lossy(t.sent.borrow()[1].body.as_deref().unwrap())
            .starts_with("grant_type=client_credentials")
    );
    assert_eq!(seen.borrow()[0].access_token.expose(), "A2");
    // With only the refresh-token grant there is no fallback.
    let t = Scripted::new(vec![(401, invalid)]);
    let mut cfg = config();
    cfg.grant = Grant::RefreshToken {
        refresh_token: Secret::new("RK"),
    };
    cfg.tokens = Some(imported);
    let e = block_on(Client::connect(cfg, &t)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(t.sent.borrow().len(), 1);
}

#[test]
fn no_body_answers_are_not_decoded_and_writes_are_not_replayed() {
    let t = Scripted::new(vec![(200, TOKEN), (204, ""), (204, "")]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    block_on(c.run(c.follow(5, &crate::protocol::json::sj!({"type": "Task", "id": 9})))).unwrap();
    block_on(c.run(c.webhook_redeliver("008b4850-d5d2"))).unwrap();
    // A write whose answer never came is marked maybe-applied and not sent twice.
    let e = block_on(c.run(c.unfollow(5, &crate::protocol::json::sj!({"type": "Task", "id": 9}))))
        .unwrap_err();
    assert!(e.maybe_applied);
    assert_eq!(t.sent.borrow().len(), 4);
    assert_eq!(t.sent.borrow()[3].method, Method::Put);
}

#[test]
fn text_search_walks_pages_and_summarize_decodes() {
    use crate::protocol::search::{Summarize, TextSearch};
    let (p1, p2) = (page_body(1..3), page_body(3..4));
    let t = Scripted::new(vec![
        (200, TOKEN),
        (200, &p1),
        (200, &p2),
        (200, r#"{"data":{"summaries":{"id":3},"groups":[]}}"#),
    ]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let s = TextSearch::new(
        "shot",
        &crate::protocol::json::sj!({"Shot": []}),
        vec![],
        Some(2),
    )
    .unwrap();
    let r = block_on(c.text_search(&s, None, None)).unwrap();
    assert_eq!(r.len(), 3);
    let body: Value = serde_json::from_slice(t.sent.borrow()[2].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body["page"],
        crate::protocol::json::sj!({"number": 2, "size": 2})
    );
    let s = Summarize::new(
        "Asset",
        &Value::Null,
        &crate::protocol::json::sj!([{"field": "id", "type": "count"}]),
        &Value::Null,
        None,
    )
    .unwrap();
    let v = block_on(c.run(c.summarize(&s))).unwrap();
    assert_eq!(v["summaries"]["id"], 3);
    // Invalid input is refused before sending.
    let e = block_on(c.run(c.followers("Shot", 0))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert_eq!(t.sent.borrow().len(), 4);
}

#[test]
fn raw_reads_keep_the_documents() {
    use crate::protocol::filters::validate;
    use crate::protocol::query::{ReadMethod, ReadQuery, ReturnOnly};
    let (p1, p2) = (page_body(1..3), page_body(3..5));
    let t = Scripted::new(vec![(200, TOKEN), (200, SHOT), (200, &p1), (200, &p2)]);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let doc = block_on(c.read_raw("Shot", 7, None)).unwrap();
    assert_eq!(doc["data"]["attributes"]["code"], "sh010");
    let q = ReadQuery::new(
        "Shot",
        validate(&Value::Null).unwrap(),
        vec![],
        vec![],
        Some(2),
        ReturnOnly::Active,
        false,
        ReadMethod::Auto,
    )
    .unwrap();
    let docs = block_on(c.find_raw(&q, Some(3))).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(
        docs[1]["data"].as_array().unwrap().len(),
        1,
        "cut to the limit"
    );
    assert_eq!(docs[0]["links"]["next"], "/ignored");
    assert_eq!(docs[0]["data"][0]["attributes"]["code"], "s1");
}

// ---- The sliding page window (window.rs), driven by a transport whose page answers
// the test releases one by one.

/// Answers a page request only once the test released an answer for that page
/// (`release(page, status)`, one per attempt); token requests answer at once. Pages
/// hold `size` records of the site's `total`, ids from 1. Logs requests, drops and
/// the most requests in flight at once.
struct Gated {
    size: i64,
    total: i64,
    answers: RefCell<std::collections::HashMap<u32, VecDeque<u16>>>,
    requested: RefCell<Vec<u32>>,
    dropped: RefCell<Vec<u32>>,
    in_flight: Cell<usize>,
    max_in_flight: Cell<usize>,
}

impl Gated {
    fn new(size: i64, total: i64) -> Self {
        Gated {
            size,
            total,
            answers: RefCell::new(Default::default()),
            requested: RefCell::new(vec![]),
            dropped: RefCell::new(vec![]),
            in_flight: Cell::new(0),
            max_in_flight: Cell::new(0),
        }
    }
    fn release(&self, page: u32, status: u16) {
        self.answers
            .borrow_mut()
            .entry(page)
            .or_default()
            .push_back(status);
    }
    fn requested(&self) -> Vec<u32> {
        self.requested.borrow().clone()
    }
}

/// Counts a request in flight until it finishes; logs it as dropped if it never did.
struct InFlight<'a> {
    t: &'a Gated,
    page: u32,
    done: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.t.in_flight.set(self.t.in_flight.get() - 1);
        if !self.done {
            self.t.dropped.borrow_mut().push(self.page);
        }
    }
}

impl Transport for &Gated {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        let answer = |status: u16, body: String| HttpResponse {
            status,
            headers: vec![],
            body: body.into_bytes(),
        };
        if req.url.contains("/auth/access_token") {
            return Ok(answer(200, TOKEN.to_owned()));
        }
        let page: u32 = req
            .url
            .split("page%5Bnumber%5D=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .and_then(|s| s.parse().ok())
            .expect("a page request");
        self.requested.borrow_mut().push(page);
        self.in_flight.set(self.in_flight.get() + 1);
        self.max_in_flight
            .set(self.max_in_flight.get().max(self.in_flight.get()));
        let mut guard = InFlight {
            t: self,
            page,
            done: false,
        };
        let status = std::future::poll_fn(|_| {
            match self
                .answers
                .borrow_mut()
                .get_mut(&page)
                .and_then(VecDeque::pop_front)
            {
                Some(s) => std::task::Poll::Ready(s),
                None => std::task::Poll::Pending,
            }
        })
        .await;
        guard.done = true;
        if status != 200 {
            let body = format!(
                r#"{{"errors":[{{"status":{status},"code":103,"title":"page {page} refused"}}]}}"#
            );
            return Ok(answer(status, body));
        }
        let first = i64::from(page - 1) * self.size + 1;
        let last = (i64::from(page) * self.size).min(self.total);
        Ok(answer(200, page_body(first..(last + 1).max(first))))
    }
    fn now_ms(&self) -> f64 {
        1_000_000.0
    }
    async fn sleep(&self, _ms: f64) {}
    fn random(&self) -> f64 {
        0.5
    }
}

fn shots_query(page_size: u32) -> crate::protocol::query::ReadQuery {
    use crate::protocol::query::{ReadMethod, ReadQuery, ReturnOnly};
    ReadQuery::new(
        "Shot",
        crate::protocol::filters::validate(&Value::Null).unwrap(),
        vec![],
        vec![],
        Some(page_size),
        ReturnOnly::Active,
        false,
        ReadMethod::Auto,
    )
    .unwrap()
}

/// Polls `f` once (the gated transport wakes nobody: the test polls again after each
/// release).
fn poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    f.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

fn ids_of(page: Option<PageText>) -> Vec<i64> {
    page.expect("a page").ids
}

#[test]
fn the_window_slides_past_a_slow_page_and_yields_in_order() {
    let t = Gated::new(2, 20);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    let mut w = c.page_window(&q, None, 3, false);
    {
        let mut next = std::pin::pin!(w.next_page());
        assert!(poll_once(next.as_mut()).is_pending());
        assert_eq!(
            t.requested(),
            vec![1, 2, 3],
            "three pages in flight at once"
        );
        t.release(2, 200);
        assert!(poll_once(next.as_mut()).is_pending(), "page 1 comes first");
        assert_eq!(
            t.requested(),
            vec![1, 2, 3, 4],
            "page 4 is requested as soon as page 2 landed, before page 1"
        );
        t.release(3, 200);
        assert!(poll_once(next.as_mut()).is_pending());
        assert_eq!(t.requested(), vec![1, 2, 3, 4, 5]);
        t.release(1, 200);
        let std::task::Poll::Ready(page) = poll_once(next.as_mut()) else {
            panic!("page 1 landed")
        };
        assert_eq!(ids_of(page.unwrap()), vec![1, 2]);
    }
    // Pages 2 and 3 landed already: handed out at once, in order.
    assert_eq!(ids_of(block_on(w.next_page()).unwrap()), vec![3, 4]);
    assert_eq!(ids_of(block_on(w.next_page()).unwrap()), vec![5, 6]);
    assert_eq!(t.max_in_flight.get(), 3, "never more than 3 in flight");
    // The rest, released in reverse order of request, still come out in page order.
    let mut seen = vec![];
    loop {
        let mut next = std::pin::pin!(w.next_page());
        let page = loop {
            if let std::task::Poll::Ready(p) = poll_once(next.as_mut()) {
                break p.unwrap();
            }
            let requested = t.requested();
            let newest = requested
                .iter()
                .rev()
                .find(|p| !t.answers.borrow().contains_key(p));
            t.release(*newest.expect("a request in flight"), 200);
        };
        match page {
            Some(p) => seen.extend(p.ids),
            None => break,
        }
    }
    assert_eq!(seen, (7..=20).collect::<Vec<_>>());
    let mut requested = t.requested();
    assert!(t.max_in_flight.get() <= 3);
    requested.sort_unstable();
    requested.dedup();
    assert_eq!(
        requested.len(),
        t.requested().len(),
        "no page fetched twice"
    );
    assert!(
        requested.iter().all(|&p| p <= 13),
        "past the empty page 11, at most the 2 others in flight when it landed: {requested:?}"
    );
}

#[test]
fn a_short_page_stops_new_requests_and_drops_those_past_it() {
    // 9 records in pages of 2: page 5 is short (1 record).
    let t = Gated::new(2, 9);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    let mut w = c.page_window(&q, None, 4, false);
    let mut next = Box::pin(w.next_page());
    assert!(poll_once(next.as_mut()).is_pending());
    assert_eq!(t.requested(), vec![1, 2, 3, 4]);
    t.release(3, 200);
    t.release(4, 200);
    assert!(poll_once(next.as_mut()).is_pending());
    assert_eq!(t.requested(), vec![1, 2, 3, 4, 5, 6]);
    t.release(5, 200);
    assert!(poll_once(next.as_mut()).is_pending());
    assert_eq!(
        *t.dropped.borrow(),
        vec![6],
        "page 6 is past the short page 5: dropped unanswered"
    );
    t.release(1, 200);
    t.release(2, 200);
    let std::task::Poll::Ready(first) = poll_once(next.as_mut()) else {
        panic!("page 1 landed")
    };
    drop(next);
    let mut ids = ids_of(first.unwrap());
    while let Some(p) = block_on(w.next_page()).unwrap() {
        ids.extend(p.ids);
    }
    assert_eq!(ids, (1..=9).collect::<Vec<_>>());
    assert_eq!(
        t.requested(),
        vec![1, 2, 3, 4, 5, 6],
        "nothing after page 5 landed"
    );
    assert!(w.is_done());
}

#[test]
fn the_limit_bounds_the_window() {
    let t = Gated::new(2, 100);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    for p in 1..=3 {
        t.release(p, 200);
    }
    let pages = block_on(c.find_pages(&q, Some(5), 8, false)).unwrap();
    let ids: Vec<i64> = pages.iter().flat_map(|p| p.ids.clone()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5], "the last page cut to the limit");
    assert_eq!(
        t.requested(),
        vec![1, 2, 3],
        "5 records need 3 pages of 2, not 8"
    );
}

#[test]
fn an_error_mid_stream_comes_after_the_pages_before_it() {
    let t = Gated::new(2, 20);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    let mut w = c.page_window(&q, None, 3, false);
    // Page 2 fails once with 503 (retried, as before); page 3 is refused (400).
    t.release(1, 200);
    t.release(2, 503);
    t.release(2, 200);
    t.release(3, 400);
    t.release(4, 200);
    assert_eq!(ids_of(block_on(w.next_page()).unwrap()), vec![1, 2]);
    assert_eq!(ids_of(block_on(w.next_page()).unwrap()), vec![3, 4]);
    let e = block_on(w.next_page()).unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Http, Some(400)));
    assert_eq!(e.title, "page 3 refused");
    assert_eq!(
        t.requested().iter().filter(|&&p| p == 2).count(),
        2,
        "the 503 was retried"
    );
    assert!(
        t.requested().iter().all(|&p| p <= 5),
        "nothing requested past the window once page 3 failed: {:?}",
        t.requested()
    );
    // Calling again starts over at the failed page; nothing before it is fetched again.
    let before = t.requested().len();
    t.release(3, 200);
    let mut next = Box::pin(w.next_page());
    let mut page = poll_once(next.as_mut());
    while page.is_pending() {
        let newest = *t.requested().last().unwrap();
        t.release(newest, 200);
        page = poll_once(next.as_mut());
    }
    let std::task::Poll::Ready(page) = page else {
        unreachable!()
    };
    assert_eq!(ids_of(page.unwrap()), vec![5, 6]);
    assert_eq!(
        t.requested()[before],
        3,
        "the failed page is asked again first"
    );
}

#[test]
fn a_repeated_page_ends_the_read_with_an_error() {
    // A server ignoring page[number]: every page is page 1.
    let page = page_body(1..3);
    let mut script = vec![(200, TOKEN)];
    script.extend(std::iter::repeat_n((200, page.as_str()), 8));
    let t = Scripted::new(script);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    let mut w = c.page_window(&q, None, 4, false);
    assert_eq!(ids_of(block_on(w.next_page()).unwrap()), vec![1, 2]);
    let e = block_on(w.next_page()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(w.is_done());
    assert_eq!(block_on(w.next_page()).unwrap(), None);
}

#[test]
fn dropping_the_window_drops_what_is_in_flight() {
    let t = Gated::new(2, 20);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    let mut w = c.page_window(&q, None, 3, false);
    t.release(1, 200);
    assert_eq!(ids_of(block_on(w.next_page()).unwrap()), vec![1, 2]);
    assert_eq!(t.in_flight.get(), 2);
    {
        // A `next_page` abandoned mid-wait (the iterator's `return`) loses nothing:
        let mut next = Box::pin(w.next_page());
        assert!(poll_once(next.as_mut()).is_pending());
    }
    assert_eq!(t.requested(), vec![1, 2, 3, 4]);
    drop(w);
    assert_eq!(t.in_flight.get(), 0);
    let mut dropped = t.dropped.borrow().clone();
    dropped.sort_unstable();
    assert_eq!(dropped, vec![2, 3, 4]);
}

#[test]
fn concurrency_one_fetches_one_page_at_a_time() {
    let t = Gated::new(2, 20);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    let mut w = c.page_window(&q, None, 1, false);
    for p in 1..=3 {
        t.release(p, 200);
        assert_eq!(block_on(w.next_page()).unwrap().unwrap().ids.len(), 2);
        assert_eq!(t.requested(), (1..=p).collect::<Vec<_>>(), "nothing ahead");
    }
}

#[test]
fn ramp_sends_page_one_alone_then_opens_the_window() {
    let t = Gated::new(2, 20);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let q = shots_query(2);
    let mut w = c.page_window(&q, None, 4, true);
    let mut next = Box::pin(w.next_page());
    assert!(poll_once(next.as_mut()).is_pending());
    assert_eq!(t.requested(), vec![1], "page 1 alone");
    t.release(1, 200);
    assert!(poll_once(next.as_mut()).is_ready());
    drop(next);
    assert!(block_on_pending(w.next_page()));
    assert_eq!(t.requested(), vec![1, 2, 3, 4, 5], "then 4 in flight");

    // A read of one short page sends one request.
    let t = Gated::new(2, 1);
    let c = block_on(Client::connect(config(), &t)).unwrap();
    t.release(1, 200);
    let pages = block_on(c.find_pages(&q, None, 6, true)).unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(t.requested(), vec![1]);
}

/// Whether `f` is still pending after one poll.
fn block_on_pending<F: std::future::Future>(f: F) -> bool {
    let mut f = std::pin::pin!(f);
    poll_once(f.as_mut()).is_pending()
}

/// A transport that decodes 2xx answers itself when told what they are (as the JS
/// sender does): it keeps the decoded value (here the body text) in a handle, empties
/// the body, and records the kind each request was sent with.
struct Decoding {
    inner: Scripted,
    kinds: RefCell<Vec<Option<AnswerKind>>>,
}

impl Transport for &Decoding {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        self.send_expecting(req, None).await.map(|(resp, _)| resp)
    }
    async fn send_expecting(
        &self,
        req: HttpRequest,
        kind: Option<AnswerKind>,
    ) -> Result<(HttpResponse, Option<upload::Handle>), Error> {
        self.kinds.borrow_mut().push(kind);
        let mut resp = (&self.inner).send(req).await?;
        if kind.is_none() || !resp.is_success() {
            return Ok((resp, None));
        }
        let text = String::from_utf8(std::mem::take(&mut resp.body)).unwrap();
        Ok((resp, Some(upload::Handle::new(text))))
    }
    fn now_ms(&self) -> f64 {
        (&self.inner).now_ms()
    }
    async fn sleep(&self, ms: f64) {
        (&self.inner).sleep(ms).await
    }
    fn random(&self) -> f64 {
        0.5
    }
    fn decode_page(
        &self,
        resp: &HttpResponse,
        kept: Option<&upload::Handle>,
    ) -> Result<PageText, Error> {
        // The page as the runtime decoded it; the body left for the engine is empty.
        assert!(resp.body.is_empty());
        let text = kept.and_then(|h| h.get::<String>()).expect("a kept page");
        let mut page = transcode_page(&HttpResponse {
            body: text.as_bytes().to_vec(),
            ..resp.clone()
        })?;
        page.records.clear();
        page.runtime = Some(std::rc::Rc::new(text.clone()));
        Ok(page)
    }
}

#[test]
fn record_and_page_answers_are_sent_expecting_their_kind_and_come_back_kept() {
    let expired =
        r#"{"errors":[{"status":401,"code":102,"title":"Unauthorized","detail":"Token Expired"}]}"#;
    let p1 = page_body(1..3);
    let t = Decoding {
        inner: Scripted::new(vec![
            (200, TOKEN),
            (401, expired),
            (200, TOKEN2),
            (200, SHOT),
            (503, "busy"),
            (200, &p1),
        ]),
        kinds: RefCell::new(vec![]),
    };
    let c = block_on(Client::connect(config(), &t)).unwrap();
    let (req, write, auth, _) = c.read_call("Shot", 7, None).into_parts();
    let (resp, kept) =
        block_on(c.send_call_expecting(req, write, auth, Some(AnswerKind::Record), None)).unwrap();
    // The replayed attempt's answer, kept by the transport; its body never reached us.
    assert_eq!(resp.status, 200);
    assert!(resp.body.is_empty());
    assert_eq!(
        kept.as_ref()
            .and_then(|h| h.get::<String>())
            .map(String::as_str),
        Some(SHOT)
    );
    // A page: retried after the 503, decoded from what the transport kept.
    let page = block_on(c.fetch_page(&shots_query(2), 1)).unwrap();
    assert_eq!(page.ids, vec![1, 2]);
    assert!(page.runtime.is_some());
    // Token requests (at connect, after "Token Expired") are sent as bytes; every
    // attempt of the read and of the page says what its answer is.
    use AnswerKind::{Page, Record};
    assert_eq!(
        *t.kinds.borrow(),
        vec![
            None,
            Some(Record),
            None,
            Some(Record),
            Some(Page),
            Some(Page)
        ]
    );
}
