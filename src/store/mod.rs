//! The SQLite store: the truth of kronika. Only this module writes SQLite.
//!
//! One [`Store`] owns one connection. The database runs in WAL mode with
//! foreign keys on; migrations in [`schema`] run at open.

mod absent;
mod auto;
mod bulk;
mod clients;
pub mod copy;
pub mod db;
mod deals;
mod events;
mod feed;
mod files;
mod items;
mod leases;
mod person;
pub mod pg;
mod proposals;
mod reminders;
mod schema;
pub mod schema_pg;
pub mod snapshot;
mod timeline;
mod users;
mod views;
mod visibility;

use std::path::Path;

use chrono::Utc;
use rusqlite::{Connection, params};

use crate::args;
use db::{Db, ToParam};

pub use auto::{InvoiceFacts, InvoiceLine, display_phone};
pub use clients::{ClientInput, ClientPatch, ContactInput, ContactPatch, name_key};
pub use deals::{DEAL_STATUSES, Deal, DealInput};
pub use events::{INVITATIONS, WRITTEN_MEETINGS};
pub use feed::IndexDoc;
pub use files::FileKind;
pub use items::{
    Applied, Attachment, Changes, DateSource, IngestOutcome, ItemRow, KnownDates, LinkRow, NewItem, REMATCH_CHUNK,
    SourceKey, document_path, keep_file, keep_file_from,
};
pub use leases::{Fence, Holder, LeaseRow, Taken};
pub use person::{ERASED, Erasure, Footprint};
pub use proposals::{ContactProposal, DealProposal};
pub use reminders::{ClientActivity, Planned, ReminderRow};
pub use timeline::TimelineFilter;
pub use users::{Session, User};
pub use visibility::is_derived_source;

use crate::matcher::{Directory, Policy};

/// Errors a caller may want to branch on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot use the database: {0}")]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Postgres(#[from] pg::PgError),
    #[error("cannot open the database {path}: {message}")]
    Open { path: String, message: String },
    #[error("cannot find {what} {query:?}")]
    NotFound { what: &'static str, query: String },
    #[error(
        "cannot store for {0}: this node no longer holds its lease (another node runs it now, or the lease ran out)"
    )]
    LeaseLost(String),
    #[error("cannot tell which {what} {query:?} means; candidates:\n  {}", candidates.join("\n  "))]
    Ambiguous { what: &'static str, query: String, candidates: Vec<String> },
    #[error("cannot save: {0}")]
    Conflict(String),
    #[error("cannot save: {0}")]
    Invalid(String),
    /// A store copy that cannot be made or does not verify (the message
    /// says what, starting with "cannot").
    #[error("{0}")]
    Copy(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A source's status row: name, state, last success, last error, when it
/// came, counts (JSON), updated at.
pub type SourceStatusRow = (String, String, Option<String>, Option<String>, Option<String>, String, String);

/// How long a write waits for another process's write lock.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long a status update waits for it.
const STATUS_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(200);

impl StoreError {
    /// True when another process holds the database (SQLITE_BUSY or
    /// SQLITE_LOCKED past the busy timeout): worth retrying later.
    pub fn is_busy(&self) -> bool {
        let code = match self {
            StoreError::Sqlite(e) => e.sqlite_error_code(),
            StoreError::Db(e) => return e.is_busy(),
            _ => None,
        };
        matches!(code, Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    }

    /// True when the connection to PostgreSQL is lost: the store opens it
    /// again with backoff, so trying again later works once the server is back.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, StoreError::Db(e) if e.is_disconnected())
    }
}

/// The store: one database connection (SQLite or PostgreSQL) plus the
/// matcher's view of the directory.
pub struct Store {
    db: Db,
    policy: Policy,
    /// Cached matcher directory with the `directory_version` it was built
    /// at; rebuilt when any process (this one, the CLI, the web) changes
    /// clients, contacts, domains or addresses, or the policy changes.
    directory: Option<(i64, Directory)>,
    /// Where document files are kept (`<data dir>/documents`); `None` in memory.
    files: Option<std::path::PathBuf>,
    /// The PostgreSQL database it is in, to open it again; `None` on SQLite.
    target: Option<pg::PgTarget>,
    /// How far this store grew since it last analysed the tables
    /// (PostgreSQL, see [`Store::analyze_if_grown`]).
    grown: Growth,
}

/// Items a store added since it last analysed the tables, how many it had
/// added before then, and the analysis running meanwhile on a connection
/// of its own (PostgreSQL).
#[derive(Default)]
struct Growth {
    since: u64,
    before: u64,
    analysis: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Growth {
    /// A store closed waits for its analysis: its connection is gone when
    /// the store is (a database dropped next must have no sessions left).
    fn drop(&mut self) {
        if let Some(a) = self.analysis.take() {
            let _ = a.join();
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path, policy: Policy) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                message: format!("cannot create folder {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Open { path: path.display().to_string(), message: e.to_string() })?;
        let mut store = Store::setup(conn, policy).map_err(|e| match e {
            StoreError::Sqlite(e) => StoreError::Open { path: path.display().to_string(), message: e.to_string() },
            other => other,
        })?;
        store.files = path.parent().map(|d| d.join("documents"));
        // What a crash left half done is finished by the next process that
        // opens the store; a busy database leaves it to the next one.
        if let Err(e) = store.sync_missing_deal_items() {
            tracing::debug!("cannot give every deal its history item yet: {e}");
        }
        Ok(store)
    }

    /// Where document files are kept.
    pub fn files_dir(&self) -> Option<&std::path::Path> {
        self.files.as_deref()
    }

    /// Where original messages are kept, by content hash (beside the
    /// documents: `<data_dir>/originals`).
    pub fn originals_dir(&self) -> Option<std::path::PathBuf> {
        self.files.as_deref().and_then(|d| d.parent()).map(|d| d.join("originals"))
    }

    /// The original bytes of a message kept at ingestion (in this data
    /// folder, else shared by the node that took it in); `None` when it was
    /// not kept (stored before originals were, or not mail).
    pub fn original(&self, content_hash: &str) -> Option<Vec<u8>> {
        if content_hash.is_empty() || !content_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let local = self.originals_dir().and_then(|dir| std::fs::read(items::document_path(&dir, content_hash)).ok());
        local.or_else(|| {
            self.shared_file(content_hash)
                .map_err(|e| tracing::warn!("cannot read the shared original {content_hash}: {e}"))
                .ok()
                .flatten()
        })
    }

    /// An in-memory store, for tests.
    pub fn open_in_memory(policy: Policy) -> Result<Store> {
        Store::setup(Connection::open_in_memory()?, policy)
    }

    fn setup(mut conn: Connection, policy: Policy) -> Result<Store> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Writers take the write lock when they begin, so a read that turns
        // into a write can never fail with SQLITE_BUSY halfway (WAL).
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        // Ingestion alone runs some forty statements per item: kept
        // prepared, not parsed again (rusqlite keeps 16 by default).
        conn.set_prepared_statement_cache_capacity(256);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A 32 MB page cache: bulk imports read back what they just wrote.
        conn.pragma_update(None, "cache_size", -32_768)?;
        // Statement journals (a statement that fires triggers keeps one)
        // stay in memory rather than spill to temporary files.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        migrate(&mut conn)?;
        Ok(Store { db: Db::sqlite(conn), policy, directory: None, files: None, target: None, grown: Growth::default() })
    }

    /// Opens the store `config` names: in PostgreSQL when it has `[store]`
    /// (documents stay in `data_dir`), else SQLite in `data_dir`.
    pub fn open_config(config: &crate::config::Config) -> Result<Store> {
        let Some(s) = &config.store else {
            return Store::open(&config.db_path(), config.policy());
        };
        let password = match &s.password {
            Some(p) => Some(p.read().map_err(|e| StoreError::Open {
                path: pg::redacted(&s.url),
                message: format!("cannot read its password: {e}"),
            })?),
            None => None,
        };
        let target =
            pg::PgTarget { url: s.url.clone(), password, schema: s.schema.clone(), ca_file: s.ca_file.clone() };
        Store::open_postgres(&target, config.policy(), Some(config.data_dir.join("documents")))
    }

    /// Opens another connection to the same store (the pipeline's index
    /// thread reads through its own); `None` for a store in memory.
    pub fn reopen(&self) -> Option<Result<Store>> {
        match &self.target {
            Some(target) => Some(Store::open_postgres(target, self.policy.clone(), self.files.clone())),
            None => self.db_path().map(|path| Store::open(&path, self.policy.clone())),
        }
    }

    /// Opens the store in a PostgreSQL database (issue 19), creating its
    /// schema or migrating it. Documents are kept in `files`.
    pub fn open_postgres(target: &pg::PgTarget, policy: Policy, files: Option<std::path::PathBuf>) -> Result<Store> {
        let db = pg::connect(target)?;
        pg::migrate(&db)?;
        let mut store =
            Store { db, policy, directory: None, files, target: Some(target.clone()), grown: Growth::default() };
        if let Err(e) = store.sync_missing_deal_items() {
            tracing::debug!("cannot give every deal its history item yet: {e}");
        }
        Ok(store)
    }

    /// The store's database connection.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The SQLite connection, for what only SQLite has (pragmas, backups);
    /// an error on PostgreSQL.
    pub fn sqlite(&self) -> Result<&Connection> {
        sqlite(&self.db)
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i64> {
        let sql = match self.db.dialect() {
            db::Dialect::Sqlite => "PRAGMA user_version",
            db::Dialect::Postgres => schema_pg::VERSION_QUERY,
        };
        Ok(self.db.value(sql, args![])?.unwrap_or(0))
    }

    /// The matcher's directory, rebuilt when the stored directory changed
    /// since it was built (by this or any other process).
    pub fn directory(&mut self) -> Result<&Directory> {
        let version = self.directory_version()?;
        let fresh = matches!(&self.directory, Some((v, _)) if *v == version);
        if !fresh {
            let d = self.build_directory()?;
            self.directory = Some((version, d));
        }
        match &self.directory {
            Some((_, d)) => Ok(d),
            None => Err(StoreError::Invalid("the directory was not built".into())),
        }
    }

    /// Takes the fresh directory out (put it back with [`Store::put_directory`]),
    /// so a transaction can borrow the connection while the directory decides.
    fn take_directory(&mut self) -> Result<(i64, Directory)> {
        self.directory()?;
        self.directory.take().ok_or_else(|| StoreError::Invalid("the directory was not built".into()))
    }

    fn put_directory(&mut self, d: (i64, Directory)) {
        self.directory = Some(d);
    }

    /// A number that grows with every change to the directory (triggers in
    /// the schema bump it), whichever process makes it.
    pub fn directory_version(&self) -> Result<i64> {
        directory_version_of(&self.db)
    }

    /// Lets this connection leave checkpoints of the write-ahead log to
    /// another (the pipeline's index thread, see [`Store::checkpoint`]):
    /// the writer then checkpoints by itself only when the log passes
    /// `pages` pages, a safety net should the other stop.
    /// (SQLite's; nothing to do on PostgreSQL.)
    pub fn leave_checkpoints(&self, pages: i64) -> Result<()> {
        if let Some(conn) = self.db.as_sqlite() {
            conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        }
        Ok(())
    }

    /// Copies what the write-ahead log holds into the database without
    /// waiting for anyone (a passive checkpoint), from a connection that
    /// is not the writer's, so that a bulk import's checkpoints run on
    /// another core.
    /// (SQLite's; nothing to do on PostgreSQL.)
    pub fn checkpoint(&self) -> Result<()> {
        if let Some(conn) = self.db.as_sqlite() {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// The matching policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The database file, or `None` for a store kept in memory.
    pub fn db_path(&self) -> Option<std::path::PathBuf> {
        self.db.as_sqlite()?.path().filter(|p| !p.is_empty()).map(std::path::PathBuf::from)
    }

    /// Replaces the matching policy (own addresses, free mail, blocklist),
    /// e.g. after the config file changed; the next item is matched with it.
    pub fn set_policy(&mut self, policy: Policy) {
        if self.policy != policy {
            self.policy = policy;
            self.directory = None;
        }
    }

    fn build_directory(&self) -> Result<Directory> {
        use crate::model::{ClientId, ContactId};
        let mut d = Directory::new(&self.policy);
        let db = &self.db;
        for (domain, client) in
            db.query("SELECT domain, client_id FROM client_domains", args![], |r| Ok((r.get::<String>(0)?, r.get(1)?)))?
        {
            d.add_domain(&domain, ClientId(client));
        }
        let addresses = db.query(
            "SELECT e.email, c.id, c.client_id FROM contact_emails e JOIN contacts c ON c.id = e.contact_id",
            args![],
            |r| Ok((r.get::<String>(0)?, r.get(1)?, r.get(2)?)),
        )?;
        for (email, contact, client) in addresses {
            d.add_contact_address(&email, Some(ContactId(contact)), ClientId(client));
        }
        let clients = db.query("SELECT id, name, ico FROM clients", args![], |r| {
            Ok((r.get(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?))
        })?;
        for (id, name, ico) in clients {
            d.add_client(ClientId(id), &name, ico.as_deref());
        }
        let contacts = db.query("SELECT id, client_id, name FROM contacts", args![], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<String>(2)?))
        })?;
        for (id, client, name) in contacts {
            d.add_contact_name(ContactId(id), ClientId(client), &name);
        }
        for (email, client) in
            db.query("SELECT email, client_id FROM client_emails", args![], |r| Ok((r.get::<String>(0)?, r.get(1)?)))?
        {
            d.add_contact_address(&email, None, ClientId(client));
        }
        if let Some((key, hashes)) = self.suppressed()? {
            d.set_suppressed(key, hashes);
        }
        Ok(d)
    }

    /// Reads a source's cursor.
    pub fn cursor(&self, source: &str) -> Result<Option<String>> {
        Ok(self.db.value("SELECT value FROM cursors WHERE source = ?1", args![source])?)
    }

    /// Records what a source is doing. `error` sets the last error; a state
    /// of `ok` records a success with its counts.
    pub fn set_source_status(
        &self,
        source: &str,
        state: &str,
        error: Option<&str>,
        counts: Option<&str>,
    ) -> Result<()> {
        // Status is news, not truth: it never waits long for a busy
        // database (the caller keeps it and tries again).
        // (PostgreSQL: one upsert, which takes no writers' lock.)
        let Some(conn) = self.db.as_sqlite() else {
            return self.write_source_status(source, state, error, counts);
        };
        conn.busy_timeout(STATUS_BUSY_TIMEOUT)?;
        let result = self.write_source_status(source, state, error, counts);
        conn.busy_timeout(BUSY_TIMEOUT)?;
        result
    }

    fn write_source_status(&self, source: &str, state: &str, error: Option<&str>, counts: Option<&str>) -> Result<()> {
        let ts = now();
        self.db.execute(
            "INSERT INTO source_status (source, state, last_success, last_error, last_error_at, counts, updated_at)
             VALUES (?1, ?2, CASE WHEN ?4 IS NOT NULL THEN ?3 END, ?5, CASE WHEN ?5 IS NOT NULL THEN ?3 END, COALESCE(?4, '{}'), ?3)
             ON CONFLICT(source) DO UPDATE SET
                state = excluded.state,
                last_success = COALESCE(excluded.last_success, source_status.last_success),
                last_error = COALESCE(excluded.last_error, source_status.last_error),
                last_error_at = COALESCE(excluded.last_error_at, source_status.last_error_at),
                counts = CASE WHEN ?4 IS NOT NULL THEN excluded.counts ELSE source_status.counts END,
                updated_at = excluded.updated_at",
            args![source, state, ts, counts, error],
        )?;
        Ok(())
    }

    /// Every source's last recorded status: (source, state, last success,
    /// last error, when, counts JSON, updated).
    #[allow(clippy::type_complexity)]
    pub fn source_statuses(&self) -> Result<Vec<SourceStatusRow>> {
        Ok(self.db.query(
            "SELECT source, state, last_success, last_error, last_error_at, counts, updated_at FROM source_status ORDER BY source",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )?)
    }

    /// Reads a value from the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.db.value("SELECT value FROM meta WHERE key = ?1", args![key])?)
    }

    /// Writes a value to the meta table.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            args![key, value],
        )?;
        Ok(())
    }
}

/// The SQLite connection of `db`; an error on PostgreSQL, for what is
/// written for SQLite alone.
fn sqlite(db: &Db) -> Result<&Connection> {
    db.as_sqlite().ok_or_else(|| StoreError::Invalid("cannot do this on PostgreSQL: it needs SQLite".into()))
}

/// Next value of a named counter kept in `meta` (item revisions, thread
/// ids), on either database. Inside a PostgreSQL transaction a block of
/// values is taken at once and handed out from memory: the writers' lock
/// keeps the blocks in commit order, and values the transaction does not
/// use are skipped (readers ask for the highest rev, never for a count).
fn counter(db: &Db, key: &str) -> Result<i64> {
    if let Some(next) = db.take_reserved(key) {
        return Ok(next);
    }
    let block = db.counter_block(key);
    let last: Option<i64> = db.value(
        "INSERT INTO meta (key, value) VALUES (?1, CAST(?2 AS TEXT))
         ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + ?2 AS TEXT)
         RETURNING CAST(value AS BIGINT)",
        args![key, block],
    )?;
    let last = last.ok_or_else(|| StoreError::Invalid(format!("cannot count {key}: the counter returned nothing")))?;
    let first = last.saturating_sub(block - 1);
    if block > 1 {
        db.reserve(key, first.saturating_add(1), last, block);
    }
    Ok(first)
}

/// Values asked about by one `IN` list, at most; a shorter list is padded
/// (its last value repeated) to 8 or this, so that few statements are
/// prepared whatever the batch.
const IN_CHUNK: usize = 64;

/// The rows `sql` finds for `values`, each read by `f`: `sql` holds `{}`
/// where the `IN` list of bound placeholders goes, after the `fixed`
/// values (`?1` …). One query per [`IN_CHUNK`] values.
pub(super) fn query_among<V: ToParam, T>(
    db: &Db,
    sql: &str,
    fixed: &[&dyn ToParam],
    values: &[V],
    mut f: impl FnMut(&db::Row<'_>) -> db::DbResult<T>,
) -> Result<Vec<T>> {
    let mut found = Vec::new();
    for chunk in values.chunks(IN_CHUNK) {
        let Some(last) = chunk.last() else { continue };
        let size = if chunk.len() <= 8 { 8 } else { IN_CHUNK };
        let mut args: Vec<&dyn ToParam> = fixed.to_vec();
        args.extend((0..size).map(|i| chunk.get(i).unwrap_or(last) as &dyn ToParam));
        let sql = sql.replace("{}", &db::value_rows(fixed.len() + 1, 1, size));
        found.extend(db.query(&sql, &args, &mut f)?);
    }
    Ok(found)
}

/// The values of column 0 that `sql` finds for `values` ([`query_among`]).
fn found_among<T: db::FromColumn + Eq + std::hash::Hash>(
    db: &Db,
    sql: &str,
    fixed: &[&dyn ToParam],
    values: &[&str],
) -> Result<std::collections::HashSet<T>> {
    Ok(query_among(db, sql, fixed, values, |r| r.get::<T>(0))?.into_iter().collect())
}

/// The directory's version as a connection (or a transaction) sees it.
fn directory_version_of(db: &Db) -> Result<i64> {
    db.value("SELECT version FROM directory_version WHERE id = 1", args![])?
        .ok_or_else(|| StoreError::Invalid("cannot read the directory's version: its row is missing".into()))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A database from a newer kronika is refused, never migrated or written.
pub(crate) fn refuse_newer(what: &str, version: i64) -> Result<()> {
    let known = schema::MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::Invalid(format!(
            "{what} is at schema version {version}, newer than this kronika knows ({known}); upgrade kronika"
        )));
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    refuse_newer("the database", version)?;
    for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    fill_name_keys(conn)?;
    Ok(())
}

/// Contacts stored before migration 8 get their name key (computed in
/// Rust: folding is not SQL's). Nothing to do on later opens.
fn fill_name_keys(conn: &mut Connection) -> Result<()> {
    let missing: Vec<(i64, String)> = conn
        .prepare("SELECT id, name FROM contacts WHERE name_key = ''")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if missing.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (id, name) in missing {
        tx.execute("UPDATE contacts SET name_key = ?2 WHERE id = ?1", params![id, clients::name_key(&name)])?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// The tables whose rows ingestion keeps back (`Db::insert_later`).
    const KEPT_TABLES: [&str; 8] = [
        "items",
        "item_links",
        "item_participants",
        "item_references",
        "item_attachments",
        "item_sources",
        "thread_ids",
        "contact_proposals",
    ];

    #[test]
    fn migrations_run_once_and_record_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite3");
        let s = Store::open(&path, Policy::default()).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        let mode: String = s.sqlite().unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(s);
        let s = Store::open(&path, Policy::default()).unwrap();
        let fk: i64 = s.sqlite().unwrap().query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
    }

    /// A store file at schema `version`, with `sql` run on it.
    fn store_at(path: &std::path::Path, version: usize, sql: &str) {
        let mut conn = Connection::open(path).unwrap();
        for (i, m) in schema::MIGRATIONS.iter().take(version).enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(m).unwrap();
            tx.pragma_update(None, "user_version", (i + 1) as i64).unwrap();
            tx.commit().unwrap();
        }
        conn.execute_batch(sql).unwrap();
    }

    /// A store at schema 7 (before issue 13) with a client, a typed contact
    /// and a deal opens at the newest schema with everything kept: the
    /// contact's typed phone is marked typed, its name key filled, the
    /// deal's origin told from its import key.
    #[test]
    fn schema_7_moves_to_8_keeping_contacts_and_deals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite3");
        store_at(&path, 7,
                "INSERT INTO clients (id, name, name_key, status, custom, created_at, updated_at)
                     VALUES (1, 'Acme Stavby s.r.o.', 'acme stavby s.r.o.', 'client', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                 INSERT INTO contacts (id, client_id, name, phone, role) VALUES (1, 1, 'Ing. Karel Horák', '+420 602 000 111', NULL);
                 INSERT INTO contact_emails (contact_id, email) VALUES (1, 'karel.horak@acme-stavby.cz');
                 INSERT INTO deals (id, client_id, title, value, currency, status, date, products, number, import_key, created_at, updated_at)
                     VALUES (1, 1, 'Rekuperace', 185000, 'CZK', 'won', '2025-03-14', '[\"Rekuperace\"]', 'FV-2025-031', '1|FV-2025-031', 'x', 'x');",
        );
        let s = Store::open(&path, Policy::default()).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        let c = s.contact(crate::model::ContactId(1)).unwrap();
        assert_eq!(c.phone.as_deref(), Some("+420 602 000 111"));
        assert_eq!(c.phone_source.as_deref(), Some("manual"));
        assert_eq!(c.origin, "manual");
        assert_eq!(c.emails, vec!["karel.horak@acme-stavby.cz"]);
        let key: String =
            s.sqlite().unwrap().query_row("SELECT name_key FROM contacts WHERE id = 1", [], |r| r.get(0)).unwrap();
        assert_eq!(key, "horak karel");
        let d = s.deal(1).unwrap();
        assert_eq!((d.value, d.origin.as_str(), d.side.as_str()), (185000.0, "import", "sale"));
        assert_eq!(d.products, vec!["Rekuperace"]);
        // A credit note's negative value is allowed now.
        s.sqlite()
            .unwrap()
            .execute(
                "INSERT INTO deals (client_id, title, value, currency, status, date, created_at, updated_at)
                 VALUES (1, 'Dobropis', -1000, 'CZK', 'won', '2026-01-02', 'x', 'x')",
                [],
            )
            .unwrap();
    }

    /// A store at schema 8 opens at the newest with each link given its item's
    /// thread, and the links of a later merge follow it.
    #[test]
    fn schema_8_moves_to_10_giving_links_their_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite3");
        store_at(
            &path,
            8,
            "INSERT INTO clients (id, name, name_key, status, custom, created_at, updated_at)
                     VALUES (1, 'Acme', 'acme', 'client', '{}', 'x', 'x');
                 INSERT INTO items (id, kind, message_id, thread_id, date, direction, content_hash, created_at, rev)
                     VALUES (1, 'email', 'a@x', 7, '2026-01-01T00:00:00Z', 'in', 'h1', 'x', 1),
                            (2, 'note', NULL, NULL, '2026-01-02T00:00:00Z', 'internal', 'h2', 'x', 2);
                 INSERT INTO item_links (item_id, client_id, reason) VALUES (1, 1, 'domain'), (2, 1, 'note');",
        );
        let s = Store::open(&path, Policy::default()).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        let links = |s: &Store| -> Vec<(i64, Option<i64>, String)> {
            s.sqlite()
                .unwrap()
                .prepare("SELECT item_id, thread_id, kind FROM item_links ORDER BY item_id")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(links(&s), [(1, Some(7), "email".to_string()), (2, None, "note".to_string())]);
        s.sqlite().unwrap().execute("UPDATE items SET thread_id = 3 WHERE id = 1", []).unwrap();
        assert_eq!(links(&s)[0], (1, Some(3), "email".to_string()));
        // Schema 10: no trigger on links (an insert into a table with one
        // keeps a statement journal), and no index the others cover.
        let on_links: Vec<String> = s
            .sqlite().unwrap()
            .prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'item_links' AND type IN ('trigger', 'index') ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            on_links,
            [
                "item_links_client_date",
                "item_links_client_item",
                "item_links_client_kind",
                "item_links_client_thread",
                "item_links_contact_date",
                "item_links_item"
            ]
        );
    }

    /// `schema::KEPT_TRIGGERS` names every trigger that writes a table
    /// whose rows ingestion keeps back, on both databases' schemas.
    #[test]
    fn every_trigger_that_writes_kept_rows_is_known() {
        let s = Store::open_in_memory(Policy::default()).unwrap();
        let triggers: Vec<(String, String)> =
            s.db.query("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'", args![], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert!(!triggers.is_empty());
        let pg = format!("{}{}", schema_pg::BASE, schema_pg::MIGRATIONS.join("\n"));
        for (on, sql) in &triggers {
            // The statements of the trigger, after its header.
            let body = sql.split_once("BEGIN").map(|(_, b)| b).unwrap_or_default();
            for kept in KEPT_TABLES.iter().filter(|k| *k != on && body.contains(&format!(" {k} "))) {
                assert!(schema::KEPT_TRIGGERS.contains(&(on.as_str(), kept)), "{on} writes {kept}: {sql}");
            }
        }
        // PostgreSQL's trigger functions write the same tables.
        assert!(pg.contains("UPDATE item_links"));
        assert_eq!(pg.matches("UPDATE item_links").count(), 1, "a new PostgreSQL trigger writes item_links");
    }

    /// What `kronika check --repair` writes into `thread_last` is what
    /// migration 20 filled it with, on both backends.
    #[test]
    fn thread_last_is_repaired_as_its_migration_filled_it() {
        assert!(schema::MIGRATIONS[19].contains(schema::THREAD_LAST_WANT));
        assert!(schema_pg::MIGRATIONS[7].contains(schema_pg::THREAD_LAST_WANT));
    }

    /// `schema::KEPT_CASCADES` holds every table whose delete reaches a
    /// kept table through foreign keys, directly or through others.
    #[test]
    fn every_cascade_that_reaches_kept_rows_is_known() {
        let s = Store::open_in_memory(Policy::default()).unwrap();
        let conn = s.sqlite().unwrap();
        let tables: Vec<String> =
            s.db.query("SELECT name FROM sqlite_master WHERE type = 'table'", args![], |r| r.get(0)).unwrap();
        // parent -> children whose rows its delete changes.
        let mut reaches: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in &tables {
            let mut stmt = conn.prepare("SELECT \"table\", on_delete FROM pragma_foreign_key_list(?1)").unwrap();
            for row in stmt.query_map([t], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap() {
                let (parent, on_delete) = row.unwrap();
                if on_delete != "NO ACTION" && on_delete != "RESTRICT" {
                    reaches.entry(parent).or_default().insert(t.clone());
                }
            }
        }
        let mut found = 0;
        for parent in reaches.keys() {
            // Everything a delete of `parent` reaches, through any chain.
            let mut seen = BTreeSet::new();
            let mut todo = vec![parent.clone()];
            while let Some(t) = todo.pop() {
                for child in reaches.get(&t).into_iter().flatten() {
                    if seen.insert(child.clone()) {
                        todo.push(child.clone());
                    }
                }
            }
            for k in KEPT_TABLES.iter().filter(|k| seen.contains(**k)) {
                assert!(schema::KEPT_CASCADES.contains(&(parent.as_str(), k)), "a delete of {parent} reaches {k}");
                found += 1;
            }
        }
        assert!(found >= schema::KEPT_CASCADES.len(), "KEPT_CASCADES names a cascade the schema lacks");
    }

    /// Migration 17 says whether a store made before it holds mail captured
    /// without its Message-ID; a new store starts with "no".
    #[test]
    fn migration_17_finds_mail_captured_without_its_message_id() {
        for (extra, want) in
            [(r#"{"capture":{"derived_id":true,"from":"x"}}"#, "1"), (r#"{"capture":{"derived_id":false}}"#, "0")]
        {
            let conn = Connection::open_in_memory().unwrap();
            for m in &schema::MIGRATIONS[..16] {
                conn.execute_batch(m).unwrap();
            }
            conn.execute(
                "INSERT INTO items (kind, date, direction, content_hash, extra, created_at, rev)
                 VALUES ('email', '2026-01-01T00:00:00Z', 'in', 'h', ?1, '2026-01-01T00:00:00Z', 1)",
                [extra],
            )
            .unwrap();
            conn.execute_batch(schema::MIGRATIONS[16]).unwrap();
            let got: String =
                conn.query_row("SELECT value FROM meta WHERE key = ?1", [absent::CAPTURES], |r| r.get(0)).unwrap();
            assert_eq!(got, want, "{extra}");
        }
        let s = Store::open_in_memory(Policy::default()).unwrap();
        let fresh: Option<String> =
            s.db.value("SELECT value FROM meta WHERE key = ?1", args![absent::CAPTURES]).unwrap();
        assert_eq!(fresh.as_deref(), Some("0"));
    }

    #[test]
    fn counters_count() {
        let s = Store::open_in_memory(Policy::default()).unwrap();
        assert_eq!(counter(&s.db, "x").unwrap(), 1);
        assert_eq!(counter(&s.db, "x").unwrap(), 2);
        assert_eq!(directory_version_of(&s.db).unwrap(), s.directory_version().unwrap());
    }
}
