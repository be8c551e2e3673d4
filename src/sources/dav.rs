//! WebDAV and CalDAV over HTTP (RFC 4918, 4791, 6578, 6764): discovery of
//! a user's calendars from any URL on the server, `sync-collection`,
//! `getctag` and ETags, `calendar-multiget`, and writing events (`PUT` with
//! `If-None-Match: *` or `If-Match`). Blocking (ureq); callers run it off
//! the runtime. Redirects are followed by hand: credentials go only to the
//! configured host and hosts of the same registrable domain (iCloud's
//! per-user hosts), and a user name or password a server puts into a
//! redirect is dropped.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::time::Duration;

use crate::xml::Node;

/// The largest answer read from a server.
pub const MAX_ANSWER_BYTES: u64 = 64 << 20;
/// Hrefs asked for in one `calendar-multiget`.
pub const MULTIGET_BATCH: usize = 200;
const MAX_REDIRECTS: usize = 5;
/// Truncated `sync-collection` answers (507) followed before giving up.
const MAX_SYNC_ROUNDS: usize = 1000;

/// How requests are signed. `Debug` hides the secret.
#[derive(Clone)]
pub enum Credential {
    Basic { username: String, password: String },
    Bearer(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credential::Bearer(_) => write!(f, "Bearer(***)"),
        }
    }
}

impl Credential {
    fn header(&self) -> String {
        use base64::Engine;
        match self {
            Credential::Basic { username, password } => {
                let raw = format!("{username}:{password}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
            Credential::Bearer(t) => format!("Bearer {t}"),
        }
    }
}

/// What can go wrong talking to a DAV server. Callers branch: `Auth` waits
/// for new credentials, `SyncToken` starts a full comparison, `Precondition`
/// means the resource exists (or changed), the rest is retried.
#[derive(Debug, thiserror::Error)]
pub enum DavError {
    #[error("cannot reach {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("cannot log in to {url}: the server answered HTTP {status}; check the user name and password (or token)")]
    Auth { url: String, status: u16 },
    #[error("cannot use the sync token of {url}: the server no longer knows it")]
    SyncToken { url: String },
    #[error("cannot write {url}: it exists already or changed meanwhile (HTTP 412)")]
    Precondition { url: String },
    #[error("cannot find {url} (HTTP {status})")]
    NotFound { url: String, status: u16 },
    #[error("cannot use {url}: the server answered HTTP {status}{detail}")]
    Status { url: String, status: u16, detail: String },
    #[error("cannot read the answer of {url}: {reason}")]
    Malformed { url: String, reason: String },
}

/// One `<response>` of a multistatus answer.
#[derive(Debug, Clone)]
pub struct DavResponse {
    /// The href as the server wrote it (an absolute path, usually).
    pub href: String,
    /// A status for the whole response (`404` for a deleted member in a
    /// sync report); `None` when only propstats carry one.
    pub status: Option<u16>,
    /// The properties found (a propstat with status 2xx), by local name.
    pub props: Vec<Node>,
}

impl DavResponse {
    pub fn prop(&self, name: &str) -> Option<&Node> {
        self.props.iter().find(|p| p.name == name)
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.prop(name).map(|p| p.text.trim().to_string()).filter(|t| !t.is_empty())
    }

    /// The href inside a property (`current-user-principal`, `calendar-home-set`).
    pub fn href_in(&self, name: &str) -> Option<String> {
        self.prop(name)?.find("href").map(|h| h.text.trim().to_string()).filter(|t| !t.is_empty())
    }

    fn is_gone(&self) -> bool {
        self.status.is_some_and(|s| s == 404 || s == 410)
    }
}

/// A multistatus answer.
#[derive(Debug, Clone, Default)]
pub struct Multistatus {
    pub responses: Vec<DavResponse>,
    pub sync_token: Option<String>,
}

/// A calendar collection found by discovery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CalendarInfo {
    /// Absolute URL.
    pub url: String,
    pub display_name: String,
    pub ctag: Option<String>,
    /// Present when the server offers `sync-collection` on it.
    pub sync_token: Option<String>,
    /// Another user's calendar shared with this one: read only when the
    /// config names it.
    #[serde(default)]
    pub shared: bool,
}

impl CalendarInfo {
    /// The last segment of its URL, decoded (`prace` of `/jana/prace/`).
    pub fn slug(&self) -> String {
        let path = self.url.split_once("://").map_or(self.url.as_str(), |(_, r)| r);
        let seg = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        percent_encoding::percent_decode_str(seg).decode_utf8_lossy().into_owned()
    }

    /// Whether the config's `name` means this calendar: its display name or
    /// URL segment, case aside.
    pub fn is_named(&self, name: &str) -> bool {
        self.display_name.eq_ignore_ascii_case(name) || self.slug().eq_ignore_ascii_case(name)
    }
}

/// What `sync-collection` says changed since a token.
#[derive(Debug, Clone, Default)]
pub struct SyncAnswer {
    /// Members added or changed: (href, etag).
    pub changed: Vec<(String, Option<String>)>,
    /// Members deleted.
    pub removed: Vec<String>,
    pub token: Option<String>,
}

/// A fetched calendar object.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub href: String,
    pub etag: Option<String>,
    /// `None`: the server says it is gone.
    pub data: Option<String>,
}

/// An answer to one request.
pub struct Answer {
    pub status: u16,
    /// Where it came from after redirects.
    pub url: String,
    pub etag: Option<String>,
    pub body: String,
}

/// A connection to one DAV server.
pub struct Dav {
    agent: ureq::Agent,
    /// The configured URL (discovery starts there).
    pub base: String,
    /// Hosts the credential may go to: the configured host's registrable domain.
    site: String,
    credential: Credential,
}

const PROPFIND_HOME: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">
  <d:prop><d:resourcetype/><d:current-user-principal/><c:calendar-home-set/><d:displayname/><cs:getctag/><d:sync-token/><c:supported-calendar-component-set/></d:prop>
</d:propfind>"#;

const PROPFIND_CALENDARS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/">
  <d:prop><d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><c:supported-calendar-component-set/></d:prop>
</d:propfind>"#;

const PROPFIND_CTAG: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">
  <d:prop><cs:getctag/><d:getetag/><d:sync-token/></d:prop>
</d:propfind>"#;

const PROPFIND_ETAGS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>"#;

impl Dav {
    pub fn new(base: &str, credential: Credential, timeout: Duration) -> Dav {
        let agent = crate::http::dav_agent(timeout);
        let site = site_of(base);
        Dav { agent, base: base.to_string(), site, credential }
    }

    /// One request, redirects followed by hand; the credential goes only
    /// to the configured site. A 401 is [`DavError::Auth`].
    pub fn send(
        &self,
        method: &str,
        url: &str,
        depth: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, DavError> {
        let mut url = strip_userinfo(url);
        for _ in 0..=MAX_REDIRECTS {
            if site_of(&url) != self.site {
                return Err(DavError::Status {
                    url: redact(&url),
                    status: 0,
                    detail: format!(": it is outside {}, and the credentials stay there", self.site),
                });
            }
            let method_value = ureq::http::Method::from_bytes(method.as_bytes())
                .map_err(|e| DavError::Network { url: redact(&url), reason: e.to_string() })?;
            let mut req = ureq::http::Request::builder()
                .method(method_value)
                .uri(url.as_str())
                .header("Authorization", self.credential.header());
            if let Some(d) = depth {
                req = req.header("Depth", d);
            }
            if body.is_some() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                req = req.header("Content-Type", "application/xml; charset=utf-8");
            }
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let network =
                |reason: String| DavError::Network { url: redact(&url), reason: crate::sources::ics::redact(&reason) };
            let req = req.body(body.unwrap_or_default().to_string()).map_err(|e| network(e.to_string()))?;
            let mut resp = self.agent.run(req).map_err(|e| network(e.to_string()))?;
            let status = resp.status().as_u16();
            let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = header("location")
            {
                url = strip_userinfo(&join(&url, &location));
                continue;
            }
            let etag = header("etag");
            let text = resp
                .body_mut()
                .with_config()
                .limit(MAX_ANSWER_BYTES)
                .read_to_string()
                .map_err(|e| network(format!("cannot read the answer: {e}")))?;
            if status == 401 {
                return Err(DavError::Auth { url: redact(&url), status });
            }
            return Ok(Answer { status, url, etag, body: text });
        }
        Err(DavError::Status { url: redact(&url), status: 310, detail: ": too many redirects".into() })
    }

    fn multistatus(&self, method: &str, url: &str, depth: &str, body: &str) -> Result<(String, Multistatus), DavError> {
        let a = self.send(method, url, Some(depth), Some(body), &[])?;
        if a.status != 207 {
            return Err(status_error(&a));
        }
        let ms = parse_multistatus(&a.body).map_err(|reason| DavError::Malformed { url: redact(&a.url), reason })?;
        Ok((a.url, ms))
    }

    /// The calendars of the user, found from the configured URL: the URL
    /// itself when it is a calendar, else its principal (or that of
    /// `/.well-known/caldav`), the principal's calendar home, and the
    /// collections there that are calendars of events.
    pub fn discover(&self) -> Result<Vec<CalendarInfo>, DavError> {
        let (at, first) = match self.multistatus("PROPFIND", &self.base, "0", PROPFIND_HOME) {
            Ok(x) => x,
            Err(DavError::NotFound { .. } | DavError::Status { .. } | DavError::Malformed { .. }) => {
                self.multistatus("PROPFIND", &join(&self.base, "/.well-known/caldav"), "0", PROPFIND_HOME)?
            }
            Err(e) => return Err(e),
        };
        let Some(r) = first.responses.first() else {
            return Err(DavError::Malformed { url: redact(&at), reason: "the answer names no resource".into() });
        };
        if let Some(cal) = calendar_of(&at, r) {
            return Ok(vec![cal]);
        }
        let mut home = r.href_in("calendar-home-set");
        if home.is_none() {
            let principal = match r.href_in("current-user-principal") {
                Some(p) => p,
                None => {
                    let wk = join(&self.base, "/.well-known/caldav");
                    let (at2, ms) = self.multistatus("PROPFIND", &wk, "0", PROPFIND_HOME)?;
                    let p =
                        ms.responses.first().and_then(|r| r.href_in("current-user-principal")).ok_or_else(|| {
                            DavError::Malformed {
                                url: redact(&at2),
                                reason: "the server names no current-user-principal; give the calendar's own URL"
                                    .into(),
                            }
                        })?;
                    join(&at2, &p)
                }
            };
            let principal = join(&at, &principal);
            let (at3, ms) = self.multistatus("PROPFIND", &principal, "0", PROPFIND_HOME)?;
            home = ms.responses.first().and_then(|r| r.href_in("calendar-home-set")).map(|h| join(&at3, &h));
        }
        let home = join(
            &at,
            &home.ok_or_else(|| DavError::Malformed {
                url: redact(&at),
                reason: "the principal names no calendar-home-set".into(),
            })?,
        );
        let (at4, ms) = self.multistatus("PROPFIND", &home, "1", PROPFIND_CALENDARS)?;
        let mut out: Vec<CalendarInfo> = ms.responses.iter().filter_map(|r| calendar_of(&at4, r)).collect();
        out.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        out.dedup_by(|a, b| a.url == b.url);
        Ok(out)
    }

    /// The collection's `getctag` (or its ETag) and `sync-token` now.
    pub fn state(&self, calendar: &str) -> Result<(Option<String>, Option<String>), DavError> {
        let (_, ms) = self.multistatus("PROPFIND", calendar, "0", PROPFIND_CTAG)?;
        let r = ms.responses.first();
        let ctag = r.and_then(|r| r.text("getctag").or_else(|| r.text("getetag")));
        Ok((ctag, r.and_then(|r| r.text("sync-token"))))
    }

    /// Every member of the collection with its ETag (without sync-collection).
    pub fn list(&self, calendar: &str) -> Result<Vec<(String, Option<String>)>, DavError> {
        let (at, ms) = self.multistatus("PROPFIND", calendar, "1", PROPFIND_ETAGS)?;
        let own = path_of(&at);
        Ok(ms
            .responses
            .into_iter()
            .filter(|r| !r.is_gone())
            .filter(|r| r.prop("resourcetype").is_none_or(|t| t.find("collection").is_none()))
            .filter(|r| path_of(&join(&at, &r.href)) != own)
            .map(|r| {
                let etag = r.text("getetag");
                (r.href, etag)
            })
            .collect())
    }

    /// What changed since `token` (`""`: everything), following truncated
    /// answers (507) to the end. An unknown token is `DavError::SyncToken`.
    pub fn sync_collection(&self, calendar: &str, token: &str) -> Result<SyncAnswer, DavError> {
        let mut out = SyncAnswer::default();
        let mut token = token.to_string();
        for _ in 0..MAX_SYNC_ROUNDS {
            let body = format!(
                r#"<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:"><d:sync-token>{}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#,
                xml_escape(&token)
            );
            let a = self.send("REPORT", calendar, Some("1"), Some(&body), &[])?;
            if a.status == 410 || (matches!(a.status, 403 | 409) && a.body.contains("valid-sync-token")) {
                return Err(DavError::SyncToken { url: redact(&a.url) });
            }
            if a.status != 207 {
                return Err(status_error(&a));
            }
            let ms =
                parse_multistatus(&a.body).map_err(|reason| DavError::Malformed { url: redact(&a.url), reason })?;
            let own = path_of(&a.url);
            let mut truncated = false;
            for r in ms.responses {
                if path_of(&join(&a.url, &r.href)) == own {
                    truncated |= r.status == Some(507);
                    continue;
                }
                if r.is_gone() {
                    out.changed.retain(|(h, _)| h != &r.href);
                    out.removed.push(r.href);
                } else {
                    let etag = r.text("getetag");
                    out.removed.retain(|h| h != &r.href);
                    out.changed.retain(|(h, _)| h != &r.href);
                    out.changed.push((r.href, etag));
                }
            }
            let next = ms.sync_token.clone();
            out.token = next.clone();
            match next {
                Some(n) if truncated && n != token => token = n,
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// The calendar data of `hrefs`, `MULTIGET_BATCH` at a time.
    pub fn multiget(&self, calendar: &str, hrefs: &[String]) -> Result<Vec<Fetched>, DavError> {
        let mut out = Vec::with_capacity(hrefs.len());
        for chunk in hrefs.chunks(MULTIGET_BATCH) {
            let mut body = String::from(
                r#"<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>"#,
            );
            for h in chunk {
                body.push_str(&format!("<d:href>{}</d:href>", xml_escape(h)));
            }
            body.push_str("</c:calendar-multiget>");
            let (_, ms) = self.multistatus("REPORT", calendar, "1", &body)?;
            for r in ms.responses {
                let data = if r.is_gone() { None } else { r.text("calendar-data") };
                let etag = r.text("getetag");
                out.push(Fetched { href: r.href, etag, data });
            }
        }
        Ok(out)
    }

    /// Writes an event. `create`: only if nothing is there
    /// (`If-None-Match: *`); otherwise only over `etag` when given.
    /// Returns the new ETag when the server tells it.
    pub fn put(&self, url: &str, ics: &str, create: bool, etag: Option<&str>) -> Result<Option<String>, DavError> {
        let mut headers = vec![("Content-Type", "text/calendar; charset=utf-8")];
        if create {
            headers.push(("If-None-Match", "*"));
        } else if let Some(e) = etag {
            headers.push(("If-Match", e));
        }
        let a = self.send("PUT", url, None, Some(ics), &headers)?;
        match a.status {
            200..=299 => Ok(a.etag),
            412 => Err(DavError::Precondition { url: redact(&a.url) }),
            _ => Err(status_error(&a)),
        }
    }

    /// Reads one object: its data and ETag.
    pub fn get(&self, url: &str) -> Result<(String, Option<String>), DavError> {
        let a = self.send("GET", url, None, None, &[])?;
        match a.status {
            200..=299 => Ok((a.body, a.etag)),
            _ => Err(status_error(&a)),
        }
    }

    /// Finds the object holding `uid` in a calendar (`calendar-query`).
    pub fn find_uid(&self, calendar: &str, uid: &str) -> Result<Option<Fetched>, DavError> {
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>
<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match collation="i;octet">{}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#,
            xml_escape(uid)
        );
        let (_, ms) = self.multistatus("REPORT", calendar, "1", &body)?;
        Ok(ms.responses.into_iter().filter(|r| !r.is_gone()).find_map(|r| {
            let data = r.text("calendar-data")?;
            Some(Fetched { etag: r.text("getetag"), href: r.href, data: Some(data) })
        }))
    }

    /// The absolute URL of an href the server gave.
    pub fn url_of(&self, at: &str, href: &str) -> String {
        join(at, href)
    }
}

/// The error an unexpected answer means (its first 200 characters shown).
pub fn status_error(a: &Answer) -> DavError {
    let url = redact(&a.url);
    match a.status {
        401 => DavError::Auth { url, status: 401 },
        404 | 410 => DavError::NotFound { url, status: a.status },
        s => {
            let first: String = crate::text::ellipsize(a.body.trim(), 200).replace('\n', " ");
            let detail = if first.is_empty() { String::new() } else { format!(" ({first})") };
            DavError::Status { url, status: s, detail }
        }
    }
}

/// A calendar of events, from a PROPFIND response.
fn calendar_of(at: &str, r: &DavResponse) -> Option<CalendarInfo> {
    let kind = r.prop("resourcetype")?;
    kind.find("calendar")?;
    if let Some(comps) = r.prop("supported-calendar-component-set")
        && comps.children.iter().any(|c| c.name == "comp")
        && !comps
            .children
            .iter()
            .any(|c| c.name == "comp" && c.attr("name").is_some_and(|n| n.eq_ignore_ascii_case("VEVENT")))
    {
        return None;
    }
    let url = join(at, &r.href);
    let mut info = CalendarInfo {
        url,
        display_name: String::new(),
        ctag: r.text("getctag"),
        sync_token: r.text("sync-token"),
        shared: false,
    };
    info.display_name = r.text("displayname").unwrap_or_else(|| info.slug());
    Some(info)
}

/// Reads a multistatus body.
pub fn parse_multistatus(body: &str) -> Result<Multistatus, String> {
    let root = crate::xml::parse_tree(body.trim_start_matches('\u{feff}'), 64, 2_000_000).map_err(|e| e.to_string())?;
    if root.name != "multistatus" {
        return Err(format!("it is <{}>, not a WebDAV multistatus", root.qname));
    }
    let mut out = Multistatus {
        sync_token: root.child("sync-token").map(|t| t.text.trim().to_string()).filter(|t| !t.is_empty()),
        ..Multistatus::default()
    };
    for r in root.children("response") {
        let Some(href) = r.child("href").map(|h| h.text.trim().to_string()).filter(|h| !h.is_empty()) else {
            continue;
        };
        let status = r.child("status").and_then(|s| status_code(&s.text));
        let mut props = Vec::new();
        for ps in r.children("propstat") {
            let ok = ps.child("status").and_then(|s| status_code(&s.text)).is_none_or(|s| (200..300).contains(&s));
            if !ok {
                continue;
            }
            if let Some(p) = ps.child("prop") {
                props.extend(p.children.iter().cloned());
            }
        }
        out.responses.push(DavResponse { href, status, props });
    }
    Ok(out)
}

/// `HTTP/1.1 404 Not Found` → 404.
fn status_code(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.parse().ok()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        None => String::new(),
    }
}

/// The path of a URL, without query, fragment or trailing slash.
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    decoded.trim_end_matches('/').to_string()
}

/// An href resolved against the URL it came from.
pub fn join(base: &str, href: &str) -> String {
    let href = href.trim();
    if href.starts_with("http://") || href.starts_with("https://") {
        return href.to_string();
    }
    if href.starts_with('/') {
        return format!("{}{href}", origin(base));
    }
    let base = base.split(['?', '#']).next().unwrap_or_default();
    match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |j| j + 2) => format!("{}/{href}", base.get(..i).unwrap_or(base)),
        _ => format!("{}/{href}", origin(base)),
    }
}

/// A URL without `user:password@` (Radicale writes the caller's into its redirects).
fn strip_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{tail}")
}

/// The host's registrable domain (or the host itself: an IP, localhost).
fn site_of(url: &str) -> String {
    let o = origin(&strip_userinfo(url));
    let authority = o.split_once("://").map_or(o.as_str(), |(_, a)| a);
    let host = match authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        Some(rest) => format!("[{}]", rest.split(']').next().unwrap_or_default()),
        None => match authority.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
            _ => authority.to_string(),
        },
    };
    let host = host.to_ascii_lowercase();
    // An address or a single-label name is its own site (psl would call
    // `127.0.0.1` a name under `0.1`).
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return host;
    }
    crate::address::registrable(&host).map(str::to_string).unwrap_or(host)
}

/// A URL for errors and logs: scheme and host only.
pub fn redact(url: &str) -> String {
    crate::sources::ics::redact(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_resolve_against_where_they_came_from() {
        assert_eq!(join("http://h:1/a/b/", "/x/y/"), "http://h:1/x/y/");
        assert_eq!(join("http://h:1/a/b/", "c.ics"), "http://h:1/a/b/c.ics");
        assert_eq!(join("https://h/a", "https://o/p"), "https://o/p");
        assert_eq!(join("https://h", "c.ics"), "https://h/c.ics");
        assert_eq!(path_of("http://h/a%20b/c/"), "/a b/c");
        assert_eq!(strip_userinfo("http://jana:pw@127.0.0.1:5232/"), "http://127.0.0.1:5232/");
    }

    #[test]
    fn credentials_stay_on_their_site() {
        assert_eq!(site_of("https://caldav.icloud.com/"), site_of("https://p42-caldav.icloud.com/x"));
        assert_ne!(site_of("https://cloud.firma.cz/"), site_of("https://evil.example/"));
        assert_eq!(site_of("http://127.0.0.1:5232/"), "127.0.0.1");
        assert_eq!(site_of("http://[::1]:8080/"), "[::1]");
        assert_ne!(site_of("http://127.0.0.1/"), site_of("http://127.0.0.2/"));
    }

    #[test]
    fn multistatus_reads_any_prefix_and_skips_404_propstats() {
        let body = r#"<?xml version='1.0'?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:sync-token>tok-2</D:sync-token>
<D:response><D:href>/c/a.ics</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
<D:propstat><D:prop><C:calendar-data/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>
<D:response><D:href>/c/b.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response></D:multistatus>"#;
        let ms = parse_multistatus(body).unwrap();
        assert_eq!(ms.sync_token.as_deref(), Some("tok-2"));
        assert_eq!(ms.responses.len(), 2);
        let (a, b) = (ms.responses.first().unwrap(), ms.responses.get(1).unwrap());
        assert_eq!(a.text("getetag").as_deref(), Some("\"1\""));
        assert!(a.prop("calendar-data").is_none());
        assert!(b.is_gone());
        assert!(parse_multistatus("<html>oops</html>").is_err());
        assert!(parse_multistatus("not xml at all <<<").is_err());
    }
}
