//! The client's JSON reader and writer (`protocol::json`, what the .wasm parses every
//! body and argument with) against serde_json's on arbitrary bytes: the same value or
//! both reject, the same text written, and the written text reads back to the value.
//! serde_json here has `float_roundtrip`, so both read floats correctly rounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shotgrid_wasm::protocol::json;

fuzz_target!(|data: &[u8]| {
    let ours = json::parse(data);
    let theirs = serde_json::from_slice::<Value>(data).ok();
    assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(data));
    if let Some(v) = &ours {
        let text = json::text(v);
        assert_eq!(text, serde_json::to_string(v).expect("a Value serializes"));
        assert_eq!(json::parse(text.as_bytes()).as_ref(), Some(v));
        // The scanner hands out the value's text as written.
        let input = std::str::from_utf8(data).expect("parsed, so UTF-8");
        let mut r = json::Reader::new(input);
        assert_eq!(r.raw(), Some(input.trim_matches(|c| " \t\r\n".contains(c))));
        assert_eq!(r.end(), Some(()));
    }
});
