//! `kronika store copy` (issue 19): a whole store, from SQLite to
//! PostgreSQL or back, then verified.
//!
//! Every table is copied row for row, parents before children (as the
//! schema's foreign keys order them), in pages, inside one transaction on
//! the destination that first empties it; the source is read inside one
//! transaction too, so the copy is one moment of it. The files go with the
//! rows: into the destination's `files` table from a data folder, or out
//! of it into the destination's data folder. Afterwards each table's rows
//! are counted and summed (an order-free checksum of every value) on both
//! sides; any difference is an error.
//!
//! The tables and their columns come from the schema this kronika makes
//! (an SQLite store in memory), never from input: the SQL is built from
//! those names alone, and every value is bound.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::db::{Db, Dialect, Kind, Param, ToParam, Value};
use super::files::FileKind;
use super::{Result, Store, StoreError};
use crate::args;

/// Rows read and written at a time.
const PAGE: i64 = 1000;
/// Item ids per page of the tables without a primary key.
const ID_WINDOW: i64 = 2000;
/// Not copied: who runs what belongs to the daemons of the old store, and
/// each thread's last mail is written by the items' triggers as they land.
const SKIPPED: &[&str] = &["leases", "thread_last"];

/// One table as the schema has it.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
    /// Primary key columns, in key order; empty: paged by `item_id`.
    key: Vec<String>,
}

/// What a copy did, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// (table, rows) in the order copied.
    pub tables: Vec<(String, u64)>,
    /// Files moved into the destination (its `files` table or data folder).
    pub files: u64,
}

/// A table's rows counted and summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Tally {
    rows: u64,
    sum: u64,
}

impl Tally {
    fn add(&mut self, row: &[Param<'_>]) {
        let mut h = Sha256::new();
        for p in row {
            match p {
                Param::Null(_) => h.update(b"n;"),
                Param::Int(i) => h.update(format!("i{i};")),
                Param::Real(f) => h.update(format!("r{};", f.to_bits())),
                Param::Text(t) => {
                    h.update(format!("t{}:", t.len()));
                    h.update(t.as_bytes());
                }
                Param::Blob(b) => {
                    h.update(format!("b{}:", b.len()));
                    h.update(b);
                }
            }
        }
        let d = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u64::from_le_bytes(first));
    }
}

/// The tables of this kronika's schema, parents first.
fn tables() -> Result<Vec<Table>> {
    let schema = Store::open_in_memory(crate::matcher::Policy::default())?;
    let conn = schema.sqlite()?;
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut all = BTreeMap::new();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in names.into_iter().filter(|n| !SKIPPED.contains(&n.as_str())) {
        let mut columns = Vec::new();
        let mut key: Vec<(i64, String)> = Vec::new();
        let mut stmt = conn.prepare("SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid")?;
        let rows =
            stmt.query_map([&name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (column, ty, pk) = row?;
            let kind = match ty.to_ascii_uppercase().as_str() {
                "INTEGER" | "INT" | "BIGINT" => Kind::Int,
                "REAL" | "DOUBLE PRECISION" => Kind::Real,
                "BLOB" => Kind::Blob,
                _ => Kind::Text,
            };
            if pk > 0 {
                key.push((pk, column.clone()));
            }
            columns.push((column, kind));
        }
        key.sort();
        let mut stmt = conn.prepare("SELECT \"table\" FROM pragma_foreign_key_list(?1)")?;
        let refs: BTreeSet<String> = stmt.query_map([&name], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        parents.insert(name.clone(), refs.into_iter().filter(|p| p != &name).collect());
        all.insert(name.clone(), Table { name, columns, key: key.into_iter().map(|(_, c)| c).collect() });
    }
    if let Some(t) = all.values().find(|t| t.key.is_empty() && !t.columns.iter().any(|(c, _)| c == "item_id")) {
        return Err(StoreError::Copy(format!("cannot copy table {}: it has neither a key nor an item_id", t.name)));
    }
    // Parents first (Kahn's order; the names sort the ties). A parent no
    // longer in `all` has been placed.
    let mut out = Vec::new();
    while !all.is_empty() {
        let ready: Vec<String> = all
            .keys()
            .filter(|t| parents.get(*t).is_none_or(|p| p.iter().all(|p| !all.contains_key(p))))
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Copy("cannot order the tables to copy: their foreign keys form a loop".into()));
        }
        for t in ready {
            out.extend(all.remove(&t));
        }
    }
    // Last: every insert into the directory's tables bumps its version
    // (triggers), so the source's version is written after them.
    if let Some(at) = out.iter().position(|t| t.name == "directory_version") {
        let t = out.remove(at);
        out.push(t);
    }
    Ok(out)
}

fn column_list(t: &Table) -> String {
    t.columns.iter().map(|(c, _)| quoted(c)).collect::<Vec<_>>().join(", ")
}

/// A schema name in double quotes (names come from the schema alone).
fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// Reads `t` page by page; `f` gets each page's rows, each value bound to its column's kind.
fn each_page(db: &Db, t: &Table, mut f: impl FnMut(&[Vec<Value>]) -> Result<()>) -> Result<()> {
    let cols = column_list(t);
    let table = quoted(&t.name);
    if t.key.is_empty() {
        // Tables without a key hang off items: paged by item id windows.
        let max: i64 = db.value(&format!("SELECT COALESCE(MAX(item_id), 0) FROM {table}"), args![])?.unwrap_or(0);
        // An item's participants and attachments are read in the order
        // they were written, so they are copied in it: `rowid` is SQLite's
        // own, and a column of those PostgreSQL tables since migration 15.
        let order =
            if ["item_participants", "item_attachments"].contains(&t.name.as_str()) { " ORDER BY rowid" } else { "" };
        let sql = format!("SELECT {cols} FROM {table} WHERE item_id > ?1 AND item_id <= ?2{order}");
        let mut low = i64::MIN;
        while low < max {
            let high = if low == i64::MIN { ID_WINDOW.min(max) } else { low.saturating_add(ID_WINDOW) };
            let rows = db.query(&sql, args![low, high], |r| read_row(r, t))?;
            f(&rows)?;
            low = high;
        }
        return Ok(());
    }
    let order = t.key.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
    let first = format!("SELECT {cols} FROM {table} ORDER BY {order} LIMIT {PAGE}");
    let holes = (1..=t.key.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let next = format!("SELECT {cols} FROM {table} WHERE ({order}) > ({holes}) ORDER BY {order} LIMIT {PAGE}");
    let key_at: Vec<usize> = t.key.iter().filter_map(|k| t.columns.iter().position(|(c, _)| c == k)).collect();
    let mut rows = db.query(&first, args![], |r| read_row(r, t))?;
    loop {
        if rows.is_empty() {
            return Ok(());
        }
        f(&rows)?;
        if (rows.len() as i64) < PAGE {
            return Ok(());
        }
        let Some(last) = rows.last() else { return Ok(()) };
        let key: Vec<Param<'_>> = key_at
            .iter()
            .filter_map(|i| last.get(*i).zip(t.columns.get(*i)))
            .map(|(v, (_, kind))| v.param(*kind).unwrap_or(Param::Null(*kind)))
            .collect();
        let bound: Vec<&dyn ToParam> = key.iter().map(|p| p as &dyn ToParam).collect();
        let page = db.query(&next, &bound, |r| read_row(r, t))?;
        rows = page;
    }
}

fn read_row(r: &super::db::Row<'_>, t: &Table) -> super::db::DbResult<Vec<Value>> {
    (0..t.columns.len()).map(|i| r.get::<Value>(i)).collect()
}

/// The values of one row as bound to their columns.
fn params<'a>(t: &Table, row: &'a [Value]) -> Result<Vec<Param<'a>>> {
    row.iter()
        .zip(&t.columns)
        .map(|(v, (column, kind))| {
            v.param(*kind).ok_or_else(|| {
                StoreError::Copy(format!("cannot copy {}.{column}: it holds {v:?}, not a value of its type", t.name))
            })
        })
        .collect()
}

/// Counts and sums every table of `db`.
fn tallies(db: &Db, tables: &[Table]) -> Result<BTreeMap<String, Tally>> {
    let mut out = BTreeMap::new();
    for t in tables.iter().filter(|t| t.name != "files" || db.dialect() == Dialect::Postgres) {
        let mut tally = Tally::default();
        each_page(db, t, |rows| {
            for row in rows {
                tally.add(&params(t, row)?);
            }
            Ok(())
        })?;
        out.insert(t.name.clone(), tally);
    }
    Ok(out)
}

/// Copies the whole of `from` into `to`, which must hold no history yet,
/// and verifies the copy. Files come from `from`'s data folder (into the
/// `files` table of a PostgreSQL `to`) or from `from`'s `files` table (into
/// `to`'s data folder, for an SQLite `to`).
pub fn copy(from: &Store, to: &Store) -> Result<CopyReport> {
    let tables = tables()?;
    for what in ["items", "clients", "users"] {
        let n: i64 = to.db.value(&format!("SELECT COUNT(*) FROM {what}"), args![])?.unwrap_or(0);
        if n > 0 {
            return Err(StoreError::Copy(format!(
                "cannot copy into a store that holds {n} {what} already; copy into an empty one"
            )));
        }
    }
    let mut report = CopyReport::default();
    let read = from.db.begin()?;
    let write = to.db.begin()?;
    for t in tables.iter().rev() {
        write.execute(&format!("DELETE FROM {}", quoted(&t.name)), args![])?;
    }
    for t in &tables {
        // The files table is SQLite's in name only: files go to a folder there.
        if t.name == "files" && (from.db.dialect() == Dialect::Sqlite || to.db.dialect() == Dialect::Sqlite) {
            continue;
        }
        // A page's rows in multi-row inserts (one statement per row was a
        // round trip each on PostgreSQL: most of a copy's time).
        let head = format!("INSERT INTO {} ({})", quoted(&t.name), column_list(t));
        let mut n = 0u64;
        each_page(&read, t, |rows| {
            let values = rows.iter().map(|row| params(t, row)).collect::<Result<Vec<_>>>()?;
            let bound: Vec<&dyn ToParam> = values.iter().flatten().map(|p| p as &dyn ToParam).collect();
            write.insert_rows(&head, "", t.columns.len(), &bound)?;
            n += rows.len() as u64;
            Ok(())
        })?;
        report.tables.push((t.name.clone(), n));
    }
    report.files = copy_files(from, &read, to, &write)?;
    if to.db.dialect() == Dialect::Postgres {
        // Ids were copied as they were: new rows continue after them.
        for t in tables.iter().filter(|t| t.key == ["id"]) {
            let table = quoted(&t.name);
            // NULL where the id is not an identity (directory_version).
            write.value::<Option<i64>>(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}",
                    t.name
                ),
                args![],
            )?;
        }
    }
    let source = tallies(&read, &tables)?;
    write.commit()?;
    drop(read);
    let copied = tallies(&to.db, &tables)?;
    for (table, want) in &source {
        if table == "files" {
            continue;
        }
        let got = copied.get(table).copied().unwrap_or_default();
        if got != *want {
            return Err(StoreError::Copy(format!(
                "cannot verify the copy: table {table} has {} rows (checksum {:016x}) where the source has {} ({:016x})",
                got.rows, got.sum, want.rows, want.sum
            )));
        }
    }
    Ok(report)
}

/// Moves the files over: a data folder's into the `files` table, or the
/// table's into a data folder. The number moved.
fn copy_files(from: &Store, read: &Db, to: &Store, write: &Db) -> Result<u64> {
    let mut n = 0;
    match (read.dialect(), write.dialect()) {
        (Dialect::Sqlite, Dialect::Postgres) => {
            let dirs = [(from.originals_dir(), FileKind::Original), (from.files.clone(), FileKind::Document)];
            for (dir, kind) in dirs {
                let Some(dir) = dir else { continue };
                for path in files_under(&dir)? {
                    let Some(hash) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
                    if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                        continue;
                    }
                    let bytes = std::fs::read(&path)
                        .map_err(|e| StoreError::Copy(format!("cannot read {} to copy it: {e}", path.display())))?;
                    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
                    n += write.execute(
                        "INSERT INTO files (hash, kind, bytes, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (hash) DO NOTHING",
                        args![hash, kind.as_str(), bytes, size, super::now()],
                    )?;
                }
            }
        }
        (Dialect::Postgres, Dialect::Sqlite) => {
            let hashes: Vec<(String, String)> =
                read.query("SELECT hash, kind FROM files ORDER BY hash", args![], |r| Ok((r.get(0)?, r.get(1)?)))?;
            for (hash, kind) in hashes {
                let dir = match FileKind::parse(&kind) {
                    Some(FileKind::Original) => to.originals_dir(),
                    Some(FileKind::Document) => to.files.clone(),
                    None => None,
                };
                let Some(dir) = dir else { continue };
                let Some(bytes) = read.value::<Vec<u8>>("SELECT bytes FROM files WHERE hash = ?1", args![hash])? else {
                    continue;
                };
                super::items::keep_file(&dir, &hash, &bytes)
                    .map_err(|e| StoreError::Copy(format!("cannot write {hash} into {}: {e}", dir.display())))?;
                n += 1;
            }
        }
        _ => {}
    }
    Ok(n)
}

/// Every file under `dir` (two levels: `ab/abcdef…`); none when it is missing.
fn files_under(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let Ok(top) = std::fs::read_dir(dir) else { return Ok(out) };
    for entry in top.flatten() {
        let path = entry.path();
        if path.is_dir() {
            let inner = std::fs::read_dir(&path)
                .map_err(|e| StoreError::Copy(format!("cannot list {}: {e}", path.display())))?;
            out.extend(inner.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_come_parents_first_with_their_keys() {
        let tables = tables().unwrap();
        let at = |name: &str| tables.iter().position(|t| t.name == name).unwrap();
        assert!(at("clients") < at("contacts") && at("contacts") < at("contact_emails"));
        assert!(at("items") < at("item_links") && at("clients") < at("item_links"));
        assert!(at("deals") < at("deal_proposals") && at("users") < at("sessions"));
        assert!(!tables.iter().any(|t| t.name == "leases"));
        let links = &tables[at("item_links")];
        assert!(links.key.is_empty() && links.columns.iter().any(|(c, _)| c == "item_id"));
        assert_eq!(tables[at("item_sources")].key, ["source", "key"]);
        let clients = &tables[at("clients")];
        assert!(clients.columns.contains(&("annual_budget".to_string(), Kind::Real)));
    }
}
