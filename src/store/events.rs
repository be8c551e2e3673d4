//! Events by identity: one meeting is one item, whichever way it came (a
//! calendar feed, an invitation in mail, a calendar account) and in
//! whichever order.
//!
//! An occurrence's identity is its UID and RECURRENCE-ID (`events`, filled
//! in the ingest transaction). A copy of a known occurrence only adds its
//! source key, and replaces the stored one when it is not older: a lower
//! SEQUENCE never overwrites a higher one; at an equal SEQUENCE the later
//! DTSTAMP wins (a copy without DTSTAMP counts as equal, as feeds often
//! stamp the time of the download).
//!
//! Invitations in mail (`NewItem::invitation`) are applied in the mail's
//! transaction: a REQUEST's occurrences are ingested as events of the
//! derived source [`INVITATIONS`] (they inherit the mail's visibility
//! through `from_item`, as documents do), a CANCEL marks occurrences or a
//! whole series cancelled (the items stay in the history, leave the agenda
//! and so lose their pending reminders), and a REPLY's answers are kept in
//! `event_replies` and laid over the attendees of every copy of the event,
//! also one stored later.

use super::db::{Db, Dialect};
use super::items::{IngestOutcome, NewItem, SourceKey};
use super::{Result, StoreError, counter};
use crate::args;
use crate::calendar::{Invitation, Reply, event_item, occurrence_key};
use crate::model::{ItemId, ItemKind};

/// The derived source of events that invitations in mail created.
pub const INVITATIONS: &str = "invitations";

/// The derived source of meetings kronika cancelled in a Microsoft 365
/// calendar (Exchange deletes them there; they stay in the history).
pub const WRITTEN_MEETINGS: &str = "meetings";

/// What an event item says of its identity and version.
#[derive(Clone)]
pub(super) struct Ident {
    uid: String,
    rid: String,
    /// `None`: the copy carries no SEQUENCE (Microsoft Graph's), so only
    /// its stamp (its last change) decides, and the stored SEQUENCE stays.
    sequence: Option<i64>,
    /// RFC 3339 in UTC (comparable as text), or empty.
    dtstamp: String,
    cancelled: bool,
}

impl Ident {
    /// The identity of an event item (`None` for other kinds, and for
    /// events without a UID, which only a hand-made item lacks).
    pub(super) fn of(item: &NewItem) -> Option<Ident> {
        if item.kind != ItemKind::Event {
            return None;
        }
        let e = &item.extra;
        let text = |k: &str| e.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
        Some(Ident {
            uid: text("uid").filter(|u| !u.is_empty())?,
            rid: text("recurrence_id").unwrap_or_else(|| "-".into()),
            sequence: match e.get("sequence") {
                Some(serde_json::Value::Null) => None,
                s => Some(s.and_then(serde_json::Value::as_i64).unwrap_or(0)),
            },
            dtstamp: text("dtstamp").unwrap_or_default(),
            cancelled: text("status").is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED")),
        })
    }

    /// May this copy replace a stored one of `sequence` and `dtstamp`?
    fn supersedes(&self, sequence: i64, dtstamp: &str) -> bool {
        let later = self.dtstamp.is_empty() || dtstamp.is_empty() || self.dtstamp.as_str() >= dtstamp;
        match self.sequence {
            Some(s) => s > sequence || (s == sequence && later),
            None => later,
        }
    }
}

/// An event whose identity is stored already: the copy's source key joins
/// the stored item, which the copy replaces when it is newer and differs.
/// `None`: a new identity, for the caller to insert (then [`record`]).
pub(super) fn known(
    tx: &Db,
    item: &NewItem,
    ev: &Ident,
    key: &SourceKey,
    ts: &str,
    mut update: impl FnMut(i64) -> Result<()>,
) -> Result<Option<IngestOutcome>> {
    let stored: Option<(i64, i64, String)> = tx.query_row(
        "SELECT item_id, sequence, dtstamp FROM events WHERE uid = ?1 AND rid = ?2",
        args![ev.uid, ev.rid],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let keyed: Option<i64> =
        tx.value("SELECT item_id FROM item_sources WHERE source = ?1 AND key = ?2", args![key.source, key.key])?;
    let (id, sequence, dtstamp) = match (stored, keyed) {
        (Some(s), _) => s,
        // Stored before events had identities, and not recorded then.
        (None, Some(id)) => {
            let (sequence, dtstamp) = (i64::MIN, String::new());
            // No row has this identity (read above): only the item can
            // have one under another (its UID changed), which it leaves.
            tx.execute(
                "INSERT INTO events (uid, rid, item_id, sequence, dtstamp, cancelled) VALUES (?1, ?2, ?3, ?4, '', 0)
                 ON CONFLICT (item_id) DO UPDATE SET uid = excluded.uid, rid = excluded.rid,
                     sequence = excluded.sequence, dtstamp = excluded.dtstamp, cancelled = excluded.cancelled",
                args![ev.uid, ev.rid, id, sequence],
            )?;
            (id, sequence, dtstamp)
        }
        (None, None) => return Ok(None),
    };
    // A copy without SEQUENCE keeps the stored one.
    let ev = &Ident { sequence: Some(ev.sequence.unwrap_or(sequence.max(0))), ..ev.clone() };
    match keyed {
        Some(other) if other != id => merge_into(tx, other, id)?,
        Some(_) => {
            tx.execute(
                "UPDATE item_sources SET gone_at = NULL WHERE source = ?1 AND key = ?2 AND gone_at IS NOT NULL",
                args![key.source, key.key],
            )?;
        }
        None => {
            tx.execute(
                "INSERT INTO item_sources (source, key, item_id, seen_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                args![key.source, key.key, id, ts],
            )?;
        }
    }
    let (hash, deleted): (String, bool) = tx
        .query_row("SELECT content_hash, deleted_at IS NOT NULL FROM items WHERE id = ?1", args![id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .ok_or_else(|| StoreError::NotFound { what: "item", query: id.to_string() })?;
    if !ev.supersedes(sequence, &dtstamp) {
        return Ok(Some(IngestOutcome::Duplicate(ItemId(id))));
    }
    if hash == item.content_hash && !deleted {
        // The same content: only a newer stamp to remember.
        tx.execute(
            "UPDATE events SET sequence = ?2, dtstamp = ?3 WHERE item_id = ?1",
            args![id, ev.sequence, ev.dtstamp],
        )?;
        return Ok(Some(IngestOutcome::Duplicate(ItemId(id))));
    }
    update(id)?;
    record(tx, id, ev)?;
    apply_replies(tx, id)?;
    Ok(Some(IngestOutcome::Updated(ItemId(id))))
}

/// Writes the identity and version of event item `id`.
pub(super) fn record(tx: &Db, id: i64, ev: &Ident) -> Result<()> {
    tx.execute(
        "INSERT INTO events (uid, rid, item_id, sequence, dtstamp, cancelled) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(uid, rid) DO UPDATE SET item_id = excluded.item_id, sequence = excluded.sequence,
             dtstamp = excluded.dtstamp, cancelled = excluded.cancelled",
        args![ev.uid, ev.rid, id, ev.sequence.unwrap_or(0), ev.dtstamp, ev.cancelled],
    )?;
    Ok(())
}

/// Two items of one meeting (stored twice before identities were kept):
/// `from`'s source keys move to `into`, and `from` leaves the history.
fn merge_into(tx: &Db, from: i64, into: i64) -> Result<()> {
    tx.execute("UPDATE item_sources SET item_id = ?2, gone_at = NULL WHERE item_id = ?1", args![from, into])?;
    tx.execute("DELETE FROM events WHERE item_id = ?1", args![from])?;
    let rev = counter(tx, "rev")?;
    tx.execute(
        "UPDATE items SET deleted_at = ?2, rev = ?3 WHERE id = ?1 AND deleted_at IS NULL",
        args![from, super::now(), rev],
    )?;
    Ok(())
}

/// Applies an invitation that mail `mail` carries. `ingest` stores one
/// event item under its source key (the store's own ingest, in this
/// transaction).
pub(super) fn invitation(
    tx: &Db,
    mail: i64,
    inv: &Invitation,
    mut ingest: impl FnMut(&NewItem, &SourceKey) -> Result<IngestOutcome>,
) -> Result<()> {
    for o in &inv.occurrences {
        let mut item = event_item("invitation", o);
        if let Some(extra) = item.extra.as_object_mut() {
            extra.insert("from_item".into(), mail.into());
            extra.insert("method".into(), inv.method.as_str().into());
        }
        ingest(&item, &SourceKey { source: INVITATIONS.into(), key: occurrence_key(o) })?;
    }
    for (uid, sequence) in &inv.series {
        cancel_series(tx, uid, *sequence)?;
    }
    for r in &inv.replies {
        record_reply(tx, mail, r)?;
    }
    let mut uids: Vec<&str> = inv.replies.iter().map(|r| r.uid.as_str()).collect();
    uids.sort_unstable();
    uids.dedup();
    for uid in uids {
        let ids = tx.query("SELECT item_id FROM events WHERE uid = ?1", args![uid], |r| r.get::<i64>(0))?;
        for id in ids {
            apply_replies(tx, id)?;
        }
    }
    Ok(())
}

/// Every stored occurrence of `uid` not newer than the cancellation is
/// cancelled, also those outside the invitation's window.
fn cancel_series(tx: &Db, uid: &str, sequence: i64) -> Result<()> {
    let ids = tx.query(
        "SELECT item_id FROM events WHERE uid = ?1 AND cancelled = 0 AND sequence <= ?2",
        args![uid, sequence],
        |r| r.get::<i64>(0),
    )?;
    // Each database's own JSON function sets the status in place.
    let cancel = match tx.dialect() {
        Dialect::Sqlite => "UPDATE items SET extra = json_set(extra, '$.status', 'CANCELLED'), rev = ?2 WHERE id = ?1",
        Dialect::Postgres => {
            "UPDATE items SET extra = CAST(jsonb_set(CAST(extra AS jsonb), '{status}', '\"CANCELLED\"') AS TEXT), rev = ?2
             WHERE id = ?1"
        }
    };
    for id in ids {
        tx.execute("UPDATE events SET cancelled = 1, sequence = ?2 WHERE item_id = ?1", args![id, sequence])?;
        let rev = counter(tx, "rev")?;
        tx.execute(cancel, args![id, rev])?;
    }
    Ok(())
}

/// Keeps an attendee's answer unless a newer one is kept.
fn record_reply(tx: &Db, mail: i64, r: &Reply) -> Result<()> {
    let stamp = r.dtstamp.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
    tx.execute(
        "INSERT INTO event_replies (uid, rid, address, partstat, sequence, dtstamp, item_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(uid, rid, address) DO UPDATE SET partstat = excluded.partstat, sequence = excluded.sequence,
             dtstamp = excluded.dtstamp, item_id = excluded.item_id
         WHERE excluded.sequence > event_replies.sequence
            OR (excluded.sequence = event_replies.sequence AND excluded.dtstamp >= event_replies.dtstamp)",
        args![r.uid, r.recurrence_id.as_deref().unwrap_or("-"), r.address, r.partstat, r.sequence, stamp, mail],
    )?;
    Ok(())
}

/// Lays the kept answers over event item `id`'s attendees: those to this
/// occurrence or the whole series, given to its SEQUENCE or a later one
/// (an answer to a meeting since moved no longer holds).
pub(super) fn apply_replies(tx: &Db, id: i64) -> Result<()> {
    let Some((uid, rid, sequence)): Option<(String, String, i64)> =
        tx.query_row("SELECT uid, rid, sequence FROM events WHERE item_id = ?1", args![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
    else {
        return Ok(());
    };
    // The series' answers first, so that an answer to this occurrence wins.
    let answers: Vec<(String, String)> = tx.query(
        "SELECT address, partstat FROM event_replies WHERE uid = ?1 AND (rid = ?2 OR rid = '-') AND sequence >= ?3
         ORDER BY rid != '-', dtstamp, address",
        args![uid, rid, sequence],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if answers.is_empty() {
        return Ok(());
    }
    let Some(extra) = tx.value::<String>("SELECT extra FROM items WHERE id = ?1", args![id])? else { return Ok(()) };
    let mut extra: serde_json::Value = serde_json::from_str(&extra).unwrap_or_else(|_| serde_json::json!({}));
    let Some(obj) = extra.as_object_mut() else { return Ok(()) };
    let attendees = obj.entry("attendees").or_insert_with(|| serde_json::json!([]));
    let Some(list) = attendees.as_array_mut() else { return Ok(()) };
    let mut changed = false;
    for (address, partstat) in answers {
        let found = list.iter_mut().find(|a| a.get("address").and_then(|v| v.as_str()) == Some(address.as_str()));
        match found {
            Some(a) => {
                if a.get("partstat").and_then(|v| v.as_str()) != Some(partstat.as_str()) {
                    a["partstat"] = partstat.into();
                    changed = true;
                }
            }
            None => {
                list.push(serde_json::json!({"address": address, "name": null, "partstat": partstat}));
                changed = true;
            }
        }
    }
    if changed {
        let rev = counter(tx, "rev")?;
        tx.execute("UPDATE items SET extra = ?2, rev = ?3 WHERE id = ?1", args![id, extra.to_string(), rev])?;
    }
    Ok(())
}
