//! Search for the faces: the query language of `kronika search` (words,
//! "phrases", `from:`, `to:`, `subject:`, `attachment:`, AND / OR / NOT /
//! -word; accents ignored; a bare word also finds its other forms, Czech
//! or English by each item's language, a quoted one only itself), filters
//! (client, contact, kind, dates, direction), relevance or date order,
//! pages, and highlighted snippets.
//! `kronika search` and the web's search page both call [`search`]; what a
//! viewer may not read is neither found nor shown ([`super::visibility`]).

use std::ops::Range;

use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use super::visibility::{Access, Viewer};
use crate::config::Config;
use crate::index::{IndexError, Indexer, QueryProblem, Restriction, SearchIndex, SearchRequest, SortOrder};
use crate::model::{ClientId, Direction, ItemId, ItemKind};
use crate::store::{ItemRow, Store, StoreError};

/// Errors the faces branch on: the user's input (a 400 on the web) or the
/// machinery (a 500).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text cannot be parsed or run.
    #[error("cannot understand the query {query:?}: {message}")]
    Query { query: String, message: String, problem: QueryProblem },
    /// A filter names nothing, or something unclear (a client, a contact, a date).
    #[error("{message}")]
    Filter { message: String, problem: FilterProblem },
    #[error(transparent)]
    Index(IndexError),
    #[error(transparent)]
    Store(StoreError),
}

/// Which filter is wrong and how, for a face to say in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterProblem {
    /// No client or contact matches the text.
    NotFound {
        what: &'static str,
        query: String,
    },
    /// Several do.
    Ambiguous {
        what: &'static str,
        query: String,
    },
    Date(String),
    Kind(String),
    Direction(String),
}

impl SearchError {
    /// True when the user's input is at fault (show it, don't log it).
    pub fn is_input(&self) -> bool {
        matches!(self, SearchError::Query { .. } | SearchError::Filter { .. })
    }
}

impl From<IndexError> for SearchError {
    fn from(e: IndexError) -> SearchError {
        match e {
            IndexError::Query { query, message, problem } => SearchError::Query { query, message, problem },
            IndexError::Store(s) => SearchError::Store(s),
            other => SearchError::Index(other),
        }
    }
}

impl From<StoreError> for SearchError {
    fn from(e: StoreError) -> SearchError {
        SearchError::Store(e)
    }
}

/// A search as a face gives it: text as typed; the filters are resolved
/// and checked here, so the CLI and the web refuse the same things.
#[derive(Debug, Clone, Default)]
pub struct SearchInput {
    pub query: String,
    /// A client: id, IČO, name or a prefix of it (as `kronika client show`).
    pub client: Option<String>,
    /// A contact: id, address or name.
    pub contact: Option<String>,
    /// `email`, `call`, `meeting`, `event`, `document` or `deal`.
    pub kind: Option<String>,
    /// From this day on (YYYY-MM-DD, D.M.YYYY or RFC 3339; local time).
    pub since: Option<String>,
    /// Up to this day, inclusive (an RFC 3339 time: before it).
    pub until: Option<String>,
    /// `in`, `out` or `internal`.
    pub direction: Option<String>,
    pub sort: SortOrder,
    /// Hits per page (at least 1).
    pub limit: usize,
    /// Hits to skip.
    pub offset: usize,
}

/// A piece of a snippet; `highlighted` pieces matched the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fragment {
    pub text: String,
    pub highlighted: bool,
}

/// A client an item is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientLink {
    pub id: i64,
    pub name: String,
}

/// One hit, as the viewer may see it.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub item_id: i64,
    pub kind: String,
    pub date: DateTime<Utc>,
    pub direction: String,
    /// Sender or organiser: name, else address.
    pub who: String,
    /// Empty when the viewer may not read it ([`Access::Metadata`]).
    pub subject: String,
    pub clients: Vec<ClientLink>,
    /// Around the matches in the body; empty when the viewer may not read it.
    pub snippet: Vec<Fragment>,
    /// The snippet as one text, and the byte ranges of its matches.
    pub snippet_text: String,
    pub highlights: Vec<Range<usize>>,
    pub score: f32,
    pub access: Access,
    /// The whole item, redacted to `access`.
    #[serde(skip)]
    pub row: ItemRow,
}

/// A page of hits; `more` when a next page has hits (ask with `offset +
/// hits.len()`).
#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub more: bool,
    /// How many items match in all (as the index knows them).
    pub total: usize,
}

/// Opens the index for reading after bringing it up to date with the
/// store, unless another process (the daemon) holds the writer and does
/// it. An index of an older schema is rebuilt here.
pub fn fresh_index(config: &Config, store: &Store) -> Result<SearchIndex, IndexError> {
    let index = SearchIndex::open(&config.index_path())?;
    // A mail seen in one more mailbox adds a source, not a rev.
    let behind = index.committed_rev() < store.max_rev()? || index.committed_sources() < store.max_source_row()?;
    if behind {
        match Indexer::new(&index, 50 << 20) {
            Ok(mut ix) => {
                ix.catch_up(store, |_| {})?;
                ix.commit()?;
                ix.finish()?;
                index.reload()?;
            }
            Err(IndexError::Locked(_)) => {
                tracing::debug!("the daemon holds the index; reading as it is");
                index.reload()?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(index)
}

/// Start of a local calendar day (or an RFC 3339 time), as Unix seconds.
pub fn day_start(s: &str) -> Result<i64, SearchError> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(dt.timestamp());
    }
    let bad = |message: String| SearchError::Filter { message, problem: FilterProblem::Date(s.to_string()) };
    let d: NaiveDate = crate::model::parse_date(s)
        .ok_or_else(|| bad(format!("cannot read the date {s:?}: use YYYY-MM-DD, D.M.YYYY or RFC 3339")))?;
    let midnight = d.and_hms_opt(0, 0, 0).ok_or_else(|| bad(format!("cannot use the date {s:?}")))?;
    let local = Local
        .from_local_datetime(&midnight)
        .earliest()
        .ok_or_else(|| bad(format!("cannot place {s:?} in the local time zone")))?;
    Ok(local.timestamp())
}

/// The end of a `until` filter: a day includes the whole day.
fn day_end(s: &str) -> Result<i64, SearchError> {
    if DateTime::parse_from_rfc3339(s.trim()).is_ok() {
        return day_start(s);
    }
    day_start(s)?.checked_add(86_400).ok_or_else(|| SearchError::Filter {
        message: format!("cannot use the date {s:?}"),
        problem: FilterProblem::Date(s.to_string()),
    })
}

fn some(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The request for the index, filters resolved and checked.
fn request(store: &Store, input: &SearchInput) -> Result<SearchRequest, SearchError> {
    let filter = |e: StoreError| {
        let message = e.to_string();
        match e {
            StoreError::NotFound { what, query } => {
                SearchError::Filter { message, problem: FilterProblem::NotFound { what, query } }
            }
            StoreError::Ambiguous { what, query, .. } => {
                SearchError::Filter { message, problem: FilterProblem::Ambiguous { what, query } }
            }
            e => SearchError::Store(e),
        }
    };
    let client = some(&input.client).map(|c| store.resolve_client(c)).transpose().map_err(filter)?;
    let contact = some(&input.contact).map(|c| store.resolve_contact(client, c)).transpose().map_err(filter)?;
    let kind = some(&input.kind)
        .map(|k| {
            k.parse::<ItemKind>()
                .map_err(|message| SearchError::Filter { message, problem: FilterProblem::Kind(k.to_string()) })
        })
        .transpose()?;
    let direction = some(&input.direction)
        .map(|d| {
            d.parse::<Direction>()
                .map_err(|message| SearchError::Filter { message, problem: FilterProblem::Direction(d.to_string()) })
        })
        .transpose()?;
    let since = some(&input.since).map(day_start).transpose()?;
    let until = some(&input.until).map(day_end).transpose()?;
    Ok(SearchRequest {
        query: input.query.clone(),
        clients: client.map(|c| vec![c.0]).unwrap_or_default(),
        contact: contact.map(|c| c.0),
        kind: kind.map(|k| k.as_str().to_string()),
        since,
        until,
        direction: direction.map(|d| d.as_str().to_string()),
        limit: input.limit.max(1),
        offset: input.offset,
        sort: input.sort,
        restriction: None,
    })
}

/// What `viewer` may not read, by the sources the index holds.
fn restriction(index: &SearchIndex, viewer: &Viewer) -> Result<Option<Restriction>, IndexError> {
    if !viewer.is_restricted() {
        return Ok(None);
    }
    let names = index.source_names()?;
    let (subject, metadata) = viewer.restricted_sources(names.iter().map(String::as_str));
    let full = names.into_iter().filter(|n| !subject.contains(n) && !metadata.contains(n)).collect();
    Ok(Some(Restriction { full, subject, metadata }))
}

/// Searches the index as `viewer` may: one page of hits, each item
/// redacted to what the viewer may see, snippets only from what they may
/// read. Hits whose item left the store (index drift) are left out.
pub fn search(store: &Store, config: &Config, viewer: &Viewer, input: &SearchInput) -> Result<SearchPage, SearchError> {
    let index = fresh_index(config, store)?;
    search_in(store, &index, viewer, input)
}

/// [`search`] on an open index.
pub fn search_in(
    store: &Store,
    index: &SearchIndex,
    viewer: &Viewer,
    input: &SearchInput,
) -> Result<SearchPage, SearchError> {
    let mut req = request(store, input)?;
    req.restriction = restriction(index, viewer)?;
    // One more than a page tells whether there is a next one.
    let limit = req.limit;
    req.limit = limit.saturating_add(1);
    let mut rows: std::collections::HashMap<i64, (ItemRow, Access)> = std::collections::HashMap::new();
    let mut failed: Option<StoreError> = None;
    let (found, total) = index.search_counted(&req, |ids| {
        let ids: Vec<ItemId> = ids.iter().map(|id| ItemId(*id)).collect();
        // The hits' rows in one read; an item gone meanwhile is left out.
        let mut read = match store.items(&ids) {
            Ok(read) => read,
            Err(e) => {
                failed.get_or_insert(e);
                return Vec::new();
            }
        };
        let mut bodies = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(mut row) = read.remove(&id.0) else {
                bodies.push(String::new());
                continue;
            };
            match viewer.redact_item_in(store, &mut row) {
                Ok(access) => {
                    bodies.push(row.body.clone());
                    rows.insert(id.0, (row, access));
                }
                Err(e) => {
                    failed.get_or_insert(e);
                    bodies.push(String::new());
                }
            }
        }
        bodies
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let more = found.len() > limit;
    let mut hits = Vec::with_capacity(found.len().min(limit));
    for h in found.into_iter().take(limit) {
        let Some((row, access)) = rows.remove(&h.id) else { continue };
        let (snippet_text, highlights) =
            if access.shows_body() { (h.snippet, h.highlights) } else { (String::new(), Vec::new()) };
        hits.push(SearchHit {
            item_id: row.id,
            kind: row.kind.clone(),
            date: row.date,
            direction: row.direction.clone(),
            who: super::who(&row),
            subject: row.subject.clone(),
            clients: client_links(&row),
            snippet: fragments(&snippet_text, &highlights),
            snippet_text,
            highlights,
            score: h.score,
            access,
            row,
        });
    }
    Ok(SearchPage { hits, more, total })
}

/// The clients of an item, each once, in link order.
fn client_links(row: &ItemRow) -> Vec<ClientLink> {
    let mut out: Vec<ClientLink> = Vec::new();
    for l in &row.links {
        if !out.iter().any(|c| c.id == l.client_id) {
            out.push(ClientLink { id: l.client_id, name: l.client.clone() });
        }
    }
    out
}

/// A snippet cut at its matches; ranges out of order, out of bounds or
/// inside a character are left unmarked.
pub fn fragments(snippet: &str, ranges: &[Range<usize>]) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut push = |text: &str, highlighted: bool| {
        if !text.is_empty() {
            out.push(Fragment { text: text.to_string(), highlighted });
        }
    };
    for r in ranges {
        let (Some(before), Some(hit)) = (snippet.get(at..r.start), snippet.get(r.clone())) else { continue };
        if r.start < at {
            continue;
        }
        push(before, false);
        push(hit, true);
        at = r.end;
    }
    push(snippet.get(at..).unwrap_or_default(), false);
    out
}

/// Clients for a filter's choices: id and name, by name.
pub fn client_choices(store: &Store) -> Result<Vec<ClientLink>, StoreError> {
    Ok(store.clients()?.into_iter().map(|c| ClientLink { id: c.id.0, name: c.name }).collect())
}

/// The name of a client by id, for a filter chosen by id.
pub fn client_name(store: &Store, id: i64) -> Result<String, StoreError> {
    Ok(store.client(ClientId(id))?.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_mark_matches_on_char_boundaries() {
        let s = "cenová nabídka je v příloze";
        let start = s.find("nabídka").unwrap();
        let one: Vec<Range<usize>> = std::iter::once(start..start + "nabídka".len()).collect();
        let f = fragments(s, &one);
        assert_eq!(
            f,
            vec![
                Fragment { text: "cenová ".into(), highlighted: false },
                Fragment { text: "nabídka".into(), highlighted: true },
                Fragment { text: " je v příloze".into(), highlighted: false },
            ]
        );
        // Inside a character, past the end, backwards: left unmarked, nothing lost.
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = 9..3;
        for bad in [5..6, 20..200, backwards] {
            let f = fragments(s, std::slice::from_ref(&bad));
            assert_eq!(f.iter().map(|x| x.text.as_str()).collect::<String>(), s);
            assert!(f.iter().all(|x| !x.highlighted), "{bad:?}");
        }
        assert!(fragments("", &[]).is_empty());
    }

    #[test]
    fn days_are_local_and_until_includes_the_day() {
        let a = day_start("2026-11-27").unwrap();
        let b = day_start("28.11.2026").unwrap();
        assert_eq!(b - a, 86_400);
        assert_eq!(day_end("2026-11-27").unwrap(), b);
        assert!(matches!(day_start("soon"), Err(SearchError::Filter { message, problem: FilterProblem::Date(_) })
            if message.starts_with("cannot read the date")));
    }
}
