//! Who may see what: each mail source's owner and the visibility of its
//! mail for everyone else.
//!
//! An `[[imap]]` account or a `[[maildir]]` may name an `owner` (a web
//! user) and a `visibility` for everyone else: `full`, `subject` (no body,
//! no attachments, no documents' text) or `metadata` (who, when, with which
//! client). The owner sees everything of their own; being an admin does not
//! open another salesperson's mailbox. An item seen in several sources gets
//! the most permissive access among them; items of sources without an
//! owner, notes and calendars are everyone's. A document taken from a
//! mail's attachment is as visible as that mail.
//!
//! The faces ask a [`Viewer`] for an item's [`Access`] and redact what they
//! show with it; search asks the index with the viewer's restrictions, so a
//! word of a hidden body never finds the item (see `index::query`).

use std::path::Path;

use serde::Serialize;

use super::TimelineEntry;
use crate::config::{Config, Visibility};
use crate::store::{ItemRow, Result, Store};

use crate::store::is_derived_source;

/// What a viewer may see of one item. Ordered from least to most:
/// `Metadata < Subject < Full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Who, when, with which client: no subject, body or attachments.
    Metadata,
    /// The subject too; no body, attachments or documents' text.
    Subject,
    /// Everything.
    Full,
}

impl From<Visibility> for Access {
    fn from(v: Visibility) -> Access {
        match v {
            Visibility::Metadata => Access::Metadata,
            Visibility::Subject => Access::Subject,
            Visibility::Full => Access::Full,
        }
    }
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Metadata => "metadata",
            Access::Subject => "subject",
            Access::Full => "full",
        }
    }

    pub fn shows_subject(self) -> bool {
        self >= Access::Subject
    }

    pub fn shows_body(self) -> bool {
        self == Access::Full
    }

    /// Empties what this access hides: below `Full` the body, attachments,
    /// the content hash (documents are fetched by it), the evidence of links
    /// found in the text and every `extra` key but a few harmless ones; at `Metadata` the subject too (the page
    /// shows a placeholder). Participants, date, direction, kind and links
    /// stay: that is the metadata.
    pub fn redact_item(self, row: &mut ItemRow) {
        if self == Access::Full {
            return;
        }
        row.body.clear();
        row.attachments.clear();
        row.content_hash.clear();
        // A link by a name or an IČO found in the text says what the text
        // holds: the link stays (with which client is metadata), its evidence goes.
        for l in &mut row.links {
            if l.reason == "name" || l.reason == "ico" {
                l.evidence.clear();
            }
        }
        let keep: &[&str] = match self {
            Access::Subject => &["in_reply_to", "list_id", "doc_kind", "mime", "name"],
            _ => &["in_reply_to", "list_id", "doc_kind"],
        };
        let mut kept = serde_json::Map::new();
        if let Some(extra) = row.extra.as_object() {
            for k in keep {
                if let Some(v) = extra.get(*k) {
                    kept.insert((*k).to_string(), v.clone());
                }
            }
        }
        row.extra = serde_json::Value::Object(kept);
        if self == Access::Metadata {
            row.subject.clear();
        }
    }

    /// The same for a timeline line: below `Full` no snippet; at
    /// `Metadata` no subject either. Deals are never redacted.
    pub fn redact_entry(self, entry: &mut TimelineEntry) {
        if self == Access::Full || entry.kind == "deal" {
            return;
        }
        entry.snippet.clear();
        if self == Access::Metadata {
            entry.subject.clear();
        }
    }
}

/// Which store sources a config section covers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Covers {
    /// `maildir:<path>`: the folder as configured and as canonicalised.
    Exact(Vec<String>),
    /// `imap:<account>/`: every mailbox of the account.
    Prefix(String),
}

/// A source that hides something from this viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    covers: Covers,
    access: Access,
}

impl Rule {
    /// True when the store source name `source` is this rule's.
    fn covers(&self, source: &str) -> bool {
        match &self.covers {
            Covers::Exact(names) => names.iter().any(|n| n == source),
            Covers::Prefix(p) => source.starts_with(p.as_str()),
        }
    }

    /// The length of this rule's name at the start of a `source key`
    /// string (`ItemRow::sources`), when it is there.
    fn covers_line(&self, line: &str) -> Option<usize> {
        match &self.covers {
            Covers::Exact(names) => names
                .iter()
                .filter(|n| line.strip_prefix(n.as_str()).is_some_and(|rest| rest.starts_with(' ') || rest.is_empty()))
                .map(String::len)
                .max(),
            Covers::Prefix(p) => line.starts_with(p.as_str()).then_some(p.len()),
        }
    }
}

/// Who is looking: the restrictions one signed-in user has, or none (the
/// operator at the machine, `kronika search`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    user: Option<String>,
    /// Only the sources that hide something from this user.
    rules: Vec<Rule>,
}

impl Viewer {
    /// Sees everything: the CLI (the operator at the machine).
    pub fn everyone() -> Viewer {
        Viewer { user: None, rules: Vec::new() }
    }

    /// What the web user `user` may see under `config`: their own sources
    /// whole, everyone else's by each source's visibility. An admin flag
    /// changes nothing here.
    pub fn for_user(config: &Config, user: &str) -> Viewer {
        let mut rules = Vec::new();
        let hides = |owner: &Option<String>, v: Visibility| v != Visibility::Full && owner.as_deref() != Some(user);
        for m in &config.maildirs {
            if hides(&m.access.owner, m.access.visibility) {
                rules.push(Rule { covers: Covers::Exact(maildir_names(&m.path)), access: m.access.visibility.into() });
            }
        }
        for i in &config.imap {
            if hides(&i.access.owner, i.access.visibility) {
                rules.push(Rule {
                    covers: Covers::Prefix(format!("imap:{}/", i.name)),
                    access: i.access.visibility.into(),
                });
            }
        }
        let calendars = config.caldav.iter().map(|c| ("caldav", c)).chain(config.graph.iter().map(|c| ("graph", c)));
        for (kind, c) in calendars {
            if hides(&c.access.owner, c.access.visibility) {
                rules.push(Rule {
                    covers: Covers::Prefix(format!("{kind}:{}/", c.name)),
                    access: c.access.visibility.into(),
                });
            }
        }
        Viewer { user: Some(user.to_string()), rules }
    }

    /// The signed-in user's name; `None` for [`Viewer::everyone`].
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// True when some source hides something from this viewer.
    pub fn is_restricted(&self) -> bool {
        !self.rules.is_empty()
    }

    /// The access to mail of one store source (`imap:work/INBOX`,
    /// `maildir:/home/jana/Mail`, `notes:…`): the most restrictive rule
    /// covering it, else `Full`.
    pub fn source_access(&self, source: &str) -> Access {
        self.rules.iter().filter(|r| r.covers(source)).map(|r| r.access).min().unwrap_or(Access::Full)
    }

    /// The access to an item seen in these sources: the most permissive;
    /// `Full` for none. The `documents` source alone counts as the most
    /// restrictive this viewer has (its mail is not known here; see
    /// [`Viewer::item_access`]).
    pub fn access_of<'a>(&self, sources: impl IntoIterator<Item = &'a str>) -> Access {
        if self.rules.is_empty() {
            return Access::Full;
        }
        let mut best: Option<Access> = None;
        for s in sources {
            let a = if is_derived_source(s) { self.least() } else { self.source_access(s) };
            best = Some(best.map_or(a, |b| b.max(a)));
        }
        best.unwrap_or(Access::Full)
    }

    /// The most restrictive access any source gives this viewer.
    fn least(&self) -> Access {
        self.rules.iter().map(|r| r.access).min().unwrap_or(Access::Full)
    }

    /// The access to an item from its `sources` (`"source key"` strings,
    /// maybe ending in ` (gone)`: the mail still came from there). Pure;
    /// a document from an attachment (source `documents` only) gets the
    /// most restrictive access this viewer has, since its mail is not in
    /// the row: use [`Viewer::item_access`] when a store is at hand.
    pub fn access(&self, row: &ItemRow) -> Access {
        if self.rules.is_empty() {
            return Access::Full;
        }
        let mut best: Option<Access> = None;
        for line in &row.sources {
            let a = self.line_access(line);
            best = Some(best.map_or(a, |b| b.max(a)));
        }
        best.unwrap_or(Access::Full)
    }

    /// The access of one `source key` line: the rule with the longest name
    /// at its start (a folder `/m/jana 2` is not `/m/jana`).
    fn line_access(&self, line: &str) -> Access {
        if line.split(' ').next().is_some_and(is_derived_source) {
            return self.least();
        }
        let mut found: Option<(usize, Access)> = None;
        for r in &self.rules {
            if let Some(len) = r.covers_line(line) {
                found = match found {
                    Some((l, a)) if l > len || (l == len && a <= r.access) => Some((l, a)),
                    _ => Some((len, r.access)),
                };
            }
        }
        found.map_or(Access::Full, |(_, a)| a)
    }

    /// The access to an item, its sources read from the store: a document
    /// from an attachment is as visible as its mail.
    pub fn item_access(&self, store: &Store, row: &ItemRow) -> Result<Access> {
        if self.rules.is_empty() {
            return Ok(Access::Full);
        }
        let sources = store.visibility_sources(row.id)?;
        Ok(self.access_of(sources.iter().map(String::as_str)))
    }

    /// Redacts `row` by [`Viewer::access`] and returns the access.
    pub fn redact_item(&self, row: &mut ItemRow) -> Access {
        let a = self.access(row);
        a.redact_item(row);
        a
    }

    /// Redacts `row` by [`Viewer::item_access`] and returns the access.
    pub fn redact_item_in(&self, store: &Store, row: &mut ItemRow) -> Result<Access> {
        let a = self.item_access(store, row)?;
        a.redact_item(row);
        Ok(a)
    }

    /// Redacts a timeline line with the access of its item.
    pub fn redact_entry(&self, entry: &mut TimelineEntry, access: Access) {
        access.redact_entry(entry);
    }

    /// For a search: the sources (of `known`, the names the index holds)
    /// this viewer may read by subject only and by metadata only. Every
    /// other source is read whole.
    pub fn restricted_sources<'a>(&self, known: impl IntoIterator<Item = &'a str>) -> (Vec<String>, Vec<String>) {
        let (mut subject, mut metadata) = (Vec::new(), Vec::new());
        if self.rules.is_empty() {
            return (subject, metadata);
        }
        for s in known {
            match if is_derived_source(s) { self.least() } else { self.source_access(s) } {
                Access::Subject => subject.push(s.to_string()),
                Access::Metadata => metadata.push(s.to_string()),
                Access::Full => {}
            }
        }
        (subject, metadata)
    }
}

/// The store names of a maildir folder: as the source names it
/// (canonicalised when it exists) and as configured.
fn maildir_names(path: &Path) -> Vec<String> {
    let mut names = vec![format!("maildir:{}", path.display())];
    if let Ok(c) = std::fs::canonicalize(path) {
        let c = format!("maildir:{}", c.display());
        if !names.contains(&c) {
            names.push(c);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn config(dir: &Path) -> Config {
        let text = format!(
            "data_dir = \"{d}/data\"\n\
             [[maildir]]\nname = \"jana\"\npath = \"{d}/jana\"\nowner = \"jana\"\nvisibility = \"subject\"\n\n\
             [[maildir]]\nname = \"eva\"\npath = \"{d}/eva\"\nowner = \"eva\"\nvisibility = \"metadata\"\n\n\
             [[maildir]]\nname = \"eva2\"\npath = \"{d}/eva 2\"\nowner = \"eva\"\nvisibility = \"subject\"\n\n\
             [[maildir]]\nname = \"shared\"\npath = \"{d}/shared\"\n\n\
             [[imap]]\nname = \"petr\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\n\
             owner = \"petr\"\nvisibility = \"metadata\"\n\n\
             [[caldav]]\nname = \"petr-cal\"\nurl = \"https://cloud.example.cz/\"\nusername = \"petr\"\n\
             password_env = \"P\"\nowner = \"petr\"\nvisibility = \"subject\"\n\n\
             [[graph]]\nname = \"eva-m365\"\ntoken_cmd = \"t\"\nowner = \"eva\"\nvisibility = \"metadata\"\n",
            d = dir.display()
        );
        Config::parse(&dir.join("kronika.toml"), &text).unwrap()
    }

    fn row(sources: &[String]) -> ItemRow {
        ItemRow {
            id: 7,
            kind: "email".into(),
            date: Utc::now(),
            date_source: "header".into(),
            direction: "in".into(),
            subject: "Nabídka".into(),
            body: "tajné tělo".into(),
            message_id: Some("m@x".into()),
            thread_id: None,
            content_hash: "abc".into(),
            size: 10,
            extra: serde_json::json!({"in_reply_to": "p@x", "path": "/secret", "name": "n.pdf"}),
            deleted_at: None,
            rev: 1,
            participants: Vec::new(),
            attachments: vec![crate::store::Attachment {
                name: "cenik.pdf".into(),
                mime: "application/pdf".into(),
                size: 3,
                content_hash: "h".into(),
            }],
            links: vec![crate::store::LinkRow {
                client_id: 1,
                client: "Acme".into(),
                contact_id: None,
                contact: None,
                reason: "ico".into(),
                ambiguous: false,
                evidence: "IČO 27468135 in the text".into(),
            }],
            sources: sources.to_vec(),
        }
    }

    #[test]
    fn owners_see_their_own_and_others_by_visibility() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("jana")).unwrap();
        let c = config(tmp.path());
        let canon = |p: &str| {
            let path = tmp.path().join(p);
            format!("maildir:{}", std::fs::canonicalize(&path).unwrap_or(path).display())
        };
        let (jana_src, eva_src, eva2_src, shared) = (canon("jana"), canon("eva"), canon("eva 2"), canon("shared"));
        let jana = Viewer::for_user(&c, "jana");
        let eva = Viewer::for_user(&c, "eva");
        let admin = Viewer::for_user(&c, "admin");
        assert_eq!(jana.source_access(&jana_src), Access::Full);
        assert_eq!(jana.source_access(&eva_src), Access::Metadata);
        assert_eq!(jana.source_access(&eva2_src), Access::Subject);
        assert_eq!(jana.source_access(&shared), Access::Full);
        assert_eq!(jana.source_access("imap:petr/INBOX"), Access::Metadata);
        assert_eq!(jana.source_access("imap:petrx/INBOX"), Access::Full);
        assert_eq!(jana.source_access("notes:/n"), Access::Full);
        assert_eq!(jana.source_access("caldav:petr-cal/prace"), Access::Subject, "a calendar account's events too");
        assert_eq!(jana.source_access("graph:eva-m365/AAMk1"), Access::Metadata);
        assert_eq!(eva.source_access("graph:eva-m365/AAMk1"), Access::Full);
        assert_eq!(eva.source_access(&jana_src), Access::Subject);
        assert_eq!(eva.source_access(&eva_src), Access::Full);
        assert_eq!(admin.source_access(&jana_src), Access::Subject, "an admin does not open a salesperson's mailbox");
        assert!(Viewer::everyone().source_access(&eva_src) == Access::Full && !Viewer::everyone().is_restricted());

        // By the row's "source key" lines: the most permissive source wins.
        let line = |s: &str, k: &str| format!("{s} {k}");
        assert_eq!(jana.access(&row(&[line(&eva_src, "cur/1")])), Access::Metadata);
        assert_eq!(jana.access(&row(&[line(&eva2_src, "cur/1")])), Access::Subject, "`eva 2` is not `eva`");
        assert_eq!(jana.access(&row(&[format!("{} (gone)", line(&eva_src, "cur/1"))])), Access::Metadata);
        assert_eq!(jana.access(&row(&[line(&eva_src, "cur/1"), line(&eva2_src, "new/2")])), Access::Subject);
        assert_eq!(jana.access(&row(&[line(&eva_src, "cur/1"), line(&shared, "cur/9")])), Access::Full);
        assert_eq!(jana.access(&row(&[line(&eva_src, "cur/1"), line(&jana_src, "cur/9")])), Access::Full);
        assert_eq!(jana.access(&row(&["imap:petr/Sent Items 17/4".into()])), Access::Metadata);
        assert_eq!(jana.access(&row(&["notes:/n a.md".into()])), Access::Full);
        assert_eq!(jana.access(&row(&[])), Access::Full);
        // A document alone: the least this viewer may see (its mail is unknown here).
        assert_eq!(jana.access(&row(&["documents abc".into()])), Access::Metadata);
        assert_eq!(Viewer::everyone().access(&row(&["documents abc".into()])), Access::Full);
        assert_eq!(jana.access_of([eva_src.as_str(), shared.as_str()]), Access::Full);

        let (subject, metadata) = jana.restricted_sources([
            jana_src.as_str(),
            eva_src.as_str(),
            eva2_src.as_str(),
            "imap:petr/INBOX",
            "notes:/n",
        ]);
        assert_eq!(subject, vec![eva2_src.clone()]);
        assert_eq!(metadata, vec![eva_src.clone(), "imap:petr/INBOX".to_string()]);
    }

    #[test]
    fn redaction_hides_what_the_access_hides() {
        let mut r = row(&[]);
        Access::Full.redact_item(&mut r);
        assert_eq!((r.body.as_str(), r.attachments.len()), ("tajné tělo", 1));

        let mut r = row(&[]);
        Access::Subject.redact_item(&mut r);
        assert_eq!(r.subject, "Nabídka");
        assert!(r.body.is_empty() && r.attachments.is_empty() && r.content_hash.is_empty());
        assert_eq!(r.extra, serde_json::json!({"in_reply_to": "p@x", "name": "n.pdf"}));
        assert_eq!(r.message_id.as_deref(), Some("m@x"), "metadata stays");
        assert_eq!((r.links.len(), r.links[0].evidence.as_str()), (1, ""), "the client stays, not what the text said");

        let mut r = row(&[]);
        Access::Metadata.redact_item(&mut r);
        assert!(r.subject.is_empty() && r.body.is_empty() && r.attachments.is_empty());
        assert_eq!(r.extra, serde_json::json!({"in_reply_to": "p@x"}));

        let entry = |kind: &str| TimelineEntry {
            kind: kind.into(),
            item_id: Some(1),
            deal_id: None,
            date: Utc::now(),
            direction: "in".into(),
            who: "Eva".into(),
            subject: "Nabídka".into(),
            snippet: "tajné".into(),
            cancelled: false,
        };
        let v = Viewer::everyone();
        let mut e = entry("email");
        v.redact_entry(&mut e, Access::Subject);
        assert_eq!((e.subject.as_str(), e.snippet.as_str(), e.who.as_str()), ("Nabídka", "", "Eva"));
        let mut e = entry("email");
        v.redact_entry(&mut e, Access::Metadata);
        assert_eq!((e.subject.as_str(), e.snippet.as_str(), e.who.as_str()), ("", "", "Eva"));
        let mut e = entry("deal");
        v.redact_entry(&mut e, Access::Metadata);
        assert_eq!(e.subject, "Nabídka", "deals are not mail");
        assert!(Access::Metadata < Access::Subject && Access::Subject < Access::Full);
    }
}
