//! HTTP routes by area. Each area module exposes `pub fn router() -> Router<AppState>`
//! and is merged here with one line, so areas can be built independently. Handlers only
//! parse and render; decisions live in [`crate::model`].

pub mod admin;
pub mod entities;
pub mod files;
pub mod openapi;
pub mod schema;
pub mod search;
pub mod social;
pub mod storage;
pub mod webhooks;

use axum::Router;

use crate::http::AppState;

/// Every area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(entities::router())
        .merge(schema::router())
        .merge(search::router())
        .merge(admin::router())
        .merge(webhooks::router())
        .merge(social::router())
        .merge(openapi::router())
}
