//! Raw config → validated [`Config`], one function per section. Every
//! error names the file, the line and the key.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::raw::RawConfig;
use super::{
    BackupConfig, CalendarConfig, Config, ConfigError, Feed, ImapAuth, ImapConfig, MaildirConfig, NodeConfig,
    NotesConfig, OAuthConfig, OAuthFlow, OAuthProvider, PasswordSource, RemindersConfig, SourceAccess, StoreConfig,
    TlsMode, Visibility, WebConfig, is_loopback, parse_duration, parse_listen, resolve_path,
};
use crate::address;
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

pub(super) fn config(path: &Path, text: &str, raw: &RawConfig) -> Result<Config, ConfigError> {
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

    let (own_addresses, own_domains, free_mail_domains, blocklist) = matching(&v, raw)?;
    let custom_fields = custom_fields(&v, raw)?;
    let maildirs = maildirs(&v, &base, raw)?;
    let imap = imap(&v, &base, raw)?;
    let notes = notes(&v, &base, raw, &maildirs, &imap)?;
    let calendars = calendars(&v, &base, raw, &maildirs, &imap, &notes)?;
    let taken: Vec<String> = maildirs
        .iter()
        .map(|m| m.name.clone())
        .chain(notes.iter().map(|n| n.name.clone()))
        .chain(calendars.iter().map(|c| c.name.clone()))
        .chain(imap.iter().map(|i| i.name.clone()))
        .collect();
    let (caldav, graph, imap) = super::accounts::validate(&v, raw, &taken, imap)?;
    let reminders = reminders(&v, raw)?;
    let figures = figures(&v, raw)?;
    let (ares_url, ares_timeout) = ares(&v, raw)?;
    let web = web(&v, raw)?;
    let backup = backup(&v, &base, raw)?;
    let store = store(&v, &base, raw)?;
    let node = node(&v, raw)?;
    let auto_contacts = match &raw.auto_contacts {
        None => crate::model::AutoContacts::default(),
        Some(a) => crate::model::AutoContacts::parse(a.get_ref().trim()).ok_or_else(|| {
            v.err(
                a.span(),
                "auto_contacts",
                &format!("{:?} is not a policy; use sent_and_received, sent or none", a.get_ref()),
            )
        })?,
    };
    Ok(Config {
        node,
        store,
        auto_contacts,
        web,
        backup,
        figures,
        ares_url,
        ares_timeout,
        reminders,
        calendars,
        caldav,
        graph,
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

/// Own addresses and domains, free-mail domains (built in and added), the blocklist.
#[allow(clippy::type_complexity)]
fn matching(
    v: &Validator<'_>,
    raw: &RawConfig,
) -> Result<(Vec<String>, Vec<String>, Vec<String>, Vec<String>), ConfigError> {
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
    Ok((own_addresses, own_domains, free_mail_domains, blocklist))
}

fn custom_fields(v: &Validator<'_>, raw: &RawConfig) -> Result<Vec<CustomField>, ConfigError> {
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
    Ok(custom_fields)
}

fn maildirs(v: &Validator<'_>, base: &Path, raw: &RawConfig) -> Result<Vec<MaildirConfig>, ConfigError> {
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
        let r = m.get_ref();
        let access = source_access(
            &|key: &str, msg: String| v.err(m.span(), key, &msg),
            "maildir",
            name,
            &r.owner,
            &r.visibility,
        )?;
        maildirs.push(MaildirConfig {
            name: name.to_string(),
            path: resolve_path(base, r.path.trim()),
            capture: r.capture,
            access,
        });
    }
    Ok(maildirs)
}

fn imap(v: &Validator<'_>, base: &Path, raw: &RawConfig) -> Result<Vec<ImapConfig>, ConfigError> {
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
        let provider = match r.provider.as_deref().map(|p| p.trim().to_ascii_lowercase()) {
            None => None,
            Some(p) if p == "microsoft" || p == "microsoft365" || p == "outlook" => Some(OAuthProvider::Microsoft),
            Some(p) if p == "google" || p == "gmail" => Some(OAuthProvider::Google),
            Some(p) if p == "custom" => Some(OAuthProvider::Custom),
            Some(other) => {
                return Err(err("imap.provider", format!("{other:?} is not microsoft, google or custom")));
            }
        };
        let preset_host = match provider {
            Some(OAuthProvider::Microsoft) => "outlook.office365.com",
            Some(OAuthProvider::Google) => "imap.gmail.com",
            _ => "",
        };
        let host = match r.host.trim() {
            "" => preset_host.to_string(),
            h => h.to_string(),
        };
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
        let auth = imap_auth(&err, &name, r, provider)?;
        let since = match &r.since {
            Some(s) => Some(
                crate::model::parse_date(s)
                    .ok_or_else(|| err("imap.since", format!("{s:?} is not a date (YYYY-MM-DD)")))?,
            ),
            None => None,
        };
        let poll_interval = match &r.poll_interval {
            Some(p) => parse_duration(p).filter(|d| !d.is_zero()).ok_or_else(|| {
                err("imap.poll_interval", format!("{p:?} is not a duration above zero like 30s, 5m or 1h"))
            })?,
            None => std::time::Duration::from_secs(300),
        };
        let timeout = match &r.timeout {
            Some(p) => parse_duration(p)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| err("imap.timeout", format!("{p:?} is not a duration above zero like 30s, 5m or 1h")))?,
            None => std::time::Duration::from_secs(60),
        };
        if r.username.trim().is_empty() {
            return Err(err("imap.username", format!("account {name:?} has no username")));
        }
        let access = source_access(&err, "imap", &name, &r.owner, &r.visibility)?;
        imap.push(ImapConfig {
            access,
            port: r.port.unwrap_or(if tls == TlsMode::Implicit { 993 } else { 143 }),
            name,
            host,
            tls,
            username: r.username.trim().to_string(),
            auth,
            mailbox_user: r.mailbox_user.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_string),
            capture: r.capture,
            mailboxes: r.mailboxes.clone().filter(|m| !m.is_empty()),
            outgoing: r.outgoing.clone(),
            since,
            idle: r.idle,
            poll_interval,
            ca_file: r.ca_file.as_deref().map(|c| resolve_path(base, c)),
            timeout,
        });
    }
    Ok(imap)
}

/// `owner` and `visibility` of a `[[maildir]]`, `[[imap]]`, `[[caldav]]` or `[[graph]]` section.
pub(super) fn source_access(
    err: &dyn Fn(&str, String) -> ConfigError,
    section: &str,
    name: &str,
    owner: &Option<String>,
    visibility: &Option<String>,
) -> Result<SourceAccess, ConfigError> {
    let owner = match owner.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            return Err(err(
                &format!("{section}.owner"),
                format!(
                    "{section} {name:?} has an empty owner; name a web user (kronika user add) or leave the key out"
                ),
            ));
        }
        Some(o) if o.chars().any(char::is_whitespace) => {
            return Err(err(
                &format!("{section}.owner"),
                format!("{section} {name:?}: the owner {o:?} is not a user name (no spaces)"),
            ));
        }
        Some(o) => Some(o.to_string()),
    };
    let visibility = match visibility.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        None => Visibility::Full,
        Some(s) if s == "full" => Visibility::Full,
        Some(s) if s == "subject" => Visibility::Subject,
        Some(s) if s == "metadata" => Visibility::Metadata,
        Some(other) => {
            return Err(err(
                &format!("{section}.visibility"),
                format!("{section} {name:?}: visibility {other:?} is not full, subject or metadata"),
            ));
        }
    };
    if owner.is_none() && visibility != Visibility::Full {
        return Err(err(
            &format!("{section}.visibility"),
            format!(
                "{section} {name:?}: visibility {:?} needs an owner (the user who sees everything of it); add owner = \"USER\"",
                visibility.as_str()
            ),
        ));
    }
    Ok(SourceAccess { owner, visibility })
}

/// How an account logs in: `auth = "password"` (the default) with
/// `password_cmd` or `password_env`; `auth = "oauth2"` with a provider
/// preset (or `custom` endpoints) and the user's `client_id`, or with
/// `token_cmd`.
fn imap_auth(
    err: &dyn Fn(&str, String) -> ConfigError,
    name: &str,
    r: &super::raw::RawImap,
    provider: Option<OAuthProvider>,
) -> Result<ImapAuth, ConfigError> {
    let mode = r.auth.as_deref().map(|a| a.trim().to_ascii_lowercase());
    let oauth = match mode.as_deref() {
        None => provider.is_some() || r.token_cmd.is_some(),
        Some("password") => false,
        Some("oauth2") | Some("oauth") | Some("xoauth2") => true,
        Some(other) => return Err(err("imap.auth", format!("{other:?} is not password or oauth2"))),
    };
    if !oauth {
        return match (&r.password_cmd, &r.password_env) {
            (Some(c), None) if !c.trim().is_empty() => Ok(ImapAuth::Password(PasswordSource::Cmd(c.clone()))),
            (None, Some(e)) if !e.trim().is_empty() => {
                Ok(ImapAuth::Password(PasswordSource::Env(e.trim().to_string())))
            }
            (Some(_), Some(_)) => {
                Err(err("imap.password_cmd", format!("account {name:?}: give password_cmd or password_env, not both")))
            }
            _ => Err(err(
                "imap.password_cmd",
                format!(
                    "account {name:?} needs password_cmd (a command that prints the password) or password_env, or auth = \"oauth2\""
                ),
            )),
        };
    }
    if r.password_cmd.is_some() || r.password_env.is_some() {
        return Err(err(
            "imap.password_cmd",
            format!("account {name:?} signs in with OAuth2: leave out password_cmd and password_env"),
        ));
    }
    if let Some(cmd) = r.token_cmd.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        if r.client_id.is_some() {
            return Err(err("imap.token_cmd", format!("account {name:?}: give token_cmd or client_id, not both")));
        }
        return Ok(ImapAuth::TokenCmd(cmd.to_string()));
    }
    let provider = provider.unwrap_or(OAuthProvider::Custom);
    let client_id = r.client_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
        err(
            "imap.client_id",
            format!(
                "account {name:?} needs client_id: your own app registration (the README shows how to make one), or token_cmd"
            ),
        )
    })?;
    let url = |key: &str, v: &Option<String>| -> Result<Option<String>, ConfigError> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(u)
                if u.starts_with("https://")
                    || u.starts_with("http://127.0.0.1")
                    || u.starts_with("http://localhost") =>
            {
                Ok(Some(u.to_string()))
            }
            Some(u) => Err(err(key, format!("{u:?} is not an https URL (plain http only to loopback)"))),
        }
    };
    let tenant = r.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("organizations");
    if !tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        return Err(err("imap.tenant", format!("{tenant:?} is not a tenant name or id")));
    }
    let ms = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
    let (preset_auth, preset_token, preset_device, preset_scopes): (
        Option<String>,
        Option<String>,
        Option<String>,
        &[&str],
    ) = match provider {
        OAuthProvider::Microsoft => (
            Some(format!("{ms}/authorize")),
            Some(format!("{ms}/token")),
            Some(format!("{ms}/devicecode")),
            &["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"],
        ),
        OAuthProvider::Google => (
            Some("https://accounts.google.com/o/oauth2/v2/auth".into()),
            Some("https://oauth2.googleapis.com/token".into()),
            None,
            &["https://mail.google.com/"],
        ),
        OAuthProvider::Custom => (None, None, None, &[]),
    };
    let auth_url = url("imap.auth_url", &r.auth_url)?.or(preset_auth);
    let device_url = url("imap.device_url", &r.device_url)?.or(preset_device);
    let token_url = url("imap.token_url", &r.token_url)?.or(preset_token).ok_or_else(|| {
        err(
            "imap.token_url",
            format!("account {name:?}: a custom provider needs token_url (and auth_url or device_url)"),
        )
    })?;
    let scopes: Vec<String> = match &r.scopes {
        Some(s) => s.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        None => preset_scopes.iter().map(|s| s.to_string()).collect(),
    };
    if scopes.is_empty() {
        return Err(err("imap.scopes", format!("account {name:?} needs scopes for its provider")));
    }
    // Microsoft: the device code works over SSH; Google does not allow
    // the mail scope with it, so a browser and a loopback redirect.
    let flow = match (provider, &device_url, &auth_url) {
        (OAuthProvider::Google, _, Some(_)) => OAuthFlow::Code,
        (_, Some(_), _) => OAuthFlow::Device,
        (_, None, Some(_)) => OAuthFlow::Code,
        (_, None, None) => {
            return Err(err("imap.auth_url", format!("account {name:?} needs auth_url or device_url to sign in")));
        }
    };
    Ok(ImapAuth::OAuth2(OAuthConfig {
        provider,
        flow,
        client_id: client_id.to_string(),
        client_secret: r.client_secret.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string),
        auth_url,
        token_url,
        device_url,
        scopes,
        redirect_port: r.redirect_port.unwrap_or(0),
    }))
}

fn notes(
    v: &Validator<'_>,
    base: &Path,
    raw: &RawConfig,
    maildirs: &[MaildirConfig],
    imap: &[ImapConfig],
) -> Result<Vec<NotesConfig>, ConfigError> {
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
            path: resolve_path(base, r.path.trim()),
            name,
            kind,
            patterns,
            max_bytes: r.max_size_kb.unwrap_or(1024) * 1024,
        });
    }
    Ok(notes)
}

fn calendars(
    v: &Validator<'_>,
    base: &Path,
    raw: &RawConfig,
    maildirs: &[MaildirConfig],
    imap: &[ImapConfig],
    notes: &[NotesConfig],
) -> Result<Vec<CalendarConfig>, ConfigError> {
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
                Feed::Url(u.to_string())
            }
            (None, Some(p)) if !p.trim().is_empty() => Feed::File(resolve_path(base, p.trim())),
            (Some(_), Some(_)) => {
                return Err(err("calendar.url", format!("calendar {name:?}: give url or path, not both")));
            }
            _ => {
                return Err(err("calendar.url", format!("calendar {name:?} needs a url (http or https) or a path")));
            }
        };
        // Zero is refused: a zero poll is a busy loop, a zero timeout fails every fetch.
        let duration = |key: &str, value: &Option<String>, default: u64| match value {
            Some(p) => parse_duration(p)
                .filter(|d| !d.is_zero() || key.ends_with("past") || key.ends_with("future"))
                .ok_or_else(|| err(key, format!("{p:?} is not a duration above zero like 15m, 1h or 365d"))),
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
    Ok(calendars)
}

fn reminders(v: &Validator<'_>, raw: &RawConfig) -> Result<Option<RemindersConfig>, ConfigError> {
    let reminders = match &raw.reminders {
        None => None,
        Some(section) => {
            let r = section.get_ref();
            let span = section.span();
            let err = |key: &str, msg: String| v.err(span.clone(), key, &msg);
            let mut lead_times = Vec::new();
            for l in &r.lead_times {
                lead_times.push(
                    parse_duration(l).ok_or_else(|| {
                        err("reminders.lead_times", format!("{l:?} is not a duration like 1d or 30m"))
                    })?,
                );
            }
            if lead_times.is_empty() {
                lead_times = vec![std::time::Duration::from_secs(86_400), std::time::Duration::from_secs(1800)];
            }
            lead_times.sort_by(|a, b| b.cmp(a));
            lead_times.dedup();
            let follow_up_after = match &r.follow_up_after {
                Some(f) => Some(
                    parse_duration(f)
                        .ok_or_else(|| err("reminders.follow_up_after", format!("{f:?} is not a duration like 90d")))?,
                ),
                None => None,
            };
            let serve = match &r.serve {
                Some(a) => Some(parse_listen(a).ok_or_else(|| {
                    err("reminders.serve", format!("{a:?} is not a port or an address like 127.0.0.1:8765"))
                })?),
                None => None,
            };
            let feed_token = match r.feed_token.as_deref().map(str::trim) {
                None => None,
                Some(t) if t.len() >= 16 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => {
                    Some(t.to_string())
                }
                Some(_) => {
                    return Err(err(
                        "reminders.feed_token",
                        "use at least 16 letters, digits, '-' or '_' (or leave it out: kronika makes one)".into(),
                    ));
                }
            };
            let sink_timeout = match &r.sink_timeout {
                Some(t) => parse_duration(t)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| err("reminders.sink_timeout", format!("{t:?} is not a duration like 30s")))?,
                None => std::time::Duration::from_secs(30),
            };
            for w in &r.webhooks {
                if !(w.starts_with("http://") || w.starts_with("https://")) {
                    return Err(err("reminders.webhooks", format!("{w:?} is not an http(s) URL")));
                }
            }
            if r.commands.iter().any(|c| c.first().is_none_or(|p| p.trim().is_empty())) {
                return Err(err("reminders.commands", "each command is a list: [program, arguments…]".into()));
            }
            let horizon = match &r.horizon {
                Some(h) => {
                    parse_duration(h).ok_or_else(|| err("reminders.horizon", format!("{h:?} is not a duration")))?
                }
                None => std::time::Duration::from_secs(30 * 86_400),
            };
            Some(RemindersConfig {
                lead_times,
                follow_up_after,
                serve,
                feed_token,
                sink_timeout,
                stdout: r.stdout,
                webhooks: r.webhooks.clone(),
                commands: r.commands.clone(),
                horizon,
            })
        }
    };
    Ok(reminders)
}

/// `[web]`: where the web interface listens.
fn web(v: &Validator<'_>, raw: &RawConfig) -> Result<Option<WebConfig>, ConfigError> {
    let Some(section) = &raw.web else { return Ok(None) };
    let Some(listen) = &section.get_ref().listen else {
        return Err(v.err(section.span(), "web.listen", "is missing; give a port or an address like 127.0.0.1:8080"));
    };
    let addr = parse_listen(listen.get_ref()).ok_or_else(|| {
        v.err(
            listen.span(),
            "web.listen",
            &format!("{:?} is not a port or an address like 127.0.0.1:8080", listen.get_ref()),
        )
    })?;
    Ok(Some(WebConfig { listen: addr }))
}

fn node(v: &Validator<'_>, raw: &RawConfig) -> Result<NodeConfig, ConfigError> {
    let r = raw.node.as_ref().map(|n| n.get_ref());
    let name = match r.and_then(|n| n.name.as_ref()) {
        Some(n) => {
            let name = n.get_ref().trim();
            if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
                return Err(v.err(n.span(), "node.name", "give a short name for this daemon, like praha-1"));
            }
            name.to_string()
        }
        None => host_name(),
    };
    let lease = match r.and_then(|n| n.lease.as_ref()) {
        Some(l) => parse_duration(l.get_ref())
            .filter(|d| (std::time::Duration::from_secs(4)..=std::time::Duration::from_secs(3600)).contains(d))
            .ok_or_else(|| {
                v.err(l.span(), "node.lease", &format!("{:?} is not a duration from 4s to 1h, like 20s", l.get_ref()))
            })?,
        None => super::DEFAULT_LEASE,
    };
    Ok(NodeConfig { name, lease })
}

/// The machine's host name, or `kronika` when it has none.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "kronika".to_string())
}

fn store(v: &Validator<'_>, base: &Path, raw: &RawConfig) -> Result<Option<StoreConfig>, ConfigError> {
    let Some(section) = &raw.store else { return Ok(None) };
    let r = section.get_ref();
    let Some(url) = &r.url else {
        return Err(v.err(
            section.span(),
            "store.url",
            "is missing; give the PostgreSQL database as postgres://user@host/database (or leave [store] out for SQLite)",
        ));
    };
    let text = url.get_ref().trim();
    let Some(rest) = text.strip_prefix("postgres://").or_else(|| text.strip_prefix("postgresql://")) else {
        return Err(v.err(url.span(), "store.url", "is not a postgres:// URL; write postgres://user@host/database"));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (query, _) = rest.split_once('#').unwrap_or((rest, ""));
    let has_password = authority.rsplit_once('@').is_some_and(|(user, _)| user.contains(':'))
        || query.split_once('?').is_some_and(|(_, q)| q.split('&').any(|kv| kv.trim().starts_with("password=")));
    if has_password {
        // Config files get read, copied and committed: the password comes
        // from password_cmd, password_env or the password file instead.
        return Err(v.err(
            url.span(),
            "store.url",
            "holds a password; remove it and use password_cmd, password_env or PGPASSFILE (~/.pgpass)",
        ));
    }
    let password = match (&r.password_cmd, &r.password_env) {
        (Some(_), Some(e)) => {
            return Err(v.err(e.span(), "store.password_env", "give password_cmd or password_env, not both"));
        }
        (Some(c), None) if c.get_ref().trim().is_empty() => {
            return Err(v.err(c.span(), "store.password_cmd", "is empty; give a command that prints the password"));
        }
        (Some(c), None) => Some(PasswordSource::Cmd(c.get_ref().clone())),
        (None, Some(e)) if e.get_ref().trim().is_empty() => {
            return Err(v.err(e.span(), "store.password_env", "is empty; name an environment variable"));
        }
        (None, Some(e)) => Some(PasswordSource::Env(e.get_ref().trim().to_string())),
        (None, None) => None,
    };
    let schema = match &r.schema {
        Some(s) if super::valid_schema(s.get_ref()) => Some(s.get_ref().clone()),
        Some(s) => {
            return Err(v.err(
                s.span(),
                "store.schema",
                &format!(
                    "{:?} is not a schema name kronika takes: lowercase letters, digits and _, starting with a letter",
                    s.get_ref()
                ),
            ));
        }
        None => None,
    };
    let ca_file = match &r.ca_file {
        Some(c) if c.get_ref().trim().is_empty() => {
            return Err(v.err(c.span(), "store.ca_file", "is empty; name a PEM file with the server's CA"));
        }
        Some(c) => Some(resolve_path(base, c.get_ref().trim())),
        None => None,
    };
    Ok(Some(StoreConfig { url: text.to_string(), password, schema, ca_file }))
}

fn backup(v: &Validator<'_>, base: &Path, raw: &RawConfig) -> Result<Option<BackupConfig>, ConfigError> {
    let Some(section) = &raw.backup else { return Ok(None) };
    let r = section.get_ref();
    let dir = match &r.dir {
        Some(d) if !d.get_ref().trim().is_empty() => resolve_path(base, d.get_ref().trim()),
        Some(d) => return Err(v.err(d.span(), "backup.dir", "it is empty; name a folder for the backups")),
        None => {
            return Err(v.err(
                section.span(),
                "backup.dir",
                "is missing; name a folder for the backups (on another disk)",
            ));
        }
    };
    let every = match &r.every {
        None => std::time::Duration::from_secs(86_400),
        Some(e) => parse_duration(e.get_ref()).filter(|d| d.as_secs() >= 60).ok_or_else(|| {
            v.err(
                e.span(),
                "backup.every",
                &format!("{:?} is not a duration of a minute or more, like \"1d\" or \"12h\"", e.get_ref()),
            )
        })?,
    };
    let keep = match &r.keep {
        None => 7,
        Some(k) => usize::try_from(*k.get_ref()).ok().filter(|k| (1..=10_000).contains(k)).ok_or_else(|| {
            v.err(k.span(), "backup.keep", &format!("{} is not a number of backups from 1 to 10000", k.get_ref()))
        })?,
    };
    Ok(Some(BackupConfig { dir, every, keep }))
}

fn figures(v: &Validator<'_>, raw: &RawConfig) -> Result<crate::figures::FiguresConfig, ConfigError> {
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
                return Err(v.err(span, "figures.base_currency", &format!("{b:?} is not a currency kronika knows")));
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
    Ok(figures)
}

fn ares(v: &Validator<'_>, raw: &RawConfig) -> Result<(String, std::time::Duration), ConfigError> {
    let (ares_url, ares_timeout) = match &raw.ares {
        Some(section) => {
            let r = section.get_ref();
            let url = r.base_url.clone().unwrap_or_else(|| "https://ares.gov.cz/ekonomicke-subjekty-v-be/rest".into());
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(v.err(section.span(), "ares.base_url", "use an http(s) URL"));
            }
            let timeout = match &r.timeout {
                Some(t) => {
                    parse_duration(t).ok_or_else(|| v.err(section.span(), "ares.timeout", "use a duration like 10s"))?
                }
                None => std::time::Duration::from_secs(10),
            };
            (url.trim_end_matches('/').to_string(), timeout)
        }
        None => ("https://ares.gov.cz/ekonomicke-subjekty-v-be/rest".into(), std::time::Duration::from_secs(10)),
    };
    Ok((ares_url, ares_timeout))
}

pub(super) struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    pub(super) fn err(&self, span: std::ops::Range<usize>, key: &str, message: &str) -> ConfigError {
        let before = self.text.get(..span.start).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
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
