//! The one TOML config file: read raw (serde, unknown keys refused), then
//! validated into [`Config`]. Every error names the file, the line and the key.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::address;
use crate::matcher::Policy;
use crate::model::{CustomField, FieldKind};

/// Free-mail providers built in; the config's `free_mail_domains` adds to them.
pub const BUILTIN_FREE_MAIL: &[&str] = &[
    // Czech and Slovak
    "seznam.cz",
    "email.cz",
    "post.cz",
    "spoluzaci.cz",
    "stream.cz",
    "firmy.cz",
    "centrum.cz",
    "atlas.cz",
    "volny.cz",
    "tiscali.cz",
    "quick.cz",
    "iol.cz",
    "azet.sk",
    "zoznam.sk",
    "centrum.sk",
    "post.sk",
    "pobox.sk",
    "atlas.sk",
    "inmail.sk",
    // International
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "mail.com",
    "zoho.com",
    "tutanota.com",
    "yandex.ru",
    "mail.ru",
    "outlook.cz",
    "hotmail.cz",
    "yahoo.co.uk",
    "hotmail.co.uk",
    "live.co.uk",
    "btinternet.com",
    "tuta.io",
    "fastmail.com",
];

/// Where a config error is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot find a config file: pass --config FILE, set KRONIKA_CONFIG, or create {default} (config/kronika.example.toml documents every key)"
    )]
    NotFound { default: String },
    #[error("cannot read config {file}: {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("cannot use config {file}: {message}")]
    Syntax { file: PathBuf, message: String },
    #[error("cannot use config {file}, line {line}, key `{key}`: {message}")]
    Value { file: PathBuf, line: usize, key: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    data_dir: Option<Spanned<String>>,
    #[serde(default)]
    own_addresses: Vec<Spanned<String>>,
    #[serde(default)]
    own_domains: Vec<Spanned<String>>,
    #[serde(default)]
    free_mail_domains: Vec<Spanned<String>>,
    #[serde(default)]
    blocklist: Vec<Spanned<String>>,
    #[serde(default)]
    custom_fields: Vec<Spanned<RawField>>,
    #[serde(default)]
    maildir: Vec<Spanned<RawMaildir>>,
    #[serde(default)]
    imap: Vec<Spanned<RawImap>>,
    #[serde(default)]
    notes: Vec<Spanned<RawNotes>>,
    #[serde(default)]
    calendar: Vec<Spanned<RawCalendar>>,
    reminders: Option<Spanned<RawReminders>>,
    figures: Option<Spanned<RawFigures>>,
    ares: Option<Spanned<RawAres>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFigures {
    relationship_years: Option<f64>,
    base_currency: Option<String>,
    #[serde(default)]
    rates: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAres {
    base_url: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminders {
    #[serde(default)]
    lead_times: Vec<String>,
    follow_up_after: Option<String>,
    serve: Option<String>,
    #[serde(default = "default_true")]
    stdout: bool,
    #[serde(default)]
    webhooks: Vec<String>,
    #[serde(default)]
    commands: Vec<Vec<String>>,
    horizon: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    name: String,
    url: Option<String>,
    path: Option<String>,
    poll_interval: Option<String>,
    past: Option<String>,
    future: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotes {
    name: String,
    path: String,
    kind: Option<String>,
    patterns: Option<Vec<String>>,
    max_size_kb: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImap {
    name: String,
    host: String,
    port: Option<u16>,
    #[serde(default = "default_tls")]
    tls: String,
    username: String,
    password_cmd: Option<String>,
    password_env: Option<String>,
    mailboxes: Option<Vec<String>>,
    outgoing: Option<Vec<String>>,
    since: Option<String>,
    #[serde(default = "default_true")]
    idle: bool,
    poll_interval: Option<String>,
    ca_file: Option<String>,
    timeout: Option<String>,
}

fn default_tls() -> String {
    "implicit".into()
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaildir {
    name: String,
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    choices: Vec<String>,
}

/// The validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (relative paths in it are relative to its folder).
    pub path: PathBuf,
    /// SQLite database, search index and documents live here.
    pub data_dir: PathBuf,
    pub own_addresses: Vec<String>,
    pub own_domains: Vec<String>,
    /// Built-in list plus the config's additions, normalised.
    pub free_mail_domains: Vec<String>,
    /// Normalised addresses and `@domain` entries.
    pub blocklist: Vec<String>,
    pub custom_fields: Vec<CustomField>,
    /// Maildir trees the daemon watches.
    pub maildirs: Vec<MaildirConfig>,
    /// IMAP accounts.
    pub imap: Vec<ImapConfig>,
    /// Folders of call and meeting notes.
    pub notes: Vec<NotesConfig>,
    /// ICS calendars.
    pub calendars: Vec<CalendarConfig>,
    /// Reminders before client meetings and follow-ups; `None`: off.
    pub reminders: Option<RemindersConfig>,
    /// How client figures (LTV, totals) are computed.
    pub figures: crate::figures::FiguresConfig,
    /// The ARES register: base URL and timeout.
    pub ares_url: String,
    pub ares_timeout: std::time::Duration,
}

/// The `[reminders]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemindersConfig {
    /// How long before an event each reminder fires (largest first).
    pub lead_times: Vec<std::time::Duration>,
    /// A client silent this long gets a reminder to get in touch.
    pub follow_up_after: Option<std::time::Duration>,
    /// Where the daemon serves the ICS feed of upcoming client meetings.
    pub serve: Option<std::net::SocketAddr>,
    pub stdout: bool,
    pub webhooks: Vec<String>,
    /// Programs (with arguments) run without a shell, the reminder as JSON on stdin.
    pub commands: Vec<Vec<String>>,
    /// How far ahead reminders are planned.
    pub horizon: std::time::Duration,
}

/// A `[[calendar]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarConfig {
    pub name: String,
    pub feed: crate::sources::ics::Feed,
    pub poll_interval: std::time::Duration,
    /// How far back and ahead recurrences are expanded.
    pub past: std::time::Duration,
    pub future: std::time::Duration,
    /// How long a fetch may take.
    pub timeout: std::time::Duration,
}

/// A `[[notes]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesConfig {
    pub name: String,
    pub path: PathBuf,
    /// `call` or `meeting`: the kind of a note that does not say.
    pub kind: crate::model::ItemKind,
    pub patterns: Vec<String>,
    pub max_bytes: u64,
}

/// How an IMAP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain connection upgraded with STARTTLS (port 143).
    Starttls,
    /// No TLS: only allowed to a loopback address.
    None,
}

/// Where an IMAP password comes from. The password itself is never kept in
/// the config, and never logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// A shell command whose first output line is the password (as mbsync's PassCmd).
    Cmd(String),
    /// An environment variable.
    Env(String),
}

/// An `[[imap]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapConfig {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: PasswordSource,
    /// Mailboxes to watch; `None`: INBOX and the mailboxes marked `\Sent`.
    pub mailboxes: Option<Vec<String>>,
    /// Mailboxes whose mail is ours (outgoing); `None`: those marked `\Sent`.
    pub outgoing: Option<Vec<String>>,
    /// The oldest date fetched on the first sync.
    pub since: Option<chrono::NaiveDate>,
    pub idle: bool,
    pub poll_interval: std::time::Duration,
    pub ca_file: Option<PathBuf>,
    /// How long one network step may take before the connection counts as dead.
    pub timeout: std::time::Duration,
}

/// A `[[maildir]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildirConfig {
    pub name: String,
    pub path: PathBuf,
}

impl Config {
    /// Finds the config: `--config`, else `$KRONIKA_CONFIG`, else the XDG
    /// config dir (`~/.config/kronika/config.toml`).
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
        if let Some(p) = explicit {
            return Ok(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os("KRONIKA_CONFIG").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        let default = default_path();
        if default.is_file() {
            Ok(default)
        } else {
            Err(ConfigError::NotFound { default: default.display().to_string() })
        }
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { file: path.to_path_buf(), source })?;
        Config::parse(path, &text)
    }

    /// Validates config text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let v = Validator { file: path, text };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let data_dir = match &raw.data_dir {
            Some(d) => {
                if d.get_ref().trim().is_empty() {
                    return Err(v.err(d.span(), "data_dir", "it is empty; name a folder"));
                }
                resolve_path(&base, d.get_ref())
            }
            None => dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("kronika"),
        };

        let mut own_addresses = Vec::new();
        for a in &raw.own_addresses {
            let n = address::normalize(a.get_ref())
                .ok_or_else(|| v.err(a.span(), "own_addresses", &format!("{:?} is not a mail address", a.get_ref())))?;
            own_addresses.push(n);
        }
        let own_domains = v.domains(&raw.own_domains, "own_domains", true)?;
        let mut free_mail_domains: Vec<String> = BUILTIN_FREE_MAIL.iter().map(|s| s.to_string()).collect();
        for d in v.domains(&raw.free_mail_domains, "free_mail_domains", false)? {
            if !free_mail_domains.contains(&d) {
                free_mail_domains.push(d);
            }
        }
        let mut blocklist = Vec::new();
        for b in &raw.blocklist {
            let entry = b.get_ref().trim();
            let normalized = if let Some(domain) = entry.strip_prefix('@') {
                address::normalize_domain(domain).map(|d| format!("@{d}"))
            } else {
                address::normalize(entry)
            };
            let n = normalized
                .ok_or_else(|| v.err(b.span(), "blocklist", &format!("{entry:?} is neither an address nor @domain")))?;
            blocklist.push(n);
        }
        let mut custom_fields: Vec<CustomField> = Vec::new();
        for f in &raw.custom_fields {
            let field = f.get_ref();
            let name = field.name.trim();
            if name.is_empty() {
                return Err(v.err(f.span(), "custom_fields.name", "a custom field needs a name"));
            }
            if custom_fields.iter().any(|c| c.name.eq_ignore_ascii_case(name)) {
                return Err(v.err(f.span(), "custom_fields.name", &format!("field {name:?} is declared twice")));
            }
            let kind = match field.kind.trim().to_ascii_lowercase().as_str() {
                "text" => FieldKind::Text,
                "number" => FieldKind::Number,
                "date" => FieldKind::Date,
                "choice" => {
                    if field.choices.is_empty() {
                        return Err(v.err(
                            f.span(),
                            "custom_fields.choices",
                            &format!("choice field {name:?} lists no choices"),
                        ));
                    }
                    FieldKind::Choice { choices: field.choices.clone() }
                }
                other => {
                    return Err(v.err(
                        f.span(),
                        "custom_fields.type",
                        &format!("field {name:?} has type {other:?}; use text, number, date or choice"),
                    ));
                }
            };
            if !matches!(kind, FieldKind::Choice { .. }) && !field.choices.is_empty() {
                return Err(v.err(
                    f.span(),
                    "custom_fields.choices",
                    &format!("field {name:?} is not a choice field but lists choices"),
                ));
            }
            custom_fields.push(CustomField { name: name.to_string(), kind });
        }
        let mut maildirs: Vec<MaildirConfig> = Vec::new();
        for m in &raw.maildir {
            let name = m.get_ref().name.trim();
            if name.is_empty() {
                return Err(v.err(m.span(), "maildir.name", "a maildir needs a name"));
            }
            if maildirs.iter().any(|o| o.name == name) {
                return Err(v.err(m.span(), "maildir.name", &format!("the name {name:?} is used twice")));
            }
            if m.get_ref().path.trim().is_empty() {
                return Err(v.err(m.span(), "maildir.path", &format!("maildir {name:?} has an empty path")));
            }
            maildirs.push(MaildirConfig { name: name.to_string(), path: resolve_path(&base, m.get_ref().path.trim()) });
        }
        let mut imap: Vec<ImapConfig> = Vec::new();
        for section in &raw.imap {
            let r = section.get_ref();
            let span = section.span();
            let err = |key: &str, msg: String| v.err(span.clone(), key, &msg);
            let name = r.name.trim().to_string();
            if name.is_empty() || name.contains('/') {
                return Err(err("imap.name", "an IMAP account needs a name without '/'".into()));
            }
            if imap.iter().any(|o| o.name == name) {
                return Err(err("imap.name", format!("the name {name:?} is used twice")));
            }
            let tls = match r.tls.trim().to_ascii_lowercase().as_str() {
                "implicit" | "tls" | "ssl" => TlsMode::Implicit,
                "starttls" => TlsMode::Starttls,
                "none" => TlsMode::None,
                other => {
                    return Err(err("imap.tls", format!("{other:?} is not implicit, starttls or none")));
                }
            };
            let host = r.host.trim().to_string();
            if host.is_empty() {
                return Err(err("imap.host", format!("account {name:?} has no host")));
            }
            if tls == TlsMode::None && !is_loopback(&host) {
                return Err(err(
                    "imap.tls",
                    format!(
                        "account {name:?}: tls = \"none\" is only allowed to a loopback address, not {host:?}; use implicit or starttls"
                    ),
                ));
            }
            let password = match (&r.password_cmd, &r.password_env) {
                (Some(c), None) if !c.trim().is_empty() => PasswordSource::Cmd(c.clone()),
                (None, Some(e)) if !e.trim().is_empty() => PasswordSource::Env(e.trim().to_string()),
                (Some(_), Some(_)) => {
                    return Err(err(
                        "imap.password_cmd",
                        format!("account {name:?}: give password_cmd or password_env, not both"),
                    ));
                }
                _ => {
                    return Err(err(
                        "imap.password_cmd",
                        format!(
                            "account {name:?} needs password_cmd (a command that prints the password) or password_env"
                        ),
                    ));
                }
            };
            let since = match &r.since {
                Some(s) => Some(
                    crate::model::parse_date(s)
                        .ok_or_else(|| err("imap.since", format!("{s:?} is not a date (YYYY-MM-DD)")))?,
                ),
                None => None,
            };
            let poll_interval = match &r.poll_interval {
                Some(p) => parse_duration(p)
                    .ok_or_else(|| err("imap.poll_interval", format!("{p:?} is not a duration like 30s, 5m or 1h")))?,
                None => std::time::Duration::from_secs(300),
            };
            let timeout = match &r.timeout {
                Some(p) => parse_duration(p)
                    .ok_or_else(|| err("imap.timeout", format!("{p:?} is not a duration like 30s, 5m or 1h")))?,
                None => std::time::Duration::from_secs(60),
            };
            if r.username.trim().is_empty() {
                return Err(err("imap.username", format!("account {name:?} has no username")));
            }
            imap.push(ImapConfig {
                port: r.port.unwrap_or(if tls == TlsMode::Implicit { 993 } else { 143 }),
                name,
                host,
                tls,
                username: r.username.trim().to_string(),
                password,
                mailboxes: r.mailboxes.clone().filter(|m| !m.is_empty()),
                outgoing: r.outgoing.clone(),
                since,
                idle: r.idle,
                poll_interval,
                ca_file: r.ca_file.as_deref().map(|c| resolve_path(&base, c)),
                timeout,
            });
        }
        let mut notes: Vec<NotesConfig> = Vec::new();
        for section in &raw.notes {
            let r = section.get_ref();
            let span = section.span();
            let name = r.name.trim().to_string();
            if name.is_empty() {
                return Err(v.err(span, "notes.name", "a notes folder needs a name"));
            }
            if notes.iter().any(|o| o.name == name)
                || maildirs.iter().any(|o| o.name == name)
                || imap.iter().any(|o| o.name == name)
            {
                return Err(v.err(span, "notes.name", &format!("the name {name:?} is used twice")));
            }
            if r.path.trim().is_empty() {
                return Err(v.err(span, "notes.path", &format!("notes folder {name:?} has an empty path")));
            }
            let kind = match r.kind.as_deref().map(|k| k.trim().to_ascii_lowercase()) {
                None => crate::model::ItemKind::Call,
                Some(k) if k == "call" => crate::model::ItemKind::Call,
                Some(k) if k == "meeting" => crate::model::ItemKind::Meeting,
                Some(other) => {
                    return Err(v.err(span, "notes.kind", &format!("{other:?} is not call or meeting")));
                }
            };
            let patterns = r.patterns.clone().unwrap_or_else(|| vec!["*.md".into(), "*.txt".into()]);
            if patterns.is_empty() {
                return Err(v.err(span, "notes.patterns", "list at least one pattern, e.g. \"*.md\""));
            }
            notes.push(NotesConfig {
                path: resolve_path(&base, r.path.trim()),
                name,
                kind,
                patterns,
                max_bytes: r.max_size_kb.unwrap_or(1024) * 1024,
            });
        }
        let mut calendars: Vec<CalendarConfig> = Vec::new();
        for section in &raw.calendar {
            let r = section.get_ref();
            let span = section.span();
            let err = |key: &str, msg: String| v.err(span.clone(), key, &msg);
            let name = r.name.trim().to_string();
            if name.is_empty() {
                return Err(err("calendar.name", "a calendar needs a name".into()));
            }
            let taken = calendars.iter().any(|o| o.name == name)
                || notes.iter().any(|o| o.name == name)
                || maildirs.iter().any(|o| o.name == name)
                || imap.iter().any(|o| o.name == name);
            if taken {
                return Err(err("calendar.name", format!("the name {name:?} is used twice")));
            }
            let feed = match (&r.url, &r.path) {
                (Some(u), None) => {
                    let u = u.trim();
                    if !(u.starts_with("http://") || u.starts_with("https://")) {
                        return Err(err(
                            "calendar.url",
                            format!("calendar {name:?}: the url must start with http:// or https://"),
                        ));
                    }
                    crate::sources::ics::Feed::Url(u.to_string())
                }
                (None, Some(p)) if !p.trim().is_empty() => {
                    crate::sources::ics::Feed::File(resolve_path(&base, p.trim()))
                }
                (Some(_), Some(_)) => {
                    return Err(err("calendar.url", format!("calendar {name:?}: give url or path, not both")));
                }
                _ => {
                    return Err(err(
                        "calendar.url",
                        format!("calendar {name:?} needs a url (http or https) or a path"),
                    ));
                }
            };
            let duration = |key: &str, value: &Option<String>, default: u64| match value {
                Some(p) => {
                    parse_duration(p).ok_or_else(|| err(key, format!("{p:?} is not a duration like 15m, 1h or 365d")))
                }
                None => Ok(std::time::Duration::from_secs(default)),
            };
            calendars.push(CalendarConfig {
                poll_interval: duration("calendar.poll_interval", &r.poll_interval, 15 * 60)?,
                past: duration("calendar.past", &r.past, 365 * 86_400)?,
                future: duration("calendar.future", &r.future, 365 * 86_400)?,
                timeout: duration("calendar.timeout", &r.timeout, 30)?,
                name,
                feed,
            });
        }
        let reminders =
            match &raw.reminders {
                None => None,
                Some(section) => {
                    let r = section.get_ref();
                    let span = section.span();
                    let err = |key: &str, msg: String| v.err(span.clone(), key, &msg);
                    let mut lead_times = Vec::new();
                    for l in &r.lead_times {
                        lead_times.push(parse_duration(l).ok_or_else(|| {
                            err("reminders.lead_times", format!("{l:?} is not a duration like 1d or 30m"))
                        })?);
                    }
                    if lead_times.is_empty() {
                        lead_times = vec![std::time::Duration::from_secs(86_400), std::time::Duration::from_secs(1800)];
                    }
                    lead_times.sort_by(|a, b| b.cmp(a));
                    lead_times.dedup();
                    let follow_up_after = match &r.follow_up_after {
                        Some(f) => Some(parse_duration(f).ok_or_else(|| {
                            err("reminders.follow_up_after", format!("{f:?} is not a duration like 90d"))
                        })?),
                        None => None,
                    };
                    let serve = match &r.serve {
                        Some(a) => Some(a.parse::<std::net::SocketAddr>().map_err(|_| {
                            err("reminders.serve", format!("{a:?} is not an address like 127.0.0.1:8765"))
                        })?),
                        None => None,
                    };
                    for w in &r.webhooks {
                        if !(w.starts_with("http://") || w.starts_with("https://")) {
                            return Err(err("reminders.webhooks", format!("{w:?} is not an http(s) URL")));
                        }
                    }
                    if r.commands.iter().any(|c| c.is_empty() || c[0].trim().is_empty()) {
                        return Err(err("reminders.commands", "each command is a list: [program, arguments…]".into()));
                    }
                    let horizon = match &r.horizon {
                        Some(h) => parse_duration(h)
                            .ok_or_else(|| err("reminders.horizon", format!("{h:?} is not a duration")))?,
                        None => std::time::Duration::from_secs(30 * 86_400),
                    };
                    Some(RemindersConfig {
                        lead_times,
                        follow_up_after,
                        serve,
                        stdout: r.stdout,
                        webhooks: r.webhooks.clone(),
                        commands: r.commands.clone(),
                        horizon,
                    })
                }
            };
        let mut figures = crate::figures::FiguresConfig::default();
        if let Some(section) = &raw.figures {
            let r = section.get_ref();
            let span = section.span();
            if let Some(y) = r.relationship_years {
                if !(y.is_finite() && y > 0.0) {
                    return Err(v.err(span, "figures.relationship_years", "use a positive number of years"));
                }
                figures.relationship_years = y;
            }
            let known = |c: &str| crate::figures::CURRENCIES.contains(&c);
            if let Some(b) = &r.base_currency {
                let b = b.trim().to_uppercase();
                if !known(&b) {
                    return Err(v.err(
                        span,
                        "figures.base_currency",
                        &format!("{b:?} is not a currency kronika knows"),
                    ));
                }
                figures.base_currency = Some(b);
            }
            for (cur, rate) in &r.rates {
                let c = cur.trim().to_uppercase();
                if !(known(&c) && rate.is_finite() && *rate > 0.0) {
                    return Err(v.err(
                        span.clone(),
                        "figures.rates",
                        &format!("{cur} = {rate} is not a known currency with a positive rate"),
                    ));
                }
                figures.rates.insert(c, *rate);
            }
        }
        let (ares_url, ares_timeout) = match &raw.ares {
            Some(section) => {
                let r = section.get_ref();
                let url =
                    r.base_url.clone().unwrap_or_else(|| "https://ares.gov.cz/ekonomicke-subjekty-v-be/rest".into());
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(v.err(section.span(), "ares.base_url", "use an http(s) URL"));
                }
                let timeout = match &r.timeout {
                    Some(t) => parse_duration(t)
                        .ok_or_else(|| v.err(section.span(), "ares.timeout", "use a duration like 10s"))?,
                    None => std::time::Duration::from_secs(10),
                };
                (url.trim_end_matches('/').to_string(), timeout)
            }
            None => ("https://ares.gov.cz/ekonomicke-subjekty-v-be/rest".into(), std::time::Duration::from_secs(10)),
        };
        Ok(Config {
            figures,
            ares_url,
            ares_timeout,
            reminders,
            calendars,
            notes,
            imap,
            maildirs,
            path: path.to_path_buf(),
            data_dir,
            own_addresses,
            own_domains,
            free_mail_domains,
            blocklist,
            custom_fields,
        })
    }

    /// The part of the config the matcher needs.
    pub fn policy(&self) -> Policy {
        Policy {
            own_addresses: self.own_addresses.clone(),
            own_domains: self.own_domains.clone(),
            free_mail_domains: self.free_mail_domains.clone(),
            blocklist: self.blocklist.clone(),
        }
    }

    /// The declared custom field with this name (case-insensitive).
    pub fn custom_field(&self, name: &str) -> Option<&CustomField> {
        self.custom_fields.iter().find(|f| f.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Folder of the search index.
    pub fn index_path(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// Path of the SQLite database.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("kronika.sqlite3")
    }
}

/// True for `localhost`, `127.x.x.x` and `::1`.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reads `30s`, `5m`, `1h`, `1d`, `90` (seconds), `1h30m`.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Some(std::time::Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    Some(std::time::Duration::from_secs(total))
}

/// `~/.config/kronika/config.toml` (or the platform's config dir).
pub fn default_path() -> PathBuf {
    dirs::config_dir().unwrap_or_else(|| PathBuf::from(".")).join("kronika").join("config.toml")
}

/// Resolves `~/…` against the home folder and a relative path against `base`.
pub fn resolve_path(base: &Path, raw: &str) -> PathBuf {
    if let Some(rest) = raw.strip_prefix("~/")
        && let Some(home) = dirs::home_dir()
    {
        return home.join(rest);
    }
    let p = PathBuf::from(raw);
    let joined = if p.is_absolute() { p } else { base.join(p) };
    // `config/../fixtures` → `fixtures`, without touching the file system.
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    fn err(&self, span: std::ops::Range<usize>, key: &str, message: &str) -> ConfigError {
        let line = self.text[..span.start.min(self.text.len())].matches('\n').count() + 1;
        ConfigError::Value { file: self.file.to_path_buf(), line, key: key.to_string(), message: message.to_string() }
    }

    fn domains(&self, list: &[Spanned<String>], key: &str, registrable_only: bool) -> Result<Vec<String>, ConfigError> {
        let mut out = Vec::new();
        for d in list {
            let n = address::normalize_domain(d.get_ref())
                .ok_or_else(|| self.err(d.span(), key, &format!("{:?} is not a domain", d.get_ref())))?;
            if registrable_only && address::is_public_suffix(&n) {
                return Err(self.err(d.span(), key, &format!("{n:?} is a public suffix, not a domain anyone owns")));
            }
            out.push(n);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/k/kronika.toml"), text)
    }

    #[test]
    fn full_config_validates() {
        let c = parse(
            r#"
data_dir = "data"
own_addresses = ["Jana@ModryKamen.cz"]
own_domains = ["modrykamen.cz"]
free_mail_domains = ["firma-free.cz"]
blocklist = ["mama@gmail.com", "@private.example"]

[[custom_fields]]
name = "obor"
type = "text"

[[custom_fields]]
name = "tier"
type = "choice"
choices = ["A", "B"]
"#,
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/etc/k/data"));
        assert_eq!(c.own_addresses, vec!["jana@modrykamen.cz"]);
        assert!(c.free_mail_domains.contains(&"seznam.cz".to_string()));
        assert!(c.free_mail_domains.contains(&"firma-free.cz".to_string()));
        assert_eq!(c.blocklist, vec!["mama@gmail.com", "@private.example"]);
        assert_eq!(c.custom_fields.len(), 2);
    }

    #[test]
    fn imap_sections_validate() {
        let c = parse(
            "[[imap]]\nname = \"work\"\nhost = \"127.0.0.1\"\nport = 1143\ntls = \"none\"\nusername = \"jana\"\npassword_cmd = \"pass show x\"\nsince = \"2024-01-01\"\npoll_interval = \"1h30m\"\n",
        )
        .unwrap();
        let i = &c.imap[0];
        assert_eq!(i.port, 1143);
        assert_eq!(i.tls, TlsMode::None);
        assert_eq!(i.poll_interval, std::time::Duration::from_secs(5400));
        assert_eq!(i.password, PasswordSource::Cmd("pass show x".into()));
        assert!(is_loopback("::1") && is_loopback("localhost") && !is_loopback("imap.example.com"));
        assert_eq!(parse_duration("30s"), Some(std::time::Duration::from_secs(30)));
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let cases = [
            ("data_dir = \"d\"\nown_adresses = [\"x@y.cz\"]\n", "own_adresses", "line 2"),
            ("data_dir = \"d\"\nown_addresses = [\"nope\"]\n", "own_addresses", "line 2"),
            ("\n\nown_domains = [\"co.uk\"]\n", "own_domains", "line 3"),
            ("blocklist = [\"@\"]\n", "blocklist", "line 1"),
            ("[[custom_fields]]\nname = \"x\"\ntype = \"colour\"\n", "custom_fields.type", "line 1"),
            ("[[custom_fields]]\nname = \"x\"\ntype = \"choice\"\n", "custom_fields.choices", "line 1"),
            ("data_dir = 5\n", "data_dir", "line 1"),
            ("\n[[maildir]]\nname = \"a\"\npath = \"\"\n", "maildir.path", "line 2"),
            ("[[maildir]]\nname = \"a\"\npath = \"x\"\nwatch = true\n", "watch", "line 4"),
            (
                "[[imap]]\nname = \"w\"\nhost = \"imap.example.com\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\n",
                "imap.tls",
                "line 1",
            ),
            ("[[imap]]\nname = \"w\"\nhost = \"h\"\nusername = \"u\"\n", "imap.password_cmd", "line 1"),
            ("[[imap]]\nname = \"w\"\nhost = \"h\"\nusername = \"u\"\npassword = \"x\"\n", "password", "line 5"),
            (
                "[[imap]]\nname = \"w\"\nhost = \"h\"\nusername = \"u\"\npassword_env = \"P\"\npoll_interval = \"soon\"\n",
                "imap.poll_interval",
                "line 1",
            ),
        ];
        for (text, key, line) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains("/etc/k/kronika.toml"), "{e}");
            assert!(e.contains(key), "{e} should name {key}");
            assert!(e.contains(line), "{e} should name {line}");
            assert!(e.starts_with("cannot "), "{e}");
        }
    }
}
