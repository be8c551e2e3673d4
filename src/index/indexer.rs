//! The owner of the one `IndexWriter`. It reads the store's feed of changed
//! items and applies them (delete by id, then add), committing in batches
//! with the highest rev it contains as the commit payload.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tantivy::schema::Term;
use tantivy::{IndexWriter, TantivyDocument};

use super::{Fields, IndexError, Payload, SCHEMA_VERSION, SearchIndex};
use crate::store::{IndexDoc, Store};

/// Documents read from the store per round.
const FEED_BATCH: usize = 2_000;

/// The language an item is stemmed in: its subject and the beginning of
/// its body.
fn item_lang(d: &IndexDoc) -> crate::stem::Lang {
    let mut sample = d.subject.clone();
    sample.push('\n');
    sample.extend(d.body.chars().take(2_000));
    crate::stem::detect(&sample)
}

/// The writer.
pub struct Indexer {
    writer: IndexWriter,
    fields: Fields,
    path: std::path::PathBuf,
    /// Highest rev applied to the writer (committed or not).
    applied_rev: i64,
    /// Highest rev in the last commit.
    committed_rev: i64,
    /// Highest `item_sources` row applied (see [`Payload::sources`]).
    applied_sources: i64,
    committed_sources: i64,
    pending: usize,
    last_commit: Instant,
    /// No item above this id can be in the index (committed or added by
    /// this writer): such an item needs no delete before it is added. A
    /// delete is a queued operation of ~800 bytes kept until the commit,
    /// and a bulk import adds only new items (85 MB at 100k).
    max_id: u64,
}

/// What a catch-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    pub indexed: usize,
    pub removed: usize,
}

/// The highest item id in the index's committed segments (deleted
/// documents included), 0 for an empty index.
fn highest_id(index: &SearchIndex) -> Result<u64, IndexError> {
    let err = |source| IndexError::Tantivy { path: index.path().to_path_buf(), source };
    let reader = index.index().reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into().map_err(err)?;
    let mut max = 0;
    for segment in reader.searcher().segment_readers() {
        if segment.max_doc() > 0 {
            max = max.max(segment.fast_fields().u64("id").map_err(err)?.max_value());
        }
    }
    Ok(max)
}

impl Indexer {
    /// Takes the index's writer lock. `heap_bytes` is tantivy's indexing
    /// memory budget (50–200 MB is good); indexing runs on one thread
    /// beside the caller's.
    pub fn new(index: &SearchIndex, heap_bytes: usize) -> Result<Indexer, IndexError> {
        let writer = index.index().writer_with_num_threads(1, heap_bytes).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => IndexError::Locked(index.path().to_path_buf()),
            source => IndexError::Tantivy { path: index.path().to_path_buf(), source },
        })?;
        let rev = index.committed_rev();
        let applied_sources = index.committed_sources();
        let max_id = highest_id(index)?;
        Ok(Indexer {
            max_id,
            applied_sources,
            committed_sources: applied_sources,
            writer,
            fields: index.fields(),
            path: index.path().to_path_buf(),
            applied_rev: rev,
            committed_rev: rev,
            pending: 0,
            last_commit: Instant::now(),
        })
    }

    fn err(&self, source: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy { path: self.path.clone(), source }
    }

    /// Applies every item changed in the store since the last applied rev.
    /// Does not commit; see [`Indexer::commit`] and [`Indexer::commit_if_due`].
    pub fn catch_up(&mut self, store: &Store, mut progress: impl FnMut(usize)) -> Result<CatchUp, IndexError> {
        let mut done = CatchUp::default();
        // Taken first: rows a writer adds meanwhile are for the next round.
        let sources_mark = store.max_source_row()?;
        let store_rev = store.max_rev()?;
        if self.applied_rev > store_rev {
            // The store went back in time (restored from a backup): revs the
            // index has seen will be handed out again, so start over.
            tracing::warn!(
                "the search index is ahead of the store (rev {} > {store_rev}; restored from a backup?): rebuilding it",
                self.applied_rev
            );
            self.clear()?;
        }
        let from_scratch = self.applied_rev == 0;
        let mut fresh: HashSet<i64> = HashSet::new();
        loop {
            let docs = store.index_feed(self.applied_rev, FEED_BATCH)?;
            let Some(last) = docs.last().map(|d| d.rev) else { break };
            let sources = store.visibility_sources_by_rev(self.applied_rev, last)?;
            for d in &docs {
                let none = Vec::new();
                if self.apply(d, sources.get(&d.id).unwrap_or(&none))? {
                    done.indexed += 1;
                } else {
                    done.removed += 1;
                }
            }
            self.applied_rev = last;
            self.pending += docs.len();
            progress(docs.len());
            if !from_scratch {
                // A round from scratch follows no sources (a million ids).
                fresh.extend(docs.iter().map(|d| d.id));
            }
        }
        self.follow_sources(store, sources_mark, from_scratch, &fresh)?;
        Ok(done)
    }

    /// Re-applies items seen in one more source since the last round (and
    /// the documents of their attachments), so that the `source` terms
    /// follow: a mail that reached the viewer's own mailbox becomes
    /// searchable whole. Items applied in this round already have them; a
    /// round from scratch has them all.
    fn follow_sources(
        &mut self,
        store: &Store,
        mark: i64,
        from_scratch: bool,
        fresh: &HashSet<i64>,
    ) -> Result<(), IndexError> {
        if mark < self.applied_sources && !from_scratch {
            // The rows were numbered anew (PostgreSQL's migration 15 gave
            // item_sources a rowid instead of the transaction ids it was
            // followed by): follow the new numbers from here.
            tracing::info!("the store's source rows were numbered anew; the index follows them from {mark}");
            self.applied_sources = mark;
            return Ok(());
        }
        if mark <= self.applied_sources || from_scratch {
            self.applied_sources = self.applied_sources.max(mark);
            return Ok(());
        }
        for id in store.items_with_new_sources(self.applied_sources, mark)? {
            if fresh.contains(&id) {
                continue;
            }
            if let Some(d) = store.index_doc(id)? {
                let sources = store.visibility_sources(id)?;
                self.apply(&d, &sources)?;
                self.pending += 1;
            }
        }
        self.applied_sources = mark;
        Ok(())
    }

    /// Applies one item seen in `sources`; returns false when it was only
    /// removed (deleted item).
    fn apply(&mut self, d: &IndexDoc, sources: &[String]) -> Result<bool, IndexError> {
        let f = self.fields;
        let id = d.id as u64;
        if id <= self.max_id {
            self.writer.delete_term(Term::from_field_u64(f.id, id));
        }
        if d.deleted {
            return Ok(false);
        }
        self.max_id = self.max_id.max(id);
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, d.id as u64);
        doc.add_u64(f.rev, d.rev as u64);
        doc.add_text(f.subject, &d.subject);
        doc.add_text(f.text, &d.body);
        for v in &d.from {
            doc.add_text(f.from, v);
        }
        for v in &d.to {
            doc.add_text(f.to, v);
        }
        for v in &d.participants {
            doc.add_text(f.participants, v);
        }
        for v in &d.attachments {
            doc.add_text(f.attachment, v);
        }
        // The same words again, stemmed in the item's language, beside the
        // exact ones (which keep phrases exact and rank exact forms first).
        let [subject, text, attachment] = f.stemmed.of(item_lang(d));
        doc.add_text(subject, &d.subject);
        doc.add_text(text, &d.body);
        for v in &d.attachments {
            doc.add_text(attachment, v);
        }
        doc.add_text(f.kind, &d.kind);
        doc.add_text(f.direction, &d.direction);
        doc.add_i64(f.date, d.date);
        for c in &d.clients {
            doc.add_u64(f.client, *c as u64);
        }
        for c in &d.contacts {
            doc.add_u64(f.contact, *c as u64);
        }
        for s in sources {
            doc.add_text(f.source, s);
        }
        if sources.is_empty() {
            doc.add_text(f.source, super::NO_SOURCE);
        }
        self.writer.add_document(doc).map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Removes documents by item id (drift repair).
    pub fn remove(&mut self, ids: &[i64]) {
        for id in ids {
            self.writer.delete_term(Term::from_field_u64(self.fields.id, *id as u64));
        }
        self.pending += ids.len();
    }

    /// Commits what was applied, recording the rev it covers.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        if self.pending == 0 && self.applied_rev == self.committed_rev && self.applied_sources == self.committed_sources
        {
            return Ok(());
        }
        let payload = serde_json::to_string(&Payload {
            schema: SCHEMA_VERSION,
            rev: self.applied_rev,
            sources: self.applied_sources,
        })
        .expect("payload serialises");
        let path = self.path.clone();
        let err = |source| IndexError::Tantivy { path: path.clone(), source };
        let mut prepared = self.writer.prepare_commit().map_err(err)?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(err)?;
        self.committed_rev = self.applied_rev;
        self.committed_sources = self.applied_sources;
        self.pending = 0;
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Commits when `max_pending` documents wait or `max_age` has passed
    /// since the last commit with something pending. Returns whether it did.
    pub fn commit_if_due(&mut self, max_pending: usize, max_age: Duration) -> Result<bool, IndexError> {
        if self.pending >= max_pending || (self.pending > 0 && self.last_commit.elapsed() >= max_age) {
            self.commit()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Empties the index and starts again from rev 0 (`kronika reindex`).
    pub fn clear(&mut self) -> Result<(), IndexError> {
        self.writer.delete_all_documents().map_err(|e| self.err(e))?;
        // Nothing added before this survives it.
        self.max_id = 0;
        self.applied_rev = 0;
        self.applied_sources = 0;
        self.pending += 1;
        Ok(())
    }

    /// Highest rev committed.
    pub fn committed_rev(&self) -> i64 {
        self.committed_rev
    }

    /// Rewrites every committed segment that holds deleted documents, so
    /// that their words leave the index's files (after an erasure), not
    /// only its results. Call after [`Indexer::commit`].
    pub fn purge_deleted(&mut self) -> Result<usize, IndexError> {
        let path = self.path.clone();
        let err = |source| IndexError::Tantivy { path: path.clone(), source };
        let metas = self.writer.index().searchable_segment_metas().map_err(err)?;
        let ids: Vec<tantivy::index::SegmentId> = metas.iter().filter(|m| m.has_deletes()).map(|m| m.id()).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        self.writer.merge(&ids).wait().map_err(err)?;
        self.writer.garbage_collect_files().wait().map_err(err)?;
        Ok(ids.len())
    }

    /// Waits for tantivy's merge threads; call before exiting.
    pub fn finish(self) -> Result<(), IndexError> {
        let path = self.path.clone();
        self.writer.wait_merging_threads().map_err(|source| IndexError::Tantivy { path, source })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::matcher::Policy;
    use crate::model::ItemKind;
    use crate::store::{Changes, NewItem, SourceKey};

    fn note(n: u32, text: &str) -> (NewItem, SourceKey) {
        let item = NewItem {
            kind: ItemKind::Call,
            date: Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap(),
            subject: format!("note {n}"),
            body: text.into(),
            content_hash: format!("{n}:{text}"),
            ..NewItem::default()
        };
        (item, SourceKey { source: "notes".into(), key: format!("n{n}") })
    }

    fn put(store: &mut Store, items: &[(NewItem, SourceKey)]) {
        store.apply(&Changes { items, replace: true, ..Changes::default() }).unwrap();
    }

    fn index_round(store: &Store, index: &SearchIndex) {
        let mut ix = Indexer::new(index, 15 << 20).unwrap();
        ix.catch_up(store, |_| {}).unwrap();
        ix.commit().unwrap();
        ix.finish().unwrap();
        index.reload().unwrap();
    }

    /// New items are added without a delete, yet an item changed later,
    /// by this writer or by one opened after a commit, is in the index
    /// once, at its newest rev.
    #[test]
    fn changed_items_are_indexed_once_whichever_writer_sees_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.sqlite3"), Policy::default()).unwrap();
        let index = SearchIndex::open(&dir.path().join("index")).unwrap();
        put(&mut store, &[note(1, "první"), note(2, "druhá")]);
        index_round(&store, &index);
        assert_eq!(index.num_docs(), 2);
        assert_eq!(highest_id(&index).unwrap(), 2);

        // A writer opened later: note 1 changed, note 3 is new.
        put(&mut store, &[note(1, "první, opravená")]);
        put(&mut store, &[note(3, "třetí")]);
        index_round(&store, &index);
        assert_eq!(index.num_docs(), 3);

        // One writer sees an item added and changed before its commit.
        let mut ix = Indexer::new(&index, 15 << 20).unwrap();
        put(&mut store, &[note(4, "čtvrtá")]);
        ix.catch_up(&store, |_| {}).unwrap();
        put(&mut store, &[note(4, "čtvrtá, opravená"), note(2, "druhá, opravená")]);
        ix.catch_up(&store, |_| {}).unwrap();
        ix.commit().unwrap();
        ix.finish().unwrap();
        index.reload().unwrap();
        assert_eq!(index.num_docs(), 4);
        let revs = index.doc_revs().unwrap();
        assert_eq!(revs.len(), 4);
        assert_eq!(revs, store.live_revs().unwrap());
    }

    /// A snippet is looked for at the beginning of a long body first, and
    /// in the rest when the beginning has no match: a word deep in a long
    /// mail is still shown highlighted, its characters whole.
    #[test]
    fn snippets_come_from_anywhere_in_a_long_body() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.sqlite3"), Policy::default()).unwrap();
        let index = SearchIndex::open(&dir.path().join("index")).unwrap();
        let filler = "Dobrý den, posíláme podklady k zakázce č. 118. ".repeat(800); // ~40 KB
        let deep = format!("{filler}Čerpadlo Žďár dorazí ve čtvrtek.");
        let early = format!("Tepelné čerpadlo dorazí ve středu. {filler}");
        put(&mut store, &[note(1, &deep), note(2, &early)]);
        index_round(&store, &index);
        let bodies = |ids: &[i64]| -> Vec<String> {
            ids.iter().map(|id| if *id == 1 { deep.clone() } else { early.clone() }).collect()
        };
        let req = |q: &str| crate::index::SearchRequest {
            query: q.into(),
            limit: 10,
            ..crate::index::SearchRequest::default()
        };
        let (hits, total) = index.search_counted(&req("žďár"), bodies).unwrap();
        assert_eq!(total, 1);
        let h = &hits[0];
        assert!(!h.highlights.is_empty(), "no highlight in {:?}", h.snippet);
        let marked: Vec<&str> = h.highlights.iter().map(|r| &h.snippet[r.clone()]).collect();
        assert_eq!(marked, ["Žďár"]);
        let (hits, _) = index.search_counted(&req("středu"), bodies).unwrap();
        assert_eq!(hits[0].id, 2);
        assert!(hits[0].snippet.contains("středu") && !hits[0].highlights.is_empty());
    }
}
