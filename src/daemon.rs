//! The daemon: starts every configured source, keeps each one going on its
//! own (a failing source backs off and retries; the others go on), and
//! shuts down in order: sources stop, the pipeline drains, the index
//! commits, the store closes.
//!
//! Shutdown is injected (`run(config, shutdown)`), so tests stop it with a
//! channel and `main` with signals.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::Instrument;

use crate::config::Config;
use crate::index::SearchIndex;
use crate::pipeline::{Counts, Pipeline, PipelineError, PipelineHandle, PipelineOptions};
use crate::shutdown::Shutdown;
use crate::sources::ics::IcsSource;
use crate::sources::imap::ImapSource;
use crate::sources::maildir::MaildirSource;
use crate::sources::notes::NotesSource;
use crate::sources::{Source, SourceError, SyncContext};
use crate::store::Store;

/// How long the sources and the reminders get to stop before the daemon
/// leaves them; the pipeline then gets [`PIPELINE_GRACE`]. Together they
/// keep a shutdown under 10 seconds whatever a server or a sink does.
pub const SOURCES_GRACE: Duration = Duration::from_secs(5);
/// How long the pipeline gets to store what it was handed and commit the index.
pub const PIPELINE_GRACE: Duration = Duration::from_secs(3);

/// Builds a source from its config section, as often as needed (a source
/// is built anew after a bug made it panic).
pub type SourceFactory = Box<dyn Fn() -> Box<dyn Source> + Send + Sync>;

/// A factory for every source section of the config, each from its own section.
pub fn source_factories(config: &Config) -> Vec<SourceFactory> {
    source_specs(config).into_iter().map(|s| s.make).collect()
}

/// A source section: its name, what it says (a change restarts the
/// source on reload), and how to build it.
pub struct SourceSpec {
    pub name: String,
    pub section: String,
    pub make: SourceFactory,
}

/// Every source section of the config.
pub fn source_specs(config: &Config) -> Vec<SourceSpec> {
    let mut out = Vec::new();
    for m in config.maildirs.clone() {
        let (name, section) = (m.name.clone(), format!("maildir {m:?}"));
        out.push(SourceSpec { name, section, make: Box::new(move || Box::new(MaildirSource::from_config(&m))) });
    }
    for n in config.notes.clone() {
        let (name, section) = (n.name.clone(), format!("notes {n:?}"));
        out.push(SourceSpec { name, section, make: Box::new(move || Box::new(NotesSource::from_config(&n))) });
    }
    for c in config.calendars.clone() {
        let (name, section) = (c.name.clone(), format!("calendar {c:?}"));
        out.push(SourceSpec { name, section, make: Box::new(move || Box::new(IcsSource::from_config(&c))) });
    }
    for c in config.caldav.clone() {
        let data_dir = config.data_dir.clone();
        let (name, section) = (c.name.clone(), format!("caldav {c:?}"));
        out.push(SourceSpec {
            name,
            section,
            make: Box::new(move || Box::new(crate::sources::caldav::CalDavSource::new(c.clone(), &data_dir))),
        });
    }
    for c in config.graph.clone() {
        let data_dir = config.data_dir.clone();
        let (name, section) = (c.name.clone(), format!("graph {c:?}"));
        out.push(SourceSpec {
            name,
            section,
            make: Box::new(move || Box::new(crate::sources::graph::GraphSource::new(c.clone(), &data_dir))),
        });
    }
    for a in config.imap.clone() {
        let data_dir = config.data_dir.clone();
        let (name, section) = (a.name.clone(), format!("imap {a:?}"));
        out.push(SourceSpec { name, section, make: Box::new(move || Box::new(ImapSource::new(a.clone(), &data_dir))) });
    }
    out
}

/// The running sources: one task each, each with a stop of its own, so
/// that a reload stops what was removed or changed and starts what is new
/// while the others go on.
struct Supervisor {
    pipeline: PipelineHandle,
    leases: std::sync::Arc<crate::leases::Leases>,
    config_path: PathBuf,
    running: std::collections::HashMap<String, (String, Shutdown)>,
    tasks: tokio::task::JoinSet<()>,
}

impl Supervisor {
    /// Brings the running sources to what `config` says; returns how many
    /// were started and stopped.
    fn apply(&mut self, config: &Config) -> (usize, usize) {
        let specs = source_specs(config);
        let wanted: std::collections::HashMap<&str, &str> =
            specs.iter().map(|s| (s.name.as_str(), s.section.as_str())).collect();
        let mut stopped = 0;
        self.running.retain(|name, (section, stop)| {
            let keep = wanted.get(name.as_str()) == Some(&section.as_str());
            if !keep {
                tracing::info!("stopping the source {name} (removed or changed in the config)");
                stop.trigger();
                if !wanted.contains_key(name.as_str()) {
                    self.leases.release(name);
                }
                stopped += 1;
            }
            keep
        });
        let mut started = 0;
        for spec in specs {
            if self.running.contains_key(&spec.name) {
                continue;
            }
            let stop = Shutdown::new();
            let source = (spec.make)();
            let ctx = SyncContext {
                // What the source stores, it stores only while this node holds its lease.
                pipeline: self.pipeline.fenced(self.leases.fence(&spec.name)),
                progress: indicatif::ProgressBar::hidden(),
                shutdown: stop.clone(),
            };
            let span = tracing::info_span!("source", name = %spec.name);
            let owned = self.leases.want(&spec.name);
            self.tasks.spawn(leased(source, spec.make, ctx, self.config_path.clone(), owned).instrument(span));
            self.running.insert(spec.name, (spec.section, stop));
            started += 1;
        }
        (started, stopped)
    }

    fn stop_all(&mut self) {
        for (_, stop) in self.running.values() {
            stop.trigger();
        }
    }
}

/// Runs the sources until `stop`; each config that comes on `reloads` is
/// applied ([`Supervisor::apply`]).
async fn supervise(mut sup: Supervisor, mut reloads: tokio::sync::mpsc::UnboundedReceiver<Config>, stop: Shutdown) {
    loop {
        tokio::select! {
            Some(config) = reloads.recv() => {
                let (started, stopped) = sup.apply(&config);
                if started + stopped > 0 {
                    tracing::info!("sources reloaded: {started} started, {stopped} stopped, {} running", sup.running.len());
                }
            }
            Some(_) = sup.tasks.join_next(), if !sup.tasks.is_empty() => {}
            _ = stop.wait() => break,
        }
    }
    sup.stop_all();
    while sup.tasks.join_next().await.is_some() {}
}

/// A source for every source section of the config.
pub fn sources(config: &Config) -> Vec<Box<dyn Source>> {
    source_factories(config).iter().map(|make| make()).collect()
}

/// Opens the store and the index and starts the pipeline.
pub fn start_pipeline(config: &Config, options: PipelineOptions) -> anyhow::Result<Pipeline> {
    use anyhow::Context;
    let store =
        Store::open_config(config).with_context(|| format!("cannot open the store in {}", config.store_place()))?;
    let index = SearchIndex::open_for_indexing(&config.index_path())?;
    Pipeline::start(store, Some(index), options).context("cannot start the pipeline thread")
}

/// The outcome of one source's pass.
pub struct SyncResult {
    pub source: String,
    pub result: Result<Counts, SourceError>,
}

/// Runs every source once (`kronika sync`).
pub async fn sync_once(
    sources: &mut [Box<dyn Source>],
    pipeline: &Pipeline,
    progress: impl Fn(&str) -> indicatif::ProgressBar,
) -> Vec<SyncResult> {
    let mut out = Vec::new();
    for s in sources.iter_mut() {
        let name = s.name().to_string();
        let ctx = SyncContext { pipeline: pipeline.handle(), progress: progress(&name), shutdown: Shutdown::new() };
        let result = s.sync(&ctx).instrument(tracing::info_span!("source", name = %name)).await;
        ctx.progress.finish_and_clear();
        match &result {
            Ok(c) => ctx.pipeline.status(&name, "ok", None, Some(c)),
            Err(e) => ctx.pipeline.status(&name, e.state(), Some(e.to_string()), None),
        }
        out.push(SyncResult { source: name, result });
    }
    out
}

/// Runs the daemon until `shutdown` resolves; then stops in order and
/// within [`SOURCES_GRACE`] + [`PIPELINE_GRACE`].
pub async fn run(config: &Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    if source_specs(config).is_empty() {
        tracing::warn!("no sources in {}; add [[maildir]] sections", config.path.display());
    }
    let pipeline = start_pipeline(config, PipelineOptions::default())?;
    let pid_file = config.data_dir.join("kronika.pid");
    if let Err(e) = std::fs::write(&pid_file, std::process::id().to_string()) {
        tracing::warn!("cannot write {}: {e}", pid_file.display());
    }
    let stop = Shutdown::new();
    let mut tasks = tokio::task::JoinSet::new();
    let leases = std::sync::Arc::new(
        crate::leases::Leases::start(config)
            .map_err(|e| anyhow::anyhow!("cannot open the store for the leases of {}: {e}", config.node.name))?,
    );
    let mut sup = Supervisor {
        leases: leases.clone(),
        pipeline: pipeline.handle(),
        config_path: config.path.clone(),
        running: Default::default(),
        tasks: tokio::task::JoinSet::new(),
    };
    sup.apply(config);
    let source_count = sup.running.len();
    let (reload_tx, reload_rx) = tokio::sync::mpsc::unbounded_channel();
    tasks.spawn(supervise(sup, reload_rx, stop.clone()));
    let hangups = hangups(stop.clone());
    tasks.spawn(follow_config(config.clone(), pipeline.handle(), reload_tx, hangups, stop.clone()));
    if let Some(web) = &config.web {
        let (addr, web_config, s) = (web.listen, config.clone(), stop.clone());
        tasks.spawn(
            async move {
                if let Err(e) = crate::web::serve(addr, web_config, s).await {
                    tracing::error!("cannot serve the web interface on {addr}: {e}");
                }
            }
            .instrument(tracing::info_span!("web")),
        );
    }
    if let Some(rc) = &config.reminders {
        // Checked now, so that a store that cannot be opened stops the start.
        drop(Store::open_config(config).map_err(|e| anyhow::anyhow!("cannot open the store for reminders: {e}"))?);
        let feed = config.data_dir.join("kronika-reminders.ics");
        let owned = leases.want(REMINDERS_LEASE);
        let (c, rc2, f, s) = (config.clone(), rc.clone(), feed.clone(), stop.clone());
        tasks.spawn(leased_reminders(c, rc2, f, owned, s).instrument(tracing::info_span!("reminders")));
        if let Some(addr) = rc.serve {
            let s = stop.clone();
            let token = crate::reminders::feed_token(config, rc)?;
            tasks.spawn(async move {
                if let Err(e) = crate::reminders::serve_feed(addr, feed, token, s.wait()).await {
                    tracing::error!("cannot serve the reminder feed on {addr}: {e}");
                }
            });
        }
    }
    if let Some(b) = &config.backup {
        let (c, b, p, s) = (config.clone(), b.clone(), pipeline.handle(), stop.clone());
        tasks.spawn(scheduled_backups(c, b, p, s).instrument(tracing::info_span!("backup")));
    }
    tracing::info!("kronika is running with {} sources", source_count);
    crate::notify::notify(&format!("READY=1\nSTATUS=running {source_count} sources"));
    if let Some(every) = crate::notify::watchdog_interval() {
        tasks.spawn(watchdog(pipeline.handle(), every, stop.clone()));
    }
    if config.store.is_some() {
        tasks.spawn(report_store_link(pipeline.handle(), config.node.name.clone(), stop.clone()));
    }
    shutdown.await;
    crate::notify::notify("STOPPING=1");
    tracing::info!("stopping: sources first, then the pipeline");
    stop.trigger();
    let all_stopped = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(SOURCES_GRACE, all_stopped).await.is_err() {
        tracing::warn!(
            "{} tasks did not stop within {}s (a server or a sink that does not answer); leaving them",
            tasks.len(),
            SOURCES_GRACE.as_secs()
        );
        tasks.abort_all();
    }
    // Given back now: another node takes the sources over at its next renewal.
    match std::sync::Arc::try_unwrap(leases) {
        Ok(leases) => leases.stop(),
        Err(_) => tracing::debug!("the leases are given back when the last task lets them go"),
    }
    let finish = tokio::task::spawn_blocking(move || pipeline.finish());
    match tokio::time::timeout(PIPELINE_GRACE, finish).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => {
            tracing::error!("cannot stop the pipeline cleanly: {e}; the index catches up at the next start")
        }
        Ok(Err(e)) => tracing::error!("cannot stop the pipeline: {e}"),
        Err(_) => tracing::warn!(
            "the pipeline did not finish within {}s; what it had not stored is fetched again at the next start",
            PIPELINE_GRACE.as_secs()
        ),
    }
    let _ = std::fs::remove_file(&pid_file);
    tracing::info!("stopped");
    Ok(())
}

/// The status row of this node's connections to the store.
pub fn store_link_status(node: &str) -> String {
    format!("{STORE_LINK_PREFIX}{node}")
}

/// Status rows named so are a node's connections to the store, not sources.
pub const STORE_LINK_PREFIX: &str = "store@";

/// Records in `kronika status` how this node's connections to PostgreSQL
/// fare: an outage shows once the store can be written again (it cannot
/// be while the server is away), with when it began and ended.
async fn report_store_link(pipeline: PipelineHandle, node: String, stop: Shutdown) {
    let name = store_link_status(&node);
    let mut written: Option<crate::store::db::LinkState> = None;
    loop {
        let now = crate::store::db::link_state();
        if written.as_ref() != Some(&now) {
            let error = match (&now.down_since, &now.last_outage) {
                (Some(from), _) => Some(format!(
                    "unreachable since {}: {}",
                    from.format("%Y-%m-%d %H:%M:%S UTC"),
                    now.last_error.as_deref().unwrap_or("?")
                )),
                (None, Some((from, to))) => Some(format!(
                    "lost from {} to {} ({} s): {}; reconnected",
                    from.format("%Y-%m-%d %H:%M:%S UTC"),
                    to.format("%H:%M:%S"),
                    (*to - *from).num_seconds(),
                    now.last_error.as_deref().unwrap_or("?")
                )),
                (None, None) => None,
            };
            let state = match (now.down_since.is_some(), now.reconnects) {
                (true, _) => "reconnecting".to_string(),
                (false, 0) => "connected".to_string(),
                (false, n) => format!("connected ({n} reconnects)"),
            };
            pipeline.status(&name, &state, error, None);
            written = Some(now);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.wait() => return,
        }
    }
}

/// Backs up into `[backup] dir` whenever the newest backup there is older
/// than `every` (at the start too, when it is), keeping the newest `keep`.
/// The outcome shows in `kronika status` as the source `backup`. A failed
/// backup is tried again in an hour (or `every`, when that is shorter).
async fn scheduled_backups(config: Config, b: crate::config::BackupConfig, pipeline: PipelineHandle, stop: Shutdown) {
    let retry = b.every.min(Duration::from_secs(3600));
    loop {
        let due = crate::backup::next_due(&b.dir, b.every);
        // The wall clock decides (a laptop that slept is not behind a
        // monotonic timer): look again at least every ten minutes.
        let wait = (due - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO).min(Duration::from_secs(600));
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => continue,
                _ = stop.wait() => return,
            }
        }
        if stop.is_triggered() {
            return;
        }
        pipeline.status("backup", "backing up", None, None);
        let (c, dir, keep) = (config.clone(), b.dir.clone(), b.keep);
        let outcome = tokio::task::spawn_blocking(move || crate::backup::scheduled(&c, &dir, keep)).await;
        match outcome {
            Ok(Ok((path, m))) => {
                tracing::info!("backed up {} items and {} files into {}", m.items, m.files, path.display());
                pipeline.status("backup", "ok", None, None);
            }
            Ok(Err(e)) => {
                tracing::error!(
                    "cannot back up into {}: {e}; trying again in {} min",
                    b.dir.display(),
                    retry.as_secs() / 60
                );
                pipeline.status("backup", "failed", Some(e.to_string()), None);
                tokio::select! {
                    _ = tokio::time::sleep(retry) => {}
                    _ = stop.wait() => return,
                }
            }
            Err(e) => {
                tracing::error!("cannot back up: {e}");
                return;
            }
        }
    }
}

/// Keeps systemd's watchdog fed while the pipeline's store thread answers
/// within `every`: a daemon whose writer hangs stops feeding it, and
/// systemd restarts it (`WatchdogSec=`).
async fn watchdog(pipeline: PipelineHandle, every: Duration, stop: Shutdown) {
    loop {
        let alive = tokio::time::timeout(every, pipeline.ping()).await;
        match alive {
            Ok(Ok(())) => {
                crate::notify::notify("WATCHDOG=1");
            }
            Ok(Err(_)) => return,
            Err(_) => tracing::warn!("the store thread has not answered for {} s", every.as_secs()),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait() => return,
        }
    }
}

/// SIGHUP (`systemctl reload`), as a stream of nudges; none off Unix or
/// when the handler cannot be installed.
fn hangups(stop: Shutdown) -> tokio::sync::mpsc::UnboundedReceiver<()> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hup) => {
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            Some(()) = hup.recv() => { let _ = tx.send(()); }
                            _ = stop.wait() => return,
                        }
                    }
                });
            }
            Err(e) => tracing::warn!("cannot listen for SIGHUP ({e}); the config is still followed every second"),
        }
    }
    #[cfg(not(unix))]
    drop((tx, stop));
    rx
}

/// Follows the config file, when it changes and at once on SIGHUP
/// (`systemctl reload`): the matching policy (own addresses and domains,
/// free mail, blocklist) applies to everything that arrives next; sources
/// added, removed or changed are started and stopped ([`supervise`]), the
/// others go on. A broken edit is reported and the running config kept.
async fn follow_config(
    config: Config,
    pipeline: PipelineHandle,
    sources: tokio::sync::mpsc::UnboundedSender<Config>,
    mut hangups: tokio::sync::mpsc::UnboundedReceiver<()>,
    stop: Shutdown,
) {
    let path = config.path.clone();
    let mut policy = config.policy();
    // What only a restart applies.
    let shape = |c: &Config| format!("{:?}{:?}{:?}{:?}", c.reminders, c.data_dir, c.web, c.backup);
    let mut running = shape(&config);
    let stamp = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.modified().ok(), m.len()));
    let mut seen = stamp(&path);
    let mut reported: Option<String> = None;
    loop {
        let forced = tokio::select! {
            _ = tokio::time::sleep(CONFIG_POLL) => false,
            Some(()) = hangups.recv() => true,
            _ = stop.wait() => return,
        };
        let now = stamp(&path);
        if now == seen && !forced {
            continue;
        }
        seen = now;
        if forced {
            tracing::info!("reloading {} (SIGHUP)", path.display());
            crate::notify::notify(&format!("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
        }
        match Config::load(&path) {
            Ok(config) => {
                reported = None;
                let next = config.policy();
                if next != policy {
                    tracing::info!(
                        "{} changed: own addresses, free mail and the blocklist apply from now on (`kronika rematch` applies them to the stored history)",
                        path.display()
                    );
                    pipeline.set_policy(next.clone());
                    policy = next;
                }
                let now = shape(&config);
                if now != running {
                    tracing::warn!(
                        "{} changed its reminders, web, backup or data_dir: restart kronika to apply them",
                        path.display()
                    );
                    running = now;
                }
                let _ = sources.send(config);
            }
            Err(e) => {
                let text = e.to_string();
                if reported.as_deref() != Some(text.as_str()) {
                    tracing::error!("{text}; the running config stays in use until the file is fixed");
                    reported = Some(text);
                }
            }
        }
        if forced {
            crate::notify::notify("READY=1");
        }
    }
}

/// CLOCK_MONOTONIC in microseconds, as systemd reads `MONOTONIC_USEC`.
fn monotonic_usec() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec.max(0) as u64).saturating_mul(1_000_000).saturating_add((ts.tv_nsec.max(0) as u64) / 1000)
}

/// How often the daemon looks at its config file.
const CONFIG_POLL: Duration = Duration::from_secs(1);

/// The pid of a running daemon for this data folder, if any.
pub fn running_pid(config: &Config) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(config.data_dir.join("kronika.pid")).ok()?.trim().parse().ok()?;
    #[cfg(unix)]
    {
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
        alive.then_some(pid)
    }
    #[cfg(not(unix))]
    {
        Some(pid)
    }
}

/// Delays between retries of a failing source: 1 s doubling to 5 min, with jitter.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.min(8)).min(Duration::from_secs(300));
    // Jitter without a random crate: up to a quarter, from the clock's nanoseconds.
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

/// Runs a source while this daemon holds its lease ([`crate::leases`]).
async fn leased(
    source: Box<dyn Source>,
    make: SourceFactory,
    ctx: SyncContext,
    config_path: PathBuf,
    owned: crate::leases::Owned,
) {
    let stop = ctx.shutdown.clone();
    let mut source = Some(source);
    let make = &make;
    run_while_leased(owned, stop, "the source", |run| {
        let run_ctx = SyncContext { shutdown: run, ..ctx.clone() };
        let source = source.take().unwrap_or_else(make);
        let config_path = config_path.clone();
        // It ends by itself only when the pipeline has stopped.
        async move { keep_going(source, make, run_ctx, config_path).await }
    })
    .await
}

/// The lease of the reminder engine: one daemon delivers them.
pub const REMINDERS_LEASE: &str = "reminders";

/// Runs the reminder engine while this daemon holds [`REMINDERS_LEASE`].
async fn leased_reminders(
    config: Config,
    rc: crate::config::RemindersConfig,
    feed: PathBuf,
    owned: crate::leases::Owned,
    stop: Shutdown,
) {
    run_while_leased(owned, stop, "the reminders", |run| {
        let (config, rc, feed) = (config.clone(), rc.clone(), feed.clone());
        async move {
            let mut failures = 0u32;
            let store = loop {
                match Store::open_config(&config) {
                    Ok(s) => break s,
                    Err(e) => {
                        let wait = backoff(failures);
                        failures = failures.saturating_add(1);
                        tracing::error!(
                            "cannot open the store for reminders: {e}; trying again in {}s",
                            wait.as_secs()
                        );
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = run.wait() => return,
                        }
                    }
                }
            };
            let engine = crate::reminders::Reminders::new(
                rc.clone(),
                store,
                std::sync::Arc::new(crate::reminders::SystemClock),
                crate::reminders::sinks(&rc, &run),
                Some(feed),
            )
            .with_figures(config.figures.clone());
            engine.run(async move { run.wait().await }).await
        }
    })
    .await
}

/// Runs what `start` makes (given the shutdown that ends it) while this
/// daemon holds the lease `owned`: waits for the lease, runs until the
/// daemon stops or the lease is lost (another daemon holds it, or it
/// could not be renewed in time), and waits again. What runs may block
/// its task (a reminder command sink does): the stop reaches it from a
/// task of its own. Returns when the daemon stops, or when what runs ends
/// by itself (the pipeline stopped).
async fn run_while_leased<F, Fut>(mut owned: crate::leases::Owned, stop: Shutdown, what: &str, mut start: F)
where
    F: FnMut(Shutdown) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        if !wait_until_owned(&mut owned, &stop).await {
            return;
        }
        let run = Shutdown::new();
        let (s, r) = (stop.clone(), run.clone());
        let follow = tokio::spawn(async move {
            s.wait().await;
            r.trigger();
        });
        let running = start(run.clone());
        tokio::pin!(running);
        let by_itself = tokio::select! {
            _ = &mut running => true,
            _ = stop.wait() => false,
            _ = wait_until_lost(&mut owned) => false,
        };
        if !by_itself {
            run.trigger();
            running.await;
        }
        follow.abort();
        if by_itself || stop.is_triggered() {
            return;
        }
        tracing::warn!(
            "this node no longer holds the lease of {what} (another node took it, or the store could not be \
             reached to renew it); waiting for the lease"
        );
    }
}

/// Waits until `owned` says the lease is ours; false when `stop` comes
/// first or the keeper is gone.
async fn wait_until_owned(owned: &mut crate::leases::Owned, stop: &Shutdown) -> bool {
    loop {
        if stop.is_triggered() {
            return false;
        }
        if *owned.borrow_and_update() {
            return true;
        }
        tokio::select! {
            r = owned.changed() => if r.is_err() { return false },
            _ = stop.wait() => return false,
        }
    }
}

/// Resolves when `owned` says the lease is no longer ours (or the keeper is gone).
async fn wait_until_lost(owned: &mut crate::leases::Owned) {
    loop {
        if !*owned.borrow_and_update() {
            return;
        }
        if owned.changed().await.is_err() {
            return;
        }
    }
}

async fn keep_going(mut source: Box<dyn Source>, make: &SourceFactory, ctx: SyncContext, config_path: PathBuf) {
    use futures::FutureExt;
    let name = source.name().to_string();
    let status = |state: &str, error: Option<String>, counts: Option<&Counts>| {
        ctx.pipeline.status(&name, state, error, counts);
    };
    let stop = ctx.shutdown.clone();
    let mut failures = 0u32;
    let mut last_error: Option<String> = None;
    // Waits out a failure with backoff; false when the daemon stops meanwhile.
    let retry = |failures: &mut u32, e: &SourceError, verb: &str| {
        let wait = backoff(*failures);
        *failures = failures.saturating_add(1);
        let text = e.to_string();
        tracing::warn!("{text}; {verb} in {}s", wait.as_secs());
        status(&format!("retrying in {}s", wait.as_secs()), Some(text), None);
        let stop = stop.clone();
        async move {
            tokio::select! {
                _ = tokio::time::sleep(wait) => true,
                _ = stop.wait() => false,
            }
        }
    };
    loop {
        if stop.is_triggered() {
            status("stopped", None, None);
            return;
        }
        status("syncing", None, None);
        // A panic is a bug; it must not end the source for good. The
        // source is built anew (its caches may be half updated) and
        // retried with backoff like any other failure.
        let outcome = tokio::select! {
            r = std::panic::AssertUnwindSafe(source.sync(&ctx)).catch_unwind() => Some(r.unwrap_or_else(|p| {
                Err(SourceError::Bug { what: name.clone(), reason: crate::sources::panic_text(p.as_ref()) })
            })),
            _ = stop.wait() => None,
        };
        if matches!(outcome, Some(Err(SourceError::Bug { .. }))) {
            source = make();
        }
        match outcome {
            None => {
                status("stopped", None, None);
                return;
            }
            Some(Ok(counts)) => {
                failures = 0;
                last_error = None;
                if counts.new > 0 || counts.gone > 0 || counts.skipped_total() > 0 {
                    tracing::info!("{counts}");
                }
                status("ok", None, Some(&counts));
                give_back_freed_memory();
                // New items become searchable now, not at the next batch.
                if counts.new > 0
                    && let Err(e) = ctx.pipeline.flush().await
                {
                    tracing::error!("{e}");
                }
            }
            Some(Err(SourceError::Pipeline(PipelineError::Stopped))) => {
                // Only a stopping daemon stops its pipeline.
                tracing::debug!("the pipeline has stopped");
                return;
            }
            Some(Err(e @ (SourceError::Auth { .. } | SourceError::LoginNeeded { .. }))) => {
                // Reported once; then wait long (or for the config or the
                // kept sign-in to change) instead of hammering the server.
                let text = e.to_string();
                let (state, watch) = match &e {
                    SourceError::LoginNeeded { watch, .. } => (e.state(), Some(watch.clone())),
                    _ => (e.state(), None),
                };
                if last_error.as_deref() != Some(text.as_str()) {
                    match &watch {
                        Some(_) => tracing::error!("{text}; waiting for the new sign-in or a config change"),
                        None => tracing::error!(
                            "{text}; waiting for a config change or {} minutes",
                            AUTH_WAIT.as_secs() / 60
                        ),
                    }
                }
                status(state, Some(text.clone()), None);
                last_error = Some(text);
                let watched: Vec<&Path> = std::iter::once(config_path.as_path()).chain(watch.as_deref()).collect();
                // A wrong password is tried again after a while; a sign-in
                // the provider refused only comes back by `kronika login`.
                let max = if watch.is_some() { None } else { Some(AUTH_WAIT) };
                if !wait_for_change(&watched, max, &stop).await {
                    status("stopped", None, None);
                    return;
                }
                continue;
            }
            Some(Err(e)) => {
                // A server that is down, a folder that is gone, a busy
                // database or a failed write: all retried, never the end.
                last_error = Some(e.to_string());
                if !retry(&mut failures, &e, "retrying").await {
                    status("stopped", None, None);
                    return;
                }
                continue;
            }
        }
        status("watching", None, None);
        let changed = tokio::select! {
            r = source.changed() => Some(r),
            _ = stop.wait() => None,
        };
        match changed {
            None => {
                status("stopped", None, None);
                return;
            }
            Some(Ok(())) => {}
            Some(Err(e)) => {
                if !retry(&mut failures, &e, "reconnecting").await {
                    status("stopped", None, None);
                    return;
                }
            }
        }
    }
}

/// How long a source waits after an authentication failure.
const AUTH_WAIT: Duration = Duration::from_secs(30 * 60);

/// Waits until one of `paths` changes (the user fixed the account, its
/// password command, or signed in again), `max` passes, or the daemon
/// stops (returns false).
async fn wait_for_change(paths: &[&Path], max: Option<Duration>, stop: &Shutdown) -> bool {
    let stamp = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.modified().ok(), m.len()));
    let before: Vec<_> = paths.iter().map(|p| stamp(p)).collect();
    let deadline = max.map(|m| tokio::time::Instant::now() + m);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.wait() => return false,
        }
        let now: Vec<_> = paths.iter().map(|p| stamp(p)).collect();
        if now != before || deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return true;
        }
    }
}

/// Hands memory that is free again back to the system. A pass over a big
/// Maildir lists every file (a million names, ~150 MB) and frees them
/// again, but glibc keeps freed memory in its arenas: at a million items
/// the idle daemon held 362 MB, 199 MB after trimming.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source whose first build panics in `sync`; later builds work.
    struct Flaky {
        builds: usize,
        syncs: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Source for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn sync<'a>(&'a mut self, _: &'a SyncContext) -> crate::sources::BoxFuture<'a, Result<Counts, SourceError>> {
            self.syncs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let first = self.builds == 1;
            Box::pin(async move {
                if first {
                    panic!("a bug on purpose");
                }
                Ok(Counts::default())
            })
        }
        fn changed(&mut self) -> crate::sources::BoxFuture<'_, Result<(), SourceError>> {
            Box::pin(std::future::pending())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_panics_is_built_anew_and_goes_on() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let store = Store::open_in_memory(crate::matcher::Policy::default()).unwrap();
        let pipeline = Pipeline::start(store, None, PipelineOptions::default()).unwrap();
        let builds = Arc::new(AtomicUsize::new(0));
        let syncs = Arc::new(AtomicUsize::new(0));
        let make: SourceFactory = {
            let (builds, syncs) = (builds.clone(), syncs.clone());
            Box::new(move || {
                let n = builds.fetch_add(1, Ordering::SeqCst) + 1;
                Box::new(Flaky { builds: n, syncs: syncs.clone() })
            })
        };
        let stop = Shutdown::new();
        let ctx = SyncContext {
            pipeline: pipeline.handle(),
            progress: indicatif::ProgressBar::hidden(),
            shutdown: stop.clone(),
        };
        let task =
            tokio::spawn(
                async move { keep_going(make(), &make, ctx, PathBuf::from("/nonexistent/kronika.toml")).await },
            );
        while syncs.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(builds.load(Ordering::SeqCst), 2, "built anew after the panic");
        stop.trigger();
        task.await.unwrap();
        pipeline.finish().unwrap();
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert!(backoff(0) >= Duration::from_secs(1) && backoff(0) < Duration::from_secs(2));
        assert!(backoff(3) >= Duration::from_secs(8));
        assert!(backoff(30) <= Duration::from_secs(375));
    }
}
