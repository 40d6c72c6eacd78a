//! Entity naming on arbitrary text: validation, URL segments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shotgrid_wasm::protocol::naming;

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    let valid = naming::validate_entity_type(name, "entityType").is_ok();
    let segment = naming::url_segment(name);
    let single = naming::singular_segment(name);
    if valid {
        // A valid name always makes a non-empty segment of lowercase letters, digits and
        // underscores: nothing that needs escaping in a URL path.
        assert!(!segment.is_empty() && !single.is_empty());
        assert!(segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
    }
});
