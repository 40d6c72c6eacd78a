//! Sans-IO core: the REST v1 wire format as plain functions and data. No I/O, no JS,
//! no clocks (times are passed in), so everything here is unit-tested natively.

pub mod auth;
pub mod common;
pub mod error;
pub mod filters;
pub mod hooks;
pub mod http;
pub mod naming;
pub mod navigation;
pub mod query;
pub mod record;
pub mod schema;
pub mod search;
pub mod site;
pub mod social;
pub mod write;

pub use error::{Error, ErrorKind};
