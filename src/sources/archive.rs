//! One-shot archives: mbox files and single `.eml` files. Their identity
//! key is the SHA-256 of the message bytes, so importing the same archive
//! again (or an overlapping export) adds nothing.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{BATCH, BoxFuture, MAX_MESSAGE_BYTES, Source, SourceError, SyncContext, sha256_hex};
use crate::mail::{ParseHints, parse};
use crate::pipeline::{Batch, BatchSender, Counts};
use crate::store::SourceKey;

/// What kind of archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Mbox,
    Eml,
}

/// mbox files or eml files, read once.
pub struct ArchiveSource {
    name: String,
    kind: ArchiveKind,
    paths: Vec<PathBuf>,
}

impl ArchiveSource {
    pub fn new(kind: ArchiveKind, paths: Vec<PathBuf>) -> ArchiveSource {
        let name = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        ArchiveSource { name, kind, paths }
    }

    fn source_id(&self) -> &'static str {
        match self.kind {
            ArchiveKind::Mbox => "mbox",
            ArchiveKind::Eml => "eml",
        }
    }

    fn sync_blocking(&mut self, ctx: &SyncContext) -> Result<Counts, SourceError> {
        let mut feeder = Feeder::new(ctx, self.source_id());
        match self.kind {
            ArchiveKind::Eml => {
                ctx.progress.set_length(self.paths.len() as u64);
                for path in &self.paths {
                    ctx.progress.inc(1);
                    let read = std::fs::metadata(path).map_err(|e| e.to_string()).and_then(|m| {
                        if m.len() > MAX_MESSAGE_BYTES {
                            Err(format!("larger than {} MB", MAX_MESSAGE_BYTES >> 20))
                        } else {
                            std::fs::read(path)
                                .map(|b| (b, m.modified().ok().map(DateTime::<Utc>::from)))
                                .map_err(|e| e.to_string())
                        }
                    });
                    match read {
                        Ok((bytes, mtime)) => feeder.message(&path.display().to_string(), &bytes, mtime)?,
                        Err(e) => {
                            tracing::warn!("cannot read {}: {e}", path.display());
                            feeder.counts.skip(format!("cannot read the file: {e}"));
                        }
                    }
                }
            }
            ArchiveKind::Mbox => {
                for path in &self.paths {
                    let file = std::fs::File::open(path).map_err(|e| SourceError::Unavailable {
                        what: format!("mbox {}", path.display()),
                        reason: e.to_string(),
                    })?;
                    ctx.progress.set_length(file.metadata().map(|m| m.len()).unwrap_or(0));
                    ctx.progress.set_position(0);
                    split_mbox(BufReader::with_capacity(1 << 20, file), |offset, from_line, bytes| {
                        ctx.progress.set_position(offset);
                        let origin = format!("{} at byte {offset}", path.display());
                        feeder.message(&origin, bytes, from_line_date(from_line))
                    })?;
                }
            }
        }
        feeder.finish()
    }
}

impl Source for ArchiveSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn sync<'a>(&'a mut self, ctx: &'a SyncContext) -> BoxFuture<'a, Result<Counts, SourceError>> {
        super::in_place(move || self.sync_blocking(ctx))
    }

    fn changed(&mut self) -> BoxFuture<'_, Result<(), SourceError>> {
        // An archive does not change by itself; it is imported once.
        Box::pin(std::future::pending())
    }
}

/// Parses messages and hands them to the pipeline in batches.
struct Feeder {
    sender: BatchSender,
    source: &'static str,
    batch: Batch,
    counts: Counts,
}

impl Feeder {
    fn new(ctx: &SyncContext, source: &'static str) -> Feeder {
        Feeder {
            sender: BatchSender::new(ctx.pipeline.clone()),
            source,
            batch: Batch { source: source.into(), ..Batch::default() },
            counts: Counts::default(),
        }
    }

    fn message(&mut self, origin: &str, bytes: &[u8], time: Option<DateTime<Utc>>) -> Result<(), SourceError> {
        if bytes.len() as u64 > MAX_MESSAGE_BYTES {
            tracing::warn!("skipping {origin}: larger than {} MB", MAX_MESSAGE_BYTES >> 20);
            self.counts.skip(format!("larger than {} MB", MAX_MESSAGE_BYTES >> 20));
            return Ok(());
        }
        match super::guarded(|| parse(bytes, &ParseHints { file_time: time })) {
            Ok(item) => {
                let key = SourceKey { source: self.source.into(), key: sha256_hex(bytes) };
                self.batch.items.push((item, key));
                if self.batch.items.len() >= BATCH {
                    self.flush()?;
                }
            }
            Err(e) => {
                tracing::warn!("cannot parse {origin}: {e}");
                self.counts.skip(e.to_string());
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SourceError> {
        let full = std::mem::replace(&mut self.batch, Batch { source: self.source.into(), ..Batch::default() });
        if !full.items.is_empty() {
            self.sender.send(full)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Counts, SourceError> {
        self.flush()?;
        self.counts.add(&self.sender.finish()?);
        Ok(self.counts)
    }
}

/// Splits an mbox into messages: a message starts at a `From ` line at the
/// start of the file or after an empty line. `>From ` quoting (mboxrd) is
/// undone. Calls `f(offset, from_line, message)` for each message.
pub fn split_mbox<R: BufRead, E>(
    mut reader: R,
    mut f: impl FnMut(u64, &[u8], &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut line = Vec::with_capacity(256);
    let mut msg: Vec<u8> = Vec::new();
    let mut from_line: Vec<u8> = Vec::new();
    let mut start = 0u64;
    let mut offset = 0u64;
    let mut prev_blank = true;
    let mut started = false;
    loop {
        line.clear();
        let n = match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("cannot read the rest of the mbox after byte {offset}: {e}");
                break;
            }
        };
        let is_from = line.starts_with(b"From ") && prev_blank;
        if is_from {
            if started && !msg.is_empty() {
                trim_separator(&mut msg);
                f(start, &from_line, &msg)?;
            }
            msg.clear();
            from_line = line.clone();
            start = offset;
            started = true;
        } else if started || !line.iter().all(u8::is_ascii_whitespace) {
            started = true;
            // mboxrd: ">From " and ">>From " lose one '>'.
            let quoted = line.iter().take_while(|&&b| b == b'>').count();
            let unquoted = line.get(quoted..).unwrap_or_default();
            if quoted > 0 && unquoted.starts_with(b"From ") {
                msg.extend_from_slice(line.get(1..).unwrap_or_default());
            } else {
                msg.extend_from_slice(&line);
            }
        }
        prev_blank = line == b"\n" || line == b"\r\n";
        offset += n as u64;
    }
    if !msg.is_empty() {
        trim_separator(&mut msg);
        f(start, &from_line, &msg)?;
    }
    Ok(())
}

/// Drops the empty line that separates a message from the next `From `.
fn trim_separator(msg: &mut Vec<u8>) {
    if msg.ends_with(b"\r\n\r\n") {
        msg.truncate(msg.len() - 2);
    } else if msg.ends_with(b"\n\n") {
        msg.truncate(msg.len() - 1);
    }
}

/// The date of an mbox `From sender Thu Nov 27 07:11:04 2026` line.
fn from_line_date(line: &[u8]) -> Option<DateTime<Utc>> {
    let s = String::from_utf8_lossy(line);
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() < 7 {
        return None;
    }
    let tail = parts.get(parts.len().saturating_sub(5)..).unwrap_or_default().join(" ");
    NaiveDateTime::parse_from_str(&tail, "%a %b %e %H:%M:%S %Y").ok().map(|d| d.and_utc())
}

/// True when the path looks like an mbox (for `import` autodetection).
pub fn looks_like_mbox(path: &Path) -> bool {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| {
            let mut r = BufReader::new(f);
            let mut first = Vec::new();
            r.read_until(b'\n', &mut first).ok()?;
            Some(first.starts_with(b"From "))
        })
        .unwrap_or(false)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    fn split(data: &[u8]) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        split_mbox::<_, ()>(data, |o, _, m| {
            out.push((o, String::from_utf8_lossy(m).to_string()));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn splits_and_unquotes() {
        let data = b"From a@x Thu Nov 27 07:11:04 2026\nSubject: one\n\nbody\n>From here\nFrom inside a line is fine\n\nFrom b@x Thu Nov 27 08:00:00 2026\nSubject: two\n\nx\n";
        let msgs = split(data);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].1, "Subject: one\n\nbody\nFrom here\nFrom inside a line is fine\n");
        assert_eq!(msgs[1].1, "Subject: two\n\nx\n");
        assert_eq!(msgs[1].0, 92);
    }

    #[test]
    fn tolerates_junk_and_crlf() {
        assert!(split(b"").is_empty());
        let msgs = split(b"Subject: no from line\r\n\r\nbody\r\n");
        assert_eq!(msgs.len(), 1);
        let msgs = split(
            b"From x Mon Jan  5 10:00:00 2026\r\nA: b\r\n\r\nc\r\n\r\nFrom y Mon Jan  5 10:00:00 2026\r\nA: d\r\n",
        );
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].1, "A: b\r\n\r\nc\r\n");
    }

    #[test]
    fn reads_from_line_dates() {
        let d = from_line_date(b"From a@x Mon Jan  5 10:00:00 2026\n").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-01-05T10:00:00+00:00");
        assert!(from_line_date(b"From a@x garbage\n").is_none());
    }
}
