//! Sans-IO core: the REST v1 wire format as plain functions and data. No I/O, no JS,
//! no clocks (times are passed in), so everything here is unit-tested natively.

pub mod ami;
pub mod auth;
pub mod common;
pub mod error;
pub mod events;
pub mod filters;
pub mod hooks;
pub mod http;
pub mod json;
pub mod naming;
pub mod navigation;
pub mod query;
pub mod record;
pub mod retry;
pub mod schema;
pub mod search;
pub mod site;
pub mod social;
pub mod transcode;
pub mod upload;
pub mod write;

pub use error::{Error, ErrorKind};
