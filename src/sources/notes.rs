//! Folders of call and meeting notes. The file is the truth: a new file is
//! a new item, a changed file updates its item in place (same id), a
//! renamed file keeps its item (recognised by content), a deleted file
//! marks its item deleted. A folder that disappears deletes nothing: the
//! source reports it and retries.
//!
//! Each pass compares the folder with what the store holds for it, so
//! changes made while kronika was stopped are found at start.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::watch::FolderWatch;
use super::{BoxFuture, Source, SourceError, SyncContext};
use crate::model::ItemKind;
use crate::notes::{NoteFile, parse};
use crate::pipeline::{Batch, Counts};
use crate::store::SourceKey;

/// A file written less than this long ago may still be in progress; it is
/// read on the next pass.
const SETTLE: Duration = Duration::from_millis(300);

/// A notes folder as a source.
pub struct NotesSource {
    name: String,
    root: PathBuf,
    source_id: String,
    kind: ItemKind,
    patterns: Vec<String>,
    max_bytes: u64,
    /// Files read in this run: key → (modified, size), to skip unchanged files.
    seen: HashMap<String, (SystemTime, u64)>,
    /// Files still being written at the last pass: look again soon.
    retry_soon: bool,
    watcher: Option<FolderWatch>,
}

impl NotesSource {
    /// A notes source from its `[[notes]]` section.
    pub fn from_config(c: &crate::config::NotesConfig) -> NotesSource {
        NotesSource::new(&c.name, &c.path, c.kind, c.patterns.clone(), c.max_bytes)
    }

    pub fn new(name: &str, root: &Path, kind: ItemKind, patterns: Vec<String>, max_bytes: u64) -> NotesSource {
        let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        NotesSource {
            name: name.to_string(),
            source_id: format!("notes:{}", canonical.display()),
            root: root.to_path_buf(),
            kind,
            patterns,
            max_bytes,
            seen: HashMap::new(),
            retry_soon: false,
            watcher: None,
        }
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> SourceError {
        SourceError::Unavailable {
            what: format!("notes folder {} ({})", self.name, self.root.display()),
            reason: reason.to_string(),
        }
    }

    fn wanted(&self, file_name: &str) -> bool {
        if file_name.starts_with('.') || file_name.ends_with('~') || file_name.starts_with('#') {
            return false;
        }
        let lower = file_name.to_lowercase();
        if [".swp", ".swx", ".tmp", ".part", ".crdownload"].iter().any(|s| lower.ends_with(s)) {
            return false;
        }
        self.patterns.iter().any(|p| glob_match(&p.to_lowercase(), &lower))
    }

    /// Every note file below the root: (key, path, modified, size).
    fn scan(&self) -> std::io::Result<Vec<(String, PathBuf, SystemTime, u64)>> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root.clone(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if dir == self.root => return Err(e),
                Err(e) => {
                    tracing::warn!(source = %self.name, "cannot list {}: {e}", dir.display());
                    continue;
                }
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                let Ok(meta) = e.metadata() else { continue };
                if meta.is_dir() {
                    if !name.starts_with('.') && depth < 16 {
                        stack.push((e.path(), depth + 1));
                    }
                } else if meta.is_file() && self.wanted(&name) {
                    let path = e.path();
                    let key = path.strip_prefix(&self.root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                    out.push((key, path, meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len()));
                }
            }
        }
        Ok(out)
    }

    fn sync_blocking(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        let result = self.pass(ctx);
        if result.is_err() {
            // The failed pass may have marked files seen that were not
            // stored: the next pass reads every file again.
            self.seen.clear();
        }
        result
    }

    fn pass(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        if !self.root.is_dir() {
            return Err(self.unavailable("it does not exist or is not a folder; its notes stay in the history"));
        }
        let mut files = self.scan().map_err(|e| self.unavailable(e))?;
        // A file written a moment ago may still be in progress: give it the
        // settle time once, then read what is there.
        let fresh = |files: &[(String, PathBuf, SystemTime, u64)]| {
            let now = SystemTime::now();
            files.iter().any(|f| now.duration_since(f.2).unwrap_or_default() < SETTLE)
        };
        if fresh(&files) {
            std::thread::sleep(SETTLE);
            files = self.scan().map_err(|e| self.unavailable(e))?;
        }
        let known: HashMap<String, String> = ctx.pipeline.known_hashes_blocking(&self.source_id)?;
        let present: HashSet<&str> = files.iter().map(|f| f.0.as_str()).collect();
        let mut vanished: Vec<(&String, &String)> =
            known.iter().filter(|(k, _)| !present.contains(k.as_str())).collect();
        let mut counts = Counts::default();
        let mut batch = Batch { source: self.source_id.clone(), replace: true, ..Batch::default() };
        self.retry_soon = false;
        let now = SystemTime::now();
        for (key, path, modified, size) in &files {
            if self.seen.get(key) == Some(&(*modified, *size)) && known.contains_key(key) {
                continue;
            }
            if now.duration_since(*modified).unwrap_or_default() < SETTLE {
                // Still being written; the next pass reads it.
                self.retry_soon = true;
                continue;
            }
            if *size > self.max_bytes {
                tracing::warn!(source = %self.name, "skipping {}: larger than {} KB", path.display(), self.max_bytes / 1024);
                counts.skip(format!("larger than {} KB", self.max_bytes / 1024));
                counts.warn(format!("{key}: larger than {} KB, skipped", self.max_bytes / 1024));
                self.seen.insert(key.clone(), (*modified, *size));
                continue;
            }
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    // Gone between the scan and the read (an editor's rename): next pass.
                    tracing::debug!(source = %self.name, "cannot read {}: {e}", path.display());
                    self.retry_soon = true;
                    continue;
                }
            };
            let file =
                NoteFile { relative: key, modified: Some(DateTime::<Utc>::from(*modified)), default_kind: self.kind };
            match super::guarded(|| parse(&bytes, &file)) {
                Ok(note) => {
                    for w in note.warnings {
                        tracing::warn!(source = %self.name, "{key}: {w}");
                        counts.warn(format!("{key}: {w}"));
                    }
                    let hash = note.item.content_hash.clone();
                    if known.get(key) == Some(&hash) {
                        // Touched, not changed.
                    } else if !known.contains_key(key)
                        && let Some(pos) = vanished.iter().position(|(_, h)| **h == hash)
                    {
                        let (old, _) = vanished.remove(pos);
                        batch.renames.push((
                            SourceKey { source: self.source_id.clone(), key: old.clone() },
                            SourceKey { source: self.source_id.clone(), key: key.clone() },
                        ));
                    } else {
                        batch.items.push((note.item, SourceKey { source: self.source_id.clone(), key: key.clone() }));
                    }
                }
                Err(e) => {
                    tracing::warn!(source = %self.name, "skipping {}: {e}", path.display());
                    counts.skip(e.to_string());
                    counts.warn(format!("{key}: {e}"));
                }
            }
            self.seen.insert(key.clone(), (*modified, *size));
        }
        for (key, _) in vanished {
            self.seen.remove(key);
            batch.deleted.push(SourceKey { source: self.source_id.clone(), key: key.clone() });
        }
        ctx.progress.set_length(batch.items.len() as u64);
        if !batch.items.is_empty() || !batch.renames.is_empty() || !batch.deleted.is_empty() {
            let c = ctx.pipeline.ingest_blocking(batch)?;
            for w in &c.warnings {
                tracing::warn!(source = %self.name, "{w}");
            }
            counts.add(&c);
        }
        Ok(counts)
    }
}

impl Source for NotesSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn sync<'a>(&'a mut self, ctx: &'a SyncContext) -> BoxFuture<'a, Result<Counts, SourceError>> {
        super::in_place(move || self.sync_blocking(ctx))
    }

    fn changed(&mut self) -> BoxFuture<'_, Result<(), SourceError>> {
        Box::pin(async move {
            let retry = self.retry_soon.then_some(SETTLE + Duration::from_millis(50));
            let Some(watch) = self.watcher.as_mut() else {
                let w = FolderWatch::new(&self.root, |_| false)
                    .map_err(|e| self.unavailable(format!("cannot watch it: {e}")))?;
                self.watcher = Some(w);
                return Ok(());
            };
            // Note folders are small: any change rescans the folder.
            if watch.changed(retry, Duration::from_millis(150)).await.is_none() {
                self.watcher = None;
                return Err(self.unavailable("the watcher stopped"));
            }
            if !self.root.is_dir() {
                // The folder itself went away; the watch went with it.
                self.watcher = None;
            }
            Ok(())
        })
    }
}

/// `*.md` style patterns: `*` matches any run of characters, `?` one.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while let Some(&c) = n.get(ni) {
        let want = p.get(pi).copied();
        if want == Some('?') || want == Some(c) {
            pi += 1;
            ni += 1;
        } else if want == Some('*') {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.md", "2026-11-27-acme.md"));
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.md", "a.md.swp"));
        assert!(glob_match("call-??.md", "call-01.md"));
        assert!(glob_match("*", "anything"));
    }

    #[test]
    fn editor_files_are_not_notes() {
        let s = NotesSource::new("n", Path::new("/tmp"), ItemKind::Call, vec!["*.md".into()], 1 << 20);
        assert!(s.wanted("note.md"));
        assert!(!s.wanted(".note.md.swp"));
        assert!(!s.wanted("note.md~"));
        assert!(!s.wanted(".#note.md"));
        assert!(!s.wanted("note.txt"));
    }
}
