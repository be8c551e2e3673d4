//! Maildir (and Maildir++) folders: every folder below the root that has
//! `cur/` or `new/` is a mailbox. A message's identity is its mailbox and
//! the unique part of its file name (before the `:2,` flags), so a flag
//! change or a move from `new/` to `cur/` is not a new message.
//!
//! Watching: `notify` reports changes below the root; a burst of events
//! becomes one pass over what they named. A new or renamed file is looked
//! at alone; a file that went away rescans its mailbox (to tell a delete
//! from a move); anything else (a new folder, an overflow) rescans the
//! tree. Rescans are cheap: only files whose key the store does not know
//! yet are read and parsed.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::watch::{Changes, FolderWatch};
use super::{BATCH, BoxFuture, MAX_MESSAGE_BYTES, Source, SourceError, SyncContext};
use crate::mail::{ParseHints, parse, parse_captured};
use crate::pipeline::{Batch, BatchSender, Counts};
use crate::store::SourceKey;

/// A Maildir tree as a source.
pub struct MaildirSource {
    name: String,
    root: PathBuf,
    /// The store's source id: `maildir:<canonical root>`.
    source_id: String,
    /// Keys stored or already judged (blocked, unreadable) in this run.
    known: Option<HashSet<String>>,
    watcher: Option<FolderWatch>,
    /// What the watcher reported since the last pass (none: the whole tree).
    pending: Option<Changes>,
    /// A capture mailbox: forwards are unwrapped (`mail::parse_captured`).
    capture: bool,
}

/// One message file found by a scan. A million of them are listed at
/// once: the key and the path are built from the mailbox when needed, not
/// kept (about 90 bytes a file instead of 220).
struct Found {
    /// Index into the pass's mailboxes.
    mailbox: usize,
    /// In `new/` rather than `cur/`.
    new: bool,
    /// The file name, flags included (lossy when it is not UTF-8).
    name: Box<str>,
    /// The real name when it is not UTF-8 (rare, but it must open).
    raw: Option<Box<std::ffi::OsStr>>,
}

impl Found {
    /// A file of `mailbox` named `os_name`, in `new/` or `cur/`.
    fn new(mailbox: usize, new: bool, os_name: &std::ffi::OsStr) -> Found {
        match os_name.to_str() {
            Some(name) => Found { mailbox, new, name: name.into(), raw: None },
            None => Found {
                mailbox,
                new,
                name: os_name.to_string_lossy().into(),
                raw: Some(os_name.to_os_string().into_boxed_os_str()),
            },
        }
    }

    fn unique(&self) -> &str {
        unique_part(&self.name)
    }

    /// The store's key: `{mailbox}/{unique part}`.
    fn key(&self, boxes: &[(String, PathBuf)]) -> String {
        let mut key = String::new();
        self.write_key(boxes, &mut key);
        key
    }

    fn write_key(&self, boxes: &[(String, PathBuf)], out: &mut String) {
        out.clear();
        if let Some((rel, _)) = boxes.get(self.mailbox) {
            out.push_str(rel);
        }
        out.push('/');
        out.push_str(self.unique());
    }

    fn path(&self, boxes: &[(String, PathBuf)]) -> PathBuf {
        let dir = boxes.get(self.mailbox).map(|(_, d)| d.as_path()).unwrap_or(Path::new(""));
        let sub = dir.join(if self.new { "new" } else { "cur" });
        match &self.raw {
            Some(raw) => sub.join(&**raw),
            None => sub.join(&*self.name),
        }
    }
}

/// A Maildir file name without its flags (`1.a.host:2,S` → `1.a.host`).
fn unique_part(name: &str) -> &str {
    name.split([':', '!']).next().unwrap_or(name)
}

impl MaildirSource {
    /// A Maildir source from its `[[maildir]]` section.
    pub fn from_config(c: &crate::config::MaildirConfig) -> MaildirSource {
        MaildirSource { capture: c.capture, ..MaildirSource::new(c.name.clone(), c.path.clone()) }
    }

    pub fn new(name: impl Into<String>, root: impl Into<PathBuf>) -> MaildirSource {
        let root = root.into();
        let canonical = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        MaildirSource {
            name: name.into(),
            source_id: format!("maildir:{}", canonical.display()),
            root,
            known: None,
            watcher: None,
            pending: None,
            capture: false,
        }
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> SourceError {
        SourceError::Unavailable {
            what: format!("Maildir {} ({})", self.name, self.root.display()),
            reason: reason.to_string(),
        }
    }

    fn sync_blocking(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        let changes = self.pending.take().filter(|c| !c.rescan);
        let result = self.pass(ctx, changes.as_ref());
        if result.is_err() {
            // What the failed pass counted as known may not be stored: the
            // next pass asks the store again, so nothing is skipped.
            self.known = None;
        }
        result
    }

    /// One pass: over the whole tree, or over what `changes` named.
    fn pass(&mut self, ctx: &SyncContext, changes: Option<&Changes>) -> Result<Counts, SourceError> {
        if !self.root.is_dir() {
            return Err(self.unavailable("it is not a folder (check the path in the config)"));
        }
        let mut counts = Counts::default();
        let boxes = mailboxes(&self.root);
        let (to_list, mut found) = match changes.map(|c| scope(&boxes, c)) {
            Some(Scope::Some { mailboxes, files }) => (mailboxes, files),
            Some(Scope::All) | None => ((0..boxes.len()).collect(), Vec::new()),
        };
        // Listed mailbox → its index in `boxes`.
        let mut listed: HashMap<&str, usize> = HashMap::new();
        for (i, (rel, dir)) in boxes.iter().enumerate() {
            if !to_list.contains(&i) {
                continue;
            }
            match list_mailbox(i, dir, &mut found) {
                Ok(()) => {
                    listed.insert(rel, i);
                }
                Err(e) => {
                    tracing::warn!(source = %self.name, "cannot list {}: {e}; its messages are kept as they are", dir.display());
                    counts.skip(format!("unreadable folder {}", dir.display()));
                }
            }
        }
        let known = match &mut self.known {
            Some(k) => k,
            None => {
                let k = ctx.pipeline.known_keys_blocking(&self.source_id)?;
                self.known.insert(k)
            }
        };
        let gone: Vec<SourceKey> = if known.is_empty() {
            Vec::new()
        } else {
            let present: HashSet<(usize, &str)> = found.iter().map(|f| (f.mailbox, f.unique())).collect();
            known
                .iter()
                .filter(|k| {
                    let (mailbox, unique) = k.rsplit_once('/').unwrap_or(("", k));
                    listed.get(mailbox).is_some_and(|i| !present.contains(&(*i, unique)))
                })
                .map(|k| SourceKey { source: self.source_id.clone(), key: k.clone() })
                .collect()
        };
        for g in &gone {
            known.remove(&g.key);
        }
        let mut key = String::new();
        let todo: Vec<Found> = found
            .into_iter()
            .filter(|f| {
                f.write_key(&boxes, &mut key);
                !known.contains(&key)
            })
            .collect();
        ctx.progress.set_length(todo.len() as u64);
        let mut batch = Batch { source: self.source_id.clone(), gone, ..Batch::default() };
        let mut sender = BatchSender::new(ctx.pipeline.clone());
        for f in todo {
            if ctx.stopping() {
                // Not read yet: the next pass reads it.
                continue;
            }
            ctx.progress.inc(1);
            let key = f.key(&boxes);
            if !known.insert(key.clone()) {
                // The same message under two names (a move caught half way).
                continue;
            }
            let path = f.path(&boxes);
            match read_message(&path) {
                Ok((bytes, mtime)) => match super::guarded(|| {
                    let hints = ParseHints { file_time: mtime };
                    if self.capture { parse_captured(&bytes, &hints) } else { parse(&bytes, &hints) }
                }) {
                    Ok(mut item) => {
                        // The message file itself is the original (a capture
                        // mailbox keeps the forwarded message instead).
                        if item.original.as_deref() == Some(bytes.as_slice()) {
                            item.original_file = Some(path);
                        }
                        batch.items.push((item, SourceKey { source: self.source_id.clone(), key }))
                    }
                    Err(e) => {
                        tracing::warn!(source = %self.name, "cannot parse {}: {e}", path.display());
                        counts.skip(e.to_string());
                    }
                },
                Err(reason) => {
                    tracing::warn!(source = %self.name, "cannot read {}: {reason}", path.display());
                    counts.skip(reason);
                }
            }
            if batch.items.len() >= BATCH {
                let full = std::mem::replace(&mut batch, Batch { source: self.source_id.clone(), ..Batch::default() });
                sender.send(full)?;
            }
        }
        if !batch.items.is_empty() || !batch.gone.is_empty() {
            sender.send(batch)?;
        }
        counts.add(&sender.finish()?);
        Ok(counts)
    }
}

impl Source for MaildirSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn sync<'a>(&'a mut self, ctx: &'a SyncContext) -> BoxFuture<'a, Result<Counts, SourceError>> {
        super::in_place(move || self.sync_blocking(ctx))
    }

    fn changed(&mut self) -> BoxFuture<'_, Result<(), SourceError>> {
        Box::pin(async move {
            let Some(watch) = self.watcher.as_mut() else {
                let w = FolderWatch::new(&self.root, in_tmp)
                    .map_err(|e| self.unavailable(format!("cannot watch it: {e}")))?;
                self.watcher = Some(w);
                // Anything that arrived between the last sync and now.
                return Ok(());
            };
            let Some(changes) = watch.changed(None, Duration::from_millis(200)).await else {
                self.watcher = None;
                return Err(self.unavailable("the watcher stopped"));
            };
            match &mut self.pending {
                Some(p) => p.merge(changes),
                None => self.pending = Some(changes),
            }
            Ok(())
        })
    }
}

fn in_tmp(p: &Path) -> bool {
    p.parent().and_then(|d| d.file_name()).is_some_and(|n| n == "tmp")
}

/// What a pass over reported changes looks at.
enum Scope {
    /// The whole tree.
    All,
    /// These mailboxes whole (by index), and these files alone.
    Some { mailboxes: HashSet<usize>, files: Vec<Found> },
}

/// Turns the paths the watcher named into what to look at: a message file
/// that is there is read alone; one that went away (deleted, or renamed
/// without the new name among the paths) lists its mailbox, so that a
/// delete is told from a move; any other path lists the whole tree.
fn scope(boxes: &[(String, PathBuf)], changes: &Changes) -> Scope {
    let by_dir: HashMap<&Path, usize> = boxes.iter().enumerate().map(|(i, (_, d))| (d.as_path(), i)).collect();
    let mut mailboxes = HashSet::new();
    let mut files = Vec::new();
    let mut gone: Vec<(usize, String)> = Vec::new();
    for path in &changes.paths {
        let sub = path.parent();
        let new = match sub.and_then(|d| d.file_name()).and_then(|n| n.to_str()) {
            Some("new") => true,
            Some("cur") => false,
            _ => return Scope::All,
        };
        let Some(mailbox) = sub.and_then(|d| d.parent()).and_then(|d| by_dir.get(d)).copied() else {
            return Scope::All;
        };
        let Some(os_name) = path.file_name() else { return Scope::All };
        let found = Found::new(mailbox, new, os_name);
        if found.name.starts_with('.') {
            continue;
        }
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            files.push(found);
        } else if path.is_dir() {
            return Scope::All;
        } else {
            gone.push((mailbox, found.unique().to_string()));
        }
    }
    for (mailbox, unique) in gone {
        if !files.iter().any(|f| f.mailbox == mailbox && f.unique() == unique) {
            mailboxes.insert(mailbox);
        }
    }
    files.retain(|f| !mailboxes.contains(&f.mailbox));
    Scope::Some { mailboxes, files }
}

/// Every mailbox below the root: `(relative name, folder)`. The root's own
/// mailbox is `INBOX`; Maildir++ subfolders keep their dotted names.
pub fn mailboxes(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), root.to_path_buf(), 0usize)];
    while let Some((rel, dir, depth)) = stack.pop() {
        if dir.join("cur").is_dir() || dir.join("new").is_dir() {
            out.push((if rel.is_empty() { "INBOX".to_string() } else { rel.clone() }, dir.clone()));
        }
        if depth >= 12 {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if matches!(name.as_str(), "cur" | "new" | "tmp") {
                continue;
            }
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
                stack.push((child, e.path(), depth + 1));
            }
        }
    }
    out.sort();
    out
}

/// Appends the message files of mailbox `mailbox` (in `dir`) to `out`.
/// On an error, what was appended stays; the caller keeps the mailbox out
/// of the deletions.
fn list_mailbox(mailbox: usize, dir: &Path, out: &mut Vec<Found>) -> std::io::Result<()> {
    for sub in ["cur", "new"] {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let found = Found::new(mailbox, sub == "new", &e.file_name());
            if found.name.starts_with('.') || !e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                continue;
            }
            out.push(found);
        }
    }
    Ok(())
}

fn read_message(path: &Path) -> Result<(Vec<u8>, Option<DateTime<Utc>>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if meta.len() > MAX_MESSAGE_BYTES {
        return Err(format!("larger than {} MB", MAX_MESSAGE_BYTES >> 20));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    Ok((bytes, meta.modified().ok().map(|t: SystemTime| DateTime::<Utc>::from(t))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mailboxes_and_keys_without_flags() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["cur", "new", "tmp", ".Sent/cur", ".Sent/new", "Archive/2025/cur"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("cur/1.a.host:2,S"), "x").unwrap();
        std::fs::write(dir.path().join("new/2.b.host"), "x").unwrap();
        std::fs::write(dir.path().join(".Sent/cur/3.c.host:2,RS"), "x").unwrap();
        std::fs::write(dir.path().join("cur/.hidden"), "x").unwrap();
        let boxes = mailboxes(dir.path());
        let names: Vec<&str> = boxes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec![".Sent", "Archive/2025", "INBOX"]);
        let mut found = Vec::new();
        for (i, (_, d)) in boxes.iter().enumerate() {
            list_mailbox(i, d, &mut found).unwrap();
        }
        let mut keys: Vec<String> = found.iter().map(|f| f.key(&boxes)).collect();
        keys.sort();
        assert_eq!(keys, vec![".Sent/3.c.host", "INBOX/1.a.host", "INBOX/2.b.host"]);
        let paths: HashSet<PathBuf> = found.iter().map(|f| f.path(&boxes)).collect();
        assert!(paths.contains(&dir.path().join("new/2.b.host")));
        assert!(paths.contains(&dir.path().join(".Sent/cur/3.c.host:2,RS")));
        assert_eq!(unique_part("3.c.host:2,RS"), "3.c.host");
    }

    #[test]
    fn changes_are_scoped_to_files_then_mailboxes_then_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["cur", "new", ".Sent/cur", ".Sent/new"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("new/1.a.host"), "x").unwrap();
        std::fs::write(root.join(".Sent/cur/2.b.host:2,RS"), "x").unwrap();
        let boxes = mailboxes(root);
        let sent = boxes.iter().position(|(n, _)| n == ".Sent").unwrap();
        let inbox = boxes.iter().position(|(n, _)| n == "INBOX").unwrap();
        let changes = |paths: &[&str]| Changes { rescan: false, paths: paths.iter().map(|p| root.join(p)).collect() };
        let files = |s: Scope| match s {
            Scope::Some { mailboxes, files } => {
                let mut f: Vec<(usize, String)> = files.iter().map(|f| (f.mailbox, f.name.to_string())).collect();
                f.sort();
                let mut m: Vec<usize> = mailboxes.into_iter().collect();
                m.sort();
                Some((m, f))
            }
            Scope::All => None,
        };
        // A delivered file is read alone.
        assert_eq!(files(scope(&boxes, &changes(&["new/1.a.host"]))), Some((vec![], vec![(inbox, "1.a.host".into())])));
        // A flag change (old and new name) is the new name alone.
        assert_eq!(
            files(scope(&boxes, &changes(&[".Sent/cur/2.b.host:2,S", ".Sent/cur/2.b.host:2,RS"]))),
            Some((vec![], vec![(sent, "2.b.host:2,RS".into())]))
        );
        // A file gone without its new name lists its mailbox.
        assert_eq!(files(scope(&boxes, &changes(&["cur/9.z.host:2,S", "new/1.a.host"]))), Some((vec![inbox], vec![])));
        // A new folder, or a path outside any mailbox, rescans the tree.
        std::fs::create_dir_all(root.join(".Archive/cur")).unwrap();
        assert_eq!(files(scope(&boxes, &changes(&[".Archive/cur"]))), None);
        assert_eq!(files(scope(&boxes, &changes(&["notes.txt"]))), None);
    }
}
