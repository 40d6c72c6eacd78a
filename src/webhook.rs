//! Webhook deliveries: signature verification and payload decoding, sans-IO.
//!
//! ShotGrid signs each delivery with `x-sg-signature: sha1=<hex>`, the HMAC-SHA1 of the
//! raw request body keyed by the webhook's secret token. [`verify`] checks that header
//! in constant time *before* anything in the body is trusted, then decodes the body into
//! its deliveries: one for a plain hook, up to 50 (`data.deliveries`) for a hook with
//! batched deliveries.
//!
//! Errors are [`Error`]s that say what was wrong without echoing secrets:
//! - no header (or an empty one): `invalid_input`, title "Missing webhook signature";
//! - a header that is not `sha1=` followed by 40 hex digits: `invalid_input`, title
//!   "Malformed webhook signature";
//! - a well-formed signature that does not match: `auth`, title "Webhook signature
//!   mismatch" (a forgery, a wrong token, or a body altered on the way, e.g. re-encoded);
//! - a verified body that is not a delivery payload: `decode`.

use crate::protocol::json::{Map, Value};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::protocol::{Error, ErrorKind};

/// The header ShotGrid puts the signature in.
pub const SIGNATURE_HEADER: &str = "x-sg-signature";

/// A verified delivery request.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookPayload {
    /// The payload's `timestamp` (ISO 8601), when present.
    pub timestamp: Option<String>,
    /// Whether the hook sends batched deliveries (`data.deliveries`).
    pub batched: bool,
    /// The deliveries, in the order ShotGrid sent them. Each is the JSON object ShotGrid
    /// documents: `id`, `event_log_entry_id`, `event_type`, `operation`, `user`,
    /// `entity`, `project`, `meta`, `created_at`, `attribute_name`, `session_uuid`,
    /// `delivery_id`…
    pub deliveries: Vec<Value>,
}

fn signature_error(kind: ErrorKind, title: &str, detail: &str) -> Error {
    let mut e = Error::new(kind, title);
    e.detail = Some(detail.to_owned());
    e.source = Some(Value::String("signatureHeader".to_owned()));
    e
}

/// Parses `sha1=<40 hex digits>` (case-insensitive, surrounding spaces ignored) into
/// the 20 digest bytes.
pub fn parse_signature_header(header: Option<&str>) -> Result<[u8; 20], Error> {
    let header = header.map(str::trim).unwrap_or("");
    if header.is_empty() {
        return Err(signature_error(
            ErrorKind::InvalidInput,
            "Missing webhook signature",
            "no x-sg-signature header: the request is not from ShotGrid, or the webhook has no secret token",
        ));
    }
    let malformed = || {
        signature_error(
            ErrorKind::InvalidInput,
            "Malformed webhook signature",
            "x-sg-signature must be \"sha1=\" followed by 40 hexadecimal digits",
        )
    };
    let (scheme, hex) = header.split_once('=').ok_or_else(malformed)?;
    if !scheme.trim().eq_ignore_ascii_case("sha1") {
        return Err(malformed());
    }
    let hex = hex.trim().as_bytes();
    if hex.len() != 40 {
        return Err(malformed());
    }
    let mut out = [0u8; 20];
    for (slot, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (
            pair.first().copied().and_then(hex_value),
            pair.get(1).copied().and_then(hex_value),
        ) else {
            return Err(malformed());
        };
        *slot = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The header value ShotGrid would send for `body` signed with `token`:
/// `sha1=<lowercase hex>`. Useful to test consumers.
pub fn sign(body: &[u8], token: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut out = String::from("sha1=");
    if let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(token.as_bytes()) {
        mac.update(body);
        for b in mac.finalize().into_bytes() {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Checks the signature of `body` (the raw bytes as received: do not re-serialize)
/// against `token` in constant time. Does not look at the body otherwise.
pub fn verify_signature(body: &[u8], header: Option<&str>, token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(Error::invalid_input(
            "token",
            "must be the webhook's secret token (a non-empty string)",
        ));
    }
    let expected = parse_signature_header(header)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes())
        .map_err(|_| Error::invalid_input("token", "cannot be used as an HMAC key"))?;
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| {
        signature_error(
            ErrorKind::Auth,
            "Webhook signature mismatch",
            "x-sg-signature does not match the body: a forged request, a wrong token, or a body changed on the way",
        )
    })
}

/// Verifies the signature, then decodes the body into its deliveries.
pub fn verify(body: &[u8], header: Option<&str>, token: &str) -> Result<WebhookPayload, Error> {
    verify_signature(body, header, token)?;
    parse_payload(body)
}

fn payload_error(detail: &str) -> Error {
    let mut e = Error::new(ErrorKind::Decode, "Unexpected webhook payload");
    e.detail = Some(detail.to_owned());
    e
}

/// Decodes a delivery body (`{data, timestamp}` or `{data: {deliveries: [...]},
/// timestamp}`) without checking its signature: call [`verify`] on untrusted input.
pub fn parse_payload(body: &[u8]) -> Result<WebhookPayload, Error> {
    let value =
        crate::protocol::json::parse(body).ok_or_else(|| payload_error("the body is not JSON"))?;
    let Value::Object(mut top) = value else {
        return Err(payload_error("the body is not a JSON object"));
    };
    let timestamp = match top.remove("timestamp") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let data = match top.remove("data") {
        Some(Value::Object(d)) => d,
        _ => return Err(payload_error("the body has no `data` object")),
    };
    if let Some(list) = batched_list(&data) {
        let mut deliveries = Vec::with_capacity(list.len());
        for item in list {
            if !item.is_object() {
                return Err(payload_error("data.deliveries must hold objects"));
            }
            deliveries.push(item.clone());
        }
        return Ok(WebhookPayload {
            timestamp,
            batched: true,
            deliveries,
        });
    }
    Ok(WebhookPayload {
        timestamp,
        batched: false,
        deliveries: vec![Value::Object(data)],
    })
}

fn batched_list(data: &Map<String, Value>) -> Option<&Vec<Value>> {
    match data.get("deliveries") {
        // A single delivery has an `event_type`; a batch only `deliveries`.
        Some(Value::Array(list)) if !data.contains_key("event_type") => Some(list),
        _ => None,
    }
}

impl WebhookPayload {
    /// `{ timestamp, batched, deliveries }` as JSON (what JS receives).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert(
            "timestamp".into(),
            self.timestamp.clone().map_or(Value::Null, Value::String),
        );
        o.insert("batched".into(), Value::Bool(self.batched));
        o.insert("deliveries".into(), Value::Array(self.deliveries.clone()));
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3cret-token";

    #[test]
    fn sign_matches_a_known_hmac_sha1_vector() {
        // RFC 2202 test case 2.
        assert_eq!(
            sign(b"what do ya want for nothing?", "Jefe"),
            "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn verifies_a_single_delivery() {
        let body = br#"{"data":{"id":"1","event_type":"Shotgun_Shot_Change","operation":"update","entity":{"type":"Shot","id":3},"delivery_id":"d1"},"timestamp":"2026-01-01T00:00:00Z"}"#;
        let header = sign(body, TOKEN);
        let p = verify(body, Some(&header), TOKEN).unwrap();
        assert!(!p.batched);
        assert_eq!(p.timestamp.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(p.deliveries.len(), 1);
        assert_eq!(p.deliveries[0]["delivery_id"], "d1");
        // Upper-case hex and spaces are accepted.
        let upper = format!("  SHA1={}  ", header[5..].to_uppercase());
        assert!(verify(body, Some(&upper), TOKEN).is_ok());
    }

    #[test]
    fn verifies_a_batch() {
        let body =
            br#"{"timestamp":"t","data":{"deliveries":[{"delivery_id":"a"},{"delivery_id":"b"}]}}"#;
        let p = verify(body, Some(&sign(body, TOKEN)), TOKEN).unwrap();
        assert!(p.batched);
        let ids: Vec<_> = p
            .deliveries
            .iter()
            .map(|d| d["delivery_id"].clone())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        let bad = br#"{"data":{"deliveries":[1]}}"#;
        let e = verify(bad, Some(&sign(bad, TOKEN)), TOKEN).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode);
    }

    #[test]
    fn rejects_missing_malformed_and_wrong_signatures() {
        let body = br#"{"data":{"event_type":"x"}}"#;
        for missing in [None, Some(""), Some("   ")] {
            let e = verify(body, missing, TOKEN).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(e.title, "Missing webhook signature");
        }
        for malformed in [
            "abc",
            "sha1=",
            "sha256=0000000000000000000000000000000000000000",
            "sha1=zz00000000000000000000000000000000000000",
            "sha1=00000000000000000000000000000000000000000",
            "sha1=ééééééééééééééééééééé",
        ] {
            let e = verify(body, Some(malformed), TOKEN).unwrap_err();
            assert_eq!(e.title, "Malformed webhook signature", "{malformed}");
        }
        let e = verify(body, Some(&sign(body, "other")), TOKEN).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.title, "Webhook signature mismatch");
        assert!(!e.message().contains(TOKEN));
        // A changed body fails even with the original signature.
        let header = sign(body, TOKEN);
        assert!(verify(br#"{"data":{"event_type":"y"}}"#, Some(&header), TOKEN).is_err());
        assert_eq!(
            verify(body, Some(&header), "").unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn rejects_bodies_that_are_not_payloads() {
        for body in [&b"not json"[..], b"[]", b"{}", b"{\"data\":3}"] {
            let e = verify(body, Some(&sign(body, TOKEN)), TOKEN).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Decode);
        }
    }
}
