//! The client's JSON reader and writer (`protocol::json`, what the .wasm parses every
//! body and argument with) against serde_json's on arbitrary bytes: the same value or
//! both reject, the same text written (so the same members in the same order), and the
//! written text reads back to the value. The client has its own `Value` type
//! (`protocol::value`), converted here to serde_json's to compare. serde_json here has
//! `float_roundtrip`, so both read floats correctly rounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shotgrid_wasm::protocol::json::{self, Value};

/// Our value as serde_json's, member by member, numbers kind for kind.
fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => serde_json::Value::Number(if let Some(u) = n.as_u64() {
            u.into()
        } else if let Some(i) = n.as_i64() {
            i.into()
        } else {
            let f = n.as_f64().expect("every number has an f64");
            serde_json::Number::from_f64(f).expect("a Number float is finite")
        }),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, item) in map {
                // Keys are unique in our map: a repeat here would hide a reader bug.
                assert!(
                    out.insert(k.clone(), to_serde(item)).is_none(),
                    "repeated key {k:?}"
                );
            }
            serde_json::Value::Object(out)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let ours = json::parse(data);
    let theirs = serde_json::from_slice::<serde_json::Value>(data).ok();
    assert_eq!(
        ours.as_ref().map(to_serde),
        theirs,
        "{:?}",
        String::from_utf8_lossy(data)
    );
    if let (Some(v), Some(t)) = (&ours, &theirs) {
        let text = json::text(v);
        assert_eq!(text, serde_json::to_string(t).expect("a Value serializes"));
        assert_eq!(json::parse(text.as_bytes()).as_ref(), Some(v));
        // The scanner hands out the value's text as written.
        let input = std::str::from_utf8(data).expect("parsed, so UTF-8");
        let mut r = json::Reader::new(input);
        assert_eq!(r.raw(), Some(input.trim_matches(|c| " \t\r\n".contains(c))));
        assert_eq!(r.end(), Some(()));
    }
});
