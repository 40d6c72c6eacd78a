//! The webhook verifier on arbitrary input: first line the signing token, second line
//! the `x-sg-signature` header (absent when empty), the rest the body. A forgery is a
//! typed error, never a panic; a body signed with a (non-empty) token always verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shotgrid_wasm::webhook;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let token = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let header = parts
        .next()
        .map(|h| String::from_utf8_lossy(h).into_owned());
    let body = parts.next().unwrap_or_default();
    let header = header.as_deref().filter(|h| !h.is_empty());
    let _ = webhook::parse_signature_header(header);
    let _ = webhook::verify_signature(body, header, &token);
    let _ = webhook::verify(body, header, &token);
    let _ = webhook::parse_payload(body);
    // An empty token is refused as input; any other signs and verifies.
    let signed = webhook::sign(body, &token);
    assert_eq!(
        webhook::verify_signature(body, Some(&signed), &token).is_ok(),
        !token.is_empty()
    );
});
