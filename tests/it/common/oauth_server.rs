//! A small OAuth2 authorization server on 127.0.0.1:0 for the tests: the
//! device-code, authorization-code (PKCE) and refresh grants, and token
//! introspection for Dovecot's `oauth2` passdb. The test plays the user:
//! it approves device codes and follows authorization URLs; it can expire
//! access tokens and revoke refresh tokens.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    /// access token → (user, active)
    access: HashMap<String, (String, bool)>,
    /// refresh token → (user, valid)
    refresh: HashMap<String, (String, bool)>,
    /// device code → (user code, approved)
    devices: HashMap<String, (String, bool)>,
    /// authorization code → (PKCE challenge, redirect URI)
    codes: HashMap<String, (String, String)>,
    seq: u64,
    /// Requests to /token, by grant type.
    pub token_requests: HashMap<String, usize>,
    /// Every token handed out (to check none is ever printed).
    issued: Vec<String>,
}

pub struct OAuthServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    /// The user every token belongs to.
    user: String,
}

impl OAuthServer {
    pub fn start(user: &str) -> OAuthServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state: Arc<Mutex<State>> = Arc::default();
        let (s, u) = (state.clone(), user.to_string());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (s, u) = (s.clone(), u.clone());
                std::thread::spawn(move || handle(stream, &s, &u, port));
            }
        });
        OAuthServer { port, state, user: user.to_string() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The user approves the device code shown to them.
    pub fn approve(&self, user_code: &str) {
        let mut st = self.state.lock().unwrap();
        for (code, approved) in st.devices.values_mut() {
            if code == user_code {
                *approved = true;
            }
        }
    }

    /// Every access token handed out so far stops working.
    pub fn expire_access_tokens(&self) {
        for (_, active) in self.state.lock().unwrap().access.values_mut() {
            *active = false;
        }
    }

    /// Every refresh token stops working (the user revoked kronika).
    pub fn revoke_refresh_tokens(&self) {
        for (_, valid) in self.state.lock().unwrap().refresh.values_mut() {
            *valid = false;
        }
    }

    pub fn token_requests(&self, grant: &str) -> usize {
        self.state.lock().unwrap().token_requests.get(grant).copied().unwrap_or(0)
    }

    /// Is this refresh token still accepted?
    pub fn refresh_valid(&self, token: &str) -> bool {
        self.state.lock().unwrap().refresh.get(token).is_some_and(|(_, v)| *v)
    }

    /// Every token handed out.
    pub fn issued(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// Says whether an access token is live (for a resource server: the
    /// Graph-shaped one).
    pub fn checker(&self) -> std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync> {
        let state = self.state.clone();
        std::sync::Arc::new(move |t: &str| state.lock().unwrap().access.get(t).is_some_and(|(_, active)| *active))
    }
}

fn new_token(st: &mut State, kind: &str) -> String {
    st.seq += 1;
    let t = format!("{kind}-{}-{:x}", st.seq, std::process::id() as u64 * 7919 + st.seq * 104_729);
    st.issued.push(t.clone());
    t
}

fn issue(st: &mut State, user: &str) -> String {
    let access = new_token(st, "at");
    let refresh = new_token(st, "rt");
    st.access.insert(access.clone(), (user.to_string(), true));
    st.refresh.insert(refresh.clone(), (user.to_string(), true));
    format!(r#"{{"access_token":"{access}","refresh_token":"{refresh}","token_type":"Bearer","expires_in":3600}}"#)
}

fn form(body: &str) -> HashMap<String, String> {
    body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn pkce(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, user: &str, port: u16) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    let target = line.split(' ').nth(1).unwrap_or("").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let f = form(&body);
    let json = |status: &str, text: String| (status.to_string(), "application/json".to_string(), text, None::<String>);
    let (status, kind, text, location) = {
        let mut st = state.lock().unwrap();
        match path {
            "/introspect" => {
                let token = f.get("token").cloned().unwrap_or_default();
                match st.access.get(&token) {
                    Some((u, true)) => json("200 OK", format!(r#"{{"active":true,"username":"{u}"}}"#)),
                    _ => json("200 OK", r#"{"active":false}"#.into()),
                }
            }
            "/devicecode" => {
                st.seq += 1;
                let device = format!("dev-{}", st.seq);
                let user_code = format!("KRON-{:04}", st.seq);
                st.devices.insert(device.clone(), (user_code.clone(), false));
                json(
                    "200 OK",
                    format!(
                        r#"{{"device_code":"{device}","user_code":"{user_code}","verification_uri":"http://127.0.0.1:{port}/device","expires_in":300,"interval":1}}"#
                    ),
                )
            }
            "/authorize" => {
                // The user signs in and consents at once.
                let q = form(query);
                let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
                let challenge = q.get("code_challenge").cloned().unwrap_or_default();
                let state_param = q.get("state").cloned().unwrap_or_default();
                st.seq += 1;
                let code = format!("code-{}", st.seq);
                st.codes.insert(code.clone(), (challenge, redirect.clone()));
                let loc = format!("{redirect}?code={code}&state={}", state_param);
                ("302 Found".into(), "text/plain".into(), String::new(), Some(loc))
            }
            "/token" => {
                let grant = f.get("grant_type").cloned().unwrap_or_default();
                *st.token_requests.entry(grant.clone()).or_default() += 1;
                if f.get("client_id").map(String::as_str) != Some("kronika-test") {
                    json("401 Unauthorized", r#"{"error":"invalid_client"}"#.into())
                } else {
                    match grant.as_str() {
                        "urn:ietf:params:oauth:grant-type:device_code" => {
                            let device = f.get("device_code").cloned().unwrap_or_default();
                            match st.devices.get(&device).cloned() {
                                Some((_, true)) => {
                                    st.devices.remove(&device);
                                    json("200 OK", issue(&mut st, user))
                                }
                                Some((_, false)) => {
                                    json("400 Bad Request", r#"{"error":"authorization_pending"}"#.into())
                                }
                                None => json("400 Bad Request", r#"{"error":"expired_token"}"#.into()),
                            }
                        }
                        "authorization_code" => {
                            let code = f.get("code").cloned().unwrap_or_default();
                            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                            match st.codes.remove(&code) {
                                Some((challenge, redirect))
                                    if challenge == pkce(&verifier)
                                        && f.get("redirect_uri").map(String::as_str) == Some(redirect.as_str()) =>
                                {
                                    json("200 OK", issue(&mut st, user))
                                }
                                _ => json("400 Bad Request", r#"{"error":"invalid_grant"}"#.into()),
                            }
                        }
                        "refresh_token" => {
                            let old = f.get("refresh_token").cloned().unwrap_or_default();
                            match st.refresh.get(&old).cloned() {
                                Some((u, true)) => {
                                    // Rotation: the old refresh token is used up.
                                    st.refresh.insert(old, (u.clone(), false));
                                    json("200 OK", issue(&mut st, &u))
                                }
                                _ => json(
                                    "400 Bad Request",
                                    r#"{"error":"invalid_grant","error_description":"the refresh token was revoked"}"#
                                        .into(),
                                ),
                            }
                        }
                        _ => json("400 Bad Request", r#"{"error":"unsupported_grant_type"}"#.into()),
                    }
                }
            }
            _ => ("404 Not Found".into(), "text/plain".into(), String::new(), None),
        }
    };
    let mut head =
        format!("HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n", text.len());
    if let Some(l) = location {
        head.push_str(&format!("Location: {l}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(text.as_bytes());
}
