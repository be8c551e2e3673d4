//! The daemon: starts every configured source, keeps each one going on its
//! own (a failing source backs off and retries; the others go on), and
//! shuts down in order: sources stop, the pipeline drains, the index
//! commits, the store closes.
//!
//! Shutdown is injected (`run(config, shutdown)`), so tests stop it with a
//! channel and `main` with signals.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tracing::Instrument;

use crate::config::Config;
use crate::index::SearchIndex;
use crate::pipeline::{Counts, Pipeline, PipelineOptions};
use crate::sources::maildir::MaildirSource;
use crate::sources::{Source, SourceError, SyncContext};
use crate::store::Store;

/// Builds a source for every source section of the config.
pub fn sources(config: &Config) -> Vec<Box<dyn Source>> {
    let mut out: Vec<Box<dyn Source>> = Vec::new();
    for m in &config.maildirs {
        out.push(Box::new(MaildirSource::new(m.name.clone(), m.path.clone())));
    }
    for n in &config.notes {
        out.push(Box::new(crate::sources::notes::NotesSource::new(
            &n.name,
            &n.path,
            n.kind,
            n.patterns.clone(),
            n.max_bytes,
        )));
    }
    for c in &config.calendars {
        out.push(Box::new(crate::sources::ics::IcsSource::new(
            &c.name,
            c.feed.clone(),
            c.poll_interval,
            c.past,
            c.future,
        )));
    }
    for account in &config.imap {
        out.push(Box::new(crate::sources::imap::ImapSource::new(account.clone())));
    }
    out
}

/// Opens the store and the index and starts the pipeline.
pub fn start_pipeline(config: &Config, options: PipelineOptions) -> anyhow::Result<Pipeline> {
    use anyhow::Context;
    let store = Store::open(&config.db_path(), config.policy())
        .with_context(|| format!("cannot open the store in {}", config.data_dir.display()))?;
    let index = SearchIndex::open(&config.index_path())?;
    Ok(Pipeline::start(store, Some(index), options))
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
        let ctx = SyncContext { pipeline: pipeline.handle(), progress: progress(&name), stop: Arc::default() };
        let result = s.sync(&ctx).instrument(tracing::info_span!("source", name = %name)).await;
        ctx.progress.finish_and_clear();
        match &result {
            Ok(c) => ctx.pipeline.status(&name, "ok", None, Some(c)),
            Err(e) => ctx.pipeline.status(&name, "failed", Some(e.to_string()), None),
        }
        out.push(SyncResult { source: name, result });
    }
    out
}

/// Runs the daemon until `shutdown` resolves.
pub async fn run(config: &Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let sources = sources(config);
    if sources.is_empty() {
        tracing::warn!("no sources in {}; add [[maildir]] sections", config.path.display());
    }
    let pipeline = start_pipeline(config, PipelineOptions::default())?;
    let pid_file = config.data_dir.join("kronika.pid");
    if let Err(e) = std::fs::write(&pid_file, std::process::id().to_string()) {
        tracing::warn!("cannot write {}: {e}", pid_file.display());
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_flag = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for source in sources {
        let name = source.name().to_string();
        let ctx = SyncContext {
            pipeline: pipeline.handle(),
            progress: indicatif::ProgressBar::hidden(),
            stop: stop_flag.clone(),
        };
        let span = tracing::info_span!("source", name = %name);
        tasks.spawn(keep_going(source, ctx, stop_rx.clone(), config.path.clone()).instrument(span));
    }
    if let Some(rc) = &config.reminders {
        let store = Store::open(&config.db_path(), config.policy())
            .map_err(|e| anyhow::anyhow!("cannot open the store for reminders: {e}"))?;
        let feed = config.data_dir.join("kronika-reminders.ics");
        let engine = crate::reminders::Reminders::new(
            rc.clone(),
            store,
            Arc::new(crate::reminders::SystemClock),
            crate::reminders::sinks(rc),
            Some(feed.clone()),
        )
        .with_figures(config.figures.clone());
        let mut rx = stop_rx.clone();
        tasks.spawn(
            async move {
                engine
                    .run(async move {
                        let _ = rx.wait_for(|v| *v).await;
                    })
                    .await
            }
            .instrument(tracing::info_span!("reminders")),
        );
        if let Some(addr) = rc.serve {
            let mut rx = stop_rx.clone();
            tasks.spawn(async move {
                if let Err(e) = crate::reminders::serve_feed(addr, feed, async move {
                    let _ = rx.wait_for(|v| *v).await;
                })
                .await
                {
                    tracing::error!("cannot serve the reminder feed on {addr}: {e}");
                }
            });
        }
    }
    tracing::info!("kronika is running with {} sources", tasks.len());
    shutdown.await;
    tracing::info!("stopping: sources first, then the pipeline");
    stop_flag.store(true, Ordering::SeqCst);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    tokio::task::spawn_blocking(move || pipeline.finish())
        .await
        .map_err(|e| anyhow::anyhow!("cannot stop the pipeline: {e}"))?
        .map_err(|e| anyhow::anyhow!("cannot stop the pipeline cleanly: {e}"))?;
    let _ = std::fs::remove_file(&pid_file);
    tracing::info!("stopped");
    Ok(())
}

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

async fn keep_going(
    mut source: Box<dyn Source>,
    ctx: SyncContext,
    mut stop: watch::Receiver<bool>,
    config_path: PathBuf,
) {
    let name = source.name().to_string();
    let status = |state: &str, error: Option<String>, counts: Option<&Counts>| {
        ctx.pipeline.status(&name, state, error, counts);
    };
    let mut failures = 0u32;
    let mut last_error: Option<String> = None;
    loop {
        if *stop.borrow() {
            status("stopped", None, None);
            return;
        }
        status("syncing", None, None);
        let outcome = tokio::select! {
            r = source.sync(&ctx) => Some(r),
            _ = stop.changed() => None,
        };
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
                // New items become searchable now, not at the next batch.
                if counts.new > 0
                    && let Err(e) = ctx.pipeline.flush().await
                {
                    tracing::error!("{e}");
                }
            }
            Some(Err(SourceError::Pipeline(e))) => {
                tracing::error!("{e}");
                return;
            }
            Some(Err(e @ SourceError::Auth { .. })) => {
                // Reported once; then wait long (or for the config to change)
                // instead of hammering the server with a wrong password.
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::error!("{text}; waiting for a config change or {} minutes", AUTH_WAIT.as_secs() / 60);
                }
                status("auth failed", Some(text.clone()), None);
                last_error = Some(text);
                if !wait_for_config_change(&config_path, AUTH_WAIT, &mut stop).await {
                    status("stopped", None, None);
                    return;
                }
                continue;
            }
            Some(Err(e)) => {
                let wait = backoff(failures);
                failures += 1;
                let text = e.to_string();
                tracing::warn!("{text}; retrying in {}s", wait.as_secs());
                status(&format!("retrying in {}s", wait.as_secs()), Some(text.clone()), None);
                last_error = Some(text);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = stop.changed() => {
                        status("stopped", None, None);
                        return;
                    }
                }
            }
        }
        status("watching", None, None);
        let changed = tokio::select! {
            r = source.changed() => Some(r),
            _ = stop.changed() => None,
        };
        match changed {
            None => {
                status("stopped", None, None);
                return;
            }
            Some(Ok(())) => {}
            Some(Err(e)) => {
                let wait = backoff(failures);
                failures += 1;
                let text = e.to_string();
                tracing::warn!("{text}; reconnecting in {}s", wait.as_secs());
                status(&format!("retrying in {}s", wait.as_secs()), Some(text), None);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {
                        status("stopped", None, None);
                        return;
                    }
                }
            }
        }
    }
}

/// How long a source waits after an authentication failure.
const AUTH_WAIT: Duration = Duration::from_secs(30 * 60);

/// Waits until the config file changes (the user fixed the account or its
/// password command), `max` passes, or the daemon stops (returns false).
async fn wait_for_config_change(path: &Path, max: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let before = mtime(path);
    let deadline = tokio::time::Instant::now() + max;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => return false,
        }
        if mtime(path) != before || tokio::time::Instant::now() >= deadline {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert!(backoff(0) >= Duration::from_secs(1) && backoff(0) < Duration::from_secs(2));
        assert!(backoff(3) >= Duration::from_secs(8));
        assert!(backoff(30) <= Duration::from_secs(375));
    }
}
