//! The slice scenario under wasm-bindgen-test in headless Chromium.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn info() {
    common::info().await;
}
#[wasm_bindgen_test]
async fn read_record() {
    common::read_record().await;
}
#[wasm_bindgen_test]
async fn wrong_secret() {
    common::wrong_secret().await;
}
#[wasm_bindgen_test]
async fn missing_record() {
    common::missing_record().await;
}
#[wasm_bindgen_test]
async fn invalid_input() {
    common::invalid_input().await;
}
#[wasm_bindgen_test]
async fn connect_without_sender() {
    common::connect_without_sender().await;
}
#[wasm_bindgen_test]
async fn corrupted_token() {
    common::corrupted_token().await;
}
#[wasm_bindgen_test]
async fn single_flight_refresh() {
    common::single_flight_refresh().await;
}
#[wasm_bindgen_test]
fn json_numbers() {
    common::json_numbers();
}
#[wasm_bindgen_test]
fn op_lists_match_api_js() {
    common::op_lists_match_api_js();
}
