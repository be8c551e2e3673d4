//! Connecting to PostgreSQL (issue 19): a `postgres://` URL, the password
//! given (from `password_cmd`), in the URL, or found in the password file
//! (`PGPASSFILE`, else `~/.pgpass`, as libpq reads it), TLS by rustls when
//! the URL's `sslmode` asks for it (`prefer` is libpq's default: TLS when
//! the server offers it), and the firm's own schema as the search path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::db::Db;

/// How to reach the database.
#[derive(Clone)]
pub struct PgTarget {
    /// `postgres://user@host:port/database?sslmode=…`
    pub url: String,
    /// The password from `password_cmd`; `None` reads the URL, then the password file.
    pub password: Option<String>,
    /// The firm's schema (`[store] schema`); `None` is `public`.
    pub schema: Option<String>,
    /// A CA certificate (PEM) to trust beside the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only its host and database are shown.
        f.debug_struct("PgTarget").field("url", &redacted(&self.url)).field("schema", &self.schema).finish()
    }
}

/// Why the database cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("cannot read the store url {url}: {message}")]
    Url { url: String, message: String },
    #[error("cannot use schema {0:?}: a schema name is lowercase letters, digits and _, starting with a letter")]
    Schema(String),
    #[error("cannot connect to PostgreSQL at {url}: {message}")]
    Connect { url: String, message: String },
    #[error(
        "cannot sign in to PostgreSQL at {url} as {user}: {message} (check the password, password_cmd or PGPASSFILE)"
    )]
    Auth { url: String, user: String, message: String },
    #[error("cannot set up TLS for PostgreSQL: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `name` is a schema name kronika accepts (it is quoted into
/// `SET search_path`, so it is checked first, never taken as given).
pub use crate::config::valid_schema;

/// Opens a connection and sets the firm's schema as its search path
/// (creating the schema when it is missing and the role may). The
/// connection opens itself again after it was lost ([`Db`] reconnects).
pub fn connect(target: &PgTarget) -> Result<Db, PgError> {
    Ok(Db::postgres_at(client(target)?, target.clone()))
}

/// A new client for `target`, its search path set.
pub(super) fn client(target: &PgTarget) -> Result<postgres::Client, PgError> {
    let shown = redacted(&target.url);
    let mut config: postgres::Config =
        target.url.parse().map_err(|e: postgres::Error| PgError::Url { url: shown.clone(), message: e.to_string() })?;
    if let Some(schema) = &target.schema
        && !valid_schema(schema)
    {
        return Err(PgError::Schema(schema.clone()));
    }
    config.connect_timeout(CONNECT_TIMEOUT);
    config.keepalives(true).keepalives_idle(Duration::from_secs(30));
    config.application_name("kronika");
    let user = config.get_user().map(str::to_string).unwrap_or_else(whoami);
    if config.get_user().is_none() {
        config.user(&user);
    }
    if let Some(p) = &target.password {
        config.password(p);
    } else if config.get_password().is_none()
        && let Some(p) = pgpass_password(&config, &user)
    {
        config.password(p);
    }
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(std::sync::Arc::unwrap_or_clone(
        crate::tls::client_config(target.ca_file.as_deref())?,
    ));
    let client = super::db::off_runtime(|| config.connect(tls)).map_err(|e| {
        let message = match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => error_chain(&e),
        };
        if e.code() == Some(&postgres::error::SqlState::INVALID_PASSWORD)
            || e.code() == Some(&postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
            || message.contains("password")
        {
            PgError::Auth { url: shown.clone(), user: user.clone(), message }
        } else if message.contains("certificate") || message.contains("UnknownIssuer") {
            PgError::Connect {
                url: shown.clone(),
                message: format!(
                    "{message}: the server's TLS certificate is not trusted; give its CA as [store] ca_file \
                     (or sslmode=disable in the url, on a network you trust)"
                ),
            }
        } else {
            PgError::Connect { url: shown.clone(), message }
        }
    })?;
    let mut client = client;
    if let Some(schema) = &target.schema {
        // Checked by valid_schema above: safe to quote.
        let sql = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET search_path TO \"{schema}\"");
        super::db::off_runtime(|| client.batch_execute(&sql)).map_err(|e| PgError::Connect {
            url: shown.clone(),
            message: format!("cannot use schema {schema}: {}", super::db::DbError::from(e)),
        })?;
    }
    Ok(client)
}

/// Brings a PostgreSQL store to this kronika's schema: made at
/// [`schema_pg::BASE_VERSION`] when empty, then migrated step by step, in
/// one transaction under the writers' lock (two daemons starting at once
/// do it once). A store from a newer kronika is refused, never touched.
/// The version the store is at afterwards.
pub fn migrate(db: &Db) -> Result<i64, super::StoreError> {
    use super::schema_pg;
    let tx = db.begin()?;
    let exists: Option<String> =
        tx.value("SELECT CAST(to_regclass('schema_version') AS TEXT)", crate::args![])?.flatten();
    let mut version = match exists {
        Some(_) => tx.value::<i64>(schema_pg::VERSION_QUERY, crate::args![])?.unwrap_or(0),
        None => {
            tx.batch(schema_pg::BASE)?;
            tx.execute(
                "INSERT INTO schema_version (id, version) VALUES (1, ?1)",
                crate::args![schema_pg::BASE_VERSION],
            )?;
            schema_pg::BASE_VERSION
        }
    };
    super::refuse_newer("the PostgreSQL store", version)?;
    for (i, sql) in schema_pg::MIGRATIONS.iter().enumerate() {
        let target = schema_pg::BASE_VERSION + i as i64 + 1;
        if target <= version {
            continue;
        }
        tx.batch(sql)?;
        tx.execute("UPDATE schema_version SET version = ?1 WHERE id = 1", crate::args![target])?;
        version = target;
    }
    tx.commit()?;
    Ok(version)
}

/// An error and its causes, "a: b: c" (the TLS failure is in a cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

/// The URL (or `key=value` string) without its password, wherever it is
/// (`user:password@`, `?password=`, `password=`).
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url
            .split(' ')
            .filter(|kv| !kv.trim().to_ascii_lowercase().starts_with("password="))
            .collect::<Vec<_>>()
            .join(" ");
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => format!("{}@{host}", userinfo.split(':').next().unwrap_or_default()),
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> =
                query.split('&').filter(|kv| !kv.to_ascii_lowercase().starts_with("password=")).collect();
            if kept.is_empty() { path.to_string() } else { format!("{path}?{}", kept.join("&")) }
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn whoami() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "postgres".into())
}

/// The password libpq would take from the password file for this host,
/// port, database and user (`*` matches anything; `\:` and `\\` escape).
fn pgpass_password(config: &postgres::Config, user: &str) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(_)) | None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let database = config.get_dbname().unwrap_or(user).to_string();
    pgpass_lookup(&text, &host, &port, &database, user)
}

/// The password of the first line of a password file that matches.
pub fn pgpass_lookup(text: &str, host: &str, port: &str, database: &str, user: &str) -> Option<String> {
    text.lines().filter(|l| !l.trim_start().starts_with('#')).find_map(|line| {
        let fields = split_pgpass(line);
        let [h, p, d, u, password] = fields.as_slice() else { return None };
        let matches = |field: &str, value: &str| field == "*" || field == value;
        (matches(h, host) && matches(p, port) && matches(d, database) && matches(u, user)).then(|| password.clone())
    })
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_file_is_read_as_libpq_reads_it() {
        let text = "# comment\n\
                    db.firma.cz:5432:kronika:kronika:tajne\\:heslo\n\
                    *:*:*:kronika:jine\n\
                    short:line\n";
        assert_eq!(pgpass_lookup(text, "db.firma.cz", "5432", "kronika", "kronika").as_deref(), Some("tajne:heslo"));
        assert_eq!(pgpass_lookup(text, "jinde", "6543", "x", "kronika").as_deref(), Some("jine"));
        assert_eq!(pgpass_lookup(text, "jinde", "6543", "x", "jana"), None);
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(redacted("postgres://kronika:tajne@db.firma.cz/kronika"), "postgres://kronika@db.firma.cz/kronika");
        assert_eq!(
            redacted("postgres://db.firma.cz:5433/k?sslmode=require"),
            "postgres://db.firma.cz:5433/k?sslmode=require"
        );
        assert_eq!(redacted("host=db user=k"), "host=db user=k");
        assert_eq!(redacted("host=db password=tajne user=k"), "host=db user=k");
        assert_eq!(
            redacted("postgres://k@db/kronika?password=tajne&sslmode=require"),
            "postgres://k@db/kronika?sslmode=require"
        );
        assert_eq!(redacted("postgres://k@db/kronika?password=tajne"), "postgres://k@db/kronika");
    }

    /// Every SQLite migration has its PostgreSQL twin at the same version.
    #[test]
    fn both_schemas_end_at_the_same_version() {
        let postgres = crate::store::schema_pg::BASE_VERSION + crate::store::schema_pg::MIGRATIONS.len() as i64;
        assert_eq!(postgres, crate::store::schema::MIGRATIONS.len() as i64);
    }

    #[test]
    fn schema_names_are_checked() {
        for ok in ["firma_a", "f1", "kronika"] {
            assert!(valid_schema(ok), "{ok}");
        }
        for bad in ["", "1firma", "Firma", "firma-a", "a\"; DROP", "á"] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }
}
