//! Today: the agenda of the day and week, reminders due, threads waiting for our reply, clients gone silent.

use axum::Router;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
