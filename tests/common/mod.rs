//! The vertical-slice scenario for wasm-bindgen-test, shared by the Node and headless
//! Chromium suites. It drives the JS-visible surface (`ShotGrid.connect`, `sg.read`…)
//! through `Reflect`, as a JS caller would. The emulator coordinates are compiled in
//! from the environment that `cargo xtask test` sets.

use js_sys::{Function, Promise, Reflect, JSON};
use shotgrid_wasm::js::{ShotGrid, CALLS, SYNC};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

// The package's attempt sender, which `api.js` hands to `connect` (the engine has no
// other way to send a call's attempts or decode its records in the .wasm).
#[wasm_bindgen(module = "/pkg-template/send.js")]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = send)]
    static SEND: JsValue;
}

fn env(name: &str, value: Option<&'static str>) -> &'static str {
    match value {
        Some(v) if !v.is_empty() => v,
        _ => panic!("{name} was not set at build time: run the suites with `cargo xtask test`, which starts the emulator"),
    }
}

fn url() -> &'static str {
    env("SG_EMULATOR_URL", option_env!("SG_EMULATOR_URL"))
}
fn client_id() -> &'static str {
    env("SG_TEST_CLIENT_ID", option_env!("SG_TEST_CLIENT_ID"))
}
fn client_secret() -> &'static str {
    env(
        "SG_TEST_CLIENT_SECRET",
        option_env!("SG_TEST_CLIENT_SECRET"),
    )
}

fn options(secret: &str) -> JsValue {
    let json = serde_json::json!({
        "site": url(),
        "auth": { "grant": "client_credentials", "clientId": client_id(), "clientSecret": secret },
    });
    let options = JSON::parse(&json.to_string()).unwrap();
    let key = js_sys::Symbol::for_("shotgrid-wasm.send");
    SEND.with(|send| Reflect::set(&options, &key, send))
        .unwrap();
    options
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

/// The op code of a promise-returning method: its index in `shotgrid_wasm::js::CALLS`.
fn op(method: &str) -> JsValue {
    let i = CALLS.iter().position(|m| *m == method).unwrap();
    JsValue::from_f64(i as f64)
}

/// Calls `method` the way the package's `api.js` does: through the `__call` dispatcher.
async fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(obj, "__call").dyn_into().unwrap();
    let all: js_sys::Array = std::iter::once(op(method))
        .chain(args.iter().cloned())
        .collect();
    let p = f.apply(obj, &all).unwrap();
    JsFuture::from(p.dyn_into::<Promise>().unwrap()).await
}

/// `pkg-template/api.js` names the dispatcher's ops in the same order as the Rust
/// lists (an op code is an index into them).
pub fn op_lists_match_api_js() {
    let api = include_str!("../../pkg-template/api.js");
    let list = |name: &str| -> Vec<&str> {
        let start = format!("const {name} = \"");
        let line = api
            .lines()
            .find_map(|l| l.strip_prefix(start.as_str()))
            .unwrap_or_else(|| panic!("api.js has no `{start}` line"));
        line.strip_suffix("\";").unwrap().split(' ').collect()
    };
    assert_eq!(list("CALLS"), CALLS);
    assert_eq!(list("SYNC"), SYNC);
}

async fn connect(secret: &str) -> Result<JsValue, JsValue> {
    JsFuture::from(ShotGrid::connect(options(secret))).await
}

fn assert_error(err: &JsValue, kind: &str, status: f64, code: f64) {
    assert_eq!(
        get(err, "name").as_string().as_deref(),
        Some("ShotGridError")
    );
    assert_eq!(get(err, "kind").as_string().as_deref(), Some(kind));
    assert_eq!(get(err, "status").as_f64(), Some(status));
    assert_eq!(get(err, "code").as_f64(), Some(code));
}

/// info() works and reports API v1.
pub async fn info() {
    let sg = connect(client_secret()).await.unwrap();
    let info = call(&sg, "info", &[]).await.unwrap();
    assert_eq!(get(&info, "api_version").as_string().as_deref(), Some("v1"));
    assert!(get(&info, "shotgun_version")
        .as_string()
        .is_some_and(|s| !s.is_empty()));
}

/// Reading a record returns `{type, id, ...fields}` with links as `{type, id, name}`.
pub async fn read_record() {
    let sg = connect(client_secret()).await.unwrap();
    let fields = JSON::parse(r#"{"fields":["code","project"]}"#).unwrap();
    let shot = call(&sg, "read", &["Shot".into(), 1.into(), fields])
        .await
        .unwrap();
    assert_eq!(get(&shot, "type").as_string().as_deref(), Some("Shot"));
    assert_eq!(get(&shot, "id").as_f64(), Some(1.0));
    assert!(get(&shot, "code")
        .as_string()
        .is_some_and(|s| !s.is_empty()));
    let link = get(&shot, "project");
    assert_eq!(get(&link, "type").as_string().as_deref(), Some("Project"));
    let pid = get(&link, "id");
    let project = call(
        &sg,
        "read",
        &[
            "Project".into(),
            pid,
            JSON::parse(r#"{"fields":["name"]}"#).unwrap(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        get(&project, "name").as_string(),
        get(&link, "name").as_string()
    );
}

/// A wrong secret is an auth error (400, code 102) that does not echo the secret.
pub async fn wrong_secret() {
    let wrong = format!("{}-wrong", client_secret());
    let err = connect(&wrong).await.unwrap_err();
    assert_error(&err, "auth", 400.0, 102.0);
    let message = get(&err, "message").as_string().unwrap();
    assert!(!message.contains(&wrong), "{message}");
}

/// A missing record is a 404 with code 104 and a request id.
pub async fn missing_record() {
    let sg = connect(client_secret()).await.unwrap();
    let err = call(
        &sg,
        "read",
        &["Shot".into(), 987_654_321.into(), JsValue::UNDEFINED],
    )
    .await
    .unwrap_err();
    assert_error(&err, "http", 404.0, 104.0);
    assert!(get(&err, "requestId")
        .as_string()
        .is_some_and(|s| !s.is_empty()));
}

/// `connect` without the package's sender (a caller that bypassed the entry points)
/// is refused with a typed error, before any request: the .wasm cannot decode records
/// without it.
pub async fn connect_without_sender() {
    let counting = Function::new_no_args(
        "const f = (url, init) => { f.requests += 1; return fetch(url, init); }; f.requests = 0; return f;",
    )
    .call0(&JsValue::UNDEFINED)
    .unwrap();
    let opts = options(client_secret());
    Reflect::delete_property(
        opts.unchecked_ref::<js_sys::Object>(),
        &js_sys::Symbol::for_("shotgrid-wasm.send"),
    )
    .unwrap();
    Reflect::set(&opts, &JsValue::from_str("fetch"), &counting).unwrap();
    let err = JsFuture::from(ShotGrid::connect(opts)).await.unwrap_err();
    assert_eq!(
        get(&err, "kind").as_string().as_deref(),
        Some("invalid_input")
    );
    assert_eq!(get(&err, "source").as_string().as_deref(), Some("options"));
    assert_eq!(get(&counting, "requests").as_f64(), Some(0.0));
}

/// The server refuses a corrupted bearer token: an injected fetch swaps it out on entity
/// requests, and the read must fail with 401 / code 102.
pub async fn corrupted_token() {
    let swap = Function::new_with_args(
        "url, init",
        "if (String(url).includes('/entity/')) { const h = new Headers(init.headers);          if (!(h.get('authorization') || '').startsWith('Bearer ')) throw new Error('no bearer token sent');          h.set('authorization', 'Bearer not-a-real-token'); init = { ...init, headers: h }; }          return fetch(url, init);",
    );
    let opts = options(client_secret());
    Reflect::set(&opts, &JsValue::from_str("fetch"), &swap).unwrap();
    let sg = JsFuture::from(ShotGrid::connect(opts)).await.unwrap();
    let err = call(&sg, "read", &["Shot".into(), 1.into(), JsValue::UNDEFINED])
        .await
        .unwrap_err();
    assert_error(&err, "auth", 401.0, 102.0);
}

/// 200 concurrent calls at token expiry make exactly one token request.
pub async fn single_flight_refresh() {
    let counting = Function::new_no_args(
        "const f = (url, init) => { if (String(url).endsWith('/api/v1/auth/access_token')) f.tokenRequests += 1; \
         return fetch(url, init); }; f.tokenRequests = 0; return f;",
    )
    .call0(&JsValue::UNDEFINED)
    .unwrap();
    let opts = options(client_secret());
    Reflect::set(&opts, &JsValue::from_str("fetch"), &counting).unwrap();
    Reflect::set(
        &opts,
        &JsValue::from_str("refreshMarginMs"),
        &JsValue::from_f64(86_400_000.0),
    )
    .unwrap();
    let sg = JsFuture::from(ShotGrid::connect(opts)).await.unwrap();
    let f: Function = get(&sg, "__call").dyn_into().unwrap();
    let all = js_sys::Array::new();
    for _ in 0..200 {
        all.push(
            &f.call3(&sg, &op("read"), &"Shot".into(), &1.into())
                .unwrap(),
        );
    }
    let results = JsFuture::from(Promise::all(&all)).await.unwrap();
    assert_eq!(js_sys::Array::from(&results).length(), 200);
    assert_eq!(get(&counting, "tokenRequests").as_f64(), Some(2.0));
}

/// Bad arguments are typed `invalid_input` errors naming the argument.
pub async fn invalid_input() {
    let sg = connect(client_secret()).await.unwrap();
    let err = call(&sg, "read", &["shots".into(), 1.into(), JsValue::UNDEFINED])
        .await
        .unwrap_err();
    assert_eq!(
        get(&err, "kind").as_string().as_deref(),
        Some("invalid_input")
    );
    assert_eq!(
        get(&err, "source").as_string().as_deref(),
        Some("entityType")
    );
}

/// The client's JSON reader in the .wasm reads floats with the engine's `parseFloat`:
/// the same values as Rust's correctly rounded parser and serde_json's reader, integers
/// kept exact, out-of-range floats rejected.
pub fn json_numbers() {
    use shotgrid_wasm::protocol::json;
    for t in [
        "0.1",
        "0.3",
        "-2.5",
        "1e3",
        "1E-7",
        "123456789.123456789",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "5e-324",
        "1e-400",
        "9007199254740993.0",
        "0.30000000000000004",
        "18446744073709551616",
        "-9223372036854775809",
        "-0",
        "-0.0",
    ] {
        let ours = json::parse(t.as_bytes()).and_then(|v| v.as_f64());
        let rust: f64 = t.parse().unwrap();
        assert_eq!(ours.map(f64::to_bits), Some(rust.to_bits()), "{t}");
        // Written back as serde_json writes the correctly rounded f64 (serde_json's own
        // reader, without float_roundtrip, reads 9007199254740993.0 as ...994: one ULP off).
        assert_eq!(
            json::text(&json::parse(t.as_bytes()).unwrap()),
            serde_json::to_string(&serde_json::Value::from(rust)).unwrap(),
            "{t}"
        );
    }
    for t in ["1e309", "-1e400", "1.", "01", "-"] {
        assert_eq!(json::parse(t.as_bytes()), None, "{t}");
    }
    let v = json::parse(b"[18446744073709551615,-9223372036854775808,42]").unwrap();
    assert_eq!(v[0].as_u64(), Some(u64::MAX));
    assert_eq!(v[1].as_i64(), Some(i64::MIN));
    assert_eq!(v[2].as_u64(), Some(42));
}

/// Declares one `#[wasm_bindgen_test]` per scenario of this module: the same list for
/// the Node and the Chromium suites.
macro_rules! all_scenario_tests {
    () => {
        common::all_scenario_tests!(
            async: info, read_record, wrong_secret, missing_record, invalid_input,
                connect_without_sender, corrupted_token, single_flight_refresh;
            sync: json_numbers, op_lists_match_api_js
        );
    };
    (async: $($a:ident),* ; sync: $($s:ident),*) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $a() {
                common::$a().await;
            }
        )*
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            fn $s() {
                common::$s();
            }
        )*
    };
}
pub(crate) use all_scenario_tests;
