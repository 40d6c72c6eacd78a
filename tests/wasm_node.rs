//! The slice scenario under wasm-bindgen-test in Node.
#![cfg(target_arch = "wasm32")]

mod common;

common::all_scenario_tests!();
