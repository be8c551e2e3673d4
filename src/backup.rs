//! Backups of a data folder while the daemon runs, and restores into an
//! empty one.
//!
//! A backup is a folder:
//! - `kronika.sqlite3`: one consistent snapshot of the database
//!   (`store::snapshot`), which holds every item, link, deal, user and
//!   each source's cursor, so that sources resume where the snapshot was;
//! - `documents/` and `originals/`: the kept files, named by content hash,
//!   copied after the snapshot, so every file the snapshot names is there
//!   (the pipeline writes a file before the transaction that names it);
//! - `oauth/` and `feed-token`: the sign-ins and the reminder feed's token;
//! - `kronika-backup.json`: what it holds (written last).
//!
//! The search index is left out: it is derived, and rebuilt from the store.
//! A backup is written under `NAME.partial` and renamed when complete, so a
//! backup cut short never looks like one. Scheduled backups (`[backup]`)
//! hard-link the files the previous backup already holds: a daily backup
//! costs the database and the new files.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::store::{self, StoreError};

/// The manifest's name in a backup folder.
pub const MANIFEST: &str = "kronika-backup.json";
const DB: &str = "kronika.sqlite3";
/// Folders of kept files, by content hash.
const FILE_DIRS: &[&str] = &["documents", "originals"];
/// Folders and files of state that sources need to resume.
const STATE_DIRS: &[&str] = &["oauth"];
const STATE_FILES: &[&str] = &["feed-token"];
/// The manifest format this kronika writes and reads.
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot back up into {0}: it exists and is not empty (choose a new folder)")]
    Exists(PathBuf),
    #[error(
        "cannot restore into {0}: the data folder is not empty (restore into a new data_dir, or move this one away)"
    )]
    NotEmpty(PathBuf),
    #[error("cannot restore from {path}: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("cannot {what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// What a backup holds (`kronika-backup.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub kronika: String,
    pub created_at: DateTime<Utc>,
    pub schema: i64,
    pub items: i64,
    pub database_bytes: u64,
    /// Files copied or linked, and their bytes (documents, originals, state).
    pub files: u64,
    pub file_bytes: u64,
    /// Of those, hard links to the previous backup's copies.
    pub linked: u64,
}

/// Backs up the data folder of `config` into `dest` (a new or empty
/// folder). `previous`: a backup whose files may be hard-linked.
pub fn backup(config: &Config, dest: &Path, previous: Option<&Path>) -> Result<Manifest, BackupError> {
    if dest.exists() && std::fs::read_dir(dest).map_err(io(format!("read {}", dest.display())))?.next().is_some() {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    let partial = partial_path(dest);
    if partial.exists() {
        // Left by a backup that was cut short.
        std::fs::remove_dir_all(&partial).map_err(io(format!("remove {}", partial.display())))?;
    }
    create_private_dir(&partial)?;
    let result = write_backup(config, &partial, previous);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
        return result;
    }
    if dest.exists() {
        std::fs::remove_dir(dest).map_err(io(format!("replace the empty folder {}", dest.display())))?;
    }
    std::fs::rename(&partial, dest).map_err(io(format!("rename {} to {}", partial.display(), dest.display())))?;
    result
}

fn write_backup(config: &Config, to: &Path, previous: Option<&Path>) -> Result<Manifest, BackupError> {
    let created_at = Utc::now();
    let snap = store::snapshot::snapshot(&config.db_path(), &to.join(DB))?;
    let copied = copy_files(&config.data_dir, to, previous)?;
    let manifest = Manifest {
        format: FORMAT,
        kronika: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        schema: snap.schema,
        items: snap.items,
        database_bytes: snap.bytes,
        files: copied.files,
        file_bytes: copied.bytes,
        linked: copied.linked,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| io("write the manifest")(e.into()))?;
    std::fs::write(to.join(MANIFEST), json).map_err(io(format!("write {}", to.join(MANIFEST).display())))?;
    sync_dir(to);
    Ok(manifest)
}

/// Reads and checks a backup's manifest.
pub fn read_manifest(backup: &Path) -> Result<Manifest, BackupError> {
    let not = |reason: String| BackupError::NotABackup { path: backup.to_path_buf(), reason };
    let path = backup.join(MANIFEST);
    let text = std::fs::read(&path)
        .map_err(|e| not(format!("cannot read {MANIFEST} ({e}); is it a folder made by `kronika backup`?")))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| not(format!("{MANIFEST} is not one kronika wrote: {e}")))?;
    if manifest.format > FORMAT {
        return Err(not(format!(
            "it was written by kronika {} in backup format {}; this kronika reads format {FORMAT}: upgrade kronika",
            manifest.kronika, manifest.format
        )));
    }
    Ok(manifest)
}

/// Restores `from` into the (empty) data folder of `config`. The database
/// is put in place last: a restore cut short leaves no store that looks
/// whole. An older schema is migrated when the store is next opened; the
/// index is rebuilt then too.
pub fn restore(config: &Config, from: &Path) -> Result<Manifest, BackupError> {
    let manifest = read_manifest(from)?;
    let not = |reason: String| BackupError::NotABackup { path: from.to_path_buf(), reason };
    let info = store::snapshot::check(&from.join(DB)).map_err(|e| not(e.to_string()))?;
    if info.items != manifest.items || info.schema != manifest.schema {
        return Err(not(format!(
            "its database holds {} items at schema {}, its manifest says {} at {}",
            info.items, info.schema, manifest.items, manifest.schema
        )));
    }
    let data = &config.data_dir;
    if !data_dir_is_empty(data)? {
        return Err(BackupError::NotEmpty(data.clone()));
    }
    create_private_dir(data)?;
    let copied = copy_files(from, data, None)?;
    if copied.files != manifest.files {
        return Err(not(format!("it holds {} files, its manifest says {}", copied.files, manifest.files)));
    }
    let staged = data.join(format!("{DB}.restoring"));
    std::fs::copy(from.join(DB), &staged).map_err(io(format!("copy the database into {}", data.display())))?;
    std::fs::rename(&staged, config.db_path()).map_err(io(format!("put the database in {}", data.display())))?;
    // An index left from before would be ahead of the store or of another one.
    let index = config.index_path();
    if index.exists() {
        std::fs::remove_dir_all(&index).map_err(io(format!("remove the old index {}", index.display())))?;
    }
    sync_dir(data);
    Ok(manifest)
}

/// Empty: missing, or holding nothing but an index, a pid file or the
/// reminder feed (all derived).
fn data_dir_is_empty(data: &Path) -> Result<bool, BackupError> {
    let entries = match std::fs::read_dir(data) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(io(format!("read {}", data.display()))(e)),
    };
    for e in entries {
        let e = e.map_err(io(format!("read {}", data.display())))?;
        let name = e.file_name();
        let derived = matches!(name.to_str(), Some("index" | "kronika.pid" | "kronika-reminders.ics"));
        let empty_dir = e.path().is_dir() && std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_none());
        if !derived && !empty_dir {
            return Ok(false);
        }
    }
    Ok(true)
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "backup".into());
    name.push(".partial");
    dest.with_file_name(name)
}

/// A folder only its owner reads: backups hold sign-ins and all the mail.
fn create_private_dir(dir: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io(format!("create {}", dir.display())))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[derive(Default)]
struct Copied {
    files: u64,
    bytes: u64,
    linked: u64,
}

/// Copies the kept files and the sources' state from the data folder or
/// backup `from` into `to` (linking `previous`'s copies where it can).
fn copy_files(from: &Path, to: &Path, previous: Option<&Path>) -> Result<Copied, BackupError> {
    let mut copied = Copied::default();
    for dir in FILE_DIRS.iter().chain(STATE_DIRS) {
        copy_tree(&from.join(dir), &to.join(dir), previous.map(|p| p.join(dir)).as_deref(), &mut copied)?;
    }
    for file in STATE_FILES {
        if from.join(file).is_file() {
            copy_file(&from.join(file), &to.join(file), None, &mut copied)?;
        }
    }
    Ok(copied)
}

/// Copies every regular file below `from` to the same place below `to`;
/// a missing `from` is an empty tree. Symbolic links are not followed.
fn copy_tree(from: &Path, to: &Path, previous: Option<&Path>, copied: &mut Copied) -> Result<(), BackupError> {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = from.join(&rel);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(format!("read {}", dir.display()))(e)),
        };
        std::fs::create_dir_all(to.join(&rel)).map_err(io(format!("create {}", to.join(&rel).display())))?;
        for e in entries {
            let e = e.map_err(io(format!("read {}", dir.display())))?;
            let kind = e.file_type().map_err(io(format!("read {}", e.path().display())))?;
            let child = rel.join(e.file_name());
            if kind.is_dir() {
                stack.push(child);
            } else if kind.is_file() {
                copy_file(&e.path(), &to.join(&child), previous.map(|p| p.join(&child)).as_deref(), copied)?;
            }
        }
    }
    Ok(())
}

/// Copies one file, or hard-links the previous backup's copy of it when it
/// has the same length (kept files are named by their content).
fn copy_file(from: &Path, to: &Path, previous: Option<&Path>, copied: &mut Copied) -> Result<(), BackupError> {
    let len = std::fs::metadata(from).map_err(io(format!("read {}", from.display())))?.len();
    copied.files += 1;
    copied.bytes += len;
    if let Some(prev) = previous
        && std::fs::metadata(prev).is_ok_and(|m| m.is_file() && m.len() == len)
        && std::fs::hard_link(prev, to).is_ok()
    {
        copied.linked += 1;
        return Ok(());
    }
    std::fs::copy(from, to).map_err(io(format!("copy {} to {}", from.display(), to.display())))?;
    Ok(())
}

/// Scheduled backups in one folder: `kronika-YYYYMMDDTHHMMSSZ`, newest
/// last, complete ones only.
pub fn list(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(DateTime<Utc>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let stamp = name.strip_prefix("kronika-")?;
            let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?.and_utc();
            e.path().join(MANIFEST).is_file().then(|| (t, e.path()))
        })
        .collect();
    out.sort();
    out
}

/// The folder name of a scheduled backup taken at `t`.
pub fn scheduled_name(t: DateTime<Utc>) -> String {
    format!("kronika-{}", t.format("%Y%m%dT%H%M%SZ"))
}

/// When the next scheduled backup is due: now when there is none yet.
pub fn next_due(dir: &Path, every: std::time::Duration) -> DateTime<Utc> {
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::days(1));
    match list(dir).last() {
        Some((t, _)) => t.checked_add_signed(every).unwrap_or(*t),
        None => Utc::now(),
    }
}

/// Takes a scheduled backup into `dir`, linking the previous one's files,
/// then keeps the newest `keep` and removes what was cut short.
pub fn scheduled(config: &Config, dir: &Path, keep: usize) -> Result<(PathBuf, Manifest), BackupError> {
    create_private_dir(dir)?;
    let before = list(dir);
    let dest = dir.join(scheduled_name(Utc::now()));
    let manifest = backup(config, &dest, before.last().map(|(_, p)| p.as_path()))?;
    prune(dir, keep);
    Ok((dest, manifest))
}

fn prune(dir: &Path, keep: usize) {
    let all = list(dir);
    let surplus = all.len().saturating_sub(keep.max(1));
    for (_, path) in all.into_iter().take(surplus) {
        if let Err(e) = std::fs::remove_dir_all(&path) {
            tracing::warn!("cannot remove the old backup {}: {e}", path.display());
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_str().is_some_and(|n| n.starts_with("kronika-") && n.ends_with(".partial")) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_names_sort_and_parse_back() {
        let t = DateTime::parse_from_rfc3339("2026-12-03T02:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(scheduled_name(t), "kronika-20261203T023000Z");
        let dir = tempfile::tempdir().unwrap();
        for n in ["kronika-20261203T023000Z", "kronika-20261201T023000Z", "kronika-20261202T023000Z"] {
            std::fs::create_dir_all(dir.path().join(n)).unwrap();
            std::fs::write(dir.path().join(n).join(MANIFEST), "{}").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("kronika-20261204T023000Z.partial")).unwrap();
        std::fs::create_dir_all(dir.path().join("kronika-20261205T023000Z")).unwrap(); // no manifest
        std::fs::create_dir_all(dir.path().join("other")).unwrap();
        let names: Vec<String> =
            list(dir.path()).iter().map(|(_, p)| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["kronika-20261201T023000Z", "kronika-20261202T023000Z", "kronika-20261203T023000Z"]);
        assert_eq!(next_due(dir.path(), std::time::Duration::from_secs(86_400)), t + chrono::Duration::days(1));
        prune(dir.path(), 2);
        assert_eq!(list(dir.path()).len(), 2);
        assert!(!dir.path().join("kronika-20261201T023000Z").exists());
        assert!(!dir.path().join("kronika-20261204T023000Z.partial").exists());
        assert!(dir.path().join("other").exists());
    }

    #[test]
    fn a_folder_without_a_manifest_is_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(e.starts_with("cannot restore from") && e.contains("kronika backup"), "{e}");
        std::fs::write(dir.path().join(MANIFEST), r#"{"format": 9}"#).unwrap();
        assert!(read_manifest(dir.path()).is_err());
    }
}
