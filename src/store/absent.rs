//! What the lookups of a batch's ingest would find, asked for the whole
//! batch when its transaction begins: a query per 64 values instead of
//! one or two per item, which on PostgreSQL are a round trip each.
//!
//! - Message-IDs, content hashes and source keys: only their absence is
//!   kept. A value that the batch's transaction has written since (an item
//!   inserted, a stored item changed, a source key added) is asked of the
//!   database again, so an item is found exactly as the lookup alone would
//!   find it.
//! - Threads: the thread of every Message-ID that the batch's mails name
//!   (their own and their references), kept up to date with the
//!   transaction's own writes. The writers' lock is held, so nobody else
//!   writes `thread_ids` meanwhile; a Message-ID the batch did not name is
//!   asked of the database.
//!
//! - Captured twins: whether the store has ever held a mail captured
//!   without its Message-ID (a flag in `meta`); without one, a mailbox
//!   mail has no twin to look for.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::db::Db;
use super::items::{NewItem, SourceKey};
use super::{Result, found_among, query_among};
use crate::args;
use crate::model::ItemKind;

/// The `meta` key that says whether the store has held a mail captured
/// without its Message-ID: "1", or "0" for never (a store made before it
/// was kept has neither until migration 17 sets it).
pub(super) const CAPTURES: &str = "captured_without_id";

/// What the store did not hold when the batch's transaction began (and
/// the transaction has not written since), and the threads of the
/// Message-IDs the batch names.
#[derive(Debug, Default)]
pub(super) struct Absent {
    message_ids: HashSet<String>,
    hashes: HashSet<String>,
    /// (source, key) pairs no item was stored under.
    keys: HashSet<(String, String)>,
    /// Message-ID → thread, for every Message-ID in `covered` that has one.
    threads: HashMap<String, i64>,
    /// Message-IDs whose thread (or its absence) `threads` knows.
    covered: HashSet<String>,
    /// The store has held a mail captured without its Message-ID (only
    /// such a mail has a twin to look for, see `items::captured_twin`).
    captures: bool,
}

impl Absent {
    /// Asks the store about every item (and document) of a batch, and the
    /// source keys they come under.
    pub(super) fn ask<'a>(
        db: &Db,
        items: impl Iterator<Item = &'a NewItem>,
        keys: impl Iterator<Item = &'a SourceKey>,
    ) -> Result<Absent> {
        let mut message_ids = HashSet::new();
        let mut hashes = HashSet::new();
        let mut named = HashSet::new();
        for item in items {
            message_ids.extend(item.message_id.iter().cloned());
            hashes.insert(item.content_hash.clone());
            named.extend(thread_names(item).into_iter().map(str::to_string));
        }
        let list: Vec<&str> = message_ids.iter().map(String::as_str).collect();
        let found: HashSet<String> =
            found_among(db, "SELECT message_id FROM items WHERE message_id IN {}", &[], &list)?;
        message_ids.retain(|m| !found.contains(m));
        let list: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let found: HashSet<String> =
            found_among(db, "SELECT content_hash FROM items WHERE content_hash IN {}", &[], &list)?;
        hashes.retain(|h| !found.contains(h));
        let mut by_source: HashMap<&str, Vec<&str>> = HashMap::new();
        for k in keys {
            by_source.entry(k.source.as_str()).or_default().push(k.key.as_str());
        }
        let mut absent_keys = HashSet::new();
        for (source, mut list) in by_source {
            list.sort_unstable();
            list.dedup();
            let found: HashSet<String> =
                found_among(db, "SELECT key FROM item_sources WHERE source = ?1 AND key IN {}", &[&source], &list)?;
            absent_keys
                .extend(list.into_iter().filter(|k| !found.contains(*k)).map(|k| (source.to_string(), k.to_string())));
        }
        let list: Vec<&str> = named.iter().map(String::as_str).collect();
        let threads = thread_rows(db, &list)?;
        let captures =
            db.value::<String>("SELECT value FROM meta WHERE key = ?1", args![CAPTURES])?.as_deref() != Some("0");
        Ok(Absent { message_ids, hashes, keys: absent_keys, threads, covered: named, captures })
    }

    /// Whether the store may hold a mail captured without its Message-ID.
    pub(super) fn captures_held(&self) -> bool {
        self.captures
    }

    /// The transaction stores a mail captured without its Message-ID.
    pub(super) fn hold_capture(&mut self, db: &Db) -> Result<()> {
        if !self.captures {
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?1, '1') ON CONFLICT(key) DO UPDATE SET value = '1'",
                args![CAPTURES],
            )?;
            self.captures = true;
        }
        Ok(())
    }

    pub(super) fn message_id(&self, message_id: &str) -> bool {
        self.message_ids.contains(message_id)
    }

    pub(super) fn hash(&self, hash: &str) -> bool {
        self.hashes.contains(hash)
    }

    /// Whether no item was stored under `key`; asked once: the caller is
    /// about to store under it, so the next ask goes to the database.
    pub(super) fn take_key(&mut self, key: &SourceKey) -> bool {
        self.keys.remove(&(key.source.clone(), key.key.clone()))
    }

    /// The transaction writes `item`, or makes a stored item `item`: what
    /// it names is asked of the database from now on.
    pub(super) fn forget(&mut self, item: &NewItem) {
        if let Some(m) = &item.message_id {
            self.message_ids.remove(m);
        }
        self.hashes.remove(&item.content_hash);
    }

    /// The threads that the Message-IDs `ids` belong to, from what the
    /// batch knows or else from the database (then known).
    pub(super) fn threads_of(&mut self, db: &Db, ids: &[&str]) -> Result<BTreeSet<i64>> {
        let missing: Vec<&str> = ids.iter().copied().filter(|id| !self.covered.contains(*id)).collect();
        if !missing.is_empty() {
            self.threads.extend(thread_rows(db, &missing)?);
            self.covered.extend(missing.iter().map(|m| m.to_string()));
        }
        Ok(ids.iter().filter_map(|id| self.threads.get(*id).copied()).collect())
    }

    /// Thread `from` was merged into `into`.
    pub(super) fn merged(&mut self, from: i64, into: i64) {
        for t in self.threads.values_mut().filter(|t| **t == from) {
            *t = into;
        }
    }

    /// `ids` were put into `thread` where they had none (as `INSERT … ON
    /// CONFLICT DO NOTHING` does).
    pub(super) fn threaded(&mut self, ids: &[&str], thread: i64) {
        for id in ids {
            if self.covered.contains(*id) {
                self.threads.entry(id.to_string()).or_insert(thread);
            }
        }
    }
}

/// The Message-IDs that put a mail into a thread: its own and its
/// references', without empty ones (none for other kinds).
pub(super) fn thread_names(item: &NewItem) -> BTreeSet<&str> {
    if item.kind != ItemKind::Email {
        return BTreeSet::new();
    }
    item.message_id.iter().chain(item.references.iter()).map(String::as_str).filter(|s| !s.is_empty()).collect()
}

/// Message-ID → thread for those of `ids` that have one.
fn thread_rows(db: &Db, ids: &[&str]) -> Result<HashMap<String, i64>> {
    let rows = query_among(db, "SELECT message_id, thread_id FROM thread_ids WHERE message_id IN {}", &[], ids, |r| {
        Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
    })?;
    Ok(rows.into_iter().collect())
}
