//! One item, whole: the text, HTML mail sanitised in a sandboxed frame, attachments to download.

use axum::Router;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
