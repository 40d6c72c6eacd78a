//! HTTP routes by area. Each area module exposes `pub fn router() -> Router<AppState>`
//! and is merged here with one line, so areas can be built independently. Handlers only
//! parse and render; decisions live in [`crate::model`].

use axum::Router;

use crate::http::AppState;

pub mod search;

/// Every area's routes.
pub fn router() -> Router<AppState> {
    Router::new().merge(search::router())
}
