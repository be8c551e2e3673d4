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

impl Store {
    /// Whether other nodes read this store (it is in PostgreSQL): files
    /// are then shared through it.
    pub fn is_shared(&self) -> bool {
        self.db.dialect() == Dialect::Postgres
    }

    /// Keeps `bytes` under their content hash for every node (nothing to do
    /// when it is kept already, or on SQLite).
    pub fn share_file(&self, hash: &str, kind: FileKind, bytes: &[u8]) -> Result<()> {
        if !self.is_shared() || hash.is_empty() {
            return Ok(());
        }
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        self.db.execute(
            "INSERT INTO files (hash, kind, bytes, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (hash) DO NOTHING",
            args![hash, kind.as_str(), bytes, size, now()],
        )?;
        Ok(())
    }

    /// Whether a file is shared under `hash`.
    pub fn has_shared_file(&self, hash: &str) -> Result<bool> {
        if !self.is_shared() {
            return Ok(false);
        }
        Ok(self.db.value::<i64>("SELECT 1 FROM files WHERE hash = ?1", args![hash])?.is_some())
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
