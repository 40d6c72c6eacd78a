//! The slice scenario under wasm-bindgen-test in headless Chromium.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;

common::all_scenario_tests!();
