//! A consistent copy of the database while other processes write it, for
//! backups (`crate::backup`), and the checks a copy gets before it is
//! trusted.
//!
//! The copy is SQLite's online backup API in a single step: one read
//! transaction, so in WAL mode it is one snapshot and the daemon's writer
//! never waits for it. (Copying a few pages per step would start over
//! each time the daemon commits in between, which a busy daemon does
//! every second.)

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

#[cfg(test)]
use super::schema;
use super::{Result, StoreError};

/// What a copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub schema: i64,
    pub items: i64,
    pub bytes: u64,
}

/// Copies the database at `db` into the new file `dest` (its folder must
/// exist; a file already there is refused), then checks the copy.
pub fn snapshot(db: &Path, dest: &Path) -> Result<SnapshotInfo> {
    let open_err =
        |path: &Path, e: rusqlite::Error| StoreError::Open { path: path.display().to_string(), message: e.to_string() };
    if dest.exists() {
        return Err(StoreError::Invalid(format!("{} exists already; a backup is never written over", dest.display())));
    }
    if !db.is_file() {
        return Err(StoreError::Open { path: db.display().to_string(), message: "there is no database".into() });
    }
    let src = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| open_err(db, e))?;
    src.busy_timeout(super::BUSY_TIMEOUT)?;
    let mut dst = Connection::open(dest).map_err(|e| open_err(dest, e))?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        // A writer's checkpoint can hold the lock for a moment: retry a
        // few times, never forever.
        let mut waits = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if waits < 100 => {
                    waits += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(StoreError::Conflict(format!(
                        "cannot copy {}: it stayed locked for 10 s; try again",
                        db.display()
                    )));
                }
                _ => {}
            }
        }
    }
    // The copy stands alone: no WAL beside it.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    drop(dst);
    let info = check(dest)?;
    Ok(info)
}

/// Opens a copy read-only and checks it: SQLite's `quick_check`, a schema
/// this kronika can read (an older one is migrated when the copy is
/// opened as a store), and the item count.
pub fn check(copy: &Path) -> Result<SnapshotInfo> {
    let conn = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| StoreError::Open { path: copy.display().to_string(), message: e.to_string() })?;
    let ok: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(StoreError::Invalid(format!("{} is damaged: {ok}", copy.display())));
    }
    let schema: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    super::refuse_newer(&copy.display().to_string(), schema)?;
    let items: i64 = if schema == 0 { 0 } else { conn.query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))? };
    let bytes = std::fs::metadata(copy).map(|m| m.len()).unwrap_or(0);
    Ok(SnapshotInfo { schema, items, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_while_a_writer_holds_a_transaction_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kronika.sqlite3");
        let store = crate::store::Store::open(&db, crate::store::Policy::default()).unwrap();
        drop(store);
        // Another connection in the middle of a write transaction.
        let writer = Connection::open(&db).unwrap();
        writer.execute_batch("BEGIN IMMEDIATE; INSERT INTO meta(key, value) VALUES ('x', 'y');").unwrap();
        let dest = dir.path().join("copy.sqlite3");
        let info = snapshot(&db, &dest).unwrap();
        assert_eq!(info.schema, schema::MIGRATIONS.len() as i64);
        assert_eq!(info.items, 0);
        // The uncommitted row is not in the copy.
        let copy = Connection::open(&dest).unwrap();
        let n: i64 = copy.query_row("SELECT COUNT(*) FROM meta WHERE key = 'x'", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
        writer.execute_batch("COMMIT").unwrap();
        assert!(matches!(snapshot(&db, &dest), Err(StoreError::Invalid(_))));
        // A damaged copy is named.
        std::fs::write(dir.path().join("bad.sqlite3"), b"not a database at all, just words").unwrap();
        assert!(check(&dir.path().join("bad.sqlite3")).is_err());
    }
}
