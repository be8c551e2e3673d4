//! History items: idempotent ingestion (source identity, Message-ID,
//! content hash), threading, links and re-matching.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::absent::Absent;
use super::clients::parse_time;
use super::db::{Db, Dialect, Row, ToParam};
use super::{Result, Store, StoreError, now};
use crate::address::domain_of;
use crate::args;
use crate::matcher::{Decision, Directory};
use crate::model::{ClientId, ContactId, Direction, ItemId, ItemKind, Link, LinkReason, Participant, Role};

/// Where the date of an item came from: mail without a usable `Date:`
/// header is dated from `Received:` or the file, and says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DateSource {
    #[default]
    Header,
    Received,
    File,
    Import,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Header => "header",
            DateSource::Received => "received",
            DateSource::File => "file",
            DateSource::Import => "import",
        }
    }
}

/// Attachment metadata (the name is metadata only, never a path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub content_hash: String,
}

/// A normalised item on its way into the store.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    pub kind: ItemKind,
    /// Message-ID without angle brackets; the parser derives a stable one
    /// from the content when the message has none.
    pub message_id: Option<String>,
    /// In-Reply-To and References, parents first.
    pub references: Vec<String>,
    pub date: DateTime<Utc>,
    pub date_source: DateSource,
    pub subject: String,
    pub body: String,
    pub participants: Vec<Participant>,
    pub attachments: Vec<Attachment>,
    /// SHA-256 (hex) of the raw content: recognises the same message
    /// wherever it is found.
    pub content_hash: String,
    pub size: u64,
    pub extra: serde_json::Value,
    /// Set by a source that knows better than the addresses (an IMAP
    /// mailbox configured as outgoing); `None`: decided from own addresses.
    pub direction: Option<Direction>,
    /// Set for notes: front matter and folders that may name the client.
    pub note: Option<crate::matcher::NoteHints>,
    /// Attachments that may be documents (offers, invoices…): kept whole
    /// by the parser; the pipeline readies them ([`Changes::documents`])
    /// before the store sees them.
    pub documents: Vec<crate::documents::Blob>,
    /// The raw message as received, for the web's item page (the HTML
    /// version, attachments to download): the pipeline keeps it as a file
    /// by content hash ([`Store::originals_dir`]) before the store sees it.
    pub original: Option<Vec<u8>>,
    /// The file `original` was read from, when it is one that never
    /// changes (a Maildir message: flags rename it, nothing rewrites it).
    /// The original is then kept as a hard link to it, not a copy.
    pub original_file: Option<std::path::PathBuf>,
    /// A meeting invitation the mail carries: the store applies it to the
    /// events it names, in the mail's transaction.
    pub invitation: Option<crate::calendar::Invitation>,
}

/// Start times of a source's live items, by key (see [`Store::source_dates`]).
pub type KnownDates = std::collections::HashMap<String, DateTime<Utc>>;

/// A source's identity for one item: `source` names the account, mailbox
/// and UIDVALIDITY or the folder; `key` the UID or file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceKey {
    pub source: String,
    pub key: String,
}

impl SourceKey {
    /// The key of a document item: its content hash, under `documents`.
    pub(super) fn document(hash: &str) -> SourceKey {
        SourceKey { source: "documents".into(), key: hash.to_string() }
    }
}

/// What ingesting one item did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    New(ItemId),
    /// A source that can change its items (a note edited) changed this one in place.
    Updated(ItemId),
    /// Already stored (same source key, Message-ID or content).
    Duplicate(ItemId),
    /// A participant is on the blocklist; nothing was stored.
    Blocked(String),
}

/// What a source hands the store in one transaction.
#[derive(Debug, Default)]
pub struct Changes<'a> {
    pub items: &'a [(NewItem, SourceKey)],
    /// Items with a known key whose content changed are updated in place
    /// (notes); otherwise a known key is a duplicate (mail never changes).
    pub replace: bool,
    /// Keys that moved (a renamed note file): `(old, new)`.
    pub renames: &'a [(SourceKey, SourceKey)],
    /// Keys whose items left the source for good (a deleted note): the
    /// items are marked deleted; mail is `gone` instead.
    pub deleted: &'a [SourceKey],
    /// Keys no longer in the source (an expunged or removed mail): marked
    /// gone, their items stay in the history.
    pub gone: &'a [SourceKey],
    pub cursor: Option<(&'a str, &'a str)>,
    /// The documents among each item's attachments, ready to store (text
    /// extracted, kind decided, file kept: `pipeline::prepare_documents`),
    /// in the order of `items`; missing entries mean none. Each is stored
    /// with its item and linked back to it (`from_item`).
    pub documents: &'a [Vec<NewItem>],
    /// Stored only while this lease is held ([`super::Fence`]): checked
    /// first in the write transaction, under the writers' lock.
    pub fence: Option<&'a super::Fence>,
}

/// A link as read back, with names.
#[derive(Debug, Clone, Serialize)]
pub struct LinkRow {
    pub client_id: i64,
    pub client: String,
    pub contact_id: Option<i64>,
    pub contact: Option<String>,
    pub reason: String,
    pub ambiguous: bool,
    pub evidence: String,
}

/// An item as read back.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub kind: String,
    pub date: DateTime<Utc>,
    pub date_source: String,
    pub direction: String,
    pub subject: String,
    pub body: String,
    pub message_id: Option<String>,
    pub thread_id: Option<i64>,
    pub content_hash: String,
    pub size: i64,
    pub extra: serde_json::Value,
    pub deleted_at: Option<String>,
    pub rev: i64,
    pub participants: Vec<Participant>,
    pub attachments: Vec<Attachment>,
    pub links: Vec<LinkRow>,
    /// `source key` strings where the item was seen, with `(gone)` when the
    /// source no longer has it.
    pub sources: Vec<String>,
}

/// Reversed domain labels of an address, for prefix queries by domain:
/// `x@mail.acme.cz` → `cz.acme.mail`.
fn rdomain(address: &str) -> String {
    domain_of(address).map(reverse_domain).unwrap_or_default()
}

fn reverse_domain(domain: &str) -> String {
    domain.split('.').rev().collect::<Vec<_>>().join(".")
}

fn direction_of(dir: &Directory, participants: &[Participant], decision: &Decision) -> Direction {
    if matches!(decision, Decision::Internal) {
        return Direction::Internal;
    }
    let from_own = participants
        .iter()
        .filter(|p| matches!(p.role, Role::From | Role::Organizer))
        .any(|p| !p.address.is_empty() && dir.is_own(&p.address));
    if from_own { Direction::Out } else { Direction::In }
}

impl Store {
    /// Ingests one item; see [`Store::ingest_batch`].
    pub fn ingest(&mut self, item: &NewItem, key: &SourceKey) -> Result<IngestOutcome> {
        Ok(self.ingest_batch(std::slice::from_ref(&(item.clone(), key.clone())), None)?.remove(0))
    }

    /// Ingests a batch of items and moves a source's cursor, all in one
    /// transaction: either every item and the cursor land, or none do.
    /// Items already stored (by source key, Message-ID or content hash)
    /// are recognised and only gain the new source key.
    pub fn ingest_batch(
        &mut self,
        batch: &[(NewItem, SourceKey)],
        cursor: Option<(&str, &str)>,
    ) -> Result<Vec<IngestOutcome>> {
        self.apply(&Changes { items: batch, cursor, ..Changes::default() }).map(|a| a.outcomes)
    }

    /// Applies a source's changes in one transaction: renamed keys first,
    /// then items (updated in place when `replace` and their content
    /// changed), deleted and gone keys, and the cursor: what a crash
    /// interrupts is done again whole at the next pass.
    pub fn apply(&mut self, changes: &Changes<'_>) -> Result<Applied> {
        loop {
            let mut dir = self.take_directory()?;
            let mut auto = super::auto::State { policy: self.policy.auto_contacts, ..Default::default() };
            let result = ingest_tx(&self.db, &dir, &mut auto, changes);
            // Contacts found in the mail join the cached directory as they
            // were stored; it is built again only when someone else changed
            // the directory too (and on an error).
            if let Ok(Some((_, after))) = &result
                && super::auto::follow(&mut dir, &mut auto.created, *after)
            {
                self.put_directory(dir);
            }
            // `None`: another process changed the directory between building
            // it and taking the write lock; match with the new one.
            if let Some(r) = result.transpose() {
                let (r, _) = r?;
                // Deals from invoices get their history items (searchable,
                // in the timeline) in transactions of their own; one missed
                // by a crash is made at the next open.
                for deal in auto.deals {
                    self.sync_deal_item(deal)?;
                }
                let new = r.outcomes.iter().filter(|o| matches!(o, IngestOutcome::New(_))).count();
                self.analyze_if_grown(new);
                return Ok(r);
            }
        }
    }

    /// The keys a source holds in the store (not marked gone).
    pub fn source_keys(&self, source: &str) -> Result<std::collections::HashSet<String>> {
        let keys = self.db.query(
            "SELECT key FROM item_sources WHERE source = ?1 AND gone_at IS NULL",
            args![source],
            |r| r.get::<String>(0),
        )?;
        Ok(keys.into_iter().collect())
    }

    /// Key → content hash of a source's items that are neither gone nor deleted.
    pub fn source_hashes(&self, source: &str) -> Result<std::collections::HashMap<String, String>> {
        let rows = self.db.query(
            "SELECT s.key, i.content_hash FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.source = ?1 AND s.gone_at IS NULL AND i.deleted_at IS NULL",
            args![source],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
        )?;
        Ok(rows.into_iter().collect())
    }

    /// Key → date of a source's items that are neither gone nor deleted.
    pub fn source_dates(&self, source: &str) -> Result<KnownDates> {
        let rows = self.db.query(
            "SELECT s.key, i.date FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.source = ?1 AND s.gone_at IS NULL AND i.deleted_at IS NULL",
            args![source],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)),
        )?;
        Ok(rows.into_iter().map(|(k, d)| (k, parse_time(&d))).collect())
    }

    /// Links an item to a client by hand; re-matching never removes it.
    pub fn link_manual(&mut self, item: ItemId, client: ClientId, contact: Option<ContactId>) -> Result<()> {
        self.item(item)?;
        self.client(client)?;
        let tx = self.db.begin()?;
        tx.execute(
            "DELETE FROM item_links WHERE item_id = ?1 AND client_id = ?2 AND reason = 'manual'",
            args![item.0, client.0],
        )?;
        tx.execute(LINK_INSERT, args![item.0, client.0, contact.map(|c| c.0), "manual", false, "manual"])?;
        let rev = super::counter(&tx, "rev")?;
        tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", args![item.0, rev])?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a manual link (other links come back from re-matching).
    pub fn unlink_manual(&mut self, item: ItemId, client: ClientId) -> Result<bool> {
        let tx = self.db.begin()?;
        let n = tx.execute(
            "DELETE FROM item_links WHERE item_id = ?1 AND client_id = ?2 AND reason = 'manual'",
            args![item.0, client.0],
        )?;
        let rev = super::counter(&tx, "rev")?;
        tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", args![item.0, rev])?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Re-matches the items a directory change can affect: those with a
    /// participant at one of `domains` (or a subdomain) or at one of
    /// `addresses`, and those linked to one of `clients`.
    pub fn rematch_for(&mut self, domains: &[String], addresses: &[String], clients: &[ClientId]) -> Result<usize> {
        let mut ids: BTreeSet<i64> = BTreeSet::new();
        let id = |r: &Row<'_>| r.get::<i64>(0);
        for a in addresses {
            ids.extend(self.db.query("SELECT item_id FROM item_participants WHERE address = ?1", args![a], id)?);
        }
        // A subdomain's reversed name is the domain's and a dot, then more:
        // between `d.` and `d/` in byte order (PostgreSQL's collation may
        // order punctuation otherwise, hence "C" there, as its index is:
        // migration 18).
        let by_domain = match self.db.dialect() {
            Dialect::Sqlite => {
                "SELECT item_id FROM item_participants WHERE rdomain = ?1 OR (rdomain > ?2 AND rdomain < ?3)"
            }
            Dialect::Postgres => {
                "SELECT item_id FROM item_participants
                 WHERE rdomain COLLATE \"C\" = ?1 OR (rdomain COLLATE \"C\" > ?2 AND rdomain COLLATE \"C\" < ?3)"
            }
        };
        for d in domains {
            let r = reverse_domain(d);
            ids.extend(self.db.query(by_domain, args![r, format!("{r}."), format!("{r}/")], id)?);
        }
        // Notes can name a client by IČO, folder or name: few enough to look at all.
        if !domains.is_empty() || !clients.is_empty() || !addresses.is_empty() {
            ids.extend(self.db.query(
                "SELECT id FROM items WHERE kind IN ('call', 'meeting') AND deleted_at IS NULL",
                args![],
                id,
            )?);
        }
        for c in clients {
            ids.extend(self.db.query("SELECT item_id FROM item_links WHERE client_id = ?1", args![c.0], id)?);
        }
        let ids: Vec<ItemId> = ids.into_iter().map(ItemId).collect();
        self.rematch_items(&ids)
    }

    /// Re-matches every stored item (after a config change).
    pub fn rematch_all(&mut self) -> Result<usize> {
        let ids = self.db.query("SELECT id FROM items ORDER BY id", args![], |r| Ok(ItemId(r.get(0)?)))?;
        self.rematch_items(&ids)
    }

    /// Re-matches the given items; returns how many changed their links.
    ///
    /// Works in transactions of [`REMATCH_CHUNK`] items, so that a long
    /// re-match (a client with years of mail, a changed free-mail list)
    /// never holds the write lock long enough to starve the daemon.
    pub fn rematch_items(&mut self, ids: &[ItemId]) -> Result<usize> {
        let mut changed = 0;
        let mut threads = BTreeSet::new();
        let mut auto = super::auto::State { policy: self.policy.auto_contacts, ..Default::default() };
        for (i, chunk) in ids.chunks(REMATCH_CHUNK).enumerate() {
            if i > 0 {
                // Let a waiting writer (the daemon storing new mail) in:
                // SQLite's busy handler polls, and a re-match that takes
                // the lock again at once starves it.
                std::thread::sleep(REMATCH_PAUSE);
            }
            let mut dir = self.take_directory()?;
            let (n, after) = rematch_chunk(&self.db, &dir.1, chunk, &mut threads, &mut auto)?;
            if super::auto::follow(&mut dir, &mut auto.created, after) {
                self.put_directory(dir);
            }
            changed += n;
        }
        let threads: Vec<i64> = threads.into_iter().collect();
        for chunk in threads.chunks(REMATCH_CHUNK) {
            let tx = self.db.begin()?;
            changed += propagate_threads(&tx, chunk)?;
            tx.commit()?;
        }
        Ok(changed)
    }

    /// One item, whole.
    pub fn item(&self, id: ItemId) -> Result<ItemRow> {
        self.items(&[id])?.remove(&id.0).ok_or_else(|| StoreError::NotFound { what: "item", query: id.to_string() })
    }

    /// On PostgreSQL, analyses the tables ingestion reads once this store
    /// has grown four times since it last did (from 1,000 items on: at
    /// 1,000, 4,000, 16,000 …). A store filled from empty otherwise keeps
    /// the plans made when its tables were tiny: statements are prepared
    /// once per connection, and a generic plan of a nearly empty table
    /// scans it whole, for every item of a bulk import, until autovacuum's
    /// next analysis (a minute or more away) invalidates it.
    ///
    /// Each analysis of a large store costs the server a tenth of a second
    /// or more, so it runs on a connection of its own while ingestion goes
    /// on (the new statistics reach this connection's plans when they are
    /// committed); one at a time.
    fn analyze_if_grown(&mut self, new: usize) {
        let Some(target) = &self.target else { return };
        let g = &mut self.grown;
        g.since = g.since.saturating_add(new as u64);
        if g.since < g.before.saturating_mul(3).max(ANALYZE_FIRST) {
            return;
        }
        if g.analysis.as_ref().is_some_and(|a| !a.is_finished()) {
            return;
        }
        g.before = g.before.saturating_add(g.since);
        g.since = 0;
        let target = target.clone();
        let spawned = std::thread::Builder::new().name("kronika-analyze".into()).spawn(move || {
            let done = match super::pg::connect(&target) {
                Ok(db) => db.batch(ANALYZE_INGESTED).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = done {
                tracing::debug!("cannot analyse the tables after a bulk import: {e}");
            }
        });
        match spawned {
            Ok(handle) => g.analysis = Some(handle),
            Err(e) => tracing::debug!("cannot start analysing the tables: {e}"),
        }
    }

    /// The links of an item, with client and contact names.
    pub fn item_links(&self, id: ItemId) -> Result<Vec<LinkRow>> {
        Ok(self.db.query(
            "SELECT l.client_id, c.name, l.contact_id, p.name, l.reason, l.ambiguous, l.evidence
             FROM item_links l JOIN clients c ON c.id = l.client_id LEFT JOIN contacts p ON p.id = l.contact_id
             WHERE l.item_id = ?1
             ORDER BY c.name_key, p.name NULLS FIRST, l.contact_id NULLS FIRST, l.reason, l.evidence",
            args![id.0],
            |r| {
                Ok(LinkRow {
                    client_id: r.get(0)?,
                    client: r.get(1)?,
                    contact_id: r.get(2)?,
                    contact: r.get(3)?,
                    reason: r.get(4)?,
                    ambiguous: r.get(5)?,
                    evidence: r.get(6)?,
                })
            },
        )?)
    }

    /// Ids of a client's items, newest first.
    /// Events still ahead belong to the agenda, not to what happened.
    pub fn client_item_ids(&self, client: ClientId, limit: usize, deleted: bool) -> Result<Vec<ItemId>> {
        // SQLite is told its index (its planner may pick the kind index);
        // PostgreSQL has no such hint.
        let sql = match self.db.dialect() {
            Dialect::Sqlite => {
                "SELECT DISTINCT l.item_id, l.date FROM item_links l INDEXED BY item_links_client_date
                 WHERE l.client_id = ?1 AND l.live = 1 - ?3 AND NOT (l.kind = 'event' AND l.date > ?4)
                 ORDER BY l.date DESC, l.item_id DESC LIMIT ?2"
            }
            Dialect::Postgres => {
                "SELECT DISTINCT l.item_id, l.date FROM item_links l
                 WHERE l.client_id = ?1 AND l.live = 1 - ?3 AND NOT (l.kind = 'event' AND l.date > ?4)
                 ORDER BY l.date DESC, l.item_id DESC LIMIT ?2"
            }
        };
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        Ok(self.db.query(sql, args![client.0, limit_of(limit), i64::from(deleted), now], |r| Ok(ItemId(r.get(0)?)))?)
    }

    /// Live events starting in `[from, to)`, earliest first, optionally of one client.
    pub fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        client: Option<ClientId>,
    ) -> Result<Vec<ItemId>> {
        let fmt = |d: DateTime<Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
        // One client: its links in date order; everyone: the items by date.
        let sql = match client {
            Some(_) => {
                "SELECT DISTINCT item_id, date FROM item_links
                 WHERE client_id = ?3 AND live = 1 AND kind = 'event' AND date >= ?1 AND date < ?2
                   AND item_id NOT IN (SELECT item_id FROM events WHERE cancelled = 1)
                 ORDER BY date, item_id"
            }
            None => {
                "SELECT id, date FROM items
                 WHERE kind = 'event' AND deleted_at IS NULL AND date >= ?1 AND date < ?2 AND ?3 IS NULL
                   AND id NOT IN (SELECT item_id FROM events WHERE cancelled = 1)
                 ORDER BY date, id"
            }
        };
        Ok(self.db.query(sql, args![fmt(from), fmt(to), client.map(|c| c.0)], |r| Ok(ItemId(r.get(0)?)))?)
    }

    /// A client's live items of one kind dated before `before`, newest first.
    pub fn client_items_of_kind(
        &self,
        client: ClientId,
        kind: ItemKind,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ItemId>> {
        Ok(self.db.query(
            "SELECT DISTINCT item_id, date FROM item_links
             WHERE client_id = ?1 AND live = 1 AND kind = ?2 AND date < ?3
             ORDER BY date DESC, item_id DESC LIMIT ?4",
            args![client.0, kind.as_str(), before.to_rfc3339_opts(SecondsFormat::Secs, true), limit_of(limit)],
            |r| Ok(ItemId(r.get(0)?)),
        )?)
    }

    /// Number of items seen per source.
    pub fn source_counts(&self) -> Result<BTreeMap<String, i64>> {
        let rows = self.db.query(
            "SELECT source, COUNT(DISTINCT item_id) FROM item_sources GROUP BY source",
            args![],
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
        )?;
        Ok(rows.into_iter().collect())
    }

    /// Live items held by the sources whose ids start with `prefix` (a
    /// calendar account's calendars: `caldav:jana/`), gone keys left out.
    pub fn live_items_of_sources(&self, prefix: &str) -> Result<i64> {
        let like = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        // LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
        let n = self.db.value(
            "SELECT COUNT(DISTINCT s.item_id) FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE LOWER(s.source) LIKE LOWER(?1) ESCAPE '\\' AND s.gone_at IS NULL AND i.deleted_at IS NULL",
            args![like],
        )?;
        Ok(n.unwrap_or(0))
    }

    /// The live source keys of every stored occurrence of the event `uid`
    /// (where a calendar account holds it: to change it there).
    pub fn event_keys(&self, uid: &str) -> Result<Vec<SourceKey>> {
        Ok(self.db.query(
            "SELECT s.source, s.key FROM events e JOIN item_sources s ON s.item_id = e.item_id
             WHERE e.uid = ?1 AND s.gone_at IS NULL ORDER BY s.source, s.key",
            args![uid],
            |r| Ok(SourceKey { source: r.get(0)?, key: r.get(1)? }),
        )?)
    }

    /// Number of live items linked to at least one client.
    pub fn linked_item_count(&self) -> Result<i64> {
        let n = self.db.value(
            "SELECT COUNT(DISTINCT l.item_id) FROM item_links l JOIN items i ON i.id = l.item_id WHERE i.deleted_at IS NULL",
            args![],
        )?;
        Ok(n.unwrap_or(0))
    }

    /// Number of items, by kind.
    pub fn item_counts(&self) -> Result<BTreeMap<String, i64>> {
        let rows =
            self.db.query("SELECT kind, COUNT(*) FROM items WHERE deleted_at IS NULL GROUP BY kind", args![], |r| {
                Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
            })?;
        Ok(rows.into_iter().collect())
    }
}

/// A row limit as bound: `usize::MAX` (no limit) saturates.
fn limit_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A size as stored (BIGINT).
fn size_of(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("cannot store a size of {n} bytes")))
}

/// Items a store adds before it first analyses the tables (PostgreSQL).
const ANALYZE_FIRST: u64 = 1_000;

/// The tables ingestion reads from, analysed as a store grows: only the
/// columns that lookups, joins and orders use (statistics of the bodies,
/// the extra JSON and the files' bytes were most of the analysis's time
/// and steer no plan).
const ANALYZE_INGESTED: &str = "ANALYZE \
     items (id, kind, message_id, thread_id, date, direction, content_hash, deleted_at, rev), \
     item_sources (source, key, item_id, gone_at), \
     item_links (item_id, client_id, contact_id, reason, date, kind, live, thread_id), \
     item_participants (item_id, role, address, rdomain), \
     item_references (item_id, message_id), \
     thread_ids (message_id, thread_id), \
     thread_last (thread_id, date, waiting), \
     files (hash)";

/// The pause between two re-match transactions.
const REMATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(40);

/// Items re-matched in one transaction.
pub const REMATCH_CHUNK: usize = 500;

/// Re-matches one chunk of items in one transaction; records their threads.
fn rematch_chunk(
    db: &Db,
    dir: &Directory,
    ids: &[ItemId],
    threads: &mut BTreeSet<i64>,
    auto: &mut super::auto::State,
) -> Result<(usize, i64)> {
    let tx = db.begin()?;
    auto.begin();
    let mut changed = 0;
    let ts = now();
    // The chunk's items with their participants and links, read at once
    // (five statements, not six per item); re-matching one item changes
    // no other's.
    let mut rows = super::bulk::rows_of(&tx, ids)?;
    for id in ids {
        let row = rows.remove(&id.0).ok_or_else(|| StoreError::NotFound { what: "item", query: id.to_string() })?;
        let participants = &row.participants;
        let extra = &row.extra;
        let hints = extra.get("note").and_then(|n| serde_json::from_value::<crate::matcher::NoteHints>(n.clone()).ok());
        let decision = match &hints {
            // Notes decide as at ingestion: front matter, addresses, IČO,
            // folder, names.
            Some(h) => dir.decide_note(participants, h, &format!("{}\n{}", row.subject, row.body)).0,
            None => dir.decide(participants),
        };
        let mut links: Vec<Link> = match &decision {
            // Manual links (front matter, `kronika link`) are kept as they are.
            Decision::Links(l) => l.iter().filter(|l| l.reason != LinkReason::Manual).cloned().collect(),
            Decision::Internal | Decision::Blocked { .. } => Vec::new(),
        };
        let direction = direction_of(dir, participants, &decision);
        let email = row.kind == ItemKind::Email.as_str();
        if email {
            // A stored mail's direction may come from its mailbox (Sent):
            // the stored one is the better guess for who wrote to whom.
            let dir_for_contacts = match row.direction.as_str() {
                "out" if direction != Direction::Internal => Direction::Out,
                _ => direction,
            };
            super::auto::from_mail(
                &tx,
                dir,
                auto.policy,
                id.0,
                dir_for_contacts,
                participants,
                extra,
                &mut links,
                &mut auto.created,
                &ts,
            )?;
        }
        let current = row
            .links
            .iter()
            .filter(|l| l.reason != LinkReason::Manual.as_str() && l.reason != LinkReason::Thread.as_str())
            .map(|l| (l.client_id, l.contact_id, l.reason.clone(), l.ambiguous, l.evidence.clone()))
            .collect();
        if replace_direct_links(&tx, *id, &links, current)? {
            changed += 1;
        }
        if email && row.direction != direction.as_str() {
            tx.execute("UPDATE items SET direction = ?2 WHERE id = ?1", args![id.0, direction.as_str()])?;
        }
        if let Some(t) = row.thread_id {
            threads.insert(t);
        }
    }
    let after = super::directory_version_of(&tx)?;
    tx.commit()?;
    Ok((changed, after))
}

/// What [`Store::apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Each item's outcome, in the order of [`Changes::items`].
    pub outcomes: Vec<IngestOutcome>,
    /// What the user should hear of (notes naming unknown clients).
    pub warnings: Vec<String>,
    /// How many of [`Changes::gone`] were not marked gone before.
    pub gone: usize,
}

fn ingest_tx(
    db: &Db,
    (version, dir): &(i64, Directory),
    auto: &mut super::auto::State,
    changes: &Changes<'_>,
) -> Result<Option<(Applied, i64)>> {
    let tx = db.begin()?;
    auto.begin();
    if let Some(fence) = changes.fence
        && !Store::holds(&tx, fence)?
    {
        return Err(StoreError::LeaseLost(fence.lease.clone()));
    }
    // Under the write lock: is the directory still the one we built?
    if super::directory_version_of(&tx)? != *version {
        return Ok(None);
    }
    let ts = now();
    for (old, new) in changes.renames {
        tx.execute(
            "UPDATE item_sources SET key = ?3, gone_at = NULL WHERE source = ?1 AND key = ?2",
            args![old.source, old.key, new.key],
        )?;
    }
    let mut out = Vec::with_capacity(changes.items.len());
    let mut warnings = Vec::new();
    let mut threads_to_propagate = BTreeSet::new();
    let document_keys: Vec<SourceKey> =
        changes.documents.iter().flatten().map(|d| SourceKey::document(&d.content_hash)).collect();
    let mut absent = Absent::ask(
        &tx,
        changes.items.iter().map(|(item, _)| item).chain(changes.documents.iter().flatten()),
        changes.items.iter().map(|(_, key)| key).chain(&document_keys),
    )?;
    super::auto::read_signers(&tx, dir, changes.items.iter().map(|(item, _)| item), &mut auto.created)?;
    let mut ctx =
        Ctx { dir, ts: &ts, threads: &mut threads_to_propagate, warnings: &mut warnings, auto, absent: &mut absent };
    for (i, (item, key)) in changes.items.iter().enumerate() {
        let documents = changes.documents.get(i).map(Vec::as_slice).unwrap_or_default();
        let outcome = ingest_one(&tx, &mut ctx, (item, documents), key, changes.replace)?;
        out.push(outcome);
    }
    // An item leaves the history when the last source that held it lets
    // it go (a meeting deleted from one calendar may still be in another,
    // or in an invitation).
    for key in changes.deleted {
        mark_gone(&tx, key, &ts)?;
        let rev = super::counter(&tx, "rev")?;
        tx.execute(
            "UPDATE items SET deleted_at = ?3, rev = ?4
             WHERE id = (SELECT item_id FROM item_sources WHERE source = ?1 AND key = ?2) AND deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM item_sources s WHERE s.item_id = items.id AND s.gone_at IS NULL)",
            args![key.source, key.key, ts, rev],
        )?;
    }
    let mut gone = 0;
    for key in changes.gone {
        gone += mark_gone(&tx, key, &ts)?;
    }
    propagate_threads(&tx, &threads_to_propagate.into_iter().collect::<Vec<_>>())?;
    if let Some((source, value)) = changes.cursor {
        tx.execute(
            "INSERT INTO cursors (source, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            args![source, value, ts],
        )?;
    }
    let after = super::directory_version_of(&tx)?;
    tx.commit()?;
    Ok(Some((Applied { outcomes: out, warnings, gone: usize::try_from(gone).unwrap_or(usize::MAX) }, after)))
}

/// Marks a source key gone (the source no longer holds it; its item stays
/// in the history); 1 when it was not gone before, else 0.
fn mark_gone(tx: &Db, key: &SourceKey, ts: &str) -> Result<u64> {
    Ok(tx.execute(
        "UPDATE item_sources SET gone_at = ?3 WHERE source = ?1 AND key = ?2 AND gone_at IS NULL",
        args![key.source, key.key, ts],
    )?)
}

/// Where a document's file lives: `<files>/ab/abcdef…` by content hash.
pub fn document_path(files: &std::path::Path, hash: &str) -> std::path::PathBuf {
    files.join(hash.get(..2).unwrap_or("00")).join(hash)
}

/// Writes a document's bytes under the documents folder (by content hash:
/// the name from the mail is metadata only, never a path).
pub fn keep_file(files: &std::path::Path, hash: &str, bytes: &[u8]) -> std::io::Result<std::path::PathBuf> {
    keep_file_from(files, hash, bytes, None)
}

/// [`keep_file`], made a hard link to `from` when given (a file with these
/// very bytes that never changes): no bytes are copied. Where linking
/// cannot be done (another file system, a file renamed meanwhile, no
/// permission), the bytes are written.
pub fn keep_file_from(
    files: &std::path::Path,
    hash: &str,
    bytes: &[u8],
    from: Option<&std::path::Path>,
) -> std::io::Result<std::path::PathBuf> {
    let path = document_path(files, hash);
    if path.exists() {
        return Ok(path);
    }
    let parent = path.parent().unwrap_or(files);
    if !parent.is_dir() {
        std::fs::create_dir_all(parent)?;
    }
    if let Some(from) = from {
        match std::fs::hard_link(from, &path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(path),
            Err(e) => tracing::debug!("cannot link {} as an original ({e}): copying it", from.display()),
        }
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The matcher's decision for an item: notes use their hints and text.
fn decide(dir: &Directory, item: &NewItem, warnings: &mut Vec<String>) -> Decision {
    match &item.note {
        Some(hints) => {
            let (d, w) = dir.decide_note(&item.participants, hints, &format!("{}\n{}", item.subject, item.body));
            let path = item.extra.get("path").and_then(|p| p.as_str()).unwrap_or("a note");
            warnings.extend(w.into_iter().map(|w| format!("{path}: {w}")));
            d
        }
        None => dir.decide(&item.participants),
    }
}

/// Rewrites a stored item from a changed source file (same id).
fn update_item(tx: &Db, id: i64, item: &NewItem, dir: &Directory, warnings: &mut Vec<String>) -> Result<()> {
    let decision = decide(dir, item, warnings);
    let direction = direction_of(dir, &item.participants, &decision);
    let rev = super::counter(tx, "rev")?;
    tx.execute(
        "UPDATE items SET kind = ?2, date = ?3, date_source = ?4, direction = ?5, subject = ?6, body = ?7,
             content_hash = ?8, size = ?9, extra = ?10, deleted_at = NULL, rev = ?11 WHERE id = ?1",
        args![
            id,
            item.kind.as_str(),
            item.date.to_rfc3339_opts(SecondsFormat::Secs, true),
            item.date_source.as_str(),
            direction.as_str(),
            item.subject,
            item.body,
            item.content_hash,
            size_of(item.size)?,
            item.extra.to_string(),
            rev
        ],
    )?;
    tx.execute("DELETE FROM item_participants WHERE item_id = ?1", args![id])?;
    tx.execute("DELETE FROM item_attachments WHERE item_id = ?1", args![id])?;
    insert_details(tx, id, item)?;
    // A changed note may name another client: its links are all recomputed.
    tx.execute(
        "DELETE FROM item_links WHERE item_id = ?1 AND reason != 'manual'
             OR (item_id = ?1 AND LOWER(evidence) LIKE 'front matter%')",
        args![id],
    )?;
    if let Decision::Links(links) = &decision {
        insert_links(tx, id, links, None)?;
    }
    Ok(())
}

/// An item's participants, references and attachments: a multi-row
/// insert each (a round trip each on PostgreSQL, not one per row).
fn insert_details(tx: &Db, id: i64, item: &NewItem) -> Result<()> {
    let rows: Vec<(&str, &Option<String>, &str, String)> =
        item.participants.iter().map(|p| (p.role.as_str(), &p.name, p.address.as_str(), rdomain(&p.address))).collect();
    let mut values: Vec<&dyn ToParam> = Vec::with_capacity(rows.len() * 5);
    for (role, name, address, rdomain) in &rows {
        values.extend([&id as &dyn ToParam, role, *name, address, rdomain]);
    }
    tx.insert_later(
        "item_participants",
        "INSERT INTO item_participants (item_id, role, name, address, rdomain)",
        "",
        5,
        &values,
    )?;
    let mut values: Vec<&dyn ToParam> = Vec::with_capacity(item.references.len() * 2);
    for r in &item.references {
        values.extend([&id as &dyn ToParam, r]);
    }
    tx.insert_later(
        "item_references",
        "INSERT INTO item_references (item_id, message_id)",
        "ON CONFLICT DO NOTHING",
        2,
        &values,
    )?;
    let sizes = item.attachments.iter().map(|a| size_of(a.size)).collect::<Result<Vec<i64>>>()?;
    let mut values: Vec<&dyn ToParam> = Vec::with_capacity(item.attachments.len() * 5);
    for (a, size) in item.attachments.iter().zip(&sizes) {
        values.extend([&id as &dyn ToParam, &a.name, &a.mime, size, &a.content_hash]);
    }
    tx.insert_later(
        "item_attachments",
        "INSERT INTO item_attachments (item_id, name, mime, size, content_hash)",
        "",
        5,
        &values,
    )?;
    Ok(())
}

/// What the items of one transaction share as each is stored.
struct Ctx<'a> {
    dir: &'a Directory,
    ts: &'a str,
    /// Threads whose links are propagated before the commit.
    threads: &'a mut BTreeSet<i64>,
    warnings: &'a mut Vec<String>,
    auto: &'a mut super::auto::State,
    absent: &'a mut Absent,
}

fn ingest_one(
    tx: &Db,
    ctx: &mut Ctx<'_>,
    (item, documents): (&NewItem, &[NewItem]),
    key: &SourceKey,
    replace: bool,
) -> Result<IngestOutcome> {
    let (dir, ts) = (ctx.dir, ctx.ts);
    // Taken first: whichever way this item goes, it is stored under `key`.
    let key_absent = ctx.absent.take_key(key);
    // One meeting is one item: an event is found by its UID and
    // RECURRENCE-ID, whichever source brought it first.
    let event = super::events::Ident::of(item);
    if let Some(ev) = &event
        && let Some(outcome) =
            super::events::known(tx, item, ev, key, ts, |id| update_item(tx, id, item, dir, ctx.warnings))?
    {
        ctx.absent.forget(item);
        return Ok(outcome);
    }
    let known: Option<i64> = if key_absent {
        None
    } else {
        tx.value("SELECT item_id FROM item_sources WHERE source = ?1 AND key = ?2", args![key.source, key.key])?
    };
    if let Some(id) = known {
        ctx.absent.forget(item);
        tx.execute(
            "UPDATE item_sources SET gone_at = NULL WHERE source = ?1 AND key = ?2 AND gone_at IS NOT NULL",
            args![key.source, key.key],
        )?;
        if replace {
            let stored: Option<(String, bool)> =
                tx.query_row("SELECT content_hash, deleted_at IS NOT NULL FROM items WHERE id = ?1", args![id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            let (hash, deleted) = stored.ok_or_else(|| StoreError::NotFound { what: "item", query: id.to_string() })?;
            if hash != item.content_hash || deleted {
                update_item(tx, id, item, dir, ctx.warnings)?;
                return Ok(IngestOutcome::Updated(ItemId(id)));
            }
        }
        return Ok(IngestOutcome::Duplicate(ItemId(id)));
    }
    // The kind is compared here, not in SQL: a bound `kind = ?` would let
    // the planner weigh the partial index `items_thread_last`, which marks
    // the statement to be prepared again whenever the value is bound
    // (6 % of the store thread).
    let mut existing: Option<i64> = None;
    if let Some(mid) = item.message_id.as_ref().filter(|m| !ctx.absent.message_id(m)) {
        existing = first_of_kind(tx, "SELECT id, kind FROM items WHERE message_id = ?1 ORDER BY id", mid, item.kind)?;
    }
    if existing.is_none() && !ctx.absent.hash(&item.content_hash) {
        existing = first_of_kind(
            tx,
            "SELECT id, kind FROM items WHERE content_hash = ?1 ORDER BY id",
            &item.content_hash,
            item.kind,
        )?;
    }
    if let Some(id) = existing {
        ctx.absent.forget(item);
        add_source(tx, id, key, ts)?;
        return Ok(IngestOutcome::Duplicate(ItemId(id)));
    }
    if let Some((id, adopt)) = captured_twin(tx, item, ctx.absent)? {
        ctx.absent.forget(item);
        if adopt {
            adopt_message_id(tx, id, item, ctx.threads, ctx.absent)?;
        }
        add_source(tx, id, key, ts)?;
        return Ok(IngestOutcome::Duplicate(ItemId(id)));
    }
    let decision = decide(dir, item, ctx.warnings);
    if let Decision::Blocked { address } = &decision {
        return Ok(IngestOutcome::Blocked(address.clone()));
    }
    let direction = match (item.direction, direction_of(dir, &item.participants, &decision)) {
        (_, Direction::Internal) => Direction::Internal,
        (Some(hint), _) => hint,
        (None, found) => found,
    };
    // From here on the item is stored: what it names is asked again.
    ctx.absent.forget(item);
    let thread = assign_thread(tx, item, ctx.absent)?;
    let rev = super::counter(tx, "rev")?;
    let date = item.date.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (size, extra) = (size_of(item.size)?, item.extra.to_string());
    let id = insert_item(
        tx,
        args![
            item.kind.as_str(),
            item.message_id,
            thread,
            date,
            item.date_source.as_str(),
            direction.as_str(),
            item.subject,
            item.body,
            item.content_hash,
            size,
            extra,
            ts,
            rev,
        ],
    )?;
    if item.kind == ItemKind::Email && is_derived_capture(&item.extra) {
        ctx.absent.hold_capture(tx)?;
    }
    insert_details(tx, id, item)?;
    if let Decision::Links(links) = &decision {
        let mut links = links.clone();
        if item.kind == ItemKind::Email {
            super::auto::from_mail(
                tx,
                dir,
                ctx.auto.policy,
                id,
                direction,
                &item.participants,
                &item.extra,
                &mut links,
                &mut ctx.auto.created,
                ts,
            )?;
        }
        if item.kind == ItemKind::Document
            && let Some(deal) = super::auto::invoice(tx, id, &item.extra, &links, direction, ts)?
        {
            ctx.auto.deals.push(deal);
        }
        let fields = (date, item.kind.as_str().to_string(), true, thread);
        insert_links(tx, id, &links, Some(fields))?;
    }
    add_source(tx, id, key, ts)?;
    if let Some(t) = thread {
        ctx.threads.insert(t);
    }
    if let Some(ev) = &event {
        super::events::record(tx, id, ev)?;
        super::events::apply_replies(tx, id)?;
    }
    if let Some(inv) = &item.invitation {
        super::events::invitation(tx, id, inv, |event, key| ingest_one(tx, ctx, (event, &[]), key, true))?;
    }
    for doc in documents {
        let mut doc = doc.clone();
        if let Some(extra) = doc.extra.as_object_mut() {
            extra.insert("from_item".into(), id.into());
        }
        ingest_one(tx, ctx, (&doc, &[]), &SourceKey::document(&doc.content_hash), false)?;
    }
    Ok(IngestOutcome::New(ItemId(id)))
}

/// Runs `sql`, an INSERT of one row, and returns the row's id; `None`
/// when it inserted nothing (a conflict it ignores). SQLite runs the
/// statement as written and reads the connection's last rowid: a
/// RETURNING clause is a trigger to SQLite, which then keeps a statement
/// journal for the insert (half again as slow, measured on `items`).
/// PostgreSQL is asked for `RETURNING id`.
pub(super) fn insert_id(db: &Db, sql: &str, args: &[&dyn ToParam]) -> Result<Option<i64>> {
    match db.as_sqlite() {
        Some(conn) => Ok((db.execute(sql, args)? > 0).then(|| conn.last_insert_rowid())),
        None => Ok(db.value(&format!("{sql} RETURNING id"), args)?),
    }
}

/// Stores an item's row (its 13 columns from `kind` to `rev`) and returns
/// its id. SQLite inserts it at once. PostgreSQL takes the id from the
/// identity's sequence (a block of them per transaction) and keeps the row
/// back with the item's other rows ([`Db::insert_parent_later`]): a batch
/// of new mail is then a few multi-row inserts, not a round trip per row.
fn insert_item(tx: &Db, values: &[&dyn ToParam]) -> Result<i64> {
    /// The columns an item's row is given, `id` aside.
    macro_rules! item_columns {
        () => {
            "kind, message_id, thread_id, date, date_source, direction, subject, body, content_hash, size, extra, created_at, rev"
        };
    }
    if tx.dialect() == Dialect::Sqlite {
        const SQL: &str = concat!(
            "INSERT INTO items (",
            item_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        );
        return insert_id(tx, SQL, values)?
            .ok_or_else(|| StoreError::Invalid("cannot store an item: its insert returned no id".into()));
    }
    let id = match tx.take_reserved("items.id") {
        Some(id) => id,
        None => {
            // The table's name is bound: a statement that names `items`
            // would send the kept item rows first.
            let ids: Vec<i64> = tx.query(
                "SELECT nextval(pg_get_serial_sequence(?2, 'id')) FROM generate_series(1, ?1)",
                args![tx.counter_block("items.id"), "items"],
                |r| r.get(0),
            )?;
            let (Some(first), Some(last)) = (ids.first().copied(), ids.last().copied()) else {
                return Err(StoreError::Invalid("cannot store an item: no id from the items sequence".into()));
            };
            // Contiguous unless another session took ids meanwhile; then
            // the rest is skipped.
            if usize::try_from(last - first).ok() == Some(ids.len() - 1) && last > first {
                tx.reserve("items.id", first + 1, last, last - first + 1);
            }
            first
        }
    };
    let mut row: Vec<&dyn ToParam> = Vec::with_capacity(14);
    row.push(&id);
    row.extend_from_slice(values);
    tx.insert_parent_later(("items", "item_id"), concat!("INSERT INTO items (id, ", item_columns!(), ")"), &row)?;
    Ok(id)
}

/// The first item of `kind` among the rows `(id, kind)` that `sql` finds
/// for `key`.
fn first_of_kind(tx: &Db, sql: &str, key: &str, kind: ItemKind) -> Result<Option<i64>> {
    let rows = tx.query(sql, args![key], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)? == kind.as_str())))?;
    Ok(rows.into_iter().find(|(_, same)| *same).map(|(id, _)| id))
}

/// Where [`captured_twin`] looks for the other copy of a mail: its
/// sender, the minute it was sent (start, end) and whether it is the
/// captured copy; `None` when it has no twin to look for.
fn twin_window(item: &NewItem) -> Option<(&str, String, String, bool)> {
    use chrono::Timelike;
    if item.kind != ItemKind::Email {
        return None;
    }
    let captured = is_derived_capture(&item.extra);
    // A captured date that is the forward's, not the original's, says nothing.
    if captured && item.date_source != DateSource::Header {
        return None;
    }
    let sender = item.participants.iter().find(|p| p.role == Role::From && !p.address.is_empty())?;
    let start = item.date.with_second(0).and_then(|d| d.with_nanosecond(0))?;
    let end = start.checked_add_signed(chrono::TimeDelta::minutes(1))?;
    let fmt = |d: DateTime<Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
    Some((sender.address.as_str(), fmt(start), fmt(end), captured))
}

/// True for a mail that `mail::parse_captured` unwrapped from a forward
/// without the original's Message-ID (its id is derived).
fn is_derived_capture(extra: &serde_json::Value) -> bool {
    extra.pointer("/capture/derived_id").and_then(serde_json::Value::as_bool) == Some(true)
}

/// The same mail once from a capture mailbox (a forward, without the
/// original's Message-ID) and once from a mailbox: the other copy, found
/// by the sender's address, the minute and the normalised subject. Only
/// a pair with a captured side is one item (two mailbox mails with their
/// own Message-IDs stay two). Returns the stored item and whether it is the
/// captured copy (then the arriving mailbox copy lends it its Message-ID).
///
/// Cheap: a range of one minute on `items_date` (no new index needed);
/// the sender is asked only of candidates with the same subject (rare),
/// so the participants the transaction keeps back are sent only then
/// ([`Db::insert_later`]).
fn captured_twin(tx: &Db, item: &NewItem, absent: &Absent) -> Result<Option<(i64, bool)>> {
    let Some((sender, start, end, captured)) = twin_window(item) else { return Ok(None) };
    // A mailbox copy's twin is a captured mail: none when the store holds none.
    if !captured && !absent.captures_held() {
        return Ok(None);
    }
    let subject = crate::mail::normalized_subject(&item.subject);
    let rows = tx.query(
        "SELECT i.id, i.subject, i.extra FROM items i
         WHERE i.date >= ?1 AND i.date < ?2 AND i.kind = 'email' LIMIT 500",
        args![start, end],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)),
    )?;
    let same: Vec<(i64, bool)> = rows
        .into_iter()
        .filter(|(_, other_subject, _)| crate::mail::normalized_subject(other_subject) == subject)
        .map(|(id, _, extra)| {
            (id, serde_json::from_str::<serde_json::Value>(&extra).is_ok_and(|e| is_derived_capture(&e)))
        })
        .filter(|(_, other_captured)| captured || *other_captured)
        .collect();
    if same.is_empty() {
        return Ok(None);
    }
    let ids: Vec<i64> = same.iter().map(|(id, _)| *id).collect();
    let from_sender: std::collections::HashSet<i64> = super::query_among(
        tx,
        "SELECT item_id FROM item_participants WHERE role = 'from' AND address = ?1 AND item_id IN {}",
        &[&sender],
        &ids,
        |r| r.get::<i64>(0),
    )?
    .into_iter()
    .collect();
    // The oldest match (no ORDER BY: the date range must stay the plan).
    Ok(same
        .into_iter()
        .filter(|(id, _)| from_sender.contains(id))
        .min_by_key(|(id, _)| *id)
        .map(|(id, other_captured)| (id, other_captured && !captured)))
}

/// A mailbox copy of a mail first stored from a capture mailbox: the item
/// takes the real Message-ID and joins its thread (replies name it), and
/// the mailbox copy's references are added.
fn adopt_message_id(tx: &Db, id: i64, item: &NewItem, threads: &mut BTreeSet<i64>, absent: &mut Absent) -> Result<()> {
    let Some(mid) = item.message_id.as_ref().filter(|_| item.extra.get("derived_message_id").is_none()) else {
        return Ok(());
    };
    let (old_mid, extra): (Option<String>, String) = tx
        .query_row("SELECT message_id, extra FROM items WHERE id = ?1", args![id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .ok_or_else(|| StoreError::NotFound { what: "item", query: id.to_string() })?;
    let probe = NewItem {
        kind: ItemKind::Email,
        message_id: Some(mid.clone()),
        references: item.references.iter().cloned().chain(old_mid).collect(),
        ..NewItem::default()
    };
    let thread = assign_thread(tx, &probe, absent)?;
    let mut extra: serde_json::Value = serde_json::from_str(&extra).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(capture) = extra.get_mut("capture").and_then(serde_json::Value::as_object_mut) {
        capture.insert("derived_id".into(), false.into());
        capture.insert("message_id_from".into(), "mailbox".into());
    }
    let rev = super::counter(tx, "rev")?;
    tx.execute(
        "UPDATE items SET message_id = ?2, thread_id = ?3, extra = ?4, rev = ?5 WHERE id = ?1",
        args![id, mid, thread, extra.to_string(), rev],
    )?;
    for r in &item.references {
        tx.execute(
            "INSERT INTO item_references (item_id, message_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![id, r],
        )?;
    }
    if let Some(t) = thread {
        threads.insert(t);
    }
    Ok(())
}

fn add_source(tx: &Db, id: i64, key: &SourceKey, ts: &str) -> Result<()> {
    tx.insert_later(
        "item_sources",
        "INSERT INTO item_sources (source, key, item_id, seen_at)",
        "ON CONFLICT DO NOTHING",
        4,
        args![key.source, key.key, id, ts],
    )?;
    Ok(())
}

/// Inserts one link (item, client, contact, reason, ambiguous, evidence)
/// with its item's date, kind, liveness and thread copied in the same
/// statement (schema migrations 7 and 9).
pub(super) const LINK_INSERT: &str =
    "INSERT INTO item_links (item_id, client_id, contact_id, reason, ambiguous, evidence, date, kind, live, thread_id)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, i.date, i.kind, CASE WHEN i.deleted_at IS NULL THEN 1 ELSE 0 END, i.thread_id
     FROM items i WHERE i.id = ?1";

/// An item's fields that its links copy: date, kind, live, thread.
type LinkFields = (String, String, bool, Option<i64>);

/// Inserts an item's links, its fields read once (or given: a new item's
/// are known), in multi-row inserts. A `VALUES` insert with no trigger on
/// the table needs no statement journal, which an `INSERT … SELECT` does
/// (it copied every page it touched, 7 % of the store thread).
fn insert_links(tx: &Db, id: i64, links: &[Link], fields: Option<LinkFields>) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    let (date, kind, live, thread) = match fields {
        Some(f) => f,
        None => tx
            .query_row("SELECT date, kind, deleted_at IS NULL, thread_id FROM items WHERE id = ?1", args![id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .ok_or_else(|| StoreError::NotFound { what: "item", query: id.to_string() })?,
    };
    let rows: Vec<(i64, Option<i64>, &str)> =
        links.iter().map(|l| (l.client.0, l.contact.map(|c| c.0), l.reason.as_str())).collect();
    let mut values: Vec<&dyn ToParam> = Vec::with_capacity(links.len() * 10);
    for (l, (client, contact, reason)) in links.iter().zip(&rows) {
        values.extend([
            &id as &dyn ToParam,
            client,
            contact,
            reason,
            &l.ambiguous,
            &l.evidence,
            &date,
            &kind,
            &live,
            &thread,
        ]);
    }
    tx.insert_later(
        "item_links",
        "INSERT INTO item_links (item_id, client_id, contact_id, reason, ambiguous, evidence, date, kind, live, thread_id)",
        "",
        10,
        &values,
    )?;
    Ok(())
}

/// Puts an item into a thread: every Message-ID it names (its own, its
/// parents') maps to one thread; when the item joins threads that were
/// apart (a missing parent arrives), they merge into the oldest.
/// Self-references and cycles need no special case: ids map to threads,
/// nothing walks the reference graph.
fn assign_thread(tx: &Db, item: &NewItem, known: &mut Absent) -> Result<Option<i64>> {
    let list: Vec<&str> = super::absent::thread_names(item).into_iter().collect();
    if list.is_empty() {
        return Ok(None);
    }
    let found = known.threads_of(tx, &list)?;
    let thread = match found.iter().next() {
        Some(t) => *t,
        None => super::counter(tx, "thread")?,
    };
    for other in found.iter().skip(1) {
        let rev = super::counter(tx, "rev")?;
        tx.execute("UPDATE items SET thread_id = ?1, rev = ?3 WHERE thread_id = ?2", args![thread, other, rev])?;
        tx.execute("UPDATE thread_ids SET thread_id = ?1 WHERE thread_id = ?2", args![thread, other])?;
        known.merged(*other, thread);
    }
    let mut values: Vec<&dyn ToParam> = Vec::with_capacity(list.len() * 2);
    for id in &list {
        values.extend([id as &dyn ToParam, &thread]);
    }
    tx.insert_later(
        "thread_ids",
        "INSERT INTO thread_ids (message_id, thread_id)",
        "ON CONFLICT DO NOTHING",
        2,
        &values,
    )?;
    known.threaded(&list, thread);
    Ok(Some(thread))
}

/// An item's link as the matcher makes it: client, contact, reason,
/// ambiguous, evidence.
type DirectLink = (i64, Option<i64>, String, bool, String);

/// Replaces an item's matcher-made links (address, domain) with `links`,
/// keeping manual and thread links; bumps the item's rev when they change.
/// `current` are its links that are neither manual nor by thread.
fn replace_direct_links(tx: &Db, id: ItemId, links: &[Link], mut current: Vec<DirectLink>) -> Result<bool> {
    // Compared whole, in Rust's order (NULL contacts sort first in SQLite
    // and last in PostgreSQL).
    current.sort();
    let mut wanted: Vec<DirectLink> = links
        .iter()
        .map(|l| (l.client.0, l.contact.map(|c| c.0), l.reason.as_str().to_string(), l.ambiguous, l.evidence.clone()))
        .collect();
    wanted.sort();
    if current == wanted {
        return Ok(false);
    }
    tx.execute("DELETE FROM item_links WHERE item_id = ?1 AND reason NOT IN ('manual', 'thread')", args![id.0])?;
    insert_links(tx, id.0, links, None)?;
    let rev = super::counter(tx, "rev")?;
    tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", args![id.0, rev])?;
    Ok(true)
}

/// Gives every external item of a thread that has no direct client link
/// the clients the rest of the thread is linked to (reason `thread`), and
/// takes thread links away from items that now have direct ones.
/// Returns how many items changed. The members of all `threads` and
/// their links are read in a query each per 64 (not two per thread).
fn propagate_threads(tx: &Db, threads: &[i64]) -> Result<usize> {
    let rows = super::query_among(
        tx,
        "SELECT thread_id, id, direction FROM items WHERE thread_id IN {}",
        &[],
        threads,
        |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?)),
    )?;
    let mut members: BTreeMap<i64, Vec<(i64, String)>> = BTreeMap::new();
    for (thread, id, direction) in rows {
        members.entry(thread).or_default().push((id, direction));
    }
    members.retain(|_, m| m.len() >= 2);
    let ids: Vec<i64> = members.values().flatten().map(|(id, _)| *id).collect();
    // Every member's links: (direct, by thread) per item.
    let mut direct: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut by_thread: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let links = super::query_among(
        tx,
        "SELECT item_id, client_id, reason FROM item_links WHERE item_id IN {}",
        &[],
        &ids,
        |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(2)? == LinkReason::Thread.as_str())),
    )?;
    for (id, client, thread_link) in links {
        let to = if thread_link { &mut by_thread } else { &mut direct };
        to.entry(id).or_default().insert(client);
    }
    let mut changed = 0;
    for (thread, members) in &members {
        let thread_clients: BTreeSet<i64> =
            members.iter().filter_map(|(id, _)| direct.get(id)).flatten().copied().collect();
        for (id, direction) in members {
            let wanted: BTreeSet<i64> =
                if direct.get(id).is_none_or(BTreeSet::is_empty) && direction != Direction::Internal.as_str() {
                    thread_clients.clone()
                } else {
                    BTreeSet::new()
                };
            let current = by_thread.remove(id).unwrap_or_default();
            if current == wanted {
                continue;
            }
            tx.execute("DELETE FROM item_links WHERE item_id = ?1 AND reason = 'thread'", args![id])?;
            for c in &wanted {
                tx.execute(
                    LINK_INSERT,
                    args![id, c, None::<i64>, LinkReason::Thread.as_str(), false, format!("thread {thread}")],
                )?;
            }
            let rev = super::counter(tx, "rev")?;
            tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", args![id, rev])?;
            changed += 1;
        }
    }
    Ok(changed)
}
