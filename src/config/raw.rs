//! The config file as serde reads it: every section, unknown keys refused.
//! Nothing is checked here; `validate` turns it into [`super::Config`].
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) data_dir: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) own_addresses: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) own_domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) free_mail_domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) blocklist: Vec<Spanned<String>>,
    pub(super) auto_contacts: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) custom_fields: Vec<Spanned<RawField>>,
    #[serde(default)]
    pub(super) maildir: Vec<Spanned<RawMaildir>>,
    #[serde(default)]
    pub(super) imap: Vec<Spanned<RawImap>>,
    #[serde(default)]
    pub(super) notes: Vec<Spanned<RawNotes>>,
    #[serde(default)]
    pub(super) calendar: Vec<Spanned<RawCalendar>>,
    #[serde(default)]
    pub(super) caldav: Vec<Spanned<RawCalDav>>,
    #[serde(default)]
    pub(super) graph: Vec<Spanned<RawGraph>>,
    pub(super) reminders: Option<Spanned<RawReminders>>,
    pub(super) figures: Option<Spanned<RawFigures>>,
    pub(super) ares: Option<Spanned<RawAres>>,
    pub(super) web: Option<Spanned<RawWeb>>,
    pub(super) backup: Option<Spanned<RawBackup>>,
    pub(super) store: Option<Spanned<RawStore>>,
    pub(super) node: Option<Spanned<RawNode>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNode {
    pub(super) name: Option<Spanned<String>>,
    pub(super) lease: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) url: Option<Spanned<String>>,
    pub(super) password_cmd: Option<Spanned<String>>,
    pub(super) password_env: Option<Spanned<String>>,
    pub(super) schema: Option<Spanned<String>>,
    pub(super) ca_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackup {
    pub(super) dir: Option<Spanned<String>>,
    pub(super) every: Option<Spanned<String>>,
    pub(super) keep: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeb {
    pub(super) listen: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFigures {
    pub(super) relationship_years: Option<f64>,
    pub(super) base_currency: Option<String>,
    #[serde(default)]
    pub(super) rates: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAres {
    pub(super) base_url: Option<String>,
    pub(super) timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReminders {
    #[serde(default)]
    pub(super) lead_times: Vec<String>,
    pub(super) follow_up_after: Option<String>,
    pub(super) serve: Option<String>,
    #[serde(default = "default_true")]
    pub(super) stdout: bool,
    #[serde(default)]
    pub(super) webhooks: Vec<String>,
    #[serde(default)]
    pub(super) commands: Vec<Vec<String>>,
    pub(super) horizon: Option<String>,
    pub(super) sink_timeout: Option<String>,
    pub(super) feed_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalendar {
    pub(super) name: String,
    pub(super) url: Option<String>,
    pub(super) path: Option<String>,
    pub(super) poll_interval: Option<String>,
    pub(super) past: Option<String>,
    pub(super) future: Option<String>,
    pub(super) timeout: Option<String>,
}

/// A `[[caldav]]` account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalDav {
    pub(super) name: String,
    pub(super) url: String,
    pub(super) username: Option<String>,
    pub(super) password_cmd: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) auth: Option<String>,
    /// The `[[imap]]` account whose `kronika login` this one uses.
    pub(super) signin: Option<String>,
    pub(super) token_cmd: Option<String>,
    pub(super) scopes: Option<Vec<String>>,
    pub(super) calendars: Option<Vec<String>>,
    pub(super) poll_interval: Option<String>,
    pub(super) past: Option<String>,
    pub(super) future: Option<String>,
    pub(super) timeout: Option<String>,
    /// A web user's name: the salesperson whose calendar this is.
    pub(super) owner: Option<String>,
    /// What everyone but the owner sees: full, subject or metadata.
    pub(super) visibility: Option<String>,
}

/// A `[[graph]]` account (Microsoft 365 calendars).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGraph {
    pub(super) name: String,
    /// The API's base; default Microsoft's.
    pub(super) url: Option<String>,
    /// The `[[imap]]` account whose `kronika login` this one uses.
    pub(super) signin: Option<String>,
    pub(super) token_cmd: Option<String>,
    pub(super) scopes: Option<Vec<String>>,
    pub(super) calendars: Option<Vec<String>>,
    pub(super) poll_interval: Option<String>,
    pub(super) past: Option<String>,
    pub(super) future: Option<String>,
    pub(super) timeout: Option<String>,
    /// A web user's name: the salesperson whose calendar this is.
    pub(super) owner: Option<String>,
    /// What everyone but the owner sees: full, subject or metadata.
    pub(super) visibility: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotes {
    pub(super) name: String,
    pub(super) path: String,
    pub(super) kind: Option<String>,
    pub(super) patterns: Option<Vec<String>>,
    pub(super) max_size_kb: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImap {
    pub(super) name: String,
    #[serde(default)]
    pub(super) host: String,
    pub(super) port: Option<u16>,
    #[serde(default = "default_tls")]
    pub(super) tls: String,
    pub(super) username: String,
    pub(super) password_cmd: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) mailboxes: Option<Vec<String>>,
    pub(super) outgoing: Option<Vec<String>>,
    pub(super) since: Option<String>,
    #[serde(default = "default_true")]
    pub(super) idle: bool,
    pub(super) poll_interval: Option<String>,
    pub(super) ca_file: Option<String>,
    pub(super) timeout: Option<String>,
    pub(super) auth: Option<String>,
    pub(super) provider: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<String>,
    pub(super) tenant: Option<String>,
    pub(super) auth_url: Option<String>,
    pub(super) token_url: Option<String>,
    pub(super) device_url: Option<String>,
    pub(super) scopes: Option<Vec<String>>,
    pub(super) redirect_port: Option<u16>,
    pub(super) token_cmd: Option<String>,
    pub(super) mailbox_user: Option<String>,
    #[serde(default)]
    pub(super) capture: bool,
    /// A web user's name: the salesperson whose mailbox this is.
    pub(super) owner: Option<String>,
    /// What everyone but the owner sees: full, subject or metadata.
    pub(super) visibility: Option<String>,
}

pub(super) fn default_tls() -> String {
    "implicit".into()
}
pub(super) fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaildir {
    pub(super) name: String,
    pub(super) path: String,
    #[serde(default)]
    pub(super) capture: bool,
    /// A web user's name: the salesperson whose mailbox this is.
    pub(super) owner: Option<String>,
    /// What everyone but the owner sees: full, subject or metadata.
    pub(super) visibility: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub(super) name: String,
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) choices: Vec<String>,
}
