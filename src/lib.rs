//! # shotgrid-wasm
//!
//! A ShotGrid (Autodesk Flow Production Tracking) REST API v1 client, written in Rust and
//! compiled to WebAssembly for browsers, Node ≥ 18 and Cloudflare Workers.
//!
//! - [`protocol`]: the sans-IO wire format (requests, responses, errors, naming, auth).
//! - [`client`]: the async engine over a [`client::Transport`].
//! - `transport` (wasm only): the `fetch` transport.
//! - `js` (wasm only): the wasm-bindgen facade that JS imports.

pub mod client;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod transport;

#[cfg(target_arch = "wasm32")]
pub mod js;

/// The allocator of the .wasm: talc (wasm-specific binning, grows linear memory on
/// demand), smaller in the module than the default dlmalloc and faster.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
