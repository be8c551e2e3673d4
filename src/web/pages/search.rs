//! Search: the query language of `kronika search`, with filters and highlighted snippets.

use axum::Router;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
