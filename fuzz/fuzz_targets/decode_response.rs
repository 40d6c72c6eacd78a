//! Every decoder of a site answer, fed the same arbitrary response: status from the
//! first two bytes, then `name: value` header lines up to an empty line, then the body.
//! None may panic; each returns a record, a value or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shotgrid_wasm::protocol::http::HttpResponse;
use shotgrid_wasm::protocol::{
    auth, error::Error, query, record, retry, schema, search, site::Site, transcode, upload, write,
};

fn response(data: &[u8]) -> HttpResponse {
    let (status, rest) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]) % 1000, rest),
        _ => (200, data),
    };
    let mut headers = Vec::new();
    let mut body = rest;
    while let Some(end) = body.iter().position(|&b| b == b'\n') {
        let (line, after) = body.split_at(end);
        body = after.get(1..).unwrap_or_default();
        if line.is_empty() {
            break;
        }
        let line = String::from_utf8_lossy(line);
        match line.split_once(':') {
            Some((k, v)) => headers.push((k.trim().to_owned(), v.trim().to_owned())),
            None => break,
        }
    }
    HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let resp = response(data);
    let site = Site::parse("https://studio.shotgrid.autodesk.com").expect("a valid site");
    let _ = transcode::transcode_page(&resp);
    let _ = transcode::transcode_single(&resp);
    let _ = query::decode_page(&resp);
    let _ = record::decode_single(&resp);
    if let Ok(v) = record::parse_json(&resp) {
        let _ = record::take_data(v.clone(), &resp);
        let _ = record::flatten_resource(v);
    }
    let _ = write::decode_batch(&resp);
    let _ = write::decode_revive(&resp);
    let _ = search::decode_text_search(&resp);
    let _ = search::decode_summarize(&resp);
    let _ = schema::decode_entities(&resp);
    let _ = schema::decode_schema_object(&resp);
    let _ = auth::parse_token_response(&resp, 1.7e12);
    let _ = upload::decode_info(&resp, &site);
    let _ = upload::decode_etag(&resp);
    let _ = upload::decode_next_part(&resp, &site);
    let _ = upload::metadata_url(&resp, &site);
    let _ = upload::redirect_location(&resp, "https://studio.shotgrid.autodesk.com/api/v1/x");
    let e = Error::from_response(&resp);
    let _ = e.message();
    let _ = e.is_token_expired();
    if let Some(v) = resp.header("retry-after") {
        let _ = retry::parse_retry_after(v, 1.7e12);
    }
    let _ = retry::decide(
        &retry::RetryPolicy::default(),
        retry::Attempt::Response(&resp),
        1,
        0.5,
        1.7e12,
        &mut retry::RetryBudget::default(),
    );
});
