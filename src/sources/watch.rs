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
    /// save) becomes one rescan. False when the watcher has stopped.
    pub async fn changed(&mut self, limit: Option<Duration>, quiet: Duration) -> bool {
        let first = match limit {
            Some(l) => tokio::time::timeout(l, self.rx.recv()).await.unwrap_or(Some(())),
            None => self.rx.recv().await,
        };
        if first.is_none() {
            return false;
        }
        while let Ok(Some(())) = tokio::time::timeout(quiet, self.rx.recv()).await {}
        true
    }
}
