//! The web interface: a thin face on [`crate::app`], as the CLI is.
//! Server-rendered pages (askama templates, escaped by default), htmx for
//! partial updates, every asset embedded in the binary. Nothing is shown
//! without signing in; every form carries a CSRF token; mail is text,
//! escaped, under a strict Content-Security-Policy.
//!
//! `serve` runs until its [`Shutdown`] is triggered: `kronika run` spawns
//! it beside the sources, `kronika serve` runs it alone.

pub mod auth;
pub mod i18n;
mod pages;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::config::Config;
use crate::shutdown::Shutdown;
use crate::store::Store;

/// The Content-Security-Policy of every response: nothing from elsewhere,
/// no inline script or style, no framing.
pub const CSP: &str =
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// What every handler shares: one store connection (handlers use it on
/// blocking threads), the config and the sign-in throttle.
pub struct WebState {
    pub(crate) store: Mutex<Store>,
    pub(crate) config: Config,
    pub(crate) throttle: Mutex<auth::Throttle>,
}

pub(crate) type AppState = Arc<WebState>;

/// Serves the web interface on `addr` until `shutdown` is triggered.
pub async fn serve(addr: SocketAddr, config: Config, shutdown: Shutdown) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_listener(listener, config, shutdown).await
}

/// Serves on a bound listener (tests bind 127.0.0.1:0 and read the port).
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let store = Store::open_config(&config).map_err(std::io::Error::other)?;
    let state =
        Arc::new(WebState { store: Mutex::new(store), config, throttle: Mutex::new(auth::Throttle::default()) });
    tracing::info!("web interface on http://{}", listener.local_addr()?);
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await
}

/// Every route.
pub(crate) fn router(state: AppState) -> Router {
    pages::routes().layer(axum::middleware::map_response(security_headers)).with_state(state)
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    // A handler may set a stricter policy of its own (the HTML mail frame,
    // downloads); everything else gets the site's.
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
