//! Users of the web interface and their sessions. The store keeps what it
//! is given: password hashes are made by the caller (`web::auth`), and a
//! session is looked up by the hash of its cookie value.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::db::{DbResult, Row};
use super::{Result, Store, StoreError, now};
use crate::args;

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub created_at: String,
}

/// A live session: whose it is and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn user_row(r: &Row<'_>) -> DbResult<User> {
    Ok(User { id: r.get(0)?, name: r.get(1)?, email: r.get(2)?, admin: r.get(3)?, created_at: r.get(4)? })
}

impl Store {
    /// Adds a user; the name must be new.
    pub fn add_user(&mut self, name: &str, email: &str, admin: bool, password_hash: &str) -> Result<i64> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(StoreError::Invalid(format!("{name:?} is not a user name (one word, no spaces)")));
        }
        if self.user_by_name(name)?.is_some() {
            return Err(StoreError::Conflict(format!("a user {name:?} exists already")));
        }
        let t = now();
        self.db
            .value::<i64>(
                "INSERT INTO users (name, email, admin, password_hash, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
                args![name, email.trim(), admin, password_hash, t],
            )?
            .ok_or_else(|| StoreError::Invalid("cannot add the user: the insert returned no id".into()))
    }

    /// Replaces a user's password hash and ends all their sessions.
    pub fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        let user =
            self.user_by_name(name)?.ok_or_else(|| StoreError::NotFound { what: "user", query: name.to_string() })?;
        let tx = self.db.begin()?;
        tx.execute(
            "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
            args![user.id, password_hash, now()],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", args![user.id])?;
        tx.commit()?;
        Ok(())
    }

    /// All users, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        Ok(self.db.query(
            "SELECT id, name, email, admin, created_at FROM users ORDER BY name, id",
            args![],
            user_row,
        )?)
    }

    /// A user by exact name.
    pub fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(self.db.query_row(
            "SELECT id, name, email, admin, created_at FROM users WHERE name = ?1",
            args![name.trim()],
            user_row,
        )?)
    }

    /// A user with their password hash, for checking a sign-in.
    pub fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>> {
        Ok(self.db.query_row(
            "SELECT id, name, email, admin, created_at, password_hash FROM users WHERE name = ?1",
            args![name.trim()],
            |r| Ok((user_row(r)?, r.get::<String>(5)?)),
        )?)
    }

    /// Starts a session kept by the hash of its cookie value.
    pub fn add_session(&mut self, token_hash: &str, user: i64, csrf: &str, expires_at: DateTime<Utc>) -> Result<()> {
        let tx = self.db.begin()?;
        // Expired sessions go whenever a new one starts.
        tx.execute("DELETE FROM sessions WHERE expires_at < ?1", args![now()])?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            args![token_hash, user, csrf, now(), ts(expires_at)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The live session with this token hash, if any.
    pub fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row = self.db.query_row(
            "SELECT u.id, u.name, u.email, u.admin, u.created_at, s.csrf, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
            args![token_hash],
            |r| Ok((user_row(r)?, r.get::<String>(5)?, r.get::<String>(6)?)),
        )?;
        let Some((user, csrf, expires)) = row else { return Ok(None) };
        let Ok(expires_at) = DateTime::parse_from_rfc3339(&expires) else { return Ok(None) };
        let expires_at = expires_at.with_timezone(&Utc);
        if expires_at <= Utc::now() {
            return Ok(None);
        }
        Ok(Some(Session { user, csrf, expires_at }))
    }

    /// Ends a session (sign-out).
    pub fn remove_session(&mut self, token_hash: &str) -> Result<()> {
        self.db.execute("DELETE FROM sessions WHERE token_hash = ?1", args![token_hash])?;
        Ok(())
    }
}
