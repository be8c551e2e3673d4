//! Editing: clients (filled from ARES by IČO), contacts, deals, custom fields, notes, links.

use axum::Router;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
