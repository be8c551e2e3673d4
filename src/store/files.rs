//! The files every node reads (issue 19). A store in PostgreSQL keeps the
//! originals and documents it is given in its `files` table by content
//! hash, so a document that node A took in downloads from the web of node
//! B. A store in SQLite keeps them in its data folder alone (one machine),
//! and these functions do nothing there.
//!
//! Why the database and not an object store: every node reaches it
//! already, it is backed up and replicated with the rest, a file and the
//! items that point at it never disagree, and one service fewer runs.
//! Mail attachments are megabytes, far below PostgreSQL's 1 GB a value.

use std::collections::HashSet;

use super::db::{ToParam, value_rows};

use super::db::Dialect;

/// What a shared file is, which says where a data folder keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A message as it came (`<data_dir>/originals`).
    Original,
    /// A document (`<data_dir>/documents`).
    Document,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Original => "original",
            FileKind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<FileKind> {
        match s {
            "original" => Some(FileKind::Original),
            "document" => Some(FileKind::Document),
            _ => None,
        }
    }
}
use super::{Result, Store, now};
use crate::args;

/// Files written by one multi-row insert, at most; fewer once their bytes
/// pass [`SHARE_CHUNK_BYTES`].
const SHARE_CHUNK_ROWS: usize = 16;
const SHARE_CHUNK_BYTES: usize = 16 << 20;

impl Store {
    /// Whether other nodes read this store (it is in PostgreSQL): files
    /// are then shared through it.
    pub fn is_shared(&self) -> bool {
        self.db.dialect() == Dialect::Postgres
    }

    /// Keeps `bytes` under their content hash for every node (nothing to do
    /// when it is kept already, or on SQLite).
    pub fn share_file(&self, hash: &str, kind: FileKind, bytes: &[u8]) -> Result<()> {
        self.share_files(&[(hash, kind, bytes)])
    }

    /// Keeps files (hash, kind, bytes) for every node, in one transaction:
    /// one commit to wait for, whatever their number. It takes no writers'
    /// lock: a file is inserted by its hash or left as it is, so writers
    /// need no order among themselves. Nothing to do on SQLite.
    pub fn share_files(&self, files: &[(&str, FileKind, &[u8])]) -> Result<()> {
        let files: Vec<&(&str, FileKind, &[u8])> = files.iter().filter(|f| !f.0.is_empty()).collect();
        if !self.is_shared() || files.is_empty() {
            return Ok(());
        }
        let ts = now();
        let tx = self.db.begin_unlocked()?;
        let mut rest = files.as_slice();
        while !rest.is_empty() {
            // At least one file, then as many as fit.
            let mut n = 1;
            let mut bytes = rest[0].2.len();
            while let Some(f) = rest.get(n) {
                if n >= SHARE_CHUNK_ROWS || bytes + f.2.len() > SHARE_CHUNK_BYTES {
                    break;
                }
                bytes += f.2.len();
                n += 1;
            }
            let (chunk, later) = rest.split_at(n);
            let rows: Vec<(&str, &str, &[u8], i64)> =
                chunk.iter().map(|f| (f.0, f.1.as_str(), f.2, i64::try_from(f.2.len()).unwrap_or(i64::MAX))).collect();
            let mut values: Vec<&dyn ToParam> = Vec::with_capacity(rows.len() * 5);
            for (hash, kind, data, size) in &rows {
                values.extend([hash as &dyn ToParam, kind, data, size, &ts]);
            }
            let sql = format!(
                "INSERT INTO files (hash, kind, bytes, size, created_at) VALUES {} ON CONFLICT (hash) DO NOTHING",
                value_rows(1, rows.len(), 5)
            );
            tx.execute(&sql, &values)?;
            rest = later;
        }
        tx.commit()?;
        Ok(())
    }

    /// Which of `hashes` are shared already, asked in a query per 64
    /// (none on SQLite).
    pub fn shared_among(&self, hashes: &[&str]) -> Result<HashSet<String>> {
        if !self.is_shared() {
            return Ok(HashSet::new());
        }
        super::found_among(&self.db, "SELECT hash FROM files WHERE hash IN {}", &[], hashes)
    }

    /// The bytes shared under `hash`; `None` when none are (always on SQLite).
    pub fn shared_file(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        if !self.is_shared() {
            return Ok(None);
        }
        Ok(self.db.value("SELECT bytes FROM files WHERE hash = ?1", args![hash])?)
    }

    /// Forgets the shared file `hash` (the person it held was erased).
    pub fn unshare_file(&self, hash: &str) -> Result<()> {
        if self.is_shared() {
            self.db.execute("DELETE FROM files WHERE hash = ?1", args![hash])?;
        }
        Ok(())
    }
}
