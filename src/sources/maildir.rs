//! Maildir (and Maildir++) folders: every folder below the root that has
//! `cur/` or `new/` is a mailbox. A message's identity is its mailbox and
//! the unique part of its file name (before the `:2,` flags), so a flag
//! change or a move from `new/` to `cur/` is not a new message.
//!
//! Watching: `notify` reports changes below the root; a burst of events
//! becomes one rescan. Rescans are cheap: only files whose key the store
//! does not know yet are read and parsed.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::watch::FolderWatch;
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
        let result = self.pass(ctx);
        if result.is_err() {
            // What the failed pass counted as known may not be stored: the
            // next pass asks the store again, so nothing is skipped.
            self.known = None;
        }
        result
    }

    fn pass(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        if !self.root.is_dir() {
            return Err(self.unavailable("it is not a folder (check the path in the config)"));
        }
        let mut counts = Counts::default();
        let boxes = mailboxes(&self.root);
        // Listed mailbox → its index in `boxes`.
        let mut listed: HashMap<&str, usize> = HashMap::new();
        let mut found = Vec::new();
        for (i, (rel, dir)) in boxes.iter().enumerate() {
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
            known.insert(key.clone());
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
            if !watch.changed(None, Duration::from_millis(200)).await {
                self.watcher = None;
                return Err(self.unavailable("the watcher stopped"));
            }
            Ok(())
        })
    }
}

fn in_tmp(p: &Path) -> bool {
    p.parent().and_then(|d| d.file_name()).is_some_and(|n| n == "tmp")
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
            let os_name = e.file_name();
            let (name, raw): (Box<str>, _) = match os_name.to_str() {
                Some(name) => (name.into(), None),
                None => (os_name.to_string_lossy().into(), Some(os_name.clone().into_boxed_os_str())),
            };
            if name.starts_with('.') || !e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                continue;
            }
            out.push(Found { mailbox, new: sub == "new", name, raw });
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
}
