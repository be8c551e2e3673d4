//! One way to build an HTTP client: kronika's user agent, a timeout for
//! the whole request, and HTTP errors as answers (the caller reads the
//! status and says what it means for the thing it asked).

use std::time::Duration;

/// An agent that follows up to `redirects` redirects.
pub fn agent(timeout: Duration, redirects: u32) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(redirects)
        .user_agent(concat!("kronika/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// An agent for WebDAV and Graph: any method (`PROPFIND`, `REPORT`), no
/// redirects followed (the caller follows them, keeping credentials on
/// their site).
pub fn dav_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .max_redirects(0)
        .user_agent(concat!("kronika/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}
