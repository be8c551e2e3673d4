//! Watching a folder tree for changes (notify), shared by the folder
//! sources. A change is the set of paths the events named, so that a
//! source may look at just those (a new mail in a mailbox of 300,000 is
//! one file read, not a listing of the tree). Every watcher error, a queue
//! overflow, an event that asks for a rescan and a burst of more than
//! [`MAX_PATHS`] paths mean "rescan": the source compares the whole folder
//! with the store.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// A recursive watch on a folder.
pub struct FolderWatch {
    _watcher: notify::RecommendedWatcher,
    rx: mpsc::UnboundedReceiver<Event>,
}

/// What the watcher callback passes on.
enum Event {
    Paths(Vec<PathBuf>),
    Rescan,
}

/// Beyond this many paths in one change, the source rescans everything.
pub const MAX_PATHS: usize = 20_000;

/// What changed below the root since the last [`FolderWatch::changed`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Compare the whole folder: the paths below are not the whole story.
    pub rescan: bool,
    /// Paths named by the events (files or folders; created, renamed,
    /// written or removed: the source looks at what is there now).
    pub paths: HashSet<PathBuf>,
}

impl Changes {
    fn add(&mut self, ev: Event) {
        match ev {
            Event::Rescan => self.rescan = true,
            Event::Paths(p) => self.extend(p),
        }
        if self.rescan {
            self.paths = HashSet::new();
        }
    }

    /// Adds what a later change named (its rescan included), with the
    /// same bound as the events themselves.
    pub fn merge(&mut self, later: Changes) {
        self.add(if later.rescan { Event::Rescan } else { Event::Paths(later.paths.into_iter().collect()) });
    }

    fn extend(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        if self.rescan {
            return;
        }
        self.paths.extend(paths);
        if self.paths.len() > MAX_PATHS {
            self.rescan = true;
        }
    }
}

impl FolderWatch {
    /// Watches `root`; events whose paths are all `ignored` do not count.
    pub fn new(root: &Path, ignored: fn(&Path) -> bool) -> notify::Result<FolderWatch> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            let event = match ev {
                Ok(e) if e.need_rescan() => Event::Rescan,
                Ok(e) if e.kind.is_access() || e.paths.iter().all(|p| ignored(p)) => return,
                Ok(e) if e.paths.is_empty() => Event::Rescan,
                Ok(e) => Event::Paths(e.paths.into_iter().filter(|p| !ignored(p)).collect()),
                Err(_) => Event::Rescan,
            };
            let _ = tx.send(event);
        })?;
        watcher.watch(root, RecursiveMode::Recursive)?;
        Ok(FolderWatch { _watcher: watcher, rx })
    }

    /// Waits for a change (or at most `limit`, when given), then for `quiet`
    /// without events, so that a burst (a whole mbsync run, an editor's
    /// save) becomes one rescan; but never longer than [`MAX_SETTLE`], so
    /// that mail arriving without pause is still read. None when the
    /// watcher has stopped; a `limit` that passes without events is a
    /// rescan.
    pub async fn changed(&mut self, limit: Option<Duration>, quiet: Duration) -> Option<Changes> {
        let first = match limit {
            Some(l) => tokio::time::timeout(l, self.rx.recv()).await.unwrap_or(Some(Event::Rescan)),
            None => self.rx.recv().await,
        };
        let mut changes = Changes::default();
        changes.add(first?);
        settle(&mut self.rx, &mut changes, quiet, MAX_SETTLE).await;
        Some(changes)
    }
}

/// The longest a change waits for its burst to end: a folder that keeps
/// receiving mail (faster than `quiet`) is passed over at least this
/// often. A pass looks at the files named, so a short wait is cheap (it
/// was 2 s while every pass listed the whole tree).
pub const MAX_SETTLE: Duration = Duration::from_millis(500);

/// Gathers events until `quiet` passes without one, or `max` has passed.
async fn settle(rx: &mut mpsc::UnboundedReceiver<Event>, changes: &mut Changes, quiet: Duration, max: Duration) {
    let deadline = tokio::time::Instant::now() + max;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return;
        }
        match tokio::time::timeout(quiet.min(left), rx.recv()).await {
            Ok(Some(ev)) => changes.add(ev),
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
            for i in 0..5 {
                let _ = burst.send(Event::Paths(vec![PathBuf::from(format!("new/{i}"))]));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        tokio::task::yield_now().await;
        let t = tokio::time::Instant::now();
        let mut changes = Changes::default();
        settle(&mut rx, &mut changes, Duration::from_millis(200), MAX_SETTLE).await;
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(400) && took < Duration::from_millis(500), "{took:?}");
        assert!(!changes.rescan);
        assert_eq!(changes.paths.len(), 5);

        // An event every 100 ms without end: settles at the limit.
        tokio::spawn(async move {
            loop {
                if tx.send(Event::Paths(vec![PathBuf::from("cur/x")])).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let t = tokio::time::Instant::now();
        settle(&mut rx, &mut Changes::default(), Duration::from_millis(200), MAX_SETTLE).await;
        assert_eq!(t.elapsed(), MAX_SETTLE);
    }

    #[test]
    fn a_rescan_or_too_many_paths_drop_the_paths() {
        let mut c = Changes::default();
        c.add(Event::Paths(vec![PathBuf::from("a"), PathBuf::from("b")]));
        assert_eq!(c.paths.len(), 2);
        c.add(Event::Rescan);
        assert!(c.rescan && c.paths.is_empty());
        c.add(Event::Paths(vec![PathBuf::from("c")]));
        assert!(c.rescan && c.paths.is_empty());

        let mut c = Changes::default();
        c.add(Event::Paths((0..=MAX_PATHS).map(|i| PathBuf::from(i.to_string())).collect()));
        assert!(c.rescan && c.paths.is_empty());

        // Changes kept across passes merge under the same bound.
        let half = |from: usize| Changes {
            rescan: false,
            paths: (from..from + MAX_PATHS / 2 + 1).map(|i| PathBuf::from(i.to_string())).collect(),
        };
        let mut c = half(0);
        c.merge(Changes { rescan: false, paths: HashSet::from([PathBuf::from("x")]) });
        assert!(!c.rescan && c.paths.contains(Path::new("x")));
        c.merge(half(MAX_PATHS));
        assert!(c.rescan && c.paths.is_empty());
        let mut c = half(0);
        c.merge(Changes { rescan: true, paths: HashSet::new() });
        assert!(c.rescan && c.paths.is_empty());
    }
}
