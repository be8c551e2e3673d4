//! History items: idempotent ingestion (source identity, Message-ID,
//! content hash), threading, links and re-matching.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::clients::parse_time;
use super::{Result, Store, StoreError, next_counter, now};
use crate::address::domain_of;
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
    /// items are marked deleted; mail uses `mark_gone` instead.
    pub deleted: &'a [SourceKey],
    pub cursor: Option<(&'a str, &'a str)>,
    /// The documents among each item's attachments, ready to store (text
    /// extracted, kind decided, file kept: `pipeline::prepare_documents`),
    /// in the order of `items`; missing entries mean none. Each is stored
    /// with its item and linked back to it (`from_item`).
    pub documents: &'a [Vec<NewItem>],
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
        self.apply(&Changes { items: batch, cursor, ..Changes::default() }).map(|(o, _)| o)
    }

    /// Applies a source's changes in one transaction: renamed keys first,
    /// then items (updated in place when `replace` and their content
    /// changed), deleted keys, and the cursor. Returns the outcomes and
    /// warnings (notes naming unknown clients).
    pub fn apply(&mut self, changes: &Changes<'_>) -> Result<(Vec<IngestOutcome>, Vec<String>)> {
        loop {
            let mut dir = self.take_directory()?;
            let mut auto = super::auto::State { policy: self.policy.auto_contacts, ..Default::default() };
            let result = ingest_tx(super::sqlite(&self.db)?, &dir, &mut auto, changes);
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
                return Ok(r);
            }
        }
    }

    /// Records that a source no longer holds an item (expunged, file
    /// deleted); the item stays in the history.
    pub fn mark_gone(&mut self, key: &SourceKey) -> Result<bool> {
        let n = super::sqlite(&self.db)?.execute(
            "UPDATE item_sources SET gone_at = ?3 WHERE source = ?1 AND key = ?2 AND gone_at IS NULL",
            params![key.source, key.key, now()],
        )?;
        Ok(n > 0)
    }

    /// The keys a source holds in the store (not marked gone).
    pub fn source_keys(&self, source: &str) -> Result<std::collections::HashSet<String>> {
        let mut stmt = super::sqlite(&self.db)?
            .prepare_cached("SELECT key FROM item_sources WHERE source = ?1 AND gone_at IS NULL")?;
        let rows = stmt.query_map([source], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Key → content hash of a source's items that are neither gone nor deleted.
    pub fn source_hashes(&self, source: &str) -> Result<std::collections::HashMap<String, String>> {
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT s.key, i.content_hash FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.source = ?1 AND s.gone_at IS NULL AND i.deleted_at IS NULL",
        )?;
        let rows = stmt.query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Key → date of a source's items that are neither gone nor deleted.
    pub fn source_dates(&self, source: &str) -> Result<KnownDates> {
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT s.key, i.date FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.source = ?1 AND s.gone_at IS NULL AND i.deleted_at IS NULL",
        )?;
        let rows = stmt.query_map([source], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (k, d) = row?;
            out.insert(k, parse_time(&d));
        }
        Ok(out)
    }

    /// Links an item to a client by hand; re-matching never removes it.
    pub fn link_manual(&mut self, item: ItemId, client: ClientId, contact: Option<ContactId>) -> Result<()> {
        self.item(item)?;
        self.client(client)?;
        let tx = super::sqlite(&self.db)?.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM item_links WHERE item_id = ?1 AND client_id = ?2 AND reason = 'manual'",
            params![item.0, client.0],
        )?;
        tx.execute(LINK_INSERT, params![item.0, client.0, contact.map(|c| c.0), "manual", false, "manual"])?;
        let rev = next_counter(&tx, "rev")?;
        tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", params![item.0, rev])?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a manual link (other links come back from re-matching).
    pub fn unlink_manual(&mut self, item: ItemId, client: ClientId) -> Result<bool> {
        let tx = super::sqlite(&self.db)?.unchecked_transaction()?;
        let n = tx.execute(
            "DELETE FROM item_links WHERE item_id = ?1 AND client_id = ?2 AND reason = 'manual'",
            params![item.0, client.0],
        )?;
        let rev = next_counter(&tx, "rev")?;
        tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", params![item.0, rev])?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Re-matches the items a directory change can affect: those with a
    /// participant at one of `domains` (or a subdomain) or at one of
    /// `addresses`, and those linked to one of `clients`.
    pub fn rematch_for(&mut self, domains: &[String], addresses: &[String], clients: &[ClientId]) -> Result<usize> {
        let mut ids: BTreeSet<i64> = BTreeSet::new();
        {
            let mut by_addr =
                super::sqlite(&self.db)?.prepare_cached("SELECT item_id FROM item_participants WHERE address = ?1")?;
            for a in addresses {
                for id in by_addr.query_map([a], |r| r.get(0))? {
                    ids.insert(id?);
                }
            }
            let mut by_domain = super::sqlite(&self.db)?.prepare_cached(
                "SELECT item_id FROM item_participants WHERE rdomain = ?1 OR (rdomain > ?2 AND rdomain < ?3)",
            )?;
            for d in domains {
                let r = reverse_domain(d);
                for id in by_domain.query_map(params![r, format!("{r}."), format!("{r}/")], |r| r.get(0))? {
                    ids.insert(id?);
                }
            }
            // Notes can name a client by IČO, folder or name: few enough to look at all.
            if !domains.is_empty() || !clients.is_empty() || !addresses.is_empty() {
                let mut notes = super::sqlite(&self.db)?
                    .prepare_cached("SELECT id FROM items WHERE kind IN ('call', 'meeting') AND deleted_at IS NULL")?;
                for id in notes.query_map([], |r| r.get(0))? {
                    ids.insert(id?);
                }
            }
            let mut by_client =
                super::sqlite(&self.db)?.prepare_cached("SELECT item_id FROM item_links WHERE client_id = ?1")?;
            for c in clients {
                for id in by_client.query_map([c.0], |r| r.get(0))? {
                    ids.insert(id?);
                }
            }
        }
        let ids: Vec<ItemId> = ids.into_iter().map(ItemId).collect();
        self.rematch_items(&ids)
    }

    /// Re-matches every stored item (after a config change).
    pub fn rematch_all(&mut self) -> Result<usize> {
        let ids: Vec<ItemId> = {
            let mut stmt = super::sqlite(&self.db)?.prepare("SELECT id FROM items")?;
            stmt.query_map([], |r| Ok(ItemId(r.get(0)?)))?.collect::<rusqlite::Result<_>>()?
        };
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
            let (n, after) = rematch_chunk(super::sqlite(&self.db)?, &dir.1, chunk, &mut threads, &mut auto)?;
            if super::auto::follow(&mut dir, &mut auto.created, after) {
                self.put_directory(dir);
            }
            changed += n;
        }
        let threads: Vec<i64> = threads.into_iter().collect();
        for chunk in threads.chunks(REMATCH_CHUNK) {
            let tx = super::sqlite(&self.db)?.unchecked_transaction()?;
            for t in chunk {
                changed += propagate_thread(&tx, *t)?;
            }
            tx.commit()?;
        }
        Ok(changed)
    }

    /// One item, whole.
    pub fn item(&self, id: ItemId) -> Result<ItemRow> {
        let mut row = super::sqlite(&self.db)?
            .query_row(
                "SELECT id, kind, date, date_source, direction, subject, body, message_id, thread_id, content_hash, size, extra, deleted_at, rev
                 FROM items WHERE id = ?1",
                [id.0],
                |r| {
                    let date: String = r.get(2)?;
                    let extra: String = r.get(11)?;
                    Ok(ItemRow {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        date: parse_time(&date),
                        date_source: r.get(3)?,
                        direction: r.get(4)?,
                        subject: r.get(5)?,
                        body: r.get(6)?,
                        message_id: r.get(7)?,
                        thread_id: r.get(8)?,
                        content_hash: r.get(9)?,
                        size: r.get(10)?,
                        extra: serde_json::from_str(&extra).unwrap_or_default(),
                        deleted_at: r.get(12)?,
                        rev: r.get(13)?,
                        participants: Vec::new(),
                        attachments: Vec::new(),
                        links: Vec::new(),
                        sources: Vec::new(),
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound { what: "item", query: id.to_string() })?;
        row.participants = load_participants(super::sqlite(&self.db)?, id)?;
        row.links = self.item_links(id)?;
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT name, mime, size, content_hash FROM item_attachments WHERE item_id = ?1 ORDER BY rowid",
        )?;
        row.attachments = stmt
            .query_map([id.0], |r| {
                Ok(Attachment {
                    name: r.get(0)?,
                    mime: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    content_hash: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = super::sqlite(&self.db)?
            .prepare_cached("SELECT source, key, gone_at FROM item_sources WHERE item_id = ?1 ORDER BY source, key")?;
        row.sources = stmt
            .query_map([id.0], |r| {
                let gone: Option<String> = r.get(2)?;
                Ok(format!(
                    "{} {}{}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    if gone.is_some() { " (gone)" } else { "" }
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(row)
    }

    /// The links of an item, with client and contact names.
    pub fn item_links(&self, id: ItemId) -> Result<Vec<LinkRow>> {
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT l.client_id, c.name, l.contact_id, p.name, l.reason, l.ambiguous, l.evidence
             FROM item_links l JOIN clients c ON c.id = l.client_id LEFT JOIN contacts p ON p.id = l.contact_id
             WHERE l.item_id = ?1 ORDER BY c.name_key, p.name",
        )?;
        let rows = stmt.query_map([id.0], |r| {
            Ok(LinkRow {
                client_id: r.get(0)?,
                client: r.get(1)?,
                contact_id: r.get(2)?,
                contact: r.get(3)?,
                reason: r.get(4)?,
                ambiguous: r.get(5)?,
                evidence: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Ids of a client's items, newest first.
    /// Events still ahead belong to the agenda, not to what happened.
    pub fn client_item_ids(&self, client: ClientId, limit: usize, deleted: bool) -> Result<Vec<ItemId>> {
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT DISTINCT l.item_id, l.date FROM item_links l INDEXED BY item_links_client_date
             WHERE l.client_id = ?1 AND l.live = 1 - ?3 AND NOT (l.kind = 'event' AND l.date > ?4)
             ORDER BY l.date DESC, l.item_id DESC LIMIT ?2",
        )?;
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let rows = stmt.query_map(params![client.0, limit as i64, deleted as i64, now], |r| Ok(ItemId(r.get(0)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        let mut stmt = match client {
            Some(_) => super::sqlite(&self.db)?.prepare_cached(
                "SELECT DISTINCT item_id, date FROM item_links
                 WHERE client_id = ?3 AND live = 1 AND kind = 'event' AND date >= ?1 AND date < ?2
                   AND item_id NOT IN (SELECT item_id FROM events WHERE cancelled = 1)
                 ORDER BY date, item_id",
            )?,
            None => super::sqlite(&self.db)?.prepare_cached(
                "SELECT id, date FROM items
                 WHERE kind = 'event' AND deleted_at IS NULL AND date >= ?1 AND date < ?2 AND ?3 IS NULL
                   AND id NOT IN (SELECT item_id FROM events WHERE cancelled = 1)
                 ORDER BY date, id",
            )?,
        };
        let rows = stmt.query_map(params![fmt(from), fmt(to), client.map(|c| c.0)], |r| Ok(ItemId(r.get(0)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A client's live items of one kind dated before `before`, newest first.
    pub fn client_items_of_kind(
        &self,
        client: ClientId,
        kind: ItemKind,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ItemId>> {
        let mut stmt = super::sqlite(&self.db)?.prepare_cached(
            "SELECT DISTINCT item_id, date FROM item_links
             WHERE client_id = ?1 AND live = 1 AND kind = ?2 AND date < ?3
             ORDER BY date DESC, item_id DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![client.0, kind.as_str(), before.to_rfc3339_opts(SecondsFormat::Secs, true), limit as i64],
            |r| Ok(ItemId(r.get(0)?)),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Number of items seen per source.
    pub fn source_counts(&self) -> Result<BTreeMap<String, i64>> {
        let mut stmt = super::sqlite(&self.db)?
            .prepare("SELECT source, COUNT(DISTINCT item_id) FROM item_sources GROUP BY source")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Live items held by the sources whose ids start with `prefix` (a
    /// calendar account's calendars: `caldav:jana/`), gone keys left out.
    pub fn live_items_of_sources(&self, prefix: &str) -> Result<i64> {
        let like = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        Ok(super::sqlite(&self.db)?.query_row(
            "SELECT COUNT(DISTINCT s.item_id) FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.source LIKE ?1 ESCAPE '\\' AND s.gone_at IS NULL AND i.deleted_at IS NULL",
            [like],
            |r| r.get(0),
        )?)
    }

    /// The live source keys of every stored occurrence of the event `uid`
    /// (where a calendar account holds it: to change it there).
    pub fn event_keys(&self, uid: &str) -> Result<Vec<SourceKey>> {
        let mut stmt = super::sqlite(&self.db)?.prepare(
            "SELECT s.source, s.key FROM events e JOIN item_sources s ON s.item_id = e.item_id
             WHERE e.uid = ?1 AND s.gone_at IS NULL ORDER BY s.source, s.key",
        )?;
        let rows = stmt.query_map([uid], |r| Ok(SourceKey { source: r.get(0)?, key: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Number of live items linked to at least one client.
    pub fn linked_item_count(&self) -> Result<i64> {
        Ok(super::sqlite(&self.db)?.query_row(
            "SELECT COUNT(DISTINCT l.item_id) FROM item_links l JOIN items i ON i.id = l.item_id WHERE i.deleted_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Number of items, by kind.
    pub fn item_counts(&self) -> Result<BTreeMap<String, i64>> {
        let mut stmt = super::sqlite(&self.db)?
            .prepare("SELECT kind, COUNT(*) FROM items WHERE deleted_at IS NULL GROUP BY kind")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn load_participants(conn: &rusqlite::Connection, id: ItemId) -> Result<Vec<Participant>> {
    let mut stmt =
        conn.prepare_cached("SELECT role, name, address FROM item_participants WHERE item_id = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([id.0], |r| {
        let role: String = r.get(0)?;
        Ok(Participant { role: role.parse().unwrap_or(Role::Mentioned), name: r.get(1)?, address: r.get(2)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The pause between two re-match transactions.
const REMATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(40);

/// Items re-matched in one transaction.
pub const REMATCH_CHUNK: usize = 500;

/// Re-matches one chunk of items in one transaction; records their threads.
fn rematch_chunk(
    conn: &rusqlite::Connection,
    dir: &Directory,
    ids: &[ItemId],
    threads: &mut BTreeSet<i64>,
    auto: &mut super::auto::State,
) -> Result<(usize, i64)> {
    let tx = conn.unchecked_transaction()?;
    let mut changed = 0;
    let ts = now();
    for id in ids {
        let participants = load_participants(&tx, *id)?;
        let (extra, kind): (String, String) =
            tx.query_row("SELECT extra, kind FROM items WHERE id = ?1", [id.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let extra = serde_json::from_str::<serde_json::Value>(&extra).unwrap_or_default();
        let hints = extra.get("note").and_then(|n| serde_json::from_value::<crate::matcher::NoteHints>(n.clone()).ok());
        let decision = match &hints {
            // Notes decide as at ingestion: front matter, addresses, IČO,
            // folder, names. Only notes need their text read back.
            Some(h) => {
                let text: String =
                    tx.query_row("SELECT subject || char(10) || body FROM items WHERE id = ?1", [id.0], |r| r.get(0))?;
                dir.decide_note(&participants, h, &text).0
            }
            None => dir.decide(&participants),
        };
        let mut links: Vec<Link> = match &decision {
            // Manual links (front matter, `kronika link`) are kept as they are.
            Decision::Links(l) => l.iter().filter(|l| l.reason != LinkReason::Manual).cloned().collect(),
            Decision::Internal | Decision::Blocked { .. } => Vec::new(),
        };
        let direction = direction_of(dir, &participants, &decision);
        if kind == ItemKind::Email.as_str() {
            // A stored mail's direction may come from its mailbox (Sent):
            // the stored one is the better guess for who wrote to whom.
            let stored: String = tx.query_row("SELECT direction FROM items WHERE id = ?1", [id.0], |r| r.get(0))?;
            let dir_for_contacts = match stored.as_str() {
                "out" if direction != Direction::Internal => Direction::Out,
                _ => direction,
            };
            super::auto::from_mail(
                &tx,
                dir,
                auto.policy,
                id.0,
                dir_for_contacts,
                &participants,
                &extra,
                &mut links,
                &mut auto.created,
                &ts,
            )?;
        }
        if replace_direct_links(&tx, *id, &links)? {
            changed += 1;
        }
        tx.execute(
            "UPDATE items SET direction = ?2 WHERE id = ?1 AND kind = 'email'",
            params![id.0, direction.as_str()],
        )?;
        if let Some(t) =
            tx.query_row("SELECT thread_id FROM items WHERE id = ?1", [id.0], |r| r.get::<_, Option<i64>>(0))?
        {
            threads.insert(t);
        }
    }
    let after = directory_version_in(&tx)?;
    tx.commit()?;
    Ok((changed, after))
}

/// What [`Store::apply`] returns: the outcomes and the warnings.
type Applied = (Vec<IngestOutcome>, Vec<String>);

fn ingest_tx(
    conn: &rusqlite::Connection,
    (version, dir): &(i64, Directory),
    auto: &mut super::auto::State,
    changes: &Changes<'_>,
) -> Result<Option<(Applied, i64)>> {
    let tx = conn.unchecked_transaction()?;
    // Under the write lock: is the directory still the one we built?
    if directory_version_in(&tx)? != *version {
        return Ok(None);
    }
    let ts = now();
    for (old, new) in changes.renames {
        tx.execute(
            "UPDATE item_sources SET key = ?3, gone_at = NULL WHERE source = ?1 AND key = ?2",
            params![old.source, old.key, new.key],
        )?;
    }
    let mut out = Vec::with_capacity(changes.items.len());
    let mut warnings = Vec::new();
    let mut threads_to_propagate = BTreeSet::new();
    for (i, (item, key)) in changes.items.iter().enumerate() {
        let documents = changes.documents.get(i).map(Vec::as_slice).unwrap_or_default();
        let outcome = ingest_one(
            &tx,
            dir,
            (item, documents),
            key,
            &ts,
            changes.replace,
            &mut threads_to_propagate,
            &mut warnings,
            auto,
        )?;
        out.push(outcome);
    }
    // An item leaves the history when the last source that held it lets
    // it go (a meeting deleted from one calendar may still be in another,
    // or in an invitation).
    for key in changes.deleted {
        tx.execute(
            "UPDATE item_sources SET gone_at = ?3 WHERE source = ?1 AND key = ?2 AND gone_at IS NULL",
            params![key.source, key.key, ts],
        )?;
        let rev = next_counter(&tx, "rev")?;
        tx.execute(
            "UPDATE items SET deleted_at = ?3, rev = ?4
             WHERE id = (SELECT item_id FROM item_sources WHERE source = ?1 AND key = ?2) AND deleted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM item_sources s WHERE s.item_id = items.id AND s.gone_at IS NULL)",
            params![key.source, key.key, ts, rev],
        )?;
    }
    for t in threads_to_propagate {
        propagate_thread(&tx, t)?;
    }
    if let Some((source, value)) = changes.cursor {
        tx.execute(
            "INSERT INTO cursors (source, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![source, value, ts],
        )?;
    }
    let after = directory_version_in(&tx)?;
    tx.commit()?;
    Ok(Some(((out, warnings), after)))
}

/// The directory's version as a connection (or a transaction) sees it.
pub(super) fn directory_version_in(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(conn.prepare_cached("SELECT version FROM directory_version WHERE id = 1")?.query_row([], |r| r.get(0))?)
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
fn update_item(
    tx: &Transaction<'_>,
    id: i64,
    item: &NewItem,
    dir: &Directory,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let decision = decide(dir, item, warnings);
    let direction = direction_of(dir, &item.participants, &decision);
    let rev = next_counter(tx, "rev")?;
    tx.execute(
        "UPDATE items SET kind = ?2, date = ?3, date_source = ?4, direction = ?5, subject = ?6, body = ?7,
             content_hash = ?8, size = ?9, extra = ?10, deleted_at = NULL, rev = ?11 WHERE id = ?1",
        params![
            id,
            item.kind.as_str(),
            item.date.to_rfc3339_opts(SecondsFormat::Secs, true),
            item.date_source.as_str(),
            direction.as_str(),
            item.subject,
            item.body,
            item.content_hash,
            item.size as i64,
            item.extra.to_string(),
            rev
        ],
    )?;
    tx.execute("DELETE FROM item_participants WHERE item_id = ?1", [id])?;
    tx.execute("DELETE FROM item_attachments WHERE item_id = ?1", [id])?;
    insert_details(tx, id, item)?;
    // A changed note may name another client: its links are all recomputed.
    tx.execute("DELETE FROM item_links WHERE item_id = ?1 AND reason != 'manual' OR (item_id = ?1 AND evidence LIKE 'front matter%')", [id])?;
    if let Decision::Links(links) = &decision {
        insert_links(tx, id, links)?;
    }
    Ok(())
}

fn insert_details(tx: &Transaction<'_>, id: i64, item: &NewItem) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO item_participants (item_id, role, name, address, rdomain) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for p in &item.participants {
        stmt.execute(params![id, p.role.as_str(), p.name, p.address, rdomain(&p.address)])?;
    }
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO item_references (item_id, message_id) VALUES (?1, ?2)")?;
    for r in &item.references {
        stmt.execute(params![id, r])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO item_attachments (item_id, name, mime, size, content_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for a in &item.attachments {
        stmt.execute(params![id, a.name, a.mime, a.size as i64, a.content_hash])?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn ingest_one(
    tx: &Transaction<'_>,
    dir: &Directory,
    (item, documents): (&NewItem, &[NewItem]),
    key: &SourceKey,
    ts: &str,
    replace: bool,
    threads: &mut BTreeSet<i64>,
    warnings: &mut Vec<String>,
    auto: &mut super::auto::State,
) -> Result<IngestOutcome> {
    // One meeting is one item: an event is found by its UID and
    // RECURRENCE-ID, whichever source brought it first.
    let event = super::events::Ident::of(item);
    if let Some(ev) = &event
        && let Some(outcome) =
            super::events::known(tx, item, ev, key, ts, |id| update_item(tx, id, item, dir, warnings))?
    {
        return Ok(outcome);
    }
    let known: Option<i64> = tx
        .prepare_cached("SELECT item_id FROM item_sources WHERE source = ?1 AND key = ?2")?
        .query_row(params![key.source, key.key], |r| r.get(0))
        .optional()?;
    if let Some(id) = known {
        tx.execute(
            "UPDATE item_sources SET gone_at = NULL WHERE source = ?1 AND key = ?2 AND gone_at IS NOT NULL",
            params![key.source, key.key],
        )?;
        if replace {
            let (hash, deleted): (String, bool) =
                tx.query_row("SELECT content_hash, deleted_at IS NOT NULL FROM items WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            if hash != item.content_hash || deleted {
                update_item(tx, id, item, dir, warnings)?;
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
    if let Some(mid) = &item.message_id {
        existing = first_of_kind(tx, "SELECT id, kind FROM items WHERE message_id = ?1 ORDER BY id", mid, item.kind)?;
    }
    if existing.is_none() {
        existing = first_of_kind(
            tx,
            "SELECT id, kind FROM items WHERE content_hash = ?1 ORDER BY id",
            &item.content_hash,
            item.kind,
        )?;
    }
    if let Some(id) = existing {
        add_source(tx, id, key, ts)?;
        return Ok(IngestOutcome::Duplicate(ItemId(id)));
    }
    if let Some((id, adopt)) = captured_twin(tx, item)? {
        if adopt {
            adopt_message_id(tx, id, item, threads)?;
        }
        add_source(tx, id, key, ts)?;
        return Ok(IngestOutcome::Duplicate(ItemId(id)));
    }
    let decision = decide(dir, item, warnings);
    if let Decision::Blocked { address } = &decision {
        return Ok(IngestOutcome::Blocked(address.clone()));
    }
    let direction = match (item.direction, direction_of(dir, &item.participants, &decision)) {
        (_, Direction::Internal) => Direction::Internal,
        (Some(hint), _) => hint,
        (None, found) => found,
    };
    let thread = assign_thread(tx, item)?;
    let rev = next_counter(tx, "rev")?;
    tx.prepare_cached(
        "INSERT INTO items (kind, message_id, thread_id, date, date_source, direction, subject, body, content_hash, size, extra, created_at, rev)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        item.kind.as_str(),
        item.message_id,
        thread,
        item.date.to_rfc3339_opts(SecondsFormat::Secs, true),
        item.date_source.as_str(),
        direction.as_str(),
        item.subject,
        item.body,
        item.content_hash,
        item.size as i64,
        item.extra.to_string(),
        ts,
        rev,
    ])?;
    let id = tx.last_insert_rowid();
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO item_participants (item_id, role, name, address, rdomain) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for p in &item.participants {
            stmt.execute(params![id, p.role.as_str(), p.name, p.address, rdomain(&p.address)])?;
        }
        let mut stmt =
            tx.prepare_cached("INSERT OR IGNORE INTO item_references (item_id, message_id) VALUES (?1, ?2)")?;
        for r in &item.references {
            stmt.execute(params![id, r])?;
        }
        let mut stmt = tx.prepare_cached(
            "INSERT INTO item_attachments (item_id, name, mime, size, content_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for a in &item.attachments {
            stmt.execute(params![id, a.name, a.mime, a.size as i64, a.content_hash])?;
        }
    }
    if let Decision::Links(links) = &decision {
        let mut links = links.clone();
        if item.kind == ItemKind::Email {
            super::auto::from_mail(
                tx,
                dir,
                auto.policy,
                id,
                direction,
                &item.participants,
                &item.extra,
                &mut links,
                &mut auto.created,
                ts,
            )?;
        }
        if item.kind == ItemKind::Document
            && let Some(deal) = super::auto::invoice(tx, id, &item.extra, &links, direction, ts)?
        {
            auto.deals.push(deal);
        }
        insert_links(tx, id, &links)?;
    }
    add_source(tx, id, key, ts)?;
    if let Some(t) = thread {
        threads.insert(t);
    }
    if let Some(ev) = &event {
        super::events::record(tx, id, ev)?;
        super::events::apply_replies(tx, id)?;
    }
    if let Some(inv) = &item.invitation {
        super::events::invitation(tx, id, inv, |event, key| {
            ingest_one(tx, dir, (event, &[]), key, ts, true, threads, warnings, auto)
        })?;
    }
    for doc in documents {
        let mut doc = doc.clone();
        if let Some(extra) = doc.extra.as_object_mut() {
            extra.insert("from_item".into(), id.into());
        }
        let key = SourceKey { source: "documents".into(), key: doc.content_hash.clone() };
        ingest_one(tx, dir, (&doc, &[]), &key, ts, false, threads, warnings, auto)?;
    }
    Ok(IngestOutcome::New(ItemId(id)))
}

/// The first item of `kind` among the rows `(id, kind)` that `sql` finds
/// for `key`.
fn first_of_kind(tx: &Transaction<'_>, sql: &str, key: &str, kind: ItemKind) -> Result<Option<i64>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query([key])?;
    while let Some(row) = rows.next()? {
        if row.get_ref(1)?.as_str().ok() == Some(kind.as_str()) {
            return Ok(Some(row.get(0)?));
        }
    }
    Ok(None)
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
/// Cheap: a range of one minute on `items_date` (no new index needed),
/// each candidate checked through `item_participants_item`.
fn captured_twin(tx: &Transaction<'_>, item: &NewItem) -> Result<Option<(i64, bool)>> {
    use chrono::Timelike;
    if item.kind != ItemKind::Email {
        return Ok(None);
    }
    let captured = is_derived_capture(&item.extra);
    // A captured date that is the forward's, not the original's, says nothing.
    if captured && item.date_source != DateSource::Header {
        return Ok(None);
    }
    let Some(sender) = item.participants.iter().find(|p| p.role == Role::From && !p.address.is_empty()) else {
        return Ok(None);
    };
    let Some(start) = item.date.with_second(0).and_then(|d| d.with_nanosecond(0)) else { return Ok(None) };
    let Some(end) = start.checked_add_signed(chrono::TimeDelta::minutes(1)) else { return Ok(None) };
    let subject = crate::mail::normalized_subject(&item.subject);
    let mut stmt = tx.prepare_cached(
        "SELECT i.id, i.subject, i.extra FROM items i
         WHERE i.date >= ?1 AND i.date < ?2 AND i.kind = 'email'
           AND EXISTS (SELECT 1 FROM item_participants p WHERE p.item_id = i.id AND p.role = 'from' AND p.address = ?3)
         LIMIT 100",
    )?;
    let fmt = |d: DateTime<Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
    let rows = stmt.query_map(params![fmt(start), fmt(end), sender.address], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    // The oldest match (no ORDER BY: the date range must stay the plan).
    let mut found: Option<(i64, bool)> = None;
    for row in rows {
        let (id, other_subject, extra) = row?;
        if found.is_some_and(|(f, _)| f < id) || crate::mail::normalized_subject(&other_subject) != subject {
            continue;
        }
        let other_captured = serde_json::from_str::<serde_json::Value>(&extra).is_ok_and(|e| is_derived_capture(&e));
        if captured || other_captured {
            found = Some((id, other_captured && !captured));
        }
    }
    Ok(found)
}

/// A mailbox copy of a mail first stored from a capture mailbox: the item
/// takes the real Message-ID and joins its thread (replies name it), and
/// the mailbox copy's references are added.
fn adopt_message_id(tx: &Transaction<'_>, id: i64, item: &NewItem, threads: &mut BTreeSet<i64>) -> Result<()> {
    let Some(mid) = item.message_id.as_ref().filter(|_| item.extra.get("derived_message_id").is_none()) else {
        return Ok(());
    };
    let (old_mid, extra): (Option<String>, String) =
        tx.query_row("SELECT message_id, extra FROM items WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let probe = NewItem {
        kind: ItemKind::Email,
        message_id: Some(mid.clone()),
        references: item.references.iter().cloned().chain(old_mid).collect(),
        ..NewItem::default()
    };
    let thread = assign_thread(tx, &probe)?;
    let mut extra: serde_json::Value = serde_json::from_str(&extra).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(capture) = extra.get_mut("capture").and_then(serde_json::Value::as_object_mut) {
        capture.insert("derived_id".into(), false.into());
        capture.insert("message_id_from".into(), "mailbox".into());
    }
    let rev = next_counter(tx, "rev")?;
    tx.execute(
        "UPDATE items SET message_id = ?2, thread_id = ?3, extra = ?4, rev = ?5 WHERE id = ?1",
        params![id, mid, thread, extra.to_string(), rev],
    )?;
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO item_references (item_id, message_id) VALUES (?1, ?2)")?;
    for r in &item.references {
        stmt.execute(params![id, r])?;
    }
    if let Some(t) = thread {
        threads.insert(t);
    }
    Ok(())
}

fn add_source(tx: &Transaction<'_>, id: i64, key: &SourceKey, ts: &str) -> Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO item_sources (source, key, item_id, seen_at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![key.source, key.key, id, ts])?;
    Ok(())
}

/// Inserts one link (item, client, contact, reason, ambiguous, evidence)
/// with its item's date, kind, liveness and thread copied in the same
/// statement (schema migrations 7 and 9).
pub(super) const LINK_INSERT: &str =
    "INSERT INTO item_links (item_id, client_id, contact_id, reason, ambiguous, evidence, date, kind, live, thread_id)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, i.date, i.kind, i.deleted_at IS NULL, i.thread_id FROM items i WHERE i.id = ?1";

/// Inserts an item's links, its fields read once. A one-row `VALUES`
/// insert with no trigger on the table needs no statement journal, which
/// an `INSERT … SELECT` does (it copied every page it touched, 7 % of the
/// store thread).
fn insert_links(tx: &Transaction<'_>, id: i64, links: &[Link]) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    let (date, kind, live, thread): (String, String, bool, Option<i64>) = tx
        .prepare_cached("SELECT date, kind, deleted_at IS NULL, thread_id FROM items WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO item_links (item_id, client_id, contact_id, reason, ambiguous, evidence, date, kind, live, thread_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for l in links {
        stmt.execute(params![
            id,
            l.client.0,
            l.contact.map(|c| c.0),
            l.reason.as_str(),
            l.ambiguous,
            l.evidence,
            date,
            kind,
            live,
            thread
        ])?;
    }
    Ok(())
}

/// Puts an item into a thread: every Message-ID it names (its own, its
/// parents') maps to one thread; when the item joins threads that were
/// apart (a missing parent arrives), they merge into the oldest.
/// Self-references and cycles need no special case: ids map to threads,
/// nothing walks the reference graph.
fn assign_thread(tx: &Transaction<'_>, item: &NewItem) -> Result<Option<i64>> {
    if item.kind != ItemKind::Email {
        return Ok(None);
    }
    let ids: BTreeSet<&str> =
        item.message_id.iter().chain(item.references.iter()).map(String::as_str).filter(|s| !s.is_empty()).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    let mut found: BTreeSet<i64> = BTreeSet::new();
    {
        let mut stmt = tx.prepare_cached("SELECT thread_id FROM thread_ids WHERE message_id = ?1")?;
        for id in &ids {
            if let Some(t) = stmt.query_row([id], |r| r.get::<_, i64>(0)).optional()? {
                found.insert(t);
            }
        }
    }
    let thread = match found.iter().next() {
        Some(t) => *t,
        None => next_counter(tx, "thread")?,
    };
    for other in found.iter().skip(1) {
        let rev = next_counter(tx, "rev")?;
        tx.execute("UPDATE items SET thread_id = ?1, rev = ?3 WHERE thread_id = ?2", params![thread, other, rev])?;
        tx.execute("UPDATE thread_ids SET thread_id = ?1 WHERE thread_id = ?2", params![thread, other])?;
    }
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO thread_ids (message_id, thread_id) VALUES (?1, ?2)")?;
    for id in ids {
        stmt.execute(params![id, thread])?;
    }
    Ok(Some(thread))
}

/// Replaces an item's matcher-made links (address, domain) with `links`,
/// keeping manual and thread links; bumps the item's rev when they change.
fn replace_direct_links(tx: &Transaction<'_>, id: ItemId, links: &[Link]) -> Result<bool> {
    let mut stmt = tx.prepare_cached(
        "SELECT client_id, contact_id, reason, ambiguous, evidence FROM item_links
         WHERE item_id = ?1 AND reason NOT IN ('manual', 'thread') ORDER BY client_id, contact_id",
    )?;
    let current: Vec<(i64, Option<i64>, String, bool, String)> = stmt
        .query_map([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut wanted: Vec<(i64, Option<i64>, String, bool, String)> = links
        .iter()
        .map(|l| (l.client.0, l.contact.map(|c| c.0), l.reason.as_str().to_string(), l.ambiguous, l.evidence.clone()))
        .collect();
    wanted.sort_by_key(|w| (w.0, w.1));
    if current == wanted {
        return Ok(false);
    }
    tx.execute("DELETE FROM item_links WHERE item_id = ?1 AND reason NOT IN ('manual', 'thread')", [id.0])?;
    insert_links(tx, id.0, links)?;
    let rev = next_counter(tx, "rev")?;
    tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", params![id.0, rev])?;
    Ok(true)
}

/// Gives every external item of a thread that has no direct client link
/// the clients the rest of the thread is linked to (reason `thread`), and
/// takes thread links away from items that now have direct ones.
/// Returns how many items changed.
fn propagate_thread(tx: &Transaction<'_>, thread: i64) -> Result<usize> {
    let members: Vec<(i64, String)> = tx
        .prepare_cached("SELECT id, direction FROM items WHERE thread_id = ?1")?
        .query_map([thread], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if members.len() < 2 {
        return Ok(0);
    }
    let mut direct: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    {
        let mut stmt =
            tx.prepare_cached("SELECT client_id FROM item_links WHERE item_id = ?1 AND reason != 'thread'")?;
        for (id, _) in &members {
            let clients: BTreeSet<i64> = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            direct.insert(*id, clients);
        }
    }
    let thread_clients: BTreeSet<i64> = direct.values().flatten().copied().collect();
    let mut changed = 0;
    let mut current_stmt =
        tx.prepare_cached("SELECT client_id FROM item_links WHERE item_id = ?1 AND reason = 'thread'")?;
    for (id, direction) in &members {
        let wanted: BTreeSet<i64> = if direct[id].is_empty() && direction != Direction::Internal.as_str() {
            thread_clients.clone()
        } else {
            BTreeSet::new()
        };
        let current: BTreeSet<i64> = current_stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        if current == wanted {
            continue;
        }
        tx.execute("DELETE FROM item_links WHERE item_id = ?1 AND reason = 'thread'", [id])?;
        for c in &wanted {
            tx.prepare_cached(LINK_INSERT)?.execute(params![
                id,
                c,
                None::<i64>,
                LinkReason::Thread.as_str(),
                false,
                format!("thread {thread}")
            ])?;
        }
        let rev = next_counter(tx, "rev")?;
        tx.execute("UPDATE items SET rev = ?2 WHERE id = ?1", params![id, rev])?;
        changed += 1;
    }
    Ok(changed)
}
