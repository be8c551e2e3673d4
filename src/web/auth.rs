//! Signing in: password hashes (Argon2id), session tokens, cookies, CSRF
//! tokens and the throttle on failed sign-ins.
//!
//! A session cookie carries 32 random bytes (hex); the store keeps only
//! their SHA-256, so a copy of the database opens no session. Every form
//! carries a CSRF token: the session's own once signed in, and before
//! that (the sign-in form) one matched against a cookie of its own.

use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::http::HeaderMap;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "kronika_session";
/// The sign-in form's CSRF cookie.
pub const LOGIN_CSRF_COOKIE: &str = "kronika_login_csrf";
/// The language override cookie.
pub const LANG_COOKIE: &str = "lang";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Hashes a password for storing (Argon2id, random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// True when `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A hash no password matches, checked when the user does not exist so
/// that a wrong name takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token().unwrap_or_default()).unwrap_or_default())
}

/// 32 random bytes from the kernel, as hex.
pub fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// The SHA-256 of a cookie value, as the store keeps it.
pub fn token_hash(token: &str) -> String {
    crate::text::sha256_hex(token.as_bytes())
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// True when the request came over TLS (to a proxy that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').next().unwrap_or("").trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure over TLS;
/// `max_age` 0 removes it.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failures a user name may have before it waits.
pub const USER_FREE_FAILURES: u32 = 5;
/// Failures an address may have before it waits (several people may share one).
pub const IP_FREE_FAILURES: u32 = 20;
/// The first wait; it doubles with every further failure, up to [`MAX_WAIT`].
pub const FIRST_WAIT: Duration = Duration::from_secs(30);
pub const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Failed sign-ins per user name and per client address: after the free
/// failures each key waits, exponentially longer with each failure. A
/// good sign-in clears the user's count (not the address's).
#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<String, (u32, Instant)>,
}

impl Throttle {
    fn wait_for(&self, key: &str, free: u32, now: Instant) -> Option<Duration> {
        let (n, last) = self.failures.get(key)?;
        if *n < free {
            return None;
        }
        let exp = (*n - free).min(16);
        let wait = FIRST_WAIT.saturating_mul(1 << exp).min(MAX_WAIT);
        let until = *last + wait;
        (until > now).then(|| until - now)
    }

    /// How long this user or this address must still wait, if at all.
    pub fn blocked(&self, user: &str, ip: IpAddr, now: Instant) -> Option<Duration> {
        let u = self.wait_for(&format!("u:{}", user.trim().to_lowercase()), USER_FREE_FAILURES, now);
        let i = self.wait_for(&format!("ip:{ip}"), IP_FREE_FAILURES, now);
        u.max(i)
    }

    pub fn failed(&mut self, user: &str, ip: IpAddr, now: Instant) {
        if self.failures.len() > 100_000 {
            // Bounded memory whatever is thrown at the form: old entries go.
            self.failures.retain(|_, (_, last)| now.duration_since(*last) < MAX_WAIT);
        }
        for key in [format!("u:{}", user.trim().to_lowercase()), format!("ip:{ip}")] {
            let e = self.failures.entry(key).or_insert((0, now));
            e.0 = e.0.saturating_add(1);
            e.1 = now;
        }
    }

    pub fn succeeded(&mut self, user: &str) {
        self.failures.remove(&format!("u:{}", user.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("tajné heslo").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("tajné heslo", &h));
        assert!(!verify_password("tajne heslo", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("", dummy_hash()));
    }

    #[test]
    fn tokens_and_cookies() {
        let t = random_token().unwrap();
        assert_eq!(t.len(), 64);
        assert_ne!(t, random_token().unwrap());
        assert!(same_token(&t, &t.clone()) && !same_token(&t, "") && !same_token("", ""));
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; kronika_session=abc; lang=cs".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "lang").as_deref(), Some("cs"));
        assert!(!is_https(&h));
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(is_https(&h));
        let c = set_cookie("s", "v", SESSION_TTL, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
    }

    #[test]
    fn throttle_waits_exponentially_per_user_and_per_address() {
        let mut t = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let now = Instant::now();
        for _ in 0..USER_FREE_FAILURES {
            assert!(t.blocked("jana", ip, now).is_none());
            t.failed("jana", ip, now);
        }
        assert_eq!(t.blocked("Jana", ip, now), Some(FIRST_WAIT));
        assert!(t.blocked("eva", ip, now).is_none());
        t.failed("jana", ip, now);
        assert_eq!(t.blocked("jana", ip, now), Some(FIRST_WAIT * 2));
        assert!(t.blocked("jana", ip, now + FIRST_WAIT * 3).is_none());
        t.succeeded("jana");
        assert!(t.blocked("jana", ip, now).is_none());
        let other: IpAddr = "10.0.0.9".parse().unwrap();
        for i in 0..IP_FREE_FAILURES {
            t.failed(&format!("u{i}"), other, now);
        }
        assert!(t.blocked("anyone", other, now).is_some());
        assert!(t.blocked("anyone", ip, now).is_none());
    }
}
