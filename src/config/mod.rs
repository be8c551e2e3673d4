//! The one TOML config file: read raw (serde, unknown keys refused), then
//! validated into [`Config`]. Every error names the file, the line and the key.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use crate::matcher::Policy;
use crate::model::CustomField;

mod accounts;
mod raw;
mod validate;

pub use validate::BUILTIN_FREE_MAIL;

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
    /// Who becomes a contact of a client by themselves.
    pub auto_contacts: crate::model::AutoContacts,
    pub custom_fields: Vec<CustomField>,
    /// Maildir trees the daemon watches.
    pub maildirs: Vec<MaildirConfig>,
    /// IMAP accounts.
    pub imap: Vec<ImapConfig>,
    /// Folders of call and meeting notes.
    pub notes: Vec<NotesConfig>,
    /// ICS calendars.
    pub calendars: Vec<CalendarConfig>,
    /// CalDAV accounts.
    pub caldav: Vec<CalendarAccount>,
    /// Microsoft 365 calendars read through Microsoft Graph (`[[graph]]`).
    pub graph: Vec<CalendarAccount>,
    /// Reminders before client meetings and follow-ups; `None`: off.
    pub reminders: Option<RemindersConfig>,
    /// How client figures (LTV, totals) are computed.
    pub figures: crate::figures::FiguresConfig,
    /// The ARES register: base URL and timeout.
    pub ares_url: String,
    pub ares_timeout: std::time::Duration,
    /// The web interface (`[web]`); `None`: not served.
    pub web: Option<WebConfig>,
    /// Scheduled backups (`[backup]`); `None`: only `kronika backup`.
    pub backup: Option<BackupConfig>,
    /// A PostgreSQL store (`[store]`); `None`: SQLite in `data_dir`.
    pub store: Option<StoreConfig>,
    /// This daemon among others on one store (`[node]`).
    pub node: NodeConfig,
}

/// The `[node]` section: this daemon's name among the daemons that share
/// a store, and how long its leases last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// Default: the machine's host name.
    pub name: String,
    /// A source whose daemon has not renewed its lease for this long is
    /// taken over by another (renewed every quarter of it). Default 20 s.
    pub lease: std::time::Duration,
}

/// How long a lease lasts unless `[node] lease` says otherwise.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(20);

/// The `[store]` section: the store in PostgreSQL rather than in SQLite.
/// The URL never holds a password (validation refuses one), so this may
/// be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// `postgres://user@host:port/database?sslmode=…`
    pub url: String,
    /// Where the password comes from; `None`: `PGPASSFILE` or `~/.pgpass`.
    pub password: Option<PasswordSource>,
    /// The firm's own schema; `None`: `public`.
    pub schema: Option<String>,
    /// A CA certificate (PEM) to trust beside the system's roots.
    pub ca_file: Option<PathBuf>,
}

/// Whether `name` is a schema name kronika accepts: lowercase letters,
/// digits and `_`, starting with a letter, at most 63 bytes (it is quoted
/// into `SET search_path`, so it is checked, never taken as given).
pub fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// The `[backup]` section: the daemon backs up every `every` into `dir`,
/// keeping the newest `keep`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    pub dir: PathBuf,
    pub every: std::time::Duration,
    pub keep: usize,
}

/// The `[web]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Where the web interface listens (a bare port means 127.0.0.1).
    pub listen: std::net::SocketAddr,
}

/// The `[reminders]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemindersConfig {
    /// How long before an event each reminder fires (largest first).
    pub lead_times: Vec<std::time::Duration>,
    /// A client silent this long gets a reminder to get in touch.
    pub follow_up_after: Option<std::time::Duration>,
    /// Where the daemon serves the ICS feed of upcoming client meetings
    /// (a bare port means 127.0.0.1).
    pub serve: Option<std::net::SocketAddr>,
    /// The feed's secret: required in its URL on any address but loopback.
    /// `None`: kronika generates one and keeps it in the data folder.
    pub feed_token: Option<String>,
    /// How long a webhook or a command may take before it counts as failed.
    pub sink_timeout: std::time::Duration,
    pub stdout: bool,
    pub webhooks: Vec<String>,
    /// Programs (with arguments) run without a shell, the reminder as JSON on stdin.
    pub commands: Vec<Vec<String>>,
    /// How far ahead reminders are planned.
    pub horizon: std::time::Duration,
}

/// Where a calendar comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    Url(String),
    File(PathBuf),
}

/// A `[[calendar]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarConfig {
    pub name: String,
    pub feed: Feed,
    pub poll_interval: std::time::Duration,
    /// How far back and ahead recurrences are expanded.
    pub past: std::time::Duration,
    pub future: std::time::Duration,
    /// How long a fetch may take.
    pub timeout: std::time::Duration,
}

/// How a calendar account signs in. Secrets are read when connecting,
/// never kept here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarAuth {
    /// HTTP Basic with a password from a command or the environment.
    Password { username: String, password: PasswordSource },
    /// A bearer token redeemed from the refresh token that `kronika login
    /// SIGNIN` kept for the `[[imap]]` account `signin`, for `scopes`.
    OAuth2 { signin: String, oauth: OAuthConfig, scopes: Vec<String> },
    /// A bearer token printed by the user's own command.
    TokenCmd(String),
}

/// A calendar account: a `[[caldav]]` or a `[[graph]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarAccount {
    pub name: String,
    /// CalDAV: any URL on the server (calendars are discovered from it).
    /// Graph: the API's base (`https://graph.microsoft.com/v1.0`).
    pub url: String,
    pub auth: CalendarAuth,
    /// Calendars to read, by display name (or the last part of their
    /// URL); `None`: every calendar of the user.
    pub calendars: Option<Vec<String>>,
    pub poll_interval: std::time::Duration,
    pub past: std::time::Duration,
    pub future: std::time::Duration,
    pub timeout: std::time::Duration,
    /// Whose calendar it is, and what the others see of its events.
    pub access: SourceAccess,
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

/// How long `password_cmd` may take (a keyring that hangs is stopped).
pub const PASSWORD_CMD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl PasswordSource {
    /// Runs `password_cmd` (first line of its output) or reads `password_env`.
    /// Errors never contain the password.
    pub fn read(&self) -> Result<String, String> {
        match self {
            PasswordSource::Env(var) => {
                std::env::var(var).map_err(|_| format!("the environment variable {var} is not set"))
            }
            PasswordSource::Cmd(cmd) => {
                let mut command = std::process::Command::new("sh");
                command.arg("-c").arg(cmd);
                let out = crate::process::run_bounded(command, None, PASSWORD_CMD_TIMEOUT, None)
                    .map_err(|e| format!("password_cmd: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "password_cmd failed ({}): {}",
                        out.status,
                        crate::text::ellipsize(String::from_utf8_lossy(&out.stderr).trim(), 300)
                    ));
                }
                let text = String::from_utf8_lossy(&out.stdout);
                let line = text.lines().next().unwrap_or("").trim_end_matches('\r').to_string();
                if line.is_empty() {
                    return Err("password_cmd printed nothing".into());
                }
                Ok(line)
            }
        }
    }
}

/// How an IMAP account logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapAuth {
    /// LOGIN with a password from a command or the environment.
    Password(PasswordSource),
    /// SASL XOAUTH2 or OAUTHBEARER with an access token from the refresh
    /// token `kronika login` stored.
    OAuth2(OAuthConfig),
    /// SASL with an access token printed by the user's own command.
    TokenCmd(String),
}

/// Which OAuth2 provider an account signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthProvider {
    Microsoft,
    Google,
    Custom,
}

/// How `kronika login` obtains the first tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthFlow {
    /// The device-code flow (RFC 8628): a code to type in on any device.
    Device,
    /// The authorization-code flow with PKCE and a loopback redirect.
    Code,
}

/// The OAuth2 side of an account: endpoints (from a preset or the
/// config), the user's own app registration, scopes. `client_secret` is
/// never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    pub provider: OAuthProvider,
    pub flow: OAuthFlow,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub auth_url: Option<String>,
    pub token_url: String,
    pub device_url: Option<String>,
    pub scopes: Vec<String>,
    /// The loopback port of the code flow's redirect; 0: any free port.
    pub redirect_port: u16,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("provider", &self.provider)
            .field("flow", &self.flow)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("auth_url", &self.auth_url)
            .field("token_url", &self.token_url)
            .field("device_url", &self.device_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// An `[[imap]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapConfig {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    /// How kronika logs in: a password, or an OAuth2 access token.
    pub auth: ImapAuth,
    /// The user SASL names (a shared mailbox: `info@firma.cz`, opened with
    /// the token of the user who signed in); `None`: `username`.
    pub mailbox_user: Option<String>,
    /// A capture mailbox (colleagues Bcc or forward client mail to it):
    /// forwards are unwrapped into the original message.
    pub capture: bool,
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
    /// Whose mailbox it is and what everyone else sees of its mail.
    pub access: SourceAccess,
}

/// A `[[maildir]]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildirConfig {
    pub name: String,
    pub path: PathBuf,
    /// A capture mailbox: forwards are unwrapped into the original message.
    pub capture: bool,
    /// Whose mailbox it is and what everyone else sees of its mail.
    pub access: SourceAccess,
}

/// What everyone but a mailbox's owner sees of its mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub enum Visibility {
    /// Who, when, with which client: no subject, no body, no attachments.
    Metadata,
    /// The subject too, but no body, attachments or documents' text.
    Subject,
    /// Everything.
    #[default]
    Full,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Metadata => "metadata",
            Visibility::Subject => "subject",
            Visibility::Full => "full",
        }
    }
}

/// A mailbox's owner (a web user's name, `kronika user add`) and the
/// visibility of its mail for everyone else. Without an owner the mail is
/// everyone's (`visibility` must then be `full`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceAccess {
    pub owner: Option<String>,
    pub visibility: Visibility,
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
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        validate::config(path, text, &raw)
    }

    /// The part of the config the matcher needs.
    pub fn policy(&self) -> Policy {
        Policy {
            own_addresses: self.own_addresses.clone(),
            own_domains: self.own_domains.clone(),
            free_mail_domains: self.free_mail_domains.clone(),
            blocklist: self.blocklist.clone(),
            auto_contacts: self.auto_contacts,
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
    /// Where the store is, for messages: the data folder, or the PostgreSQL
    /// database and schema.
    pub fn store_place(&self) -> String {
        match &self.store {
            None => self.data_dir.display().to_string(),
            Some(s) => match &s.schema {
                Some(schema) => format!("{} (schema {schema})", s.url),
                None => s.url.clone(),
            },
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("kronika.sqlite3")
    }
}

/// True for `localhost`, `127.x.x.x` and `::1`.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `8765` (127.0.0.1:8765: loopback unless said otherwise) or `ADDRESS:PORT`.
pub fn parse_listen(s: &str) -> Option<std::net::SocketAddr> {
    let s = s.trim();
    match s.parse::<u16>() {
        Ok(port) => Some(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
        Err(_) => s.parse().ok(),
    }
}

/// Reads `30s`, `5m`, `1h`, `1d`, `90` (seconds), `1h30m`; `None` for
/// anything else, a number too large included.
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
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
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

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
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
    fn web_section_validates() {
        let c = parse("[web]\nlisten = \"8080\"\n").unwrap();
        assert_eq!(c.web.unwrap().listen, "127.0.0.1:8080".parse().unwrap());
        let c = parse("[web]\nlisten = \"0.0.0.0:9000\"\n").unwrap();
        assert_eq!(c.web.unwrap().listen, "0.0.0.0:9000".parse().unwrap());
        assert!(parse("").unwrap().web.is_none());
        let e = parse("data_dir = \"d\"\n[web]\nlisten = \"anywhere\"\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("web.listen") && e.contains("kronika.toml"), "{e}");
        let e = parse("[web]\nport = 1\n").unwrap_err().to_string();
        assert!(e.contains("port"), "{e}");
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
        assert_eq!(i.auth, ImapAuth::Password(PasswordSource::Cmd("pass show x".into())));
        assert!(is_loopback("::1") && is_loopback("localhost") && !is_loopback("imap.example.com"));
        assert_eq!(parse_duration("30s"), Some(std::time::Duration::from_secs(30)));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("99999999999999999d"), None);
        assert_eq!(parse_duration("18446744073709551615s1s"), None);
        assert_eq!(parse_listen("8765"), Some("127.0.0.1:8765".parse().unwrap()));
        assert_eq!(parse_listen("0.0.0.0:80"), Some("0.0.0.0:80".parse().unwrap()));
        assert_eq!(parse_listen("somewhere"), None);
    }

    #[test]
    fn oauth2_accounts_get_their_provider_presets() {
        let c = parse(
            "[[imap]]\nname = \"m365\"\nprovider = \"microsoft\"\nusername = \"jana@firma.cz\"\nclient_id = \"abc\"\ntenant = \"firma.onmicrosoft.com\"\nmailbox_user = \"info@firma.cz\"\n\n[[imap]]\nname = \"g\"\nprovider = \"google\"\nusername = \"jana@firma.cz\"\nclient_id = \"x.apps.googleusercontent.com\"\nclient_secret = \"s3cret\"\n\n[[imap]]\nname = \"t\"\nhost = \"imap.example.com\"\nauth = \"oauth2\"\nusername = \"u\"\ntoken_cmd = \"oauth2-helper\"\n",
        )
        .unwrap();
        let m = &c.imap[0];
        assert_eq!((m.host.as_str(), m.port, m.tls), ("outlook.office365.com", 993, TlsMode::Implicit));
        assert_eq!(m.mailbox_user.as_deref(), Some("info@firma.cz"));
        let ImapAuth::OAuth2(o) = &m.auth else { panic!("{:?}", m.auth) };
        assert_eq!(o.flow, OAuthFlow::Device);
        assert_eq!(
            o.device_url.as_deref(),
            Some("https://login.microsoftonline.com/firma.onmicrosoft.com/oauth2/v2.0/devicecode")
        );
        assert_eq!(o.scopes, vec!["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"]);
        let g = &c.imap[1];
        assert_eq!(g.host, "imap.gmail.com");
        let ImapAuth::OAuth2(o) = &g.auth else { panic!("{:?}", g.auth) };
        assert_eq!((o.flow, o.token_url.as_str()), (OAuthFlow::Code, "https://oauth2.googleapis.com/token"));
        assert!(!format!("{:?}", c.imap).contains("s3cret"), "the client secret never shows");
        assert_eq!(c.imap[2].auth, ImapAuth::TokenCmd("oauth2-helper".into()));
        for (text, key) in [
            ("[[imap]]\nname = \"a\"\nprovider = \"google\"\nusername = \"u\"\n", "imap.client_id"),
            ("[[imap]]\nname = \"a\"\nprovider = \"yahoo\"\nusername = \"u\"\n", "imap.provider"),
            (
                "[[imap]]\nname = \"a\"\nhost = \"h\"\nauth = \"oauth2\"\nusername = \"u\"\nclient_id = \"c\"\n",
                "imap.token_url",
            ),
            (
                "[[imap]]\nname = \"a\"\nprovider = \"google\"\nusername = \"u\"\nclient_id = \"c\"\npassword_env = \"P\"\n",
                "imap.password_cmd",
            ),
            (
                "[[imap]]\nname = \"a\"\nhost = \"h\"\nauth = \"oauth2\"\nusername = \"u\"\nclient_id = \"c\"\ntoken_url = \"http://evil.example/t\"\n",
                "imap.token_url",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(key), "{e} should name {key}");
        }
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

    #[test]
    fn store_section_names_a_postgresql_database_without_its_password() {
        assert_eq!(parse("data_dir = \"d\"\n").unwrap().store, None);
        let c = parse(
            "data_dir = \"d\"\n[store]\nurl = \"postgres://kronika@db.firma.cz:5433/kronika?sslmode=require\"\n\
             password_cmd = \"pass show db\"\nschema = \"firma_a\"\nca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let s = c.store.as_ref().unwrap();
        assert_eq!(s.url, "postgres://kronika@db.firma.cz:5433/kronika?sslmode=require");
        assert_eq!(s.password, Some(PasswordSource::Cmd("pass show db".into())));
        assert_eq!(s.schema.as_deref(), Some("firma_a"));
        assert_eq!(s.ca_file, Some(PathBuf::from("/etc/k/ca.pem")));
        assert_eq!(c.store_place(), "postgres://kronika@db.firma.cz:5433/kronika?sslmode=require (schema firma_a)");
        let c =
            parse("[store]\nurl = \"postgresql:///kronika?host=/run/postgresql\"\npassword_env = \"PGPW\"\n").unwrap();
        assert_eq!(c.store.unwrap().password, Some(PasswordSource::Env("PGPW".into())));
        let cases = [
            ("[store]\nschema = \"a\"\n", "store.url", "is missing"),
            ("[store]\nurl = \"mysql://db/k\"\n", "store.url", "postgres://"),
            ("[store]\nurl = \"postgres://kronika:tajne@db/k\"\n", "store.url", "holds a password"),
            ("[store]\nurl = \"postgres://db/k?sslmode=require&password=tajne\"\n", "store.url", "holds a password"),
            ("[store]\nurl = \"postgres://k@db/k\"\nschema = \"Firma; DROP\"\n", "store.schema", "lowercase"),
            (
                "[store]\nurl = \"postgres://k@db/k\"\npassword_cmd = \"a\"\npassword_env = \"B\"\n",
                "store.password_env",
                "not both",
            ),
            ("[store]\nurl = \"postgres://k@db/k\"\npassword_cmd = \" \"\n", "store.password_cmd", "empty"),
            ("[store]\nurl = \"postgres://k@db/k\"\nhost = \"x\"\n", "host", "unknown"),
        ];
        for (text, key, why) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains(why) && e.starts_with("cannot "), "{text}: {e}");
            assert!(!e.contains("tajne"), "the password is shown: {e}");
        }
    }

    #[test]
    fn owner_and_visibility_of_mailboxes() {
        let c = parse(
            "[[maildir]]\nname = \"jana\"\npath = \"m/jana\"\nowner = \"jana\"\nvisibility = \"subject\"\n\n\
             [[maildir]]\nname = \"eva\"\npath = \"m/eva\"\nowner = \"eva\"\nvisibility = \"Metadata\"\n\n\
             [[maildir]]\nname = \"shared\"\npath = \"m/shared\"\n\n\
             [[imap]]\nname = \"w\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\nowner = \"petr\"\n",
        )
        .unwrap();
        let a: Vec<(Option<&str>, Visibility)> =
            c.maildirs.iter().map(|m| (m.access.owner.as_deref(), m.access.visibility)).collect();
        assert_eq!(
            a,
            [(Some("jana"), Visibility::Subject), (Some("eva"), Visibility::Metadata), (None, Visibility::Full)]
        );
        assert_eq!(c.imap[0].access, SourceAccess { owner: Some("petr".into()), visibility: Visibility::Full });
        for (text, key, words) in [
            (
                "[[maildir]]\nname = \"a\"\npath = \"x\"\nowner = \"jana\"\nvisibility = \"secret\"\n",
                "maildir.visibility",
                "\"secret\" is not full, subject or metadata",
            ),
            (
                "[[maildir]]\nname = \"a\"\npath = \"x\"\nvisibility = \"subject\"\n",
                "maildir.visibility",
                "needs an owner",
            ),
            ("[[maildir]]\nname = \"a\"\npath = \"x\"\nowner = \" \"\n", "maildir.owner", "empty owner"),
            (
                "[[imap]]\nname = \"w\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\nowner = \"j\"\nvisibility = \"none\"\n",
                "imap.visibility",
                "imap \"w\"",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with("cannot "), "{e}");
            assert!(e.contains(key) && e.contains(words), "{e} should name {key} and say {words}");
        }
    }
}
