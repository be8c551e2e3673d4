//! The pipeline: one thread that owns the [`Store`] (the only SQLite
//! writer) and the [`Indexer`] (the only `IndexWriter`). Sources send it
//! batches through a [`PipelineHandle`] and wait for the outcome, which
//! gives them backpressure for free.
//!
//! After every batch the indexer catches up from the store; commits are
//! batched (every second, or every `commit_every` documents), and the
//! last one happens when the pipeline stops.

use std::collections::{BTreeMap, HashSet};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::index::{Indexer, SearchIndex};
use crate::store::{IngestOutcome, NewItem, SourceKey, Store};

/// What a source hands over in one go: items with their source keys,
/// keys the source no longer holds, and the cursor that covers them. All
/// of it lands in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub source: String,
    pub items: Vec<(NewItem, SourceKey)>,
    pub gone: Vec<SourceKey>,
    pub cursor: Option<String>,
    /// Known keys with changed content are updated in place (notes).
    pub replace: bool,
    /// Keys that moved: `(old, new)` (a renamed note).
    pub renames: Vec<(SourceKey, SourceKey)>,
    /// Keys whose items were deleted at the source (a deleted note).
    pub deleted: Vec<SourceKey>,
}

/// Counts of what happened to a source's items.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub read: usize,
    pub new: usize,
    pub updated: usize,
    pub duplicate: usize,
    pub blocked: usize,
    pub gone: usize,
    pub deleted: usize,
    pub renamed: usize,
    /// Reason → number of items skipped for it.
    pub skipped: BTreeMap<String, usize>,
    /// Things the user should fix (a note naming an unknown client), at most 50.
    pub warnings: Vec<String>,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.new += other.new;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.renamed += other.renamed;
        for w in &other.warnings {
            self.warn(w.clone());
        }
        self.duplicate += other.duplicate;
        self.blocked += other.blocked;
        self.gone += other.gone;
        for (k, v) in &other.skipped {
            *self.skipped.entry(k.clone()).or_default() += v;
        }
    }

    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Records a warning (kept to the first 50).
    pub fn warn(&mut self, w: String) {
        if self.warnings.len() < 50 && !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Records an item that could not be read, with its reason.
    pub fn skip(&mut self, reason: impl Into<String>) {
        self.read += 1;
        *self.skipped.entry(reason.into()).or_default() += 1;
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} read, {} new, {} duplicate, {} blocked, {} skipped",
            self.read,
            self.new,
            self.duplicate,
            self.blocked,
            self.skipped_total()
        )?;
        if self.updated > 0 {
            write!(f, ", {} updated", self.updated)?;
        }
        if self.renamed > 0 {
            write!(f, ", {} renamed", self.renamed)?;
        }
        if self.deleted > 0 {
            write!(f, ", {} deleted", self.deleted)?;
        }
        if self.gone > 0 {
            write!(f, ", {} gone from the source", self.gone)?;
        }
        Ok(())
    }
}

enum Msg {
    Ingest(Batch, oneshot::Sender<Result<Counts, String>>),
    Known(String, oneshot::Sender<Result<HashSet<String>, String>>),
    Cursor(String, oneshot::Sender<Result<Option<String>, String>>),
    Hashes(String, oneshot::Sender<Result<std::collections::HashMap<String, String>, String>>),
    Dates(String, oneshot::Sender<Result<crate::sources::ics::KnownDates, String>>),
    Status { source: String, state: String, error: Option<String>, counts: Option<String> },
    Flush(oneshot::Sender<Result<(), String>>),
}

/// How the pipeline commits the index.
#[derive(Debug, Clone, Copy)]
pub struct PipelineOptions {
    /// Commit after this many documents wait…
    pub commit_every: usize,
    /// …or after this long with anything pending.
    pub commit_after: Duration,
    /// tantivy's indexing memory budget.
    pub index_heap: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions { commit_every: 50_000, commit_after: Duration::from_secs(1), index_heap: 100 << 20 }
    }
}

/// The running pipeline. Dropping every handle and calling
/// [`Pipeline::finish`] drains it, commits the index and closes the store.
pub struct Pipeline {
    handle: PipelineHandle,
    thread: JoinHandle<Result<(), String>>,
}

/// A cloneable way to talk to the pipeline, from async or blocking code.
#[derive(Clone)]
pub struct PipelineHandle {
    tx: mpsc::Sender<Msg>,
}

impl Pipeline {
    /// Starts the pipeline thread. The index is optional: when another
    /// process holds its writer (the daemon), items are stored and the
    /// holder indexes them.
    pub fn start(store: Store, index: Option<SearchIndex>, options: PipelineOptions) -> Pipeline {
        let (tx, rx) = mpsc::channel::<Msg>();
        let thread = std::thread::Builder::new()
            .name("kronika-pipeline".into())
            .spawn(move || run(store, index, options, rx))
            .expect("cannot start the pipeline thread");
        Pipeline { handle: PipelineHandle { tx }, thread }
    }

    pub fn handle(&self) -> PipelineHandle {
        self.handle.clone()
    }

    /// Stops the pipeline after the work already sent: final index commit.
    pub fn finish(self) -> Result<(), String> {
        drop(self.handle);
        self.thread.join().unwrap_or_else(|_| Err("the pipeline thread panicked".into()))
    }
}

const GONE: &str = "cannot reach the pipeline: it has stopped";

/// The answer to a request, once the pipeline thread has handled it.
type Reply<T> = oneshot::Receiver<Result<T, String>>;

impl PipelineHandle {
    /// Sends a request the pipeline answers through a oneshot channel.
    fn request<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Msg) -> Result<Reply<T>, String> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| GONE.to_string())?;
        Ok(rx)
    }

    /// Asks and waits (async).
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Msg) -> Result<T, String> {
        self.request(make)?.await.map_err(|_| GONE.to_string())?
    }

    /// Asks and waits (from blocking code).
    fn ask_blocking<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Msg) -> Result<T, String> {
        self.request(make)?.blocking_recv().map_err(|_| GONE.to_string())?
    }

    /// Ingests a batch and waits for the outcome (async).
    pub async fn ingest(&self, batch: Batch) -> Result<Counts, String> {
        self.ask(|tx| Msg::Ingest(batch, tx)).await
    }

    /// Ingests a batch and waits (from blocking code).
    pub fn ingest_blocking(&self, batch: Batch) -> Result<Counts, String> {
        self.ask_blocking(|tx| Msg::Ingest(batch, tx))
    }

    /// Hands a batch over without waiting for it (see [`BatchSender`]).
    fn submit(&self, batch: Batch) -> Result<Reply<Counts>, String> {
        self.request(|tx| Msg::Ingest(batch, tx))
    }

    /// The keys a source already has in the store (blocking).
    pub fn known_keys_blocking(&self, source: &str) -> Result<HashSet<String>, String> {
        self.ask_blocking(|tx| Msg::Known(source.to_string(), tx))
    }

    /// Key → content hash of a source's live items (blocking).
    pub fn known_hashes_blocking(&self, source: &str) -> Result<std::collections::HashMap<String, String>, String> {
        self.ask_blocking(|tx| Msg::Hashes(source.to_string(), tx))
    }

    /// Key → date of a source's live items (blocking).
    pub fn known_dates_blocking(&self, source: &str) -> Result<crate::sources::ics::KnownDates, String> {
        self.ask_blocking(|tx| Msg::Dates(source.to_string(), tx))
    }

    /// A source's stored cursor (blocking).
    pub fn cursor_blocking(&self, source: &str) -> Result<Option<String>, String> {
        self.ask_blocking(|tx| Msg::Cursor(source.to_string(), tx))
    }

    /// The keys a source already has in the store.
    pub async fn known_keys(&self, source: &str) -> Result<HashSet<String>, String> {
        self.ask(|tx| Msg::Known(source.to_string(), tx)).await
    }

    /// A source's stored cursor.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, String> {
        self.ask(|tx| Msg::Cursor(source.to_string(), tx)).await
    }

    /// Commits the index now, so that what was ingested is searchable.
    pub async fn flush(&self) -> Result<(), String> {
        self.ask(Msg::Flush).await
    }

    /// Records a source's state for `kronika status` (fire and forget).
    pub fn status(&self, source: &str, state: &str, error: Option<String>, counts: Option<&Counts>) {
        let counts = counts.map(|c| serde_json::to_string(c).unwrap_or_default());
        let _ = self.tx.send(Msg::Status { source: source.into(), state: state.into(), error, counts });
    }
}

/// Sends batches from blocking code with a few in flight, so that a
/// source parses the next batch while the pipeline stores the last one,
/// and still waits when the pipeline falls behind. (The blocking face of
/// [`AsyncBatchSender`].)
pub struct BatchSender(AsyncBatchSender);

/// Batches a source may have in flight.
const IN_FLIGHT: usize = 2;

impl BatchSender {
    pub fn new(handle: PipelineHandle) -> BatchSender {
        BatchSender(AsyncBatchSender::new(handle))
    }

    /// Sends a batch; blocks while [`IN_FLIGHT`] batches wait.
    pub fn send(&mut self, batch: Batch) -> Result<(), String> {
        futures::executor::block_on(self.0.send(batch))
    }

    /// Waits for every batch sent; returns what they did.
    pub fn finish(self) -> Result<Counts, String> {
        futures::executor::block_on(self.0.finish())
    }
}

/// Sends batches with a few in flight (see [`BatchSender`]).
pub struct AsyncBatchSender {
    handle: PipelineHandle,
    pending: std::collections::VecDeque<Reply<Counts>>,
    counts: Counts,
}

impl AsyncBatchSender {
    pub fn new(handle: PipelineHandle) -> AsyncBatchSender {
        AsyncBatchSender { handle, pending: Default::default(), counts: Counts::default() }
    }

    /// Sends a batch; waits while [`IN_FLIGHT`] batches wait.
    pub async fn send(&mut self, batch: Batch) -> Result<(), String> {
        while self.pending.len() >= IN_FLIGHT {
            self.wait_one().await?;
        }
        self.pending.push_back(self.handle.submit(batch)?);
        Ok(())
    }

    async fn wait_one(&mut self) -> Result<(), String> {
        if let Some(rx) = self.pending.pop_front() {
            let c = rx.await.map_err(|_| GONE.to_string())??;
            self.counts.add(&c);
        }
        Ok(())
    }

    /// Waits for every batch sent; returns what they did.
    pub async fn finish(mut self) -> Result<Counts, String> {
        while !self.pending.is_empty() {
            self.wait_one().await?;
        }
        Ok(self.counts)
    }
}

fn run(
    mut store: Store,
    index: Option<SearchIndex>,
    options: PipelineOptions,
    rx: mpsc::Receiver<Msg>,
) -> Result<(), String> {
    let mut indexer = match &index {
        Some(i) => match Indexer::new(i, options.index_heap) {
            Ok(ix) => Some(ix),
            Err(e) => {
                tracing::warn!("{e}; items are stored and will be indexed by the holder");
                None
            }
        },
        None => None,
    };
    let catch_up = |store: &Store, indexer: &mut Option<Indexer>| -> Result<(), String> {
        if let Some(ix) = indexer.as_mut() {
            ix.catch_up(store, |_| {}).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    // Catch up with whatever the store has that the index lacks.
    catch_up(&store, &mut indexer)?;
    loop {
        match rx.recv_timeout(options.commit_after) {
            Ok(Msg::Ingest(batch, reply)) => {
                let t0 = std::time::Instant::now();
                let n = batch.items.len();
                let result = ingest(&mut store, batch);
                let t1 = t0.elapsed();
                let result = match result {
                    Ok(c) => catch_up(&store, &mut indexer).map(|_| c),
                    Err(e) => Err(e),
                };
                let t2 = t0.elapsed();
                if let Some(ix) = indexer.as_mut()
                    && let Err(e) = ix.commit_if_due(options.commit_every, options.commit_after)
                {
                    tracing::error!("{e}");
                }
                tracing::debug!(
                    "batch of {n}: store {:.1} ms, index {:.1} ms, commit {:.1} ms",
                    t1.as_secs_f64() * 1e3,
                    (t2 - t1).as_secs_f64() * 1e3,
                    (t0.elapsed() - t2).as_secs_f64() * 1e3
                );
                let _ = reply.send(result);
            }
            Ok(Msg::Known(source, reply)) => {
                let _ = reply.send(store.source_keys(&source).map_err(|e| e.to_string()));
            }
            Ok(Msg::Status { source, state, error, counts }) => {
                if let Err(e) = store.set_source_status(&source, &state, error.as_deref(), counts.as_deref()) {
                    tracing::warn!("cannot record the status of {source}: {e}");
                }
            }
            Ok(Msg::Dates(source, reply)) => {
                let _ = reply.send(store.source_dates(&source).map_err(|e| e.to_string()));
            }
            Ok(Msg::Hashes(source, reply)) => {
                let _ = reply.send(store.source_hashes(&source).map_err(|e| e.to_string()));
            }
            Ok(Msg::Cursor(source, reply)) => {
                let _ = reply.send(store.cursor(&source).map_err(|e| e.to_string()));
            }
            Ok(Msg::Flush(reply)) => {
                let r = catch_up(&store, &mut indexer)
                    .and_then(|_| indexer.as_mut().map(|ix| ix.commit().map_err(|e| e.to_string())).unwrap_or(Ok(())));
                if let Some(i) = &index {
                    let _ = i.reload();
                }
                let _ = reply.send(r);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(ix) = indexer.as_mut() {
                    // Changes made by other processes (CLI edits) reach the index too.
                    if let Err(e) = ix.catch_up(&store, |_| {}).and_then(|_| ix.commit_if_due(1, options.commit_after))
                    {
                        tracing::error!("{e}");
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Some(mut ix) = indexer {
        ix.catch_up(&store, |_| {}).map_err(|e| e.to_string())?;
        ix.commit().map_err(|e| e.to_string())?;
        ix.finish().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn ingest(store: &mut Store, batch: Batch) -> Result<Counts, String> {
    let mut counts = Counts { read: batch.items.len(), ..Counts::default() };
    let cursor = batch.cursor.as_deref().map(|c| (batch.source.as_str(), c));
    let changes = crate::store::Changes {
        items: &batch.items,
        replace: batch.replace,
        renames: &batch.renames,
        deleted: &batch.deleted,
        cursor,
    };
    let (outcomes, warnings) = store.apply(&changes).map_err(|e| e.to_string())?;
    counts.renamed = batch.renames.len();
    counts.deleted = batch.deleted.len();
    for w in warnings {
        counts.warn(w);
    }
    for o in outcomes {
        match o {
            IngestOutcome::New(_) => counts.new += 1,
            IngestOutcome::Updated(_) => counts.updated += 1,
            IngestOutcome::Duplicate(_) => counts.duplicate += 1,
            IngestOutcome::Blocked(_) => counts.blocked += 1,
        }
    }
    for key in &batch.gone {
        if store.mark_gone(key).map_err(|e| e.to_string())? {
            counts.gone += 1;
        }
    }
    Ok(counts)
}
