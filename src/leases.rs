//! The lease keeper (issue 19): one thread per daemon, with a store
//! connection of its own, that takes and renews the leases of what this
//! daemon wants to run (each source by its config name, the reminders) and
//! tells each one whether it is this daemon's to run now.
//!
//! A lease lasts `[node] lease` (20 s) and is renewed every quarter of it.
//! One the keeper cannot renew (the database is gone) counts as lost a
//! renewal before it expires, so that this daemon has stopped before
//! another may take over. A daemon that stops cleanly gives its leases
//! back, and another takes over at its next renewal.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::config::Config;
use crate::store::{Holder, Store, Taken};

/// Whether a named duty is this daemon's to run now.
pub type Owned = watch::Receiver<bool>;

enum Msg {
    Want(String, watch::Sender<bool>),
    Drop(String),
    Stop,
    Abandon,
}

/// The handle: ask for leases, stop the keeper.
pub struct Leases {
    tx: mpsc::Sender<Msg>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// This process's token, which the leases it holds carry.
    token: String,
}

struct Wanted {
    owned: watch::Sender<bool>,
    /// When the lease was last taken or renewed.
    renewed: Option<Instant>,
    /// The holder last reported, so that a change is logged once.
    other: Option<String>,
    /// A renewal failed (logged once until one succeeds).
    failing: bool,
}

impl Leases {
    /// Starts the keeper with its own connection to the store `config` names.
    pub fn start(config: &Config) -> crate::store::Result<Leases> {
        let store = Store::open_config(config)?;
        Ok(Leases::start_with(store, Holder::this_process(&config.node.name), config.node.lease))
    }

    /// Starts the keeper on `store` for `holder`, with leases of `ttl`.
    pub fn start_with(store: Store, holder: Holder, ttl: Duration) -> Leases {
        let (tx, rx) = mpsc::channel();
        let token = holder.token.clone();
        let thread = std::thread::Builder::new()
            .name("kronika-leases".into())
            .spawn(move || keep(store, holder, ttl, rx))
            .map_err(|e| tracing::error!("cannot start the lease keeper: {e}"))
            .ok();
        Leases { tx, thread, token }
    }

    /// The fence of the lease `name`: what this daemon writes for it is
    /// stored only while it holds the lease ([`crate::store::Fence`]).
    pub fn fence(&self, name: &str) -> crate::store::Fence {
        crate::store::Fence { lease: name.to_string(), token: self.token.clone() }
    }

    /// Asks for the lease `name`: the receiver says, now and on every
    /// change, whether this daemon holds it. Dropping the receiver does not
    /// give it back; [`Leases::release`] does.
    pub fn want(&self, name: &str) -> Owned {
        let (owned, rx) = watch::channel(false);
        if self.tx.send(Msg::Want(name.to_string(), owned)).is_err() {
            tracing::error!("the lease keeper has stopped: {name} is not run");
        }
        rx
    }

    /// Gives the lease `name` back (the source left the config).
    pub fn release(&self, name: &str) {
        let _ = self.tx.send(Msg::Drop(name.to_string()));
    }

    /// Gives every lease back and stops the keeper.
    pub fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Leases {
    /// Stops renewing without giving anything back, as a daemon that dies
    /// does: the leases run out before another daemon may take them (for
    /// tests of the takeover).
    pub fn abandon(mut self) {
        let _ = self.tx.send(Msg::Abandon);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Leases {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
    }
}

fn keep(store: Store, holder: Holder, ttl: Duration, rx: mpsc::Receiver<Msg>) {
    let every = ttl / 4;
    let mut wanted: HashMap<String, Wanted> = HashMap::new();
    let mut next = Instant::now();
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Msg::Want(name, owned)) => {
                wanted.insert(name.clone(), Wanted { owned, renewed: None, other: None, failing: false });
                // Asked now: answered now, not at the next round.
                if let Some(w) = wanted.get_mut(&name) {
                    renew(&store, &holder, ttl, &name, w);
                }
                continue;
            }
            Ok(Msg::Drop(name)) => {
                if let Some(w) = wanted.remove(&name) {
                    let _ = w.owned.send(false);
                    if let Err(e) = store.release_lease(&name, &holder) {
                        tracing::debug!("cannot give back the lease of {name}: {e}");
                    }
                }
                continue;
            }
            Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Ok(Msg::Abandon) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        for (name, w) in wanted.iter_mut() {
            renew(&store, &holder, ttl, name, w);
        }
        next = Instant::now() + every;
    }
    for (name, w) in wanted {
        let _ = w.owned.send(false);
        if w.renewed.is_some()
            && let Err(e) = store.release_lease(&name, &holder)
        {
            tracing::debug!("cannot give back the lease of {name}: {e}");
        }
    }
}

fn renew(store: &Store, holder: &Holder, ttl: Duration, name: &str, w: &mut Wanted) {
    let taken = store.take_lease(name, holder, ttl);
    if taken.is_ok() {
        w.failing = false;
    }
    let owned = match taken {
        Ok(Taken::Ours) => {
            if w.renewed.is_none() || w.other.is_some() {
                tracing::info!("{name}: this node ({}) runs it", holder.node);
            }
            w.renewed = Some(Instant::now());
            w.other = None;
            true
        }
        Ok(Taken::Other { node, expires_in }) => {
            if w.other.as_deref() != Some(node.as_str()) {
                tracing::info!("{name}: run by the node {node}; taken over if it stops renewing (in {expires_in}s)");
            }
            w.renewed = None;
            w.other = Some(node);
            false
        }
        Err(e) => {
            // Still ours until a renewal before it could expire.
            let fresh = w.renewed.is_some_and(|t| t.elapsed() + ttl / 4 < ttl);
            if !w.failing {
                tracing::warn!("cannot renew the lease of {name}: {e}; trying again every {}s", (ttl / 4).as_secs());
                w.failing = true;
            }
            if !fresh {
                w.renewed = None;
            }
            fresh
        }
    };
    if *w.owned.borrow() != owned {
        let _ = w.owned.send(owned);
    }
}
