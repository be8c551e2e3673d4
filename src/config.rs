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
        Ok(Config {
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
