//! Reminders in the store: planned from upcoming events and silent clients,
//! fired once (the state moves from `pending` in one statement), delivered
//! once per sink (a delivery record per sink, retried until done).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::clients::parse_time;
use super::db::ToParam;
use super::{Result, Store};
use crate::args;
use crate::model::ItemKind;

/// A reminder as planned.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// `event:<item>:<lead seconds>` or `follow-up:<client>:<since>`.
    pub key: String,
    pub kind: String,
    pub item_id: Option<i64>,
    pub client_id: Option<i64>,
    pub title: String,
    pub due_at: DateTime<Utc>,
    pub event_start: Option<DateTime<Utc>>,
}

/// When a client was last heard from.
#[derive(Debug, Clone)]
pub struct ClientActivity {
    pub id: i64,
    pub name: String,
    /// The newest mail, note or document; `None` when there is none.
    pub last: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
}

/// A reminder as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderRow {
    pub id: i64,
    pub key: String,
    pub kind: String,
    pub item_id: Option<i64>,
    pub client_id: Option<i64>,
    pub title: String,
    pub due_at: DateTime<Utc>,
    pub event_start: Option<DateTime<Utc>>,
    pub state: String,
    pub fired_at: Option<String>,
    pub deliveries: Vec<(String, String, i64, Option<String>)>,
}

fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Store {
    /// Brings the pending reminders in line with the plan: new ones are
    /// added, moved events move theirs, and pending reminders of `kind`
    /// that the plan no longer has (a cancelled or deleted event) are
    /// cancelled. Fired and missed reminders are never touched.
    pub fn plan_reminders(&mut self, kind: &str, plan: &[Planned]) -> Result<(usize, usize, usize)> {
        let tx = self.db.begin()?;
        let (mut added, mut moved, mut cancelled) = (0, 0, 0);
        for p in plan {
            let current: Option<(String, String, Option<String>)> =
                tx.query_row("SELECT state, due_at, event_start FROM reminders WHERE key = ?1", args![p.key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            let (due, start) = (ts(p.due_at), p.event_start.map(ts));
            match current {
                None => {
                    tx.execute(
                        "INSERT INTO reminders (key, kind, item_id, client_id, title, due_at, event_start, state)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
                        args![p.key, p.kind, p.item_id, p.client_id, p.title, due, start],
                    )?;
                    added += 1;
                }
                Some((state, was_due, was_start)) if state == "pending" || state == "cancelled" => {
                    if state == "cancelled" || was_due != due || was_start != start {
                        tx.execute(
                            "UPDATE reminders SET due_at = ?2, event_start = ?3, title = ?4, state = 'pending' WHERE key = ?1",
                            args![p.key, due, start, p.title],
                        )?;
                        moved += 1;
                    }
                }
                Some(_) => {}
            }
        }
        let keys: std::collections::HashSet<&str> = plan.iter().map(|p| p.key.as_str()).collect();
        let pending: Vec<(i64, String)> =
            tx.query("SELECT id, key FROM reminders WHERE state = 'pending' AND kind = ?1", args![kind], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        for (id, key) in pending {
            if !keys.contains(key.as_str()) {
                tx.execute("UPDATE reminders SET state = 'cancelled' WHERE id = ?1", args![id])?;
                cancelled += 1;
            }
        }
        tx.commit()?;
        Ok((added, moved, cancelled))
    }

    /// Pending reminders due at `now` or before.
    pub fn due_reminders(&self, now: DateTime<Utc>) -> Result<Vec<ReminderRow>> {
        self.reminders_where(
            "SELECT id, key, kind, item_id, client_id, title, due_at, event_start, state, fired_at FROM reminders
             WHERE state = 'pending' AND due_at <= ?1 ORDER BY due_at, id",
            args![ts(now)],
        )
    }

    /// Every reminder, soonest due first.
    pub fn all_reminders(&self) -> Result<Vec<ReminderRow>> {
        self.reminders_where(
            "SELECT id, key, kind, item_id, client_id, title, due_at, event_start, state, fired_at FROM reminders
             ORDER BY due_at, id",
            args![],
        )
    }

    fn reminders_where(&self, sql: &str, values: &[&dyn ToParam]) -> Result<Vec<ReminderRow>> {
        let mut rows = self.db.query(sql, values, |r| {
            let start: Option<String> = r.get(7)?;
            Ok(ReminderRow {
                id: r.get(0)?,
                key: r.get(1)?,
                kind: r.get(2)?,
                item_id: r.get(3)?,
                client_id: r.get(4)?,
                title: r.get(5)?,
                due_at: parse_time(&r.get::<String>(6)?),
                event_start: start.as_deref().map(parse_time),
                state: r.get(8)?,
                fired_at: r.get(9)?,
                deliveries: Vec::new(),
            })
        })?;
        for row in &mut rows {
            row.deliveries = self.db.query(
                "SELECT sink, state, attempts, last_error FROM reminder_deliveries WHERE reminder_id = ?1 ORDER BY sink",
                args![row.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        }
        Ok(rows)
    }

    /// Marks a reminder fired with its payload and one pending delivery per
    /// sink, in one transaction. False when it was not pending any more
    /// (another run fired it): then nothing is delivered again.
    pub fn fire_reminder(&mut self, id: i64, now: DateTime<Utc>, payload: &str, sinks: &[String]) -> Result<bool> {
        let tx = self.db.begin()?;
        let n = tx.execute(
            "UPDATE reminders SET state = 'fired', fired_at = ?2, payload = ?3 WHERE id = ?1 AND state = 'pending'",
            args![id, ts(now), payload],
        )?;
        if n == 1 {
            for s in sinks {
                tx.execute(
                    "INSERT INTO reminder_deliveries (reminder_id, sink, state) VALUES (?1, ?2, 'pending')
                     ON CONFLICT DO NOTHING",
                    args![id, s],
                )?;
            }
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Records a reminder that came due after its event began (kronika was down).
    pub fn miss_reminder(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        Ok(self.db.execute(
            "UPDATE reminders SET state = 'missed', fired_at = ?2 WHERE id = ?1 AND state = 'pending'",
            args![id, ts(now)],
        )? == 1)
    }

    /// Deliveries still to make (or retry) at `now`: (reminder, sink, payload, attempts).
    pub fn pending_deliveries(&self, now: DateTime<Utc>) -> Result<Vec<(i64, String, String, i64)>> {
        Ok(self.db.query(
            "SELECT d.reminder_id, d.sink, r.payload, d.attempts FROM reminder_deliveries d JOIN reminders r ON r.id = d.reminder_id
             WHERE d.state = 'pending' AND (d.next_try IS NULL OR d.next_try <= ?1) ORDER BY r.due_at, d.reminder_id, d.sink",
            args![ts(now)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<Option<String>>(2)?.unwrap_or_default(), r.get(3)?)),
        )?)
    }

    /// Records the outcome of one delivery. A failure is retried at
    /// `retry_at`; `None` gives up (state `failed`).
    pub fn delivery_result(
        &self,
        id: i64,
        sink: &str,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        match error {
            None => self.db.execute(
                "UPDATE reminder_deliveries SET state = 'done', attempts = attempts + 1, last_error = NULL WHERE reminder_id = ?1 AND sink = ?2",
                args![id, sink],
            )?,
            Some(e) => self.db.execute(
                "UPDATE reminder_deliveries SET state = CASE WHEN ?4 IS NULL THEN 'failed' ELSE 'pending' END,
                     attempts = attempts + 1, last_error = ?3, next_try = ?4 WHERE reminder_id = ?1 AND sink = ?2",
                args![id, sink, e, retry_at.map(ts)],
            )?,
        };
        Ok(())
    }

    /// When the next pending reminder or delivery retry is due.
    pub fn next_reminder_due(&self) -> Result<Option<DateTime<Utc>>> {
        let a: Option<String> =
            self.db.value("SELECT MIN(due_at) FROM reminders WHERE state = 'pending'", args![])?.flatten();
        let b: Option<String> = self
            .db
            .value("SELECT MIN(COALESCE(next_try, '')) FROM reminder_deliveries WHERE state = 'pending'", args![])?
            .flatten();
        let times: Vec<DateTime<Utc>> = [a, b]
            .into_iter()
            .flatten()
            .map(|s| if s.is_empty() { DateTime::<Utc>::MIN_UTC } else { parse_time(&s) })
            .collect();
        Ok(times.into_iter().min())
    }

    /// The latest interaction (not counting calendar events) of each client, for follow-ups.
    /// Each kind's newest live link is one step down the links' (client,
    /// live, kind, date) index, so no item is read: reading every linked
    /// item took 3.9 s at a million items, this 21 ms.
    pub fn client_last_interactions(&self) -> Result<Vec<ClientActivity>> {
        let kinds: Vec<&str> = ItemKind::ALL.iter().filter(|k| **k != ItemKind::Event).map(|k| k.as_str()).collect();
        let hint = super::timeline::indexed_by(&self.db, "item_links_client_kind");
        let newest: Vec<String> = (1..=kinds.len())
            .map(|n| {
                format!(
                    "SELECT MAX(l.date) AS d FROM item_links l {hint}
                     WHERE l.client_id = c.id AND l.live = 1 AND l.kind = ?{n}"
                )
            })
            .collect();
        let params: Vec<&dyn ToParam> = kinds.iter().map(|k| k as &dyn ToParam).collect();
        Ok(self.db.query(
            &format!(
                "SELECT c.id, c.name, (SELECT MAX(k.d) FROM ({}) k), c.created_at FROM clients c ORDER BY c.id",
                newest.join(" UNION ALL ")
            ),
            &params,
            |r| {
                let last: Option<String> = r.get(2)?;
                Ok(ClientActivity {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    last: last.as_deref().map(parse_time),
                    created: parse_time(&r.get::<String>(3)?),
                })
            },
        )?)
    }
}
