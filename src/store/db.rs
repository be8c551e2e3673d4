//! One connection to the store's database, SQLite or PostgreSQL, behind
//! one small interface (issue 19): statements with bound values, rows read
//! by column index, transactions that roll back unless committed.
//!
//! SQL is written once, in what both databases read: `?N` placeholders
//! (PostgreSQL gets `$N`), `ON CONFLICT … DO NOTHING / DO UPDATE`,
//! `RETURNING`, `CAST(… AS BIGINT)` where PostgreSQL would otherwise pick
//! another type (its `SUM` of integers is `numeric`). Where the two really
//! differ (pragmas, JSON functions) the caller asks [`Db::dialect`].
//!
//! Every value is bound, never spliced into SQL. On PostgreSQL a statement
//! is prepared with the types of the values it is given (a `NULL` carries
//! the [`Kind`] it stands for), so `?1 IS NULL` needs no cast, and kept
//! prepared per connection.
//!
//! Writers are serialised on both: SQLite by its write lock (`BEGIN
//! IMMEDIATE`), PostgreSQL by a transaction-scoped advisory lock taken at
//! `BEGIN`, so the store's read-then-write logic (counters, duplicate
//! checks) behaves the same on both.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::{IsNull, ToSql, Type};

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The type a bound `NULL` stands for (PostgreSQL wants one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    Text,
    Blob,
}

/// A value bound to a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Null(Kind),
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What can be bound to a statement.
pub trait ToParam {
    fn to_param(&self) -> Param<'_>;
}

/// The kind of a type that can be bound, for its `NULL`.
pub trait HasKind {
    const KIND: Kind;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl ToParam for $t {
            fn to_param(&self) -> Param<'_> {
                Param::Int(i64::from(*self))
            }
        }
        impl HasKind for $t {
            const KIND: Kind = Kind::Int;
        }
    )*};
}
int_param!(i64, i32, u32, u16, u8, bool);

impl ToParam for f64 {
    fn to_param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}
impl HasKind for f64 {
    const KIND: Kind = Kind::Real;
}
impl ToParam for str {
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl HasKind for str {
    const KIND: Kind = Kind::Text;
}
impl ToParam for String {
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl HasKind for String {
    const KIND: Kind = Kind::Text;
}
impl ToParam for [u8] {
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl HasKind for [u8] {
    const KIND: Kind = Kind::Blob;
}
impl ToParam for Vec<u8> {
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl HasKind for Vec<u8> {
    const KIND: Kind = Kind::Blob;
}
impl<T: ToParam + HasKind + ?Sized> ToParam for &T {
    fn to_param(&self) -> Param<'_> {
        (**self).to_param()
    }
}
impl<T: ToParam + HasKind + ?Sized> HasKind for &T {
    const KIND: Kind = T::KIND;
}
impl<T: ToParam + HasKind> ToParam for Option<T> {
    fn to_param(&self) -> Param<'_> {
        match self {
            Some(v) => v.to_param(),
            None => Param::Null(T::KIND),
        }
    }
}

impl ToParam for Param<'_> {
    fn to_param(&self) -> Param<'_> {
        *self
    }
}

/// A value of any column, read where the types are known only at run time
/// (`kronika store copy`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    /// The value bound to a column of `kind`: a number in the column's own
    /// type (an integer for a real column, a whole real for an integer one);
    /// `None` when it does not fit the column.
    pub fn param(&self, kind: Kind) -> Option<Param<'_>> {
        Some(match (self, kind) {
            (Value::Null, k) => Param::Null(k),
            (Value::Int(i), Kind::Int) => Param::Int(*i),
            (Value::Int(i), Kind::Real) => Param::Real(*i as f64),
            (Value::Real(f), Kind::Real) => Param::Real(*f),
            (Value::Real(f), Kind::Int) if f.fract() == 0.0 && f.abs() < 9.0e15 => Param::Int(*f as i64),
            (Value::Text(t), Kind::Text) => Param::Text(t),
            (Value::Blob(b), Kind::Blob) => Param::Blob(b),
            (Value::Text(t), Kind::Blob) => Param::Blob(t.as_bytes()),
            _ => return None,
        })
    }
}

impl FromColumn for Value {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self> {
        Ok(match v {
            rusqlite::types::ValueRef::Null => Value::Null,
            rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
            rusqlite::types::ValueRef::Real(f) => Value::Real(f),
            rusqlite::types::ValueRef::Text(_) => Value::Text(String::from_sqlite(v, column)?),
            rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self> {
        if row_is_null(row, column)? {
            return Ok(Value::Null);
        }
        Ok(match pg_type(row, column)? {
            Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL => Value::Int(i64::from_postgres(row, column)?),
            Type::FLOAT8 | Type::FLOAT4 => Value::Real(f64::from_postgres(row, column)?),
            Type::BYTEA => Value::Blob(Vec::<u8>::from_postgres(row, column)?),
            _ => Value::Text(String::from_postgres(row, column)?),
        })
    }
}

/// The values of a statement, in placeholder order: `args![a, b, c]`.
#[macro_export]
macro_rules! args {
    () => { &[] as &[&dyn $crate::store::db::ToParam] };
    ($($v:expr),+ $(,)?) => { &[$(&$v as &dyn $crate::store::db::ToParam),+] as &[&dyn $crate::store::db::ToParam] };
}

/// A bound value kept for later (a row of [`Db::insert_later`]).
#[derive(Debug, Clone, PartialEq)]
enum Held {
    Null(Kind),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<Param<'_>> for Held {
    fn from(p: Param<'_>) -> Held {
        match p {
            Param::Null(k) => Held::Null(k),
            Param::Int(i) => Held::Int(i),
            Param::Real(f) => Held::Real(f),
            Param::Text(t) => Held::Text(t.to_string()),
            Param::Blob(b) => Held::Blob(b.to_vec()),
        }
    }
}

impl ToParam for Held {
    fn to_param(&self) -> Param<'_> {
        match self {
            Held::Null(k) => Param::Null(*k),
            Held::Int(i) => Param::Int(*i),
            Held::Real(f) => Param::Real(*f),
            Held::Text(t) => Param::Text(t),
            Held::Blob(b) => Param::Blob(b),
        }
    }
}

/// Rows of one insert that a transaction has not sent yet.
struct Pending {
    table: &'static str,
    /// Other rows refer to these by this column (`item_id`): they go
    /// before every other kept row, and before any insert naming it.
    referred_as: Option<&'static str>,
    head: &'static str,
    tail: &'static str,
    cols: usize,
    values: Vec<Held>,
}

/// Rows one multi-row insert sends at most; fewer go in powers of two,
/// so that few statements are prepared whatever the count.
const ROWS_MAX: usize = 256;

/// Rows of one insert kept back at most before they are sent anyway.
const PENDING_MAX: usize = 1024;

/// Why a statement failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("cannot read column {column} as {wanted}: it holds {found}")]
    Type { column: usize, wanted: &'static str, found: String },
    #[error("cannot reach PostgreSQL: {0}")]
    Unreachable(String),
}

fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        // The server ended the session (a restart, a shutdown, an admin).
        Some(db) if db.code().code().starts_with("57P") || db.code().code().starts_with("08") => {
            format!("the PostgreSQL server ended the connection ({}: {})", db.code().code(), db.message())
        }
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

impl DbError {
    /// Another writer held the database past the wait (SQLite's busy lock,
    /// PostgreSQL's serialization and deadlock failures): worth retrying.
    pub fn is_busy(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            DbError::Postgres(e) => e.code().is_some_and(|c| {
                *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                    || *c == postgres::error::SqlState::LOCK_NOT_AVAILABLE
            }),
            DbError::Type { .. } | DbError::Unreachable(_) => false,
        }
    }

    /// The connection to the database server is gone (PostgreSQL stopped,
    /// the network cut): reconnect and try again.
    pub fn is_disconnected(&self) -> bool {
        match self {
            DbError::Postgres(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        c.code().starts_with("08")
                            || *c == postgres::error::SqlState::ADMIN_SHUTDOWN
                            || *c == postgres::error::SqlState::CRASH_SHUTDOWN
                            || *c == postgres::error::SqlState::CANNOT_CONNECT_NOW
                    })
                    || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
            }
            DbError::Unreachable(_) => true,
            _ => false,
        }
    }

    /// A unique or primary key was violated.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            DbError::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }
}

pub type DbResult<T> = std::result::Result<T, DbError>;

/// One row of a result, read by column index from 0.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    pub fn get<T: FromColumn>(&self, column: usize) -> DbResult<T> {
        match self {
            Row::Sqlite(r) => T::from_sqlite(r.get_ref(column)?, column),
            Row::Postgres(r) => T::from_postgres(r, column),
        }
    }
}

/// What a column can be read as.
pub trait FromColumn: Sized {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self>;
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self>;
}

fn type_error(column: usize, wanted: &'static str, found: impl std::fmt::Display) -> DbError {
    DbError::Type { column, wanted, found: found.to_string() }
}

fn pg_type(row: &postgres::Row, column: usize) -> DbResult<Type> {
    row.columns()
        .get(column)
        .map(|c| c.type_().clone())
        .ok_or_else(|| type_error(column, "a column", format!("only {} columns", row.columns().len())))
}

/// Reads a nullable PostgreSQL column of Rust type `T`.
fn pg_opt<'r, T: postgres::types::FromSql<'r>>(row: &'r postgres::Row, column: usize) -> DbResult<Option<T>> {
    Ok(row.try_get::<_, Option<T>>(column)?)
}

impl FromColumn for i64 {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self> {
        match v {
            rusqlite::types::ValueRef::Integer(i) => Ok(i),
            other => Err(type_error(column, "an integer", format!("{:?}", other.data_type()))),
        }
    }
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self> {
        let ty = pg_type(row, column)?;
        let v = match ty {
            Type::INT8 => pg_opt::<i64>(row, column)?,
            Type::INT4 => pg_opt::<i32>(row, column)?.map(i64::from),
            Type::INT2 => pg_opt::<i16>(row, column)?.map(i64::from),
            Type::BOOL => pg_opt::<bool>(row, column)?.map(i64::from),
            other => return Err(type_error(column, "an integer", other)),
        };
        v.ok_or_else(|| type_error(column, "an integer", "NULL"))
    }
}

impl FromColumn for bool {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self> {
        i64::from_sqlite(v, column).map(|i| i != 0)
    }
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self> {
        i64::from_postgres(row, column).map(|i| i != 0)
    }
}

impl FromColumn for f64 {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self> {
        match v {
            rusqlite::types::ValueRef::Real(f) => Ok(f),
            rusqlite::types::ValueRef::Integer(i) => Ok(i as f64),
            other => Err(type_error(column, "a number", format!("{:?}", other.data_type()))),
        }
    }
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self> {
        let v = match pg_type(row, column)? {
            Type::FLOAT8 => pg_opt::<f64>(row, column)?,
            Type::FLOAT4 => pg_opt::<f32>(row, column)?.map(f64::from),
            Type::INT8 | Type::INT4 | Type::INT2 => Some(i64::from_postgres(row, column)? as f64),
            other => return Err(type_error(column, "a number", other)),
        };
        v.ok_or_else(|| type_error(column, "a number", "NULL"))
    }
}

impl FromColumn for String {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self> {
        match v {
            rusqlite::types::ValueRef::Text(t) => {
                String::from_utf8(t.to_vec()).map_err(|_| type_error(column, "text", "bytes that are not UTF-8"))
            }
            other => Err(type_error(column, "text", format!("{:?}", other.data_type()))),
        }
    }
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self> {
        pg_opt::<String>(row, column)?.ok_or_else(|| type_error(column, "text", "NULL"))
    }
}

impl FromColumn for Vec<u8> {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self> {
        match v {
            rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => Ok(b.to_vec()),
            other => Err(type_error(column, "bytes", format!("{:?}", other.data_type()))),
        }
    }
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self> {
        match pg_type(row, column)? {
            Type::BYTEA => pg_opt::<Vec<u8>>(row, column)?,
            _ => pg_opt::<String>(row, column)?.map(String::into_bytes),
        }
        .ok_or_else(|| type_error(column, "bytes", "NULL"))
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, column: usize) -> DbResult<Self> {
        match v {
            rusqlite::types::ValueRef::Null => Ok(None),
            v => T::from_sqlite(v, column).map(Some),
        }
    }
    fn from_postgres(row: &postgres::Row, column: usize) -> DbResult<Self> {
        if row_is_null(row, column)? { Ok(None) } else { T::from_postgres(row, column).map(Some) }
    }
}

/// Whether a PostgreSQL column holds NULL, whatever its type.
fn row_is_null(row: &postgres::Row, column: usize) -> DbResult<bool> {
    struct Nullness(bool);
    impl<'r> postgres::types::FromSql<'r> for Nullness {
        fn from_sql(_: &Type, _: &'r [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            Ok(Nullness(false))
        }
        fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            Ok(Nullness(true))
        }
        fn accepts(_: &Type) -> bool {
            true
        }
    }
    Ok(row.try_get::<_, Nullness>(column)?.0)
}

// ---------------------------------------------------------------------------
// Binding on PostgreSQL

impl Kind {
    fn pg_type(self) -> Type {
        match self {
            Kind::Int => Type::INT8,
            Kind::Real => Type::FLOAT8,
            Kind::Text => Type::TEXT,
            Kind::Blob => Type::BYTEA,
        }
    }
}

impl Param<'_> {
    /// The type the statement is prepared with for this value.
    fn pg_type(&self) -> Type {
        match self {
            Param::Null(k) => *k,
            Param::Int(_) => Kind::Int,
            Param::Real(_) => Kind::Real,
            Param::Text(_) => Kind::Text,
            Param::Blob(_) => Kind::Blob,
        }
        .pg_type()
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // The statement was prepared with this value's own type
        // (`Param::pg_type`), so each encodes as itself.
        match *self {
            Param::Null(_) => Ok(IsNull::Yes),
            Param::Int(i) => i.to_sql(ty, out),
            Param::Real(f) => f.to_sql(ty, out),
            Param::Text(t) => t.to_sql(ty, out),
            Param::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

// ---------------------------------------------------------------------------
// The connection

struct Pg {
    client: postgres::Client,
    prepared: HashMap<(String, Vec<Type>), postgres::Statement>,
    /// Where to connect again when the connection is lost; `None` for a
    /// bare client, which stays lost.
    target: Option<super::pg::PgTarget>,
    /// A transaction is open: a connection lost now fails it, and is not
    /// opened again until it ends (what follows must not run outside it).
    in_tx: bool,
    /// The connection was lost: when to try again, and how often it failed.
    lost: Option<Lost>,
    /// The open transaction holds the writers' lock.
    locked: bool,
    /// Counter values the open transaction reserved and has not handed
    /// out yet: name → (next, last, the size of the block they came in).
    /// Only under the writers' lock, which keeps them in commit order.
    reserved: HashMap<String, (i64, i64, i64)>,
}

struct Lost {
    attempts: u32,
    next_try: std::time::Instant,
    /// Why the last attempt failed.
    error: Option<String>,
}

/// Counter values reserved at once inside a PostgreSQL transaction: the
/// first block, doubled at each next one of the same transaction up to
/// the most (a batch of 500 items asks five times, not sixteen).
const COUNTER_BLOCK: i64 = 32;
const COUNTER_BLOCK_MAX: i64 = 512;

/// The first wait before connecting again after a failed attempt; it
/// doubles up to [`RECONNECT_MAX`].
const RECONNECT_FIRST: std::time::Duration = std::time::Duration::from_millis(250);
const RECONNECT_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// How this process's connections to PostgreSQL fared (for `kronika
/// status`): every connection of the process reports here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkState {
    /// The server has been unreachable since then (an attempt to connect
    /// again failed); `None` while connected.
    pub down_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The last outage that ended: from, to.
    pub last_outage: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
    /// Connections opened again after they were lost.
    pub reconnects: u64,
}

static LINK: std::sync::Mutex<LinkState> =
    std::sync::Mutex::new(LinkState { down_since: None, last_error: None, last_outage: None, reconnects: 0 });

/// How this process's connections to PostgreSQL fared.
pub fn link_state() -> LinkState {
    LINK.lock().map(|l| l.clone()).unwrap_or_default()
}

fn update_link(f: impl FnOnce(&mut LinkState)) {
    if let Ok(mut l) = LINK.lock() {
        f(&mut l);
    }
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(PgCell),
}

/// The PostgreSQL connection; `None` only while it is dropped.
struct PgCell(Option<Box<RefCell<Pg>>>);

impl PgCell {
    fn borrow_mut(&self) -> std::cell::RefMut<'_, Pg> {
        match &self.0 {
            Some(pg) => pg.borrow_mut(),
            None => unreachable!("a PostgreSQL connection is used while it is dropped"),
        }
    }
}

impl Drop for PgCell {
    fn drop(&mut self) {
        // Closing blocks on the client's own runtime, like every call.
        if let Some(pg) = self.0.take() {
            off_runtime(move || drop(pg));
        }
    }
}

/// Runs `f` where the postgres crate may block. It drives each connection
/// with a runtime of its own, which cannot run on a thread that runs a
/// tokio runtime (the daemon's tasks): there `f` runs on a thread of its
/// own, elsewhere (the pipeline's threads, the lease keeper, the CLI) here.
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    })
}

/// A connection to the store's database.
pub struct Db {
    inner: Inner,
    /// A transaction is open ([`Db::begin`]).
    open: std::cell::Cell<bool>,
    /// Rows the open transaction inserts later ([`Db::insert_later`]).
    pending: RefCell<Vec<Pending>>,
}

/// The advisory lock key of the store's writers (ASCII "kronika" in an
/// i64), hashed with the schema's name so that firms sharing a database
/// in schemas of their own never wait for each other.
pub const WRITER_LOCK: i64 = 0x6b_726f_6e69_6b61;

/// The SQL that takes the writers' lock of the current schema.
pub const WRITER_LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtextextended(current_schema(), 30243645427379041))";

impl Db {
    /// Wraps an open SQLite connection.
    pub fn sqlite(conn: rusqlite::Connection) -> Db {
        Db::of(Inner::Sqlite(conn))
    }

    /// Wraps a PostgreSQL client that stays lost when its connection is.
    pub fn postgres(client: postgres::Client) -> Db {
        Db::wrap(client, None)
    }

    /// Wraps a client of `target` (see [`super::pg::connect`]): when the
    /// connection is lost (the server restarted, the network cut) it is
    /// opened again, with backoff, outside transactions.
    pub fn postgres_at(client: postgres::Client, target: super::pg::PgTarget) -> Db {
        Db::wrap(client, Some(target))
    }

    fn wrap(client: postgres::Client, target: Option<super::pg::PgTarget>) -> Db {
        let pg = Pg {
            client,
            prepared: HashMap::new(),
            target,
            in_tx: false,
            locked: false,
            lost: None,
            reserved: HashMap::new(),
        };
        Db::of(Inner::Postgres(PgCell(Some(Box::new(RefCell::new(pg))))))
    }

    fn of(inner: Inner) -> Db {
        Db { inner, open: std::cell::Cell::new(false), pending: RefCell::new(Vec::new()) }
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas, backups).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, args: &[&dyn ToParam]) -> DbResult<u64> {
        self.flush_for(sql)?;
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                bind_sqlite(&mut stmt, args)?;
                Ok(stmt.raw_execute()? as u64)
            }
            Inner::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                pg.run(sql, args, |client, stmt, values| client.execute(stmt, values))
            }
        }
    }

    /// Every row of a query, each read by `f`.
    pub fn query<T>(
        &self,
        sql: &str,
        args: &[&dyn ToParam],
        f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        self.rows(sql, args, usize::MAX, f)
    }

    /// The first row of a query, read by `f`; `None` when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        args: &[&dyn ToParam],
        f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Option<T>> {
        Ok(self.rows(sql, args, 1, f)?.pop())
    }

    /// At most `limit` rows, each read by `f`.
    fn rows<T>(
        &self,
        sql: &str,
        args: &[&dyn ToParam],
        limit: usize,
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        self.flush_for(sql)?;
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                bind_sqlite(&mut stmt, args)?;
                let mut rows = stmt.raw_query();
                let mut out = Vec::new();
                while out.len() < limit
                    && let Some(r) = rows.next()?
                {
                    out.push(f(&Row::Sqlite(r))?);
                }
                Ok(out)
            }
            Inner::Postgres(pg) => {
                let rows = pg.borrow_mut().run(sql, args, |client, stmt, values| client.query(stmt, values))?;
                // Read after the borrow ends: `f` may use this connection.
                rows.iter().take(limit).map(|r| f(&Row::Postgres(r))).collect()
            }
        }
    }

    /// One value of the first row (`SELECT COUNT(*) …`); `None` without rows.
    pub fn value<T: FromColumn>(&self, sql: &str, args: &[&dyn ToParam]) -> DbResult<Option<T>> {
        self.query_row(sql, args, |r| r.get(0))
    }

    /// Runs statements separated by `;`, without values (migrations).
    pub fn batch(&self, sql: &str) -> DbResult<()> {
        self.flush_for(sql)?;
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(pg) => pg.borrow_mut().batch(sql),
        }
    }

    /// How many values of a named counter one call reserves: inside a
    /// PostgreSQL transaction a block (a round trip saved per value; the
    /// values it does not hand out are skipped), else one. A transaction
    /// that used up one block of `key` gets a larger one next.
    pub fn counter_block(&self, key: &str) -> i64 {
        match &self.inner {
            Inner::Postgres(pg) => {
                let pg = pg.borrow_mut();
                if !pg.locked {
                    return 1;
                }
                match pg.reserved.get(key) {
                    Some(&(_, _, block)) => block.saturating_mul(2).min(COUNTER_BLOCK_MAX),
                    None => COUNTER_BLOCK,
                }
            }
            _ => 1,
        }
    }

    /// The next value of counter `key` that the open transaction reserved.
    pub fn take_reserved(&self, key: &str) -> Option<i64> {
        let Inner::Postgres(pg) = &self.inner else { return None };
        let mut pg = pg.borrow_mut();
        let (next, last, _) = pg.reserved.get_mut(key)?;
        if *next > *last {
            return None;
        }
        *next += 1;
        Some(*next - 1)
    }

    /// Keeps `first..=last` of counter `key` for the open transaction, the
    /// rest of a block of `block` values.
    pub fn reserve(&self, key: &str, first: i64, last: i64, block: i64) {
        if let Inner::Postgres(pg) = &self.inner {
            let mut pg = pg.borrow_mut();
            if pg.locked {
                pg.reserved.insert(key.to_string(), (first, last, block));
            }
        }
    }

    /// Begins a write transaction: it holds the writers' lock until it ends,
    /// and rolls back when dropped without [`Tx::commit`].
    pub fn begin(&self) -> DbResult<Tx<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Inner::Postgres(pg) => pg.borrow_mut().begin()?,
        }
        self.opened();
        Ok(Tx { db: self, done: false })
    }

    /// Begins a transaction that takes no writers' lock, for writes that
    /// need no order among writers (inserts idempotent by key, such as
    /// shared files by hash): several statements, one commit. SQLite has
    /// one write lock only and begins `IMMEDIATE` as [`Db::begin`] does.
    pub fn begin_unlocked(&self) -> DbResult<Tx<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Inner::Postgres(pg) => pg.borrow_mut().begin_with("BEGIN")?,
        }
        self.opened();
        Ok(Tx { db: self, done: false })
    }
}

/// Rows kept back: sent when a statement names their table, when an
/// update or a delete names a table whose triggers write it
/// (`schema::KEPT_TRIGGERS`), when a delete names a table whose foreign
/// keys cascade to it (`schema::KEPT_CASCADES`), when any other statement
/// than a select, insert, update or delete runs, and before the commit. Parent
/// rows ([`Db::insert_parent_later`]) go before the other kept rows, and
/// before any insert that names the column that refers to them.
impl Db {
    fn opened(&self) {
        self.open.set(true);
        self.pending.borrow_mut().clear();
    }

    fn closed(&self) {
        self.open.set(false);
        self.pending.borrow_mut().clear();
    }

    /// Inserts rows of `cols` values each (`values` holds them one after
    /// the other) into `table`: `head` is the statement up to `VALUES`,
    /// `tail` what follows the rows (`ON CONFLICT …`). Inside a
    /// transaction the rows are kept and sent with the others of the same
    /// statement, many in one (a round trip saved per row on PostgreSQL),
    /// before any statement that names `table` and before the commit: an
    /// error in them fails the transaction then. Outside one they are sent
    /// at once.
    pub fn insert_later(
        &self,
        table: &'static str,
        head: &'static str,
        tail: &'static str,
        cols: usize,
        values: &[&dyn ToParam],
    ) -> DbResult<()> {
        self.keep(Pending { table, referred_as: None, head, tail, cols, values: Vec::new() }, values)
    }

    /// [`Db::insert_later`] for one row that other rows refer to by column
    /// `referred_as` (an item, by `item_id`): sent before any other kept
    /// row, and before any insert that names that column (its foreign key
    /// may name the row).
    pub fn insert_parent_later(
        &self,
        (table, referred_as): (&'static str, &'static str),
        head: &'static str,
        row: &[&dyn ToParam],
    ) -> DbResult<()> {
        let cols = row.len();
        self.keep(Pending { table, referred_as: Some(referred_as), head, tail: "", cols, values: Vec::new() }, row)
    }

    fn keep(&self, new: Pending, values: &[&dyn ToParam]) -> DbResult<()> {
        let (table, head, tail, cols) = (new.table, new.head, new.tail, new.cols);
        if values.is_empty() || cols == 0 {
            return Ok(());
        }
        if !self.open.get() {
            return self.insert_rows(head, tail, cols, values);
        }
        let full = {
            let mut pending = self.pending.borrow_mut();
            let at = match pending.iter().position(|p| p.head == head && p.tail == tail) {
                Some(at) => at,
                None => {
                    pending.push(new);
                    pending.len() - 1
                }
            };
            let p = &mut pending[at];
            p.values.extend(values.iter().map(|v| Held::from(v.to_param())));
            p.values.len() >= PENDING_MAX * cols
        };
        if full { self.flush_where(|p| p.table == table) } else { Ok(()) }
    }

    /// Inserts rows now, in statements of up to [`ROWS_MAX`] rows (see
    /// [`Db::insert_later`]).
    pub fn insert_rows(&self, head: &str, tail: &str, cols: usize, values: &[&dyn ToParam]) -> DbResult<()> {
        let mut rest = values;
        while cols > 0 && rest.len() >= cols {
            let rows = rest.len() / cols;
            let n = if rows >= ROWS_MAX { ROWS_MAX } else { 1 << rows.ilog2() };
            let (chunk, more) = rest.split_at(n * cols);
            self.execute(&format!("{head} VALUES {} {tail}", value_rows(1, n, cols)), chunk)?;
            rest = more;
        }
        Ok(())
    }

    /// Sends the kept rows that `sql` may read or change.
    fn flush_for(&self, sql: &str) -> DbResult<()> {
        if self.pending.borrow().is_empty() {
            return Ok(());
        }
        // A read or an insert needs the rows of the tables it names (an
        // insert's foreign key, the rows its parent column names); an
        // update those too, and the rows its tables' triggers write; a
        // delete also those its foreign keys cascade to. Any other
        // statement needs every kept row.
        let head = sql.trim_start().get(..6).unwrap_or_default();
        let is = |word: &str| head.eq_ignore_ascii_case(word);
        let (insert, update, delete) = (is("insert"), is("update"), is("delete"));
        let all = !(is("select") || insert || update || delete);
        let reached =
            |list: &[(&str, &str)], table: &str| list.iter().any(|(from, to)| *to == table && names_table(sql, from));
        self.flush_where(|p| {
            all || names_table(sql, p.table)
                || (insert && p.referred_as.is_some_and(|c| names_table(sql, c)))
                || ((update || delete) && reached(super::schema::KEPT_TRIGGERS, p.table))
                || (delete && reached(super::schema::KEPT_CASCADES, p.table))
        })
    }

    /// Sends every kept row (before the commit).
    fn flush_all(&self) -> DbResult<()> {
        self.flush_where(|_| true)
    }

    fn flush_where(&self, due: impl Fn(&Pending) -> bool) -> DbResult<()> {
        let sending: Vec<Pending> = {
            let mut pending = self.pending.borrow_mut();
            // Parent rows go with any others, and first.
            let any = pending.iter().any(&due);
            let (mut now, later): (Vec<Pending>, Vec<Pending>) =
                std::mem::take(&mut *pending).into_iter().partition(|p| any && (p.referred_as.is_some() || due(p)));
            *pending = later;
            now.sort_by_key(|p| p.referred_as.is_none());
            now
        };
        for p in sending {
            let values: Vec<&dyn ToParam> = p.values.iter().map(|v| v as &dyn ToParam).collect();
            self.insert_rows(p.head, p.tail, p.cols, &values)?;
        }
        Ok(())
    }
}

/// Whether `sql` names `table` as a whole word (`item_links`, not
/// `item_links_date`; a false match only sends rows early).
fn names_table(sql: &str, table: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    sql.match_indices(table).any(|(at, _)| {
        let before = sql.get(..at).and_then(|s| s.chars().next_back());
        let after = sql.get(at + table.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

impl Pg {
    /// Prepares `sql` for the types of `args` (kept prepared) and runs `f`
    /// with the statement and the values bound.
    fn run<T>(
        &mut self,
        sql: &str,
        args: &[&dyn ToParam],
        f: impl Fn(&mut postgres::Client, &postgres::Statement, &[&(dyn ToSql + Sync)]) -> Result<T, postgres::Error> + Send,
    ) -> DbResult<T>
    where
        T: Send,
    {
        let params: Vec<Param<'_>> = args.iter().map(|a| a.to_param()).collect();
        off_runtime(move || {
            self.connected()?;
            let attempt = |pg: &mut Pg| -> DbResult<T> {
                let stmt = pg.prepare(sql, &params)?;
                let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                Ok(f(&mut pg.client, &stmt, &values)?)
            };
            match attempt(self) {
                Err(e) if e.is_disconnected() => {
                    self.lose();
                    // A read outside a transaction is asked again on a new
                    // connection; a write is not (it may have been done), nor
                    // anything inside a transaction (the caller retries all).
                    if self.in_tx || !is_read(sql) {
                        return Err(e);
                    }
                    self.connected()?;
                    attempt(self)
                }
                other => other,
            }
        })
    }

    /// Statements without values; a lost connection fails them.
    fn batch(&mut self, sql: &str) -> DbResult<()> {
        off_runtime(|| {
            self.connected()?;
            let result = self.client.batch_execute(sql).map_err(DbError::from);
            if result.as_ref().is_err_and(DbError::is_disconnected) {
                self.lose();
            }
            result
        })
    }

    /// Begins a write transaction under the writers' lock, on a new
    /// connection when the last one was lost (nothing is open to lose).
    fn begin(&mut self) -> DbResult<()> {
        self.begin_with(&format!("BEGIN; {WRITER_LOCK_SQL}"))
    }

    /// Begins a transaction with `sql`, on a new connection when the last
    /// one was lost.
    fn begin_with(&mut self, sql: &str) -> DbResult<()> {
        let result = match self.batch(sql) {
            Err(e) if e.is_disconnected() => self.batch(sql),
            other => other,
        };
        self.in_tx = result.is_ok();
        self.locked = self.in_tx && sql.contains(WRITER_LOCK_SQL);
        self.reserved.clear();
        result
    }

    /// Ends the transaction, whether or not the server hears it.
    fn end(&mut self, sql: &str) -> DbResult<()> {
        let result = if self.lost.is_some() || self.client.is_closed() {
            // The transaction died with its connection: nothing to end.
            Err(DbError::Unreachable("the connection was lost inside the transaction, which did not commit".into()))
        } else {
            self.batch(sql)
        };
        self.in_tx = false;
        self.locked = false;
        self.reserved.clear();
        result
    }

    /// Marks the connection lost: the next statement outside a
    /// transaction connects again.
    fn lose(&mut self) {
        if self.lost.is_none() {
            self.lost = Some(Lost { attempts: 0, next_try: std::time::Instant::now(), error: None });
        }
    }

    /// Connects again if the connection was lost and no transaction is
    /// open, waiting out the backoff of earlier failed attempts (an error
    /// then, at once: the caller retries later).
    fn connected(&mut self) -> DbResult<()> {
        if self.lost.is_none() && self.client.is_closed() {
            self.lose();
        }
        let Some(lost) = &self.lost else { return Ok(()) };
        let Some(target) = self.target.as_ref().filter(|_| !self.in_tx) else {
            return Err(DbError::Unreachable(if self.in_tx {
                "the connection was lost inside the transaction, which did not commit".into()
            } else {
                "the connection was lost".into()
            }));
        };
        let now = std::time::Instant::now();
        if now < lost.next_try {
            let wait = lost.next_try - now;
            let why = lost.error.as_deref().unwrap_or("the connection was lost");
            return Err(DbError::Unreachable(format!("{why}; trying again in {:.1} s", wait.as_secs_f64())));
        }
        let attempts = lost.attempts;
        match super::pg::client(target) {
            Ok(client) => {
                let old = std::mem::replace(&mut self.client, client);
                drop(old);
                self.prepared.clear();
                self.lost = None;
                tracing::info!("connected to PostgreSQL again");
                update_link(|l| {
                    if let Some(from) = l.down_since.take() {
                        l.last_outage = Some((from, chrono::Utc::now()));
                    }
                    l.reconnects += 1;
                });
                Ok(())
            }
            Err(e) => {
                let wait = RECONNECT_FIRST.saturating_mul(1 << attempts.min(5)).min(RECONNECT_MAX);
                let message = e.to_string();
                self.lost = Some(Lost {
                    attempts: attempts.saturating_add(1),
                    next_try: now + wait,
                    error: Some(message.clone()),
                });
                if attempts == 0 {
                    tracing::warn!("cannot reach PostgreSQL: {e}; trying again with backoff");
                }
                update_link(|l| {
                    l.down_since.get_or_insert_with(chrono::Utc::now);
                    l.last_error = Some(message.clone());
                });
                Err(DbError::Unreachable(message))
            }
        }
    }

    fn prepare(&mut self, sql: &str, params: &[Param<'_>]) -> DbResult<postgres::Statement> {
        let types: Vec<Type> = params.iter().map(Param::pg_type).collect();
        let key = (sql.to_string(), types);
        if let Some(stmt) = self.prepared.get(&key) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare_typed(&to_postgres(sql), &key.1)?;
        self.prepared.insert(key, stmt.clone());
        Ok(stmt)
    }
}

fn bind_sqlite(stmt: &mut rusqlite::CachedStatement<'_>, args: &[&dyn ToParam]) -> DbResult<()> {
    stmt.clear_bindings();
    for (i, a) in args.iter().enumerate() {
        let value = match a.to_param() {
            Param::Null(_) => rusqlite::types::ValueRef::Null,
            Param::Int(v) => rusqlite::types::ValueRef::Integer(v),
            Param::Real(v) => rusqlite::types::ValueRef::Real(v),
            Param::Text(v) => rusqlite::types::ValueRef::Text(v.as_bytes()),
            Param::Blob(v) => rusqlite::types::ValueRef::Blob(v),
        };
        stmt.raw_bind_parameter(i + 1, rusqlite::types::ToSqlOutput::Borrowed(value))?;
    }
    Ok(())
}

/// A write transaction; rolled back when dropped uncommitted.
pub struct Tx<'a> {
    db: &'a Db,
    done: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Tx<'_> {
    pub fn commit(mut self) -> DbResult<()> {
        // Kept rows first; if they fail, the transaction rolls back.
        self.db.flush_all()?;
        self.done = true;
        self.end("COMMIT")
    }

    fn end(&self, sql: &str) -> DbResult<()> {
        self.db.closed();
        match &self.db.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(pg) => pg.borrow_mut().end(sql),
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done
            && let Err(e) = self.end("ROLLBACK")
        {
            tracing::debug!("cannot roll back: {e}");
        }
    }
}

/// A statement that only reads: safe to ask again on a new connection.
fn is_read(sql: &str) -> bool {
    let s = sql.trim_start();
    let head = s.get(..6).unwrap_or(s);
    (head.eq_ignore_ascii_case("select") || head.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("with")))
        && !s.to_ascii_lowercase().contains("returning")
        && !s.to_ascii_lowercase().contains("nextval")
}

/// `(?{first}, …), (…)`: `rows` rows of `cols` bound placeholders, numbered
/// from `first`, for a multi-row `VALUES` (or, one row, an `IN` list).
/// Only placeholders are made here; every value stays bound.
pub fn value_rows(first: usize, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * (cols * 5 + 4));
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('?');
            out.push_str(&(first + r * cols + c).to_string());
        }
        out.push(')');
    }
    out
}

/// SQL in the shared dialect made PostgreSQL's: `?N` becomes `$N` and a
/// bare `?` the next number, outside quotes and comments.
pub fn to_postgres(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next = 1u32;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                out.push(c);
                // The `*` that opens it cannot close it (`/*/` is open).
                let (mut previous, mut inside) = (' ', 0usize);
                for d in chars.by_ref() {
                    out.push(d);
                    if previous == '*' && d == '/' && inside >= 2 {
                        break;
                    }
                    previous = d;
                    inside += 1;
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next = next.saturating_add(1);
                } else {
                    out.push_str(&digits);
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_reads_are_asked_again_on_a_new_connection() {
        for (sql, read) in [
            ("SELECT COUNT(*) FROM items", true),
            ("  select 1", true),
            ("WITH x AS (SELECT 1) SELECT * FROM x", true),
            ("INSERT INTO t VALUES (1)", false),
            ("UPDATE t SET n = 1 RETURNING n", false),
            ("SELECT nextval('items_id_seq')", false),
            ("DELETE FROM t", false),
            ("", false),
            ("SEL", false),
        ] {
            assert_eq!(is_read(sql), read, "{sql}");
        }
    }

    #[test]
    fn the_writers_lock_is_keyed_by_the_constant() {
        assert!(WRITER_LOCK_SQL.contains(&WRITER_LOCK.to_string()));
    }

    #[test]
    fn placeholders_become_numbered_outside_quotes_and_comments() {
        let cases = [
            ("SELECT 1", "SELECT 1"),
            ("SELECT ?1, ?12", "SELECT $1, $12"),
            ("SELECT ?, ?", "SELECT $1, $2"),
            ("SELECT '?1', \"a?\" FROM t WHERE x = ?2", "SELECT '?1', \"a?\" FROM t WHERE x = $2"),
            ("SELECT 1 -- why?\n, ?1", "SELECT 1 -- why?\n, $1"),
            ("SELECT 'it''s ?', ?3", "SELECT 'it''s ?', $3"),
            ("SELECT 'ž?' || ?1", "SELECT 'ž?' || $1"),
            ("SELECT /* a ? here */ ?2 /**/, ?", "SELECT /* a ? here */ $2 /**/, $1"),
            ("SELECT /*/ ? */ ?1", "SELECT /*/ ? */ $1"),
        ];
        for (sqlite, pg) in cases {
            assert_eq!(to_postgres(sqlite), pg, "{sqlite}");
        }
    }

    #[test]
    fn kept_rows_are_sent_for_statements_that_name_their_table() {
        for (sql, table, names) in [
            ("SELECT * FROM item_links WHERE item_id = ?1", "item_links", true),
            ("SELECT * FROM item_links_by_date", "item_links", false),
            ("SELECT * FROM my_item_links", "item_links", false),
            ("DELETE FROM item_links", "item_links", true),
            ("SELECT 1 FROM items i JOIN item_links l ON l.item_id = i.id", "item_links", true),
            ("SELECT 1 FROM items", "item_links", false),
            ("SELECT x FROM thread_ids,items", "thread_ids", true),
        ] {
            assert_eq!(names_table(sql, table), names, "{sql}");
        }
    }

    #[test]
    fn sqlite_binds_reads_and_rolls_back() {
        let db = Db::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB, flag INTEGER)").unwrap();
        let none: Option<&str> = None;
        assert_eq!(
            db.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
                args![1i64, "Žluťoučký", 1.5f64, vec![0u8, 1], true]
            )
            .unwrap(),
            1
        );
        db.execute("INSERT INTO t VALUES (?1, ?2, NULL, NULL, ?3)", args![2i64, none, false]).unwrap();
        let rows = db
            .query("SELECT id, name, score, data, flag FROM t ORDER BY id", args![], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<Option<String>>(1)?,
                    r.get::<Option<f64>>(2)?,
                    r.get::<Option<Vec<u8>>>(3)?,
                    r.get::<bool>(4)?,
                ))
            })
            .unwrap();
        assert_eq!(rows[0], (1, Some("Žluťoučký".into()), Some(1.5), Some(vec![0, 1]), true));
        assert_eq!(rows[1], (2, None, None, None, false));
        assert!(matches!(db.value::<i64>("SELECT name FROM t WHERE id = ?1", args![1i64]), Err(DbError::Type { .. })));
        {
            let tx = db.begin().unwrap();
            tx.execute("DELETE FROM t", args![]).unwrap();
        }
        assert_eq!(db.value::<i64>("SELECT COUNT(*) FROM t", args![]).unwrap(), Some(2));
        let tx = db.begin().unwrap();
        tx.execute("DELETE FROM t WHERE id = ?1", args![2i64]).unwrap();
        tx.commit().unwrap();
        assert_eq!(db.value::<i64>("SELECT COUNT(*) FROM t", args![]).unwrap(), Some(1));
        assert_eq!(db.query_row("SELECT id FROM t WHERE id = ?1", args![9i64], |r| r.get::<i64>(0)).unwrap(), None);
        let dup = db.execute("INSERT INTO t (id) VALUES (?1)", args![1i64]).unwrap_err();
        assert!(dup.is_unique_violation(), "{dup}");
    }
}
