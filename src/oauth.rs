//! OAuth2 for mail accounts: signing in once (`kronika login`: the
//! device-code flow of RFC 8628, or the authorization-code flow with PKCE
//! and a loopback redirect, RFC 7636 and RFC 8252), keeping the refresh
//! token in a file only the user can read, and handing the IMAP source a
//! fresh access token whenever it connects.
//!
//! Tokens never reach a log, an error or `Debug` output.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::OAuthConfig;

/// Why a token could not be had. Callers branch: `LoginNeeded` waits for
/// the user to run `kronika login`, `Network` is retried, the rest is shown.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("cannot sign in to {account}: {reason}; run `kronika login {account}`")]
    LoginNeeded { account: String, reason: String },
    #[error("cannot reach {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("cannot sign in: {0}")]
    Refused(String),
    #[error("cannot keep the sign-in in {path}: {reason}")]
    Keep { path: PathBuf, reason: String },
}

/// What a sign-in yields. `Debug` hides the tokens.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds when the access token expires.
    pub expires_at: i64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"***")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// How long an HTTP exchange with the provider may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// An access token this close to its expiry is refreshed first.
const EARLY: i64 = 120;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Where an account's sign-in is kept: `<data_dir>/oauth/<account>.json`.
pub fn token_path(data_dir: &Path, account: &str) -> PathBuf {
    data_dir.join("oauth").join(format!("{account}.json"))
}

/// Reads a kept sign-in; `None` when there is none yet.
pub fn load(path: &Path) -> Result<Option<Tokens>, OAuthError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| OAuthError::Keep {
            path: path.to_path_buf(),
            reason: format!("it is not a sign-in kronika wrote ({e}); run `kronika login` again"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OAuthError::Keep { path: path.to_path_buf(), reason: e.to_string() }),
    }
}

/// Keeps a sign-in: written to a temporary file readable by the owner
/// only, synced, then renamed over the old one (a rotated refresh token
/// replaces the old one whole, or not at all).
pub fn save(path: &Path, tokens: &Tokens) -> Result<(), OAuthError> {
    let keep = |reason: String| OAuthError::Keep { path: path.to_path_buf(), reason };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| keep(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let body = serde_json::to_vec_pretty(tokens).map_err(|e| keep(e.to_string()))?;
    let mut f = options.open(&tmp).map_err(|e| keep(e.to_string()))?;
    f.write_all(&body).and_then(|_| f.sync_all()).map_err(|e| keep(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| keep(e.to_string()))
}

/// A provider's JSON answer (tokens, or an error).
#[derive(Deserialize, Default)]
struct Answer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    error: Option<String>,
    error_description: Option<String>,
    // The device-code flow's first answer.
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    verification_url: Option<String>,
    verification_uri_complete: Option<String>,
    interval: Option<serde_json::Value>,
    message: Option<String>,
}

impl Answer {
    fn error_text(&self) -> String {
        match (&self.error, &self.error_description) {
            (Some(e), Some(d)) => format!("{e}: {}", crate::text::ellipsize(d.trim(), 300)),
            (Some(e), None) => e.clone(),
            _ => "the provider gave no reason".into(),
        }
    }

    fn seconds(v: &Option<serde_json::Value>) -> Option<i64> {
        match v {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn tokens(self, old_refresh: Option<&str>) -> Result<Tokens, OAuthError> {
        let access = self
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::Refused("the provider's answer has no access token".into()))?;
        let lifetime = Answer::seconds(&self.expires_in).unwrap_or(3600).clamp(0, 10 * 365 * 86_400);
        Ok(Tokens {
            access_token: access,
            // A provider that rotates sends a new one; otherwise the old one stays.
            refresh_token: self.refresh_token.filter(|t| !t.is_empty()).or(old_refresh.map(str::to_string)),
            expires_at: now().saturating_add(lifetime),
        })
    }
}

/// POSTs a form to the provider; returns the HTTP status and the JSON answer.
fn post(url: &str, form: &[(&str, &str)]) -> Result<(u16, Answer), OAuthError> {
    let agent = crate::http::agent(HTTP_TIMEOUT, 10);
    let network = |reason: String| OAuthError::Network { url: url.to_string(), reason };
    let mut resp = agent
        .post(url)
        .header("Accept", "application/json")
        .send_form(form.iter().copied())
        .map_err(|e| network(e.to_string()))?;
    let status = resp.status().as_u16();
    let body = resp.body_mut().with_config().limit(1 << 20).read_to_vec().map_err(|e| network(e.to_string()))?;
    let answer: Answer = serde_json::from_slice(&body).unwrap_or_else(|_| Answer {
        error: Some(format!("HTTP {status}")),
        error_description: Some("the answer is not JSON".into()),
        ..Answer::default()
    });
    Ok((status, answer))
}

/// Adds the client's identity (and secret, when it has one) to a form.
fn with_client<'a>(cfg: &'a OAuthConfig, mut form: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    form.push(("client_id", cfg.client_id.as_str()));
    if let Some(secret) = &cfg.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    form
}

/// A new access token from the refresh token. A refused refresh token
/// (revoked, expired, the password changed) means the user must sign in again.
pub fn refresh(cfg: &OAuthConfig, account: &str, refresh_token: &str) -> Result<Tokens, OAuthError> {
    let scope = cfg.scopes.join(" ");
    let form = with_client(
        cfg,
        vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("scope", scope.as_str())],
    );
    let (status, answer) = post(&cfg.token_url, &form)?;
    if (200..300).contains(&status) {
        return answer.tokens(Some(refresh_token));
    }
    match answer.error.as_deref() {
        Some("invalid_grant") | Some("unauthorized_client") | Some("invalid_client") => {
            Err(OAuthError::LoginNeeded { account: account.to_string(), reason: answer.error_text() })
        }
        _ if status >= 500 || status == 429 => Err(OAuthError::Network {
            url: cfg.token_url.clone(),
            reason: format!("HTTP {status}: {}", answer.error_text()),
        }),
        _ => Err(OAuthError::Refused(answer.error_text())),
    }
}

/// What the user is asked to do in the device-code flow.
#[derive(Debug, Clone)]
pub struct DevicePrompt {
    pub user_code: String,
    pub verification_uri: String,
    /// The provider's own sentence, when it sends one.
    pub message: Option<String>,
}

/// The device-code flow: asks for a code, shows it (`show`), and waits
/// until the user has approved it on any device (or it expires).
pub fn device_login(cfg: &OAuthConfig, show: &mut dyn FnMut(&DevicePrompt)) -> Result<Tokens, OAuthError> {
    let device_url =
        cfg.device_url.as_deref().ok_or_else(|| OAuthError::Refused("this provider has no device_url".into()))?;
    let scope = cfg.scopes.join(" ");
    let (status, answer) = post(device_url, &with_client(cfg, vec![("scope", scope.as_str())]))?;
    if !(200..300).contains(&status) {
        return Err(OAuthError::Refused(answer.error_text()));
    }
    let device_code =
        answer.device_code.clone().ok_or_else(|| OAuthError::Refused("the answer has no device_code".into()))?;
    let prompt = DevicePrompt {
        user_code: answer.user_code.clone().unwrap_or_default(),
        verification_uri: answer
            .verification_uri_complete
            .clone()
            .or(answer.verification_uri.clone())
            .or(answer.verification_url.clone())
            .unwrap_or_default(),
        message: answer.message.clone(),
    };
    show(&prompt);
    let mut interval = Duration::from_secs(Answer::seconds(&answer.interval).unwrap_or(5).clamp(1, 60).unsigned_abs());
    let lifetime = Answer::seconds(&answer.expires_in).unwrap_or(900).clamp(30, 3600).unsigned_abs();
    let deadline = Instant::now() + Duration::from_secs(lifetime);
    loop {
        std::thread::sleep(interval);
        if Instant::now() > deadline {
            return Err(OAuthError::Refused(
                "the code expired before it was approved; run `kronika login` again".into(),
            ));
        }
        let form = with_client(
            cfg,
            vec![("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", device_code.as_str())],
        );
        let (status, answer) = post(&cfg.token_url, &form)?;
        if (200..300).contains(&status) {
            return answer.tokens(None);
        }
        match answer.error.as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            Some("expired_token") => {
                return Err(OAuthError::Refused("the code expired; run `kronika login` again".into()));
            }
            Some("access_denied") | Some("authorization_declined") => {
                return Err(OAuthError::Refused("the sign-in was declined".into()));
            }
            _ => return Err(OAuthError::Refused(answer.error_text())),
        }
    }
}

/// Random bytes from the system, base64url without padding.
fn random_b64(n: usize) -> Result<String, OAuthError> {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| OAuthError::Refused(format!("cannot read random bytes: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The PKCE challenge of a verifier (S256).
pub fn pkce_challenge(verifier: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The value of `key` in a query string (`a=1&b=x%20y`), decoded.
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}

/// The authorization-code flow with PKCE: listens on a loopback port,
/// shows the address to open (`show`; a browser is started when one can
/// be), and exchanges the code the redirect brings. Waits at most 5 minutes.
pub fn browser_login(cfg: &OAuthConfig, open_browser: bool, show: &mut dyn FnMut(&str)) -> Result<Tokens, OAuthError> {
    let auth_url =
        cfg.auth_url.as_deref().ok_or_else(|| OAuthError::Refused("this provider has no auth_url".into()))?;
    let listener = std::net::TcpListener::bind(("127.0.0.1", cfg.redirect_port))
        .map_err(|e| OAuthError::Refused(format!("cannot listen on 127.0.0.1:{}: {e}", cfg.redirect_port)))?;
    let port = listener.local_addr().map_err(|e| OAuthError::Refused(e.to_string()))?.port();
    let redirect = format!("http://127.0.0.1:{port}/");
    let verifier = random_b64(48)?;
    let state = random_b64(24)?;
    let sep = if auth_url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{auth_url}{sep}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256&access_type=offline&prompt=consent",
        encode(&cfg.client_id),
        encode(&redirect),
        encode(&cfg.scopes.join(" ")),
        encode(&state),
        encode(&pkce_challenge(&verifier)),
    );
    show(&url);
    if open_browser {
        // Best effort: without a desktop the printed address does it.
        let _ = std::process::Command::new("xdg-open")
            .arg(&url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
    listener.set_nonblocking(true).map_err(|e| OAuthError::Refused(e.to_string()))?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let code = loop {
        if Instant::now() > deadline {
            return Err(OAuthError::Refused("nobody came back from the sign-in page within 5 minutes".into()));
        }
        let (stream, _) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(e) => return Err(OAuthError::Refused(format!("cannot take the redirect: {e}"))),
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut line = String::new();
        let mut reader = BufReader::new(&stream);
        if reader.read_line(&mut line).is_err() {
            continue;
        }
        // Drain the request head.
        let mut header = String::new();
        while reader.read_line(&mut header).map(|n| n > 2).unwrap_or(false) {
            header.clear();
        }
        let target = line.split(' ').nth(1).unwrap_or("");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let answer = |mut s: &std::net::TcpStream, status: &str, text: &str| {
            let page = format!(
                "<!doctype html><meta charset=utf-8><title>kronika</title><p style=\"font-family:sans-serif\">{text}</p>"
            );
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        };
        if query_value(query, "state").as_deref() != Some(state.as_str()) {
            // A stray request (a favicon, a scanner): not ours.
            answer(&stream, "400 Bad Request", "This is not the sign-in kronika is waiting for.");
            continue;
        }
        if let Some(e) = query_value(query, "error") {
            answer(&stream, "200 OK", "The sign-in was not completed. You can close this window.");
            let d = query_value(query, "error_description").unwrap_or_default();
            return Err(OAuthError::Refused(format!("{e} {d}").trim().to_string()));
        }
        match query_value(query, "code") {
            Some(code) => {
                answer(&stream, "200 OK", "kronika is signed in. You can close this window.");
                break code;
            }
            None => answer(&stream, "400 Bad Request", "The answer has no code."),
        }
    };
    let form = with_client(
        cfg,
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", verifier.as_str()),
        ],
    );
    let (status, answer) = post(&cfg.token_url, &form)?;
    if (200..300).contains(&status) { answer.tokens(None) } else { Err(OAuthError::Refused(answer.error_text())) }
}

/// Hands out access tokens for one account: the kept one while it is
/// fresh, otherwise a refreshed one (kept at once, rotation included).
pub struct TokenSource {
    cfg: OAuthConfig,
    account: String,
    path: PathBuf,
    /// `Some`: the tokens are for other scopes than the sign-in's own (a
    /// calendar on a mailbox's sign-in): the kept access token is the
    /// mailbox's and is never handed out; this one lives in memory only.
    scoped: Option<std::sync::Mutex<Option<(String, i64)>>>,
}

impl TokenSource {
    pub fn new(cfg: OAuthConfig, account: &str, path: PathBuf) -> TokenSource {
        TokenSource { cfg, account: account.to_string(), path, scoped: None }
    }

    /// Access tokens for `scopes` redeemed from the refresh token another
    /// account's `kronika login` kept (one sign-in for a mailbox and its
    /// calendar). A rotated refresh token is kept; the mailbox's own access
    /// token is left alone.
    pub fn for_scopes(mut cfg: OAuthConfig, account: &str, path: PathBuf, scopes: &[String]) -> TokenSource {
        cfg.scopes = scopes.to_vec();
        TokenSource { cfg, account: account.to_string(), path, scoped: Some(std::sync::Mutex::new(None)) }
    }

    /// Where the sign-in is kept (the daemon waits for it to change after `login needed`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A usable access token; `force` refreshes even a fresh-looking one
    /// (the server refused it).
    pub fn access_token(&self, force: bool) -> Result<String, OAuthError> {
        let kept = load(&self.path)?.ok_or_else(|| OAuthError::LoginNeeded {
            account: self.account.clone(),
            reason: "it has not signed in yet".into(),
        })?;
        if let Some(cache) = &self.scoped {
            let mut cache = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((token, expires_at)) = cache.as_ref()
                && !force
                && expires_at.saturating_sub(EARLY) > now()
            {
                return Ok(token.clone());
            }
            let refresh_token = kept.refresh_token.clone().ok_or_else(|| self.no_refresh_token())?;
            let fresh = refresh(&self.cfg, &self.account, &refresh_token)?;
            if fresh.refresh_token != kept.refresh_token {
                save(&self.path, &Tokens { refresh_token: fresh.refresh_token.clone(), ..kept })?;
            }
            *cache = Some((fresh.access_token.clone(), fresh.expires_at));
            return Ok(fresh.access_token);
        }
        if !force && kept.expires_at.saturating_sub(EARLY) > now() {
            return Ok(kept.access_token);
        }
        let refresh_token = kept.refresh_token.clone().ok_or_else(|| self.no_refresh_token())?;
        let fresh = refresh(&self.cfg, &self.account, &refresh_token)?;
        save(&self.path, &fresh)?;
        tracing::debug!("refreshed the access token of {}", self.account);
        Ok(fresh.access_token)
    }

    fn no_refresh_token(&self) -> OAuthError {
        OAuthError::LoginNeeded { account: self.account.clone(), reason: "the provider gave no refresh token".into() }
    }
}

/// The SASL initial response for XOAUTH2 (Google's and Microsoft's).
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// The SASL initial response for OAUTHBEARER (RFC 7628).
pub fn oauthbearer(user: &str, token: &str) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01auth=Bearer {token}\x01\x01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn sasl_payloads() {
        assert_eq!(xoauth2("a@b.cz", "T"), "user=a@b.cz\x01auth=Bearer T\x01\x01");
        assert_eq!(oauthbearer("a,b=c@d.cz", "T"), "n,a=a=2Cb=3Dc@d.cz,\x01auth=Bearer T\x01\x01");
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(query_value("code=a%2Fb&state=x+y", "code").as_deref(), Some("a/b"));
        assert_eq!(query_value("code=a%2Fb&state=x+y", "state").as_deref(), Some("x y"));
        assert_eq!(query_value("code", "code").as_deref(), Some(""));
        assert_eq!(query_value("", "code"), None);
        assert_eq!(query_value("x=%ZZ%", "x").as_deref(), Some("%ZZ%"));
    }

    #[test]
    fn kept_tokens_are_private_and_hidden_from_debug() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(dir.path(), "work");
        let t = Tokens { access_token: "AT-secret".into(), refresh_token: Some("RT-secret".into()), expires_at: 1 };
        save(&path, &t).unwrap();
        assert_eq!(load(&path).unwrap(), Some(t.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let shown = format!("{t:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(load(&token_path(dir.path(), "none")).unwrap(), None);
    }
}
