//! The filter validator on arbitrary JSON (and the field-path check on arbitrary text):
//! a typed error or a validated filter, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shotgrid_wasm::protocol::{filters, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = filters::validate_field_path(text, "filters[0][0]");
    // Filters reach the validator through the client's own reader (JS arguments are
    // `JSON.stringify`d and read with it).
    if let Some(value) = json::parse(data) {
        if let Ok(f) = filters::validate(&value) {
            let _ = f.is_empty();
            let _ = f.simple_query();
        }
    }
});
