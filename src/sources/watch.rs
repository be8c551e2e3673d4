//! Watching a folder tree for changes (notify), shared by the folder
//! sources. Every event that is not ignored, and every watcher error
//! (including a queue overflow), means "rescan": the sources compare the
//! whole folder with the store, so no event detail is needed.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::path::Path;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// A recursive watch on a folder.
pub struct FolderWatch {
    _watcher: notify::RecommendedWatcher,
    rx: mpsc::UnboundedReceiver<()>,
}

impl FolderWatch {
    /// Watches `root`; events whose paths are all `ignored` do not count.
    pub fn new(root: &Path, ignored: fn(&Path) -> bool) -> notify::Result<FolderWatch> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            let relevant = match &ev {
                Ok(e) => !e.kind.is_access() && !e.paths.iter().all(|p| ignored(p)),
                Err(_) => true,
            };
            if relevant {
                let _ = tx.send(());
            }
        })?;
        watcher.watch(root, RecursiveMode::Recursive)?;
        Ok(FolderWatch { _watcher: watcher, rx })
    }

    /// Waits for a change (or at most `limit`, when given), then for `quiet`
    /// without events, so that a burst (a whole mbsync run, an editor's
    /// save) becomes one rescan; but never longer than [`MAX_SETTLE`], so
    /// that mail arriving without pause is still read. False when the
    /// watcher has stopped.
    pub async fn changed(&mut self, limit: Option<Duration>, quiet: Duration) -> bool {
        let first = match limit {
            Some(l) => tokio::time::timeout(l, self.rx.recv()).await.unwrap_or(Some(())),
            None => self.rx.recv().await,
        };
        if first.is_none() {
            return false;
        }
        settle(&mut self.rx, quiet, MAX_SETTLE).await;
        true
    }
}

/// The longest a change waits for its burst to end: a folder that keeps
/// receiving mail (faster than `quiet`) is rescanned at least this often.
pub const MAX_SETTLE: Duration = Duration::from_secs(2);

/// Swallows events until `quiet` passes without one, or `max` has passed.
async fn settle(rx: &mut mpsc::UnboundedReceiver<()>, quiet: Duration, max: Duration) {
    let deadline = tokio::time::Instant::now() + max;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return;
        }
        match tokio::time::timeout(quiet.min(left), rx.recv()).await {
            Ok(Some(())) => {}
            Ok(None) | Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_settles_after_quiet_and_steady_events_after_the_limit() {
        // A burst of five events 50 ms apart, then quiet: settles 200 ms after the last.
        let (tx, mut rx) = mpsc::unbounded_channel();
        let burst = tx.clone();
        tokio::spawn(async move {
            for _ in 0..5 {
                let _ = burst.send(());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        tokio::task::yield_now().await;
        let t = tokio::time::Instant::now();
        settle(&mut rx, Duration::from_millis(200), MAX_SETTLE).await;
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(400) && took < Duration::from_millis(500), "{took:?}");

        // An event every 100 ms without end: settles at the limit.
        tokio::spawn(async move {
            loop {
                if tx.send(()).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let t = tokio::time::Instant::now();
        settle(&mut rx, Duration::from_millis(200), MAX_SETTLE).await;
        assert_eq!(t.elapsed(), MAX_SETTLE);
    }
}
