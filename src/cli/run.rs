//! `kronika import`, `kronika sync`, `kronika run`: everything that feeds
//! the pipeline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::Context_;
use crate::daemon;
use crate::pipeline::{Counts, PipelineOptions};
use crate::sources::Source;
use crate::sources::archive::{ArchiveKind, ArchiveSource};
use crate::sources::maildir::MaildirSource;

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import a Maildir tree (every folder with cur/ or new/ below PATH).
    Maildir { path: PathBuf },
    /// Import an mbox file (mboxrd quoting is undone).
    Mbox { path: PathBuf },
    /// Import single .eml files.
    Eml {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn progress_bar(label: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr_with_hz(5));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}

fn print_counts(name: &str, c: &Counts) {
    println!("{name}: {c}");
    for (reason, n) in &c.skipped {
        println!("  skipped {n}: {reason}");
    }
}

pub fn import(ctx: &Context_, cmd: ImportCmd) -> Result<ExitCode> {
    let config = ctx.config()?;
    let mut source: Box<dyn Source> = match cmd {
        ImportCmd::Maildir { path } => {
            if !path.is_dir() {
                bail!("cannot import {}: it is not a folder", path.display());
            }
            Box::new(MaildirSource::new(path.display().to_string(), path))
        }
        ImportCmd::Mbox { path } => {
            if !path.is_file() {
                bail!("cannot import {}: it is not a file", path.display());
            }
            Box::new(ArchiveSource::new(ArchiveKind::Mbox, vec![path]))
        }
        ImportCmd::Eml { files } => Box::new(ArchiveSource::new(ArchiveKind::Eml, files)),
    };
    let rt = runtime()?;
    let pipeline = daemon::start_pipeline(&config, PipelineOptions::default())?;
    let started = std::time::Instant::now();
    let mut results = rt.block_on(daemon::sync_once(std::slice::from_mut(&mut source), &pipeline, progress_bar));
    pipeline.finish().map_err(|e| anyhow::anyhow!(e))?;
    let r = results.remove(0);
    let counts = r.result.with_context(|| format!("cannot import {}", r.source))?;
    print_counts(&r.source, &counts);
    tracing::info!("import took {:.1}s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

pub fn sync(ctx: &Context_) -> Result<ExitCode> {
    let config = ctx.config()?;
    let mut sources = daemon::sources(&config);
    if sources.is_empty() {
        println!("no sources in {}: add [[maildir]] sections", config.path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let rt = runtime()?;
    let pipeline = daemon::start_pipeline(&config, PipelineOptions::default())?;
    let results = rt.block_on(daemon::sync_once(&mut sources, &pipeline, progress_bar));
    pipeline.finish().map_err(|e| anyhow::anyhow!(e))?;
    let mut failed = Vec::new();
    for r in results {
        match r.result {
            Ok(c) => print_counts(&r.source, &c),
            Err(e) => {
                eprintln!("{}: {e}", r.source);
                failed.push(r.source);
            }
        }
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("kronika: cannot sync {}", failed.join(", "));
        Ok(ExitCode::from(1))
    }
}

pub fn run(ctx: &Context_) -> Result<ExitCode> {
    let config = ctx.config()?;
    let rt = runtime()?;
    let result = rt.block_on(daemon::run(&config, shutdown_signal()));
    // A blocking call still waiting on a server (bounded by its own
    // timeout) does not hold the exit: `run` has stored what it could.
    rt.shutdown_timeout(std::time::Duration::from_millis(500));
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves at the first SIGINT or SIGTERM; a second one exits at once.
pub(crate) async fn shutdown_signal() {
    wait_signal().await;
    eprintln!("kronika: stopping (a second signal forces the exit)");
    tokio::spawn(async {
        wait_signal().await;
        eprintln!("kronika: forced exit");
        std::process::exit(130);
    });
}

async fn wait_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
