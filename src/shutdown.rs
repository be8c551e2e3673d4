//! One way to say "stop": a [`Shutdown`] is cloned into every task that
//! must end when the daemon stops (sources, reminders, servers, child
//! processes), and triggered once.

use std::sync::Arc;

use tokio::sync::watch;

/// A cloneable stop signal: [`Shutdown::trigger`] once, then every clone
/// sees [`Shutdown::is_triggered`] and every [`Shutdown::wait`] resolves.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    pub fn new() -> Shutdown {
        let (tx, rx) = watch::channel(false);
        Shutdown { tx: Arc::new(tx), rx }
    }

    /// Asks everything holding a clone to stop.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// True once triggered (for blocking code that checks between steps).
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when triggered (at once if it already was).
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        // The sender lives as long as any clone, so this only ends at `true`.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_trigger() {
        let s = Shutdown::new();
        let c = s.clone();
        assert!(!c.is_triggered());
        let waiter = tokio::spawn(async move { c.wait().await });
        s.trigger();
        waiter.await.unwrap();
        assert!(s.is_triggered());
        // Waiting after the fact returns at once.
        s.wait().await;
    }
}
