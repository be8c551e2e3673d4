//! Leases (issue 19): each configured source, and the reminders, is run by
//! one daemon at a time. A daemon holds a lease while it renews it; one it
//! stops renewing (the daemon died, lost the database) expires, and another
//! daemon takes it over. Expiry is counted on the database's clock, so the
//! nodes' clocks need not agree.

use std::time::Duration;

use super::db::{Db, Dialect};
use super::{Result, Store, now};
use crate::args;

/// Who asks for a lease: the node's name (shown by `kronika status`) and a
/// token of this process alone, so that two daemons of one name (two
/// started by mistake on one machine) are told apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub node: String,
    pub token: String,
}

impl Holder {
    /// This process, as node `node`.
    pub fn this_process(node: &str) -> Holder {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        Holder { node: node.to_string(), token: format!("{node}/{}/{nanos}", std::process::id()) }
    }
}

/// A write made for a leased source: it is stored only while `token`
/// still holds the lease `lease` (checked inside the write transaction,
/// on the database's clock), so that a daemon that was paused past its
/// lease (a stopped VM, a long GC pause of the host) and wakes up writes
/// nothing after another node took the source over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub lease: String,
    pub token: String,
}

/// What asking for a lease gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The lease is ours (taken now or renewed).
    Ours,
    /// Another daemon holds it, for `expires_in` seconds more unless renewed.
    Other { node: String, expires_in: i64 },
}

/// A lease as `kronika status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub name: String,
    pub node: String,
    pub taken_at: String,
    pub renewed_at: String,
    /// Seconds until it expires; zero or less: expired, free to take.
    pub expires_in: i64,
}

/// The database's clock in seconds since 1970 (a constant of this module,
/// never input).
fn clock(db: &Db) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => "CAST(strftime('%s', 'now') AS BIGINT)",
        Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)",
    }
}

impl Store {
    /// Takes the lease `name` for `ttl`, or renews it when `holder` has it
    /// already; a lease whose holder let it expire is taken over.
    pub fn take_lease(&self, name: &str, holder: &Holder, ttl: Duration) -> Result<Taken> {
        let clock = clock(&self.db);
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 4).max(1);
        let sql = format!(
            "INSERT INTO leases (name, node, holder, taken_at, renewed_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?4, {clock} + ?5)
             ON CONFLICT(name) DO UPDATE SET
                node = excluded.node,
                holder = excluded.holder,
                taken_at = CASE WHEN leases.holder = excluded.holder THEN leases.taken_at ELSE excluded.taken_at END,
                renewed_at = excluded.renewed_at,
                expires_at = excluded.expires_at
             WHERE leases.holder = excluded.holder OR leases.expires_at <= {clock}"
        );
        if self.db.execute(&sql, args![name, holder.node, holder.token, now(), ttl])? > 0 {
            return Ok(Taken::Ours);
        }
        let other = self.db.query_row(
            &format!("SELECT node, expires_at - {clock} FROM leases WHERE name = ?1"),
            args![name],
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
        )?;
        match other {
            Some((node, expires_in)) => Ok(Taken::Other { node, expires_in }),
            // Released between the two statements: free, ask again.
            None => self.take_lease(name, holder, Duration::from_secs(ttl.unsigned_abs())),
        }
    }

    /// Whether `fence` still holds its lease now, on the database's clock.
    /// Asked inside a write transaction, under the writers' lock, it keeps
    /// a node whose lease ran out from writing: the node that took the
    /// lease over writes only after this transaction ends.
    pub fn holds(db: &Db, fence: &Fence) -> Result<bool> {
        let sql = format!("SELECT COUNT(*) FROM leases WHERE name = ?1 AND holder = ?2 AND expires_at > {}", clock(db));
        Ok(db.value::<i64>(&sql, args![fence.lease, fence.token])?.unwrap_or(0) > 0)
    }

    /// Gives the lease `name` back at once (a clean stop), if `holder` has it.
    pub fn release_lease(&self, name: &str, holder: &Holder) -> Result<()> {
        self.db.execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", args![name, holder.token])?;
        Ok(())
    }

    /// Every lease, by name.
    pub fn leases(&self) -> Result<Vec<LeaseRow>> {
        let sql = format!(
            "SELECT name, node, taken_at, renewed_at, expires_at - {} FROM leases ORDER BY name",
            clock(&self.db)
        );
        Ok(self.db.query(&sql, args![], |r| {
            Ok(LeaseRow {
                name: r.get(0)?,
                node: r.get(1)?,
                taken_at: r.get(2)?,
                renewed_at: r.get(3)?,
                expires_in: r.get(4)?,
            })
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Policy;

    #[test]
    fn a_lease_is_held_renewed_taken_over_when_expired_and_released() {
        let s = Store::open_in_memory(Policy::default()).unwrap();
        let a = Holder::this_process("uzel-a");
        let b = Holder { node: "uzel-b".into(), token: "uzel-b/2/1".into() };
        let ttl = Duration::from_secs(30);
        assert_eq!(s.take_lease("work", &a, ttl).unwrap(), Taken::Ours);
        assert_eq!(s.take_lease("work", &a, ttl).unwrap(), Taken::Ours, "renewed");
        match s.take_lease("work", &b, ttl).unwrap() {
            Taken::Other { node, expires_in } => {
                assert_eq!(node, "uzel-a");
                assert!((28..=30).contains(&expires_in), "{expires_in}");
            }
            Taken::Ours => panic!("b took a lease a holds"),
        }
        // Another source is free for b.
        assert_eq!(s.take_lease("archive", &b, ttl).unwrap(), Taken::Ours);
        // a's lease runs out (as if a stopped renewing it): b takes it over.
        s.db.execute("UPDATE leases SET expires_at = expires_at - 31 WHERE name = 'work'", args![]).unwrap();
        assert_eq!(s.take_lease("work", &b, ttl).unwrap(), Taken::Ours);
        assert!(matches!(s.take_lease("work", &a, ttl).unwrap(), Taken::Other { node, .. } if node == "uzel-b"));
        let rows = s.leases().unwrap();
        assert_eq!(
            rows.iter().map(|r| (r.name.as_str(), r.node.as_str())).collect::<Vec<_>>(),
            [("archive", "uzel-b"), ("work", "uzel-b")]
        );
        // Only the holder gives a lease back.
        s.release_lease("work", &a).unwrap();
        assert_eq!(s.leases().unwrap().len(), 2);
        s.release_lease("work", &b).unwrap();
        assert_eq!(s.take_lease("work", &a, ttl).unwrap(), Taken::Ours);
    }

    #[test]
    fn a_fence_holds_only_while_its_token_holds_the_unexpired_lease() {
        let s = Store::open_in_memory(Policy::default()).unwrap();
        let a = Holder::this_process("uzel-a");
        let b = Holder { node: "uzel-b".into(), token: "uzel-b/2/1".into() };
        let fence = |h: &Holder| Fence { lease: "work".into(), token: h.token.clone() };
        assert!(!Store::holds(&s.db, &fence(&a)).unwrap(), "nobody holds it yet");
        s.take_lease("work", &a, Duration::from_secs(30)).unwrap();
        assert!(Store::holds(&s.db, &fence(&a)).unwrap());
        assert!(!Store::holds(&s.db, &fence(&b)).unwrap());
        // Run out, not yet taken over: a's writes are refused already.
        s.db.execute("UPDATE leases SET expires_at = expires_at - 31 WHERE name = 'work'", args![]).unwrap();
        assert!(!Store::holds(&s.db, &fence(&a)).unwrap());
        s.take_lease("work", &b, Duration::from_secs(30)).unwrap();
        assert!(Store::holds(&s.db, &fence(&b)).unwrap());
        assert!(!Store::holds(&s.db, &fence(&a)).unwrap());
    }
}
