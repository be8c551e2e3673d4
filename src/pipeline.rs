//! The pipeline: a thread that readies files and document text, a thread
//! that owns the [`Store`] (the only SQLite writer) and a thread that owns
//! the [`Indexer`] (the only `IndexWriter`), so that parsing, storing and
//! indexing overlap. Sources send it batches through a [`PipelineHandle`]
//! and wait for the outcome, which gives them backpressure for free.
//!
//! After every stored batch the indexer catches up from the store; commits
//! are batched (a second after changes pause, every five seconds or
//! `commit_every` documents while they go on), and the last one happens
//! when the pipeline stops.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::index::{IndexError, Indexer, SearchIndex};
use crate::matcher::Policy;
use crate::model::ItemKind;
use crate::store::{Fence, FileKind, IngestOutcome, KnownDates, NewItem, SourceKey, Store, StoreError};

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

/// Why the pipeline could not do what a source asked. Sources branch on
/// it: a stopped pipeline ends them (the daemon is shutting down), a busy
/// database or a failed write is retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot reach the pipeline: it has stopped")]
    Stopped,
    #[error("cannot write the store now: another kronika process holds the database ({0}); retrying")]
    Busy(StoreError),
    #[error("cannot store the batch: {0}")]
    Store(StoreError),
    #[error("cannot finish the search index: {0}")]
    Index(#[from] IndexError),
    #[error("cannot store the batch: kronika failed inside ({0}); please report this")]
    Bug(String),
}

impl From<StoreError> for PipelineError {
    fn from(e: StoreError) -> Self {
        if e.is_busy() { PipelineError::Busy(e) } else { PipelineError::Store(e) }
    }
}

impl PipelineError {
    /// True when trying again later may work (everything but a stopped pipeline).
    pub fn is_transient(&self) -> bool {
        !matches!(self, PipelineError::Stopped)
    }
}

type Answer<T> = oneshot::Sender<Result<T, PipelineError>>;

enum Msg {
    /// A batch, and the lease it is written under (see [`PipelineHandle::fenced`]).
    Ingest(Batch, Option<Arc<Fence>>, Answer<Counts>),
    Known(String, Answer<HashSet<String>>),
    Cursor(String, Answer<Option<String>>),
    Hashes(String, Answer<HashMap<String, String>>),
    Dates(String, Answer<KnownDates>),
    Status {
        source: String,
        state: String,
        error: Option<String>,
        counts: Option<String>,
    },
    Policy(Policy),
    Flush(Answer<()>),
    /// Answered by the store thread: it is alive and taking messages.
    Ping(Answer<()>),
}

/// How the pipeline commits the index.
#[derive(Debug, Clone, Copy)]
pub struct PipelineOptions {
    /// Commit after this many documents wait…
    pub commit_every: usize,
    /// …or after this long with anything pending once changes pause…
    pub commit_after: Duration,
    /// …or after this long while changes keep coming (a bulk import).
    pub commit_busy: Duration,
    /// tantivy's indexing memory budget.
    pub index_heap: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            commit_every: 50_000,
            commit_after: Duration::from_secs(1),
            commit_busy: Duration::from_secs(5),
            index_heap: 100 << 20,
        }
    }
}

/// The running pipeline: three threads, so that a bulk import keeps both
/// cores busy. Dropping every handle and calling [`Pipeline::finish`]
/// drains it, commits the index and closes the store.
///
/// - `kronika-prepare` readies each batch's files (originals kept,
///   document text read) before any transaction;
/// - `kronika-store` owns the [`Store`], the only SQLite writer;
/// - `kronika-index` owns the [`Indexer`] and catches up from the store
///   through a read connection of its own after every stored batch.
pub struct Pipeline {
    handle: PipelineHandle,
    threads: Vec<JoinHandle<Result<(), PipelineError>>>,
}

/// A cloneable way to talk to the pipeline, from async or blocking code.
#[derive(Clone)]
pub struct PipelineHandle {
    tx: mpsc::Sender<Msg>,
    /// The lease the batches sent through this handle are stored under.
    fence: Option<Arc<Fence>>,
}

/// What the prepare thread hands the store thread: a batch with its
/// documents ready, or any other request as it came.
enum Staged {
    Ingest {
        batch: Batch,
        fence: Option<Arc<Fence>>,
        documents: Vec<Vec<NewItem>>,
        warnings: Vec<String>,
        reply: Answer<Counts>,
    },
    Other(Msg),
}

/// What the store thread tells the index thread.
enum IndexMsg {
    /// Something was stored: catch up.
    Changed,
    /// Catch up, commit and reload now, then answer.
    Flush(Answer<()>),
}

/// With an index thread, the writer checkpoints by itself only past this
/// many pages of log (about 400 MB); the index thread checkpoints at
/// least every [`CHECKPOINT_EVERY`].
const WRITER_CHECKPOINT_PAGES: i64 = 100_000;
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Prepared batches that may wait for the store thread (each holds its
/// items' text; the sources' own limit keeps the rest back).
const STAGED: usize = 2;

impl Pipeline {
    /// Starts the pipeline's threads. The index is optional: when another
    /// process holds its writer (`reindex`, or another daemon), items are
    /// stored, and the pipeline takes the writer over once it is free.
    /// The index thread reads the store through a connection of its own,
    /// so an index needs a store in a file.
    pub fn start(store: Store, index: Option<SearchIndex>, options: PipelineOptions) -> std::io::Result<Pipeline> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let (staged_tx, staged_rx) = mpsc::sync_channel::<Staged>(STAGED);
        let files = store.files_dir().map(Path::to_path_buf);
        let originals = store.originals_dir();
        // A store other nodes read gets the kept files too, through a
        // connection of the prepare thread's own.
        let sharer = match store.is_shared() {
            true => store.reopen().transpose().map_err(std::io::Error::other)?,
            false => None,
        };
        let mut threads = Vec::new();
        let index_tx = match index {
            Some(index) => {
                let Some(reader) = store.reopen() else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "cannot index a store kept in memory: the index thread reads the store through a connection of its own",
                    ));
                };
                let reader = reader.map_err(std::io::Error::other)?;
                store.leave_checkpoints(WRITER_CHECKPOINT_PAGES).map_err(std::io::Error::other)?;
                let (index_tx, index_rx) = mpsc::channel::<IndexMsg>();
                threads.push(
                    std::thread::Builder::new()
                        .name("kronika-index".into())
                        .spawn(move || run_index(reader, index, options, index_rx))?,
                );
                Some(index_tx)
            }
            None => None,
        };
        threads.push(
            std::thread::Builder::new()
                .name("kronika-store".into())
                .spawn(move || run_store(store, index_tx, options, staged_rx))?,
        );
        threads.push(
            std::thread::Builder::new()
                .name("kronika-prepare".into())
                .spawn(move || run_prepare(files, originals, sharer, rx, staged_tx))?,
        );
        Ok(Pipeline { handle: PipelineHandle { tx, fence: None }, threads })
    }

    pub fn handle(&self) -> PipelineHandle {
        self.handle.clone()
    }

    /// Stops the pipeline after the work already sent: final index commit.
    /// Each thread ends when the one before it has: prepare, store, index.
    pub fn finish(self) -> Result<(), PipelineError> {
        drop(self.handle);
        let mut result = Ok(());
        for t in self.threads.into_iter().rev() {
            let r = t.join().unwrap_or(Err(PipelineError::Stopped));
            if result.is_ok() {
                result = r;
            }
        }
        result
    }
}

/// The answer to a request, once the pipeline thread has handled it.
type Reply<T> = oneshot::Receiver<Result<T, PipelineError>>;

impl PipelineHandle {
    /// Sends a request the pipeline answers through a oneshot channel.
    fn request<T>(&self, make: impl FnOnce(Answer<T>) -> Msg) -> Result<Reply<T>, PipelineError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| PipelineError::Stopped)?;
        Ok(rx)
    }

    /// Asks and waits (async).
    async fn ask<T>(&self, make: impl FnOnce(Answer<T>) -> Msg) -> Result<T, PipelineError> {
        self.request(make)?.await.map_err(|_| PipelineError::Stopped)?
    }

    /// Asks and waits (from blocking code).
    fn ask_blocking<T>(&self, make: impl FnOnce(Answer<T>) -> Msg) -> Result<T, PipelineError> {
        self.request(make)?.blocking_recv().map_err(|_| PipelineError::Stopped)?
    }

    /// Ingests a batch and waits for the outcome (async).
    pub async fn ingest(&self, batch: Batch) -> Result<Counts, PipelineError> {
        self.ask(|tx| Msg::Ingest(batch, self.fence.clone(), tx)).await
    }

    /// Ingests a batch and waits (from blocking code).
    pub fn ingest_blocking(&self, batch: Batch) -> Result<Counts, PipelineError> {
        self.ask_blocking(|tx| Msg::Ingest(batch, self.fence.clone(), tx))
    }

    /// Hands a batch over without waiting for it (see [`BatchSender`]).
    fn submit(&self, batch: Batch) -> Result<Reply<Counts>, PipelineError> {
        self.request(|tx| Msg::Ingest(batch, self.fence.clone(), tx))
    }

    /// This handle, its batches stored only while this daemon holds the
    /// lease `fence` names (checked in the write transaction, on the
    /// database's clock): a daemon paused past its lease (a suspended VM)
    /// that wakes up stores nothing after another node took the source.
    pub fn fenced(&self, fence: Fence) -> PipelineHandle {
        PipelineHandle { tx: self.tx.clone(), fence: Some(Arc::new(fence)) }
    }

    /// The keys a source already has in the store (blocking).
    pub fn known_keys_blocking(&self, source: &str) -> Result<HashSet<String>, PipelineError> {
        self.ask_blocking(|tx| Msg::Known(source.to_string(), tx))
    }

    /// Key → content hash of a source's live items (blocking).
    pub fn known_hashes_blocking(&self, source: &str) -> Result<HashMap<String, String>, PipelineError> {
        self.ask_blocking(|tx| Msg::Hashes(source.to_string(), tx))
    }

    /// Key → date of a source's live items (blocking).
    pub fn known_dates_blocking(&self, source: &str) -> Result<KnownDates, PipelineError> {
        self.ask_blocking(|tx| Msg::Dates(source.to_string(), tx))
    }

    /// A source's stored cursor (blocking).
    pub fn cursor_blocking(&self, source: &str) -> Result<Option<String>, PipelineError> {
        self.ask_blocking(|tx| Msg::Cursor(source.to_string(), tx))
    }

    /// The keys a source already has in the store.
    pub async fn known_keys(&self, source: &str) -> Result<HashSet<String>, PipelineError> {
        self.ask(|tx| Msg::Known(source.to_string(), tx)).await
    }

    /// A source's stored cursor.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, PipelineError> {
        self.ask(|tx| Msg::Cursor(source.to_string(), tx)).await
    }

    /// Resolves when the store thread has answered: every thread before
    /// it took the message too (the systemd watchdog's proof of life).
    pub async fn ping(&self) -> Result<(), PipelineError> {
        self.ask(Msg::Ping).await
    }

    /// Commits the index now, so that what was ingested is searchable.
    pub async fn flush(&self) -> Result<(), PipelineError> {
        self.ask(Msg::Flush).await
    }

    /// Records a source's state for `kronika status` (fire and forget).
    pub fn status(&self, source: &str, state: &str, error: Option<String>, counts: Option<&Counts>) {
        let counts = counts.map(|c| serde_json::to_string(c).unwrap_or_default());
        let _ = self.tx.send(Msg::Status { source: source.into(), state: state.into(), error, counts });
    }

    /// Matches what comes next with a new policy (the config file changed).
    pub fn set_policy(&self, policy: Policy) {
        let _ = self.tx.send(Msg::Policy(policy));
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
    pub fn send(&mut self, batch: Batch) -> Result<(), PipelineError> {
        futures::executor::block_on(self.0.send(batch))
    }

    /// Waits for every batch sent; returns what they did.
    pub fn finish(self) -> Result<Counts, PipelineError> {
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
    pub async fn send(&mut self, batch: Batch) -> Result<(), PipelineError> {
        while self.pending.len() >= IN_FLIGHT {
            self.wait_one().await?;
        }
        self.pending.push_back(self.handle.submit(batch)?);
        Ok(())
    }

    async fn wait_one(&mut self) -> Result<(), PipelineError> {
        if let Some(rx) = self.pending.pop_front() {
            let c = rx.await.map_err(|_| PipelineError::Stopped)??;
            self.counts.add(&c);
        }
        Ok(())
    }

    /// Waits for every batch sent; returns what they did.
    pub async fn finish(mut self) -> Result<Counts, PipelineError> {
        while !self.pending.is_empty() {
            self.wait_one().await?;
        }
        Ok(self.counts)
    }
}

/// How often a pipeline without the index writer tries to take it.
const RETRY_INDEX: Duration = Duration::from_secs(10);

/// The pipeline's hold on the index: the writer when it has it, and when
/// it last tried to take it.
struct IndexHold {
    index: Option<SearchIndex>,
    indexer: Option<Indexer>,
    heap: usize,
    last_try: Option<std::time::Instant>,
    /// The last index error logged (the same one is not logged every second).
    last_error: Option<String>,
}

impl IndexHold {
    /// The writer, taking it when another process has let it go.
    fn indexer(&mut self) -> Option<&mut Indexer> {
        if self.indexer.is_none()
            && let Some(index) = &self.index
            && self.last_try.is_none_or(|t| t.elapsed() >= RETRY_INDEX)
        {
            self.last_try = Some(std::time::Instant::now());
            match Indexer::new(index, self.heap) {
                Ok(ix) => {
                    if self.last_error.take().is_some() {
                        tracing::info!("the search index is free again; indexing what was stored meanwhile");
                    }
                    self.indexer = Some(ix);
                }
                Err(e) => self.report(e),
            }
        }
        self.indexer.as_mut()
    }

    /// Logs an index error once (until a different one comes).
    fn report(&mut self, e: IndexError) {
        let text = e.to_string();
        if self.last_error.as_deref() != Some(text.as_str()) {
            // Not reading the store (PostgreSQL away) is not a busy index.
            let then = match &e {
                IndexError::Store(s) if s.is_disconnected() => "the index catches up once the store is back",
                IndexError::Store(_) => "the index catches up on a later try",
                _ => "items are stored and indexed when the index is free",
            };
            tracing::warn!("{text}; {then}");
            self.last_error = Some(text);
        }
    }

    /// Brings the index up to the store. A failure is logged, never fatal:
    /// the store has the items, the index catches up later.
    fn catch_up(&mut self, store: &Store) {
        if let Some(ix) = self.indexer()
            && let Err(e) = ix.catch_up(store, |_| {})
        {
            // A broken writer is dropped and taken anew on a later try.
            self.indexer = None;
            self.report(e);
        }
    }

    fn commit(&mut self) {
        if let Some(ix) = self.indexer.as_mut()
            && let Err(e) = ix.commit()
        {
            self.indexer = None;
            self.report(e);
        }
    }

    /// Commits, makes the commit visible to this process's searches, and
    /// answers every flush that waited.
    fn flush(&mut self, replies: Vec<Answer<()>>) {
        self.commit();
        if let Some(i) = &self.index {
            let _ = i.reload();
        }
        for r in replies {
            let _ = r.send(Ok(()));
        }
    }

    fn commit_if_due(&mut self, every: usize, after: Duration) {
        if let Some(ix) = self.indexer.as_mut()
            && let Err(e) = ix.commit_if_due(every, after)
        {
            self.indexer = None;
            self.report(e);
        }
    }
}

/// Source statuses not yet written (the database was busy): the latest
/// state per source, with the last error and counts seen meanwhile.
#[derive(Default)]
struct Statuses {
    waiting: BTreeMap<String, (String, Option<String>, Option<String>)>,
}

impl Statuses {
    fn push(&mut self, source: &str, state: String, error: Option<String>, counts: Option<String>) {
        let (error, counts) = match self.waiting.remove(source) {
            Some((_, e, c)) => (error.or(e), counts.or(c)),
            None => (error, counts),
        };
        self.waiting.insert(source.to_string(), (state, error, counts));
    }

    /// Writes what waits; keeps what the busy database refuses.
    fn write(&mut self, store: &Store) {
        let waiting = std::mem::take(&mut self.waiting);
        for (source, (state, error, counts)) in waiting {
            match store.set_source_status(&source, &state, error.as_deref(), counts.as_deref()) {
                Ok(()) => {}
                Err(e) if e.is_busy() || e.is_disconnected() => {
                    self.waiting.insert(source, (state, error, counts));
                }
                Err(e) => tracing::warn!("cannot record the status of {source}: {e}"),
            }
        }
    }
}

/// The prepare thread: files and document text for each batch, in the
/// order batches came; every other request passes through unchanged.
fn run_prepare(
    files: Option<std::path::PathBuf>,
    originals: Option<std::path::PathBuf>,
    sharer: Option<Store>,
    rx: mpsc::Receiver<Msg>,
    tx: mpsc::SyncSender<Staged>,
) -> Result<(), PipelineError> {
    for msg in rx {
        let staged = match msg {
            Msg::Ingest(mut batch, fence, reply) => {
                // A bug in reading one batch's documents must not end the
                // pipeline: that batch gets an error, and is retried.
                let prepared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    prepare_documents(&mut batch.items, files.as_deref(), originals.as_deref())
                }));
                let shared = match (&prepared, &sharer) {
                    (Ok((documents, _)), Some(sharer)) => {
                        share_files(sharer, &batch.items, documents, files.as_deref(), originals.as_deref())
                    }
                    _ => Ok(()),
                };
                if let Err(e) = shared {
                    // Nothing is stored whose files the other nodes lack.
                    let _ = reply.send(Err(e.into()));
                    continue;
                }
                match prepared {
                    Ok((documents, warnings)) => Staged::Ingest { batch, fence, documents, warnings, reply },
                    Err(p) => {
                        let _ = reply.send(Err(PipelineError::Bug(crate::text::panic_text(p.as_ref()))));
                        continue;
                    }
                }
            }
            other => Staged::Other(other),
        };
        if tx.send(staged).is_err() {
            break;
        }
    }
    Ok(())
}

/// The store thread: the only writer of the store.
fn run_store(
    mut store: Store,
    index: Option<mpsc::Sender<IndexMsg>>,
    options: PipelineOptions,
    rx: mpsc::Receiver<Staged>,
) -> Result<(), PipelineError> {
    let mut statuses = Statuses::default();
    let changed = || {
        if let Some(i) = &index {
            let _ = i.send(IndexMsg::Changed);
        }
    };
    loop {
        match rx.recv_timeout(options.commit_after) {
            Ok(Staged::Ingest { batch, fence, documents, warnings, reply }) => {
                let t0 = std::time::Instant::now();
                let n = batch.items.len();
                // A bug in storing one batch must not end the pipeline (and
                // with it every source): that batch gets an error, and is retried.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    ingest(&mut store, batch, fence.as_deref(), &documents, warnings)
                }))
                .unwrap_or_else(|p| Err(PipelineError::Bug(crate::text::panic_text(p.as_ref()))));
                tracing::debug!("batch of {n}: stored in {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
                if result.is_ok() {
                    changed();
                }
                let _ = reply.send(result);
            }
            Ok(Staged::Other(msg)) => match msg {
                Msg::Ingest(..) => unreachable!("the prepare thread stages every batch"),
                Msg::Known(source, reply) => {
                    let _ = reply.send(store.source_keys(&source).map_err(PipelineError::from));
                }
                Msg::Status { source, state, error, counts } => {
                    statuses.push(&source, state, error, counts);
                    statuses.write(&store);
                }
                Msg::Policy(policy) => store.set_policy(policy),
                Msg::Ping(reply) => {
                    let _ = reply.send(Ok(()));
                }
                Msg::Dates(source, reply) => {
                    let _ = reply.send(store.source_dates(&source).map_err(PipelineError::from));
                }
                Msg::Hashes(source, reply) => {
                    let _ = reply.send(store.source_hashes(&source).map_err(PipelineError::from));
                }
                Msg::Cursor(source, reply) => {
                    let _ = reply.send(store.cursor(&source).map_err(PipelineError::from));
                }
                Msg::Flush(reply) => match &index {
                    // Everything sent before is stored: the index thread
                    // catches up, commits and answers.
                    Some(i) => {
                        if let Err(mpsc::SendError(IndexMsg::Flush(reply))) = i.send(IndexMsg::Flush(reply)) {
                            let _ = reply.send(Err(PipelineError::Stopped));
                        }
                    }
                    None => {
                        let _ = reply.send(Ok(()));
                    }
                },
            },
            Err(mpsc::RecvTimeoutError::Timeout) => statuses.write(&store),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    statuses.write(&store);
    Ok(())
}

/// The index thread: catches up from the store after every stored batch,
/// and every `commit_after` for changes other processes made (CLI edits).
/// Commits come `commit_after` after the last change when changes pause,
/// and at least every `commit_busy` (or `commit_every` documents) while
/// they keep coming: a bulk import is not slowed by a commit a second.
fn run_index(
    store: Store,
    index: SearchIndex,
    options: PipelineOptions,
    rx: mpsc::Receiver<IndexMsg>,
) -> Result<(), PipelineError> {
    let mut hold =
        IndexHold { index: Some(index), indexer: None, heap: options.index_heap, last_try: None, last_error: None };
    // Catch up with whatever the store has that the index lacks.
    hold.catch_up(&store);
    let mut checkpointed = std::time::Instant::now();
    loop {
        if checkpointed.elapsed() >= CHECKPOINT_EVERY {
            checkpointed = std::time::Instant::now();
            if let Err(e) = store.checkpoint() {
                tracing::debug!("cannot checkpoint the store's log now: {e}");
            }
        }
        match rx.recv_timeout(options.commit_after) {
            Ok(IndexMsg::Changed) => {
                // Many batches may have been stored meanwhile: one catch-up
                // covers them all.
                let mut flushes = Vec::new();
                let mut open = true;
                loop {
                    match rx.try_recv() {
                        Ok(IndexMsg::Changed) => {}
                        Ok(IndexMsg::Flush(reply)) => flushes.push(reply),
                        Err(mpsc::TryRecvError::Empty) => break,
                        Err(mpsc::TryRecvError::Disconnected) => {
                            open = false;
                            break;
                        }
                    }
                }
                hold.catch_up(&store);
                if flushes.is_empty() {
                    hold.commit_if_due(options.commit_every, options.commit_busy);
                } else {
                    hold.flush(flushes);
                }
                if !open {
                    break;
                }
            }
            Ok(IndexMsg::Flush(reply)) => {
                hold.catch_up(&store);
                hold.flush(vec![reply]);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Changes made by other processes (CLI edits) reach the index too.
                hold.catch_up(&store);
                hold.commit_if_due(1, options.commit_after);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Some(mut ix) = hold.indexer.take() {
        ix.catch_up(&store, |_| {})?;
        ix.commit()?;
        ix.finish()?;
    }
    Ok(())
}

/// Shares the files a batch kept in this data folder (originals, documents)
/// through the store, for the other nodes ([`Store::share_file`]).
fn share_files(
    sharer: &Store,
    items: &[(NewItem, SourceKey)],
    documents: &[Vec<NewItem>],
    files: Option<&Path>,
    originals: Option<&Path>,
) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    let kept: Vec<(&Path, FileKind, &str)> = items
        .iter()
        .map(|(item, _)| (originals, FileKind::Original, item.content_hash.as_str()))
        .chain(documents.iter().flatten().map(|d| (files, FileKind::Document, d.content_hash.as_str())))
        .filter_map(|(dir, kind, hash)| Some((dir?, kind, hash)))
        .filter(|(_, _, hash)| !hash.is_empty() && seen.insert(*hash))
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    // One question for the batch's hashes, one transaction for what is new.
    let hashes: Vec<&str> = kept.iter().map(|(_, _, hash)| *hash).collect();
    let shared = sharer.shared_among(&hashes)?;
    // Read in groups of about SHARE_GROUP_BYTES, so that a batch of large
    // documents is not held in memory whole.
    const SHARE_GROUP_BYTES: usize = 32 << 20;
    let mut group: Vec<(&str, FileKind, Vec<u8>)> = Vec::new();
    let mut bytes = 0;
    let share = |group: &mut Vec<(&str, FileKind, Vec<u8>)>| {
        let files: Vec<(&str, FileKind, &[u8])> = group.iter().map(|(h, k, b)| (*h, *k, b.as_slice())).collect();
        let result = sharer.share_files(&files);
        group.clear();
        result
    };
    for (dir, kind, hash) in kept {
        if shared.contains(hash) {
            continue;
        }
        // What was not kept here (no original, a file that failed) is not shared.
        if let Ok(data) = std::fs::read(crate::store::document_path(dir, hash)) {
            bytes += data.len();
            group.push((hash, kind, data));
            if bytes >= SHARE_GROUP_BYTES {
                share(&mut group)?;
                bytes = 0;
            }
        }
    }
    share(&mut group)
}

/// Readies a batch's documents before the write transaction: text
/// extracted from PDFs and text files, kind decided, file kept under the
/// documents folder by content hash. The store then only stores. Returns
/// each item's documents (in the order of `items`) and warnings.
pub fn prepare_documents(
    items: &mut [(NewItem, SourceKey)],
    files: Option<&Path>,
    originals: Option<&Path>,
) -> (Vec<Vec<NewItem>>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for (item, _) in items.iter_mut() {
        let from = item.original_file.take();
        if let (Some(raw), Some(dir)) = (item.original.take(), originals)
            && !item.content_hash.is_empty()
            && let Err(e) = crate::store::keep_file_from(dir, &item.content_hash, &raw, from.as_deref())
        {
            warnings.push(format!("cannot keep the original of {:?}: {e}", item.subject));
        }
        // The bytes are not needed past this point: the file is kept.
        let blobs = std::mem::take(&mut item.documents);
        // An ISDOC among the attachments says everything its PDF would:
        // the PDF's text is then not read for a proposal.
        let has_isdoc = blobs.iter().any(|b| crate::invoice::is_isdoc(&b.name, &b.mime, &b.bytes));
        out.push(blobs.iter().filter_map(|b| document_item(item, b, files, has_isdoc, &mut warnings)).collect());
    }
    (out, warnings)
}

/// A document item from an attachment of `parent`, or `None` when the
/// attachment is not a document.
fn document_item(
    parent: &NewItem,
    blob: &crate::documents::Blob,
    files: Option<&Path>,
    has_isdoc: bool,
    warnings: &mut Vec<String>,
) -> Option<NewItem> {
    let (mut text, unreadable) = match crate::documents::extract_text(&blob.mime, &blob.bytes) {
        Ok(t) => (t, None),
        Err(e) => (String::new(), Some(e)),
    };
    let invoice = match crate::invoice::from_attachment(&blob.name, &blob.mime, &blob.bytes) {
        Some(Ok(inv)) => {
            if text.trim().is_empty() {
                text = invoice_text(&inv);
            }
            Some(invoice_facts(&inv))
        }
        Some(Err(e)) => {
            warnings.push(format!("{}: {e}; the file is kept as a document, no deal is made from it", blob.name));
            None
        }
        None if !has_isdoc => crate::invoice::from_text(&text).map(|t| text_facts(&t, parent)),
        None => None,
    };
    let kind = match invoice {
        Some(_) => crate::documents::DocKind::Invoice,
        None => crate::documents::classify(&blob.name, &text)?,
    };
    if let Some(e) = &unreadable {
        warnings.push(format!("{}: {e}; the document is kept, its text is not indexed", blob.name));
    }
    let path = match files {
        Some(f) => match crate::store::keep_file(f, &blob.content_hash, &blob.bytes) {
            Ok(p) => Some(p.display().to_string()),
            Err(e) => {
                warnings.push(format!("cannot keep {}: {e}", blob.name));
                None
            }
        },
        None => None,
    };
    Some(NewItem {
        kind: ItemKind::Document,
        date: parent.date,
        date_source: parent.date_source,
        subject: blob.name.clone(),
        body: crate::text::ellipsize(&text, 1 << 20),
        participants: parent.participants.clone(),
        content_hash: blob.content_hash.clone(),
        size: blob.bytes.len() as u64,
        extra: serde_json::json!({
            "doc_kind": kind.as_str(),
            "mime": blob.mime,
            "name": blob.name,
            "path": path,
            "text_unreadable": unreadable,
            "invoice": invoice,
        }),
        ..NewItem::default()
    })
}

/// What the store needs of an ISDOC invoice (`store::InvoiceFacts`).
fn invoice_facts(inv: &crate::invoice::Invoice) -> crate::store::InvoiceFacts {
    crate::store::InvoiceFacts {
        number: inv.number.clone(),
        kind: inv.kind.as_str().to_string(),
        credit: inv.kind.is_credit(),
        date: inv.taxable.unwrap_or(inv.issued),
        due: inv.due,
        currency: inv.currency.clone(),
        without_vat: inv.without_vat.abs(),
        with_vat: Some(inv.with_vat.abs()),
        supplier_ico: inv.supplier.ico.clone(),
        supplier: Some(inv.supplier.name.clone()).filter(|n| !n.is_empty()),
        customer_ico: inv.customer.ico.clone(),
        customer: Some(inv.customer.name.clone()).filter(|n| !n.is_empty()),
        lines: inv
            .lines
            .iter()
            .filter(|l| !l.description.trim().is_empty())
            .map(|l| crate::store::InvoiceLine {
                description: l.description.trim().to_string(),
                without_vat: l.without_vat,
            })
            .collect(),
        icos: Vec::new(),
        proposed: false,
    }
}

/// An invoice read from a PDF's text: a proposal (the parties are not told
/// apart and the total is the amount due, with VAT).
fn text_facts(t: &crate::invoice::TextInvoice, parent: &NewItem) -> crate::store::InvoiceFacts {
    crate::store::InvoiceFacts {
        number: t.number.clone(),
        kind: if t.credit { "credit_note" } else { "invoice" }.to_string(),
        credit: t.credit,
        date: t.issued.unwrap_or_else(|| parent.date.date_naive()),
        due: t.due,
        currency: t.currency.clone(),
        without_vat: t.total.abs(),
        with_vat: Some(t.total.abs()),
        supplier_ico: None,
        supplier: None,
        customer_ico: None,
        customer: None,
        lines: Vec::new(),
        icos: t.icos.clone(),
        proposed: true,
    }
}

/// Searchable text of an ISDOC invoice (its XML has no text of its own
/// worth indexing): number, parties, lines, totals.
fn invoice_text(inv: &crate::invoice::Invoice) -> String {
    let mut s = format!(
        "{} {}\n{} (IČO {}) → {} (IČO {})\n",
        if inv.kind.is_credit() { "Dobropis" } else { "Faktura" },
        inv.number,
        inv.supplier.name,
        inv.supplier.ico.as_deref().unwrap_or("-"),
        inv.customer.name,
        inv.customer.ico.as_deref().unwrap_or("-"),
    );
    for l in &inv.lines {
        s.push_str(&l.description);
        s.push('\n');
    }
    s.push_str(&format!(
        "Celkem bez DPH {} {c}, s DPH {} {c}\n",
        crate::text::format_amount(inv.without_vat),
        crate::text::format_amount(inv.with_vat),
        c = inv.currency
    ));
    s
}

fn ingest(
    store: &mut Store,
    batch: Batch,
    fence: Option<&Fence>,
    documents: &[Vec<NewItem>],
    warnings: Vec<String>,
) -> Result<Counts, PipelineError> {
    let mut counts = Counts { read: batch.items.len(), ..Counts::default() };
    for w in warnings {
        counts.warn(w);
    }
    let cursor = batch.cursor.as_deref().map(|c| (batch.source.as_str(), c));
    let changes = crate::store::Changes {
        items: &batch.items,
        replace: batch.replace,
        renames: &batch.renames,
        deleted: &batch.deleted,
        gone: &batch.gone,
        cursor,
        documents,
        fence,
    };
    let applied = store.apply(&changes)?;
    let (outcomes, warnings) = (applied.outcomes, applied.warnings);
    counts.gone = applied.gone;
    counts.renamed = batch.renames.len();
    counts.deleted = batch.deleted.len();
    for w in warnings {
        counts.warn(w);
    }
    // What the prepare thread kept for an item the store then refused
    // (the blocklist, an erased person), or for a copy of a redacted one,
    // must not stay on disk: files no stored item uses are deleted.
    let mut refused_files: (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for (i, o) in outcomes.iter().enumerate() {
        match o {
            IngestOutcome::New(_) => counts.new += 1,
            IngestOutcome::Updated(_) => counts.updated += 1,
            IngestOutcome::Duplicate(_) | IngestOutcome::Blocked(_) => {
                // A duplicate's files are the stored item's, unless that
                // item was redacted (an erased person's original).
                if matches!(o, IngestOutcome::Blocked(_)) {
                    counts.blocked += 1;
                } else {
                    counts.duplicate += 1;
                }
                if let Some((item, _)) = batch.items.get(i) {
                    refused_files.0.push(item.content_hash.as_str());
                }
                if let Some(docs) = documents.get(i) {
                    refused_files.1.extend(docs.iter().map(|d| d.content_hash.as_str()));
                }
            }
        }
    }
    if !refused_files.0.is_empty() || !refused_files.1.is_empty() {
        store.drop_unused_files(&refused_files.0, &refused_files.1)?;
    }
    Ok(counts)
}
