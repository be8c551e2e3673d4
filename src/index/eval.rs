//! The search evaluation: labelled Czech business sentences
//! (`fixtures/search-eval/`) indexed through kronika's own store, indexer
//! and search, and each query's recall and precision, macro-averaged.
//! `benches/search_eval.rs` prints the table; a test in `tests/it` holds the
//! targets.
//!
//! Three runs of the same queries: "before" quotes each query (the exact,
//! accent-folded fields only: the analysis kronika had before stemming),
//! "after" gives it bare (exact fields and stems), and "unaccented" gives it
//! bare and without diacritics, as people often type.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};

use super::{IndexError, Indexer, SearchIndex, SearchRequest};
use crate::model::ItemKind;
use crate::store::{IngestOutcome, NewItem, SourceKey, Store, StoreError};

/// Errors of a run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path} line {line}: {message}")]
    Format { path: PathBuf, line: usize, message: String },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One labelled sentence.
#[derive(Debug, Clone)]
pub struct Sentence {
    pub id: u32,
    pub text: String,
    /// The queries (basic forms) the sentence holds a form of.
    pub lemmas: BTreeSet<String>,
}

/// The evaluation set.
#[derive(Debug, Clone)]
pub struct EvalSet {
    pub sentences: Vec<Sentence>,
    pub queries: Vec<String>,
}

impl EvalSet {
    /// Reads `sentences.tsv` (id, sentence, comma-separated lemmas) and
    /// `queries.txt` (one basic form a line); `#` starts a comment line.
    pub fn load(dir: &Path) -> Result<EvalSet, EvalError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| EvalError::Read { path, source })
        };
        let path = dir.join("sentences.tsv");
        let mut sentences = Vec::new();
        for (n, line) in read("sentences.tsv")?.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let bad = |message: &str| EvalError::Format { path: path.clone(), line: n + 1, message: message.into() };
            let mut cells = line.split('\t');
            let id = cells.next().and_then(|c| c.parse().ok()).ok_or_else(|| bad("the first cell is not an id"))?;
            let text = cells.next().filter(|t| !t.trim().is_empty()).ok_or_else(|| bad("no sentence"))?.to_string();
            let lemmas = cells
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            sentences.push(Sentence { id, text, lemmas });
        }
        let queries: Vec<String> = read("queries.txt")?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect();
        let known: BTreeSet<&String> = queries.iter().collect();
        if let Some(s) = sentences.iter().find(|s| s.lemmas.iter().any(|l| !known.contains(l))) {
            return Err(EvalError::Format {
                path,
                line: 0,
                message: format!("sentence {} names a lemma that is not a query", s.id),
            });
        }
        Ok(EvalSet { sentences, queries })
    }
}

/// Macro-averaged figures of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub recall: f64,
    pub precision: f64,
}

/// One query's outcome in one run.
#[derive(Debug, Clone)]
pub struct QueryOutcome {
    pub query: String,
    pub relevant: usize,
    pub found: usize,
    /// Relevant sentences not found, by id.
    pub missed: Vec<u32>,
    /// Sentences found that are not relevant, by id.
    pub wrong: Vec<u32>,
}

impl QueryOutcome {
    fn recall(&self) -> f64 {
        if self.relevant == 0 { 1.0 } else { (self.relevant - self.missed.len()) as f64 / self.relevant as f64 }
    }

    /// A query that finds nothing returns nothing wrong: precision 1.
    fn precision(&self) -> f64 {
        if self.found == 0 { 1.0 } else { (self.found - self.wrong.len()) as f64 / self.found as f64 }
    }
}

/// One run: its figures and every query's outcome.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: &'static str,
    pub scores: Scores,
    pub queries: Vec<QueryOutcome>,
}

/// The three runs.
#[derive(Debug, Clone)]
pub struct Report {
    pub sentences: usize,
    pub queries: usize,
    /// Distinct words (accent-folded) in the sentences.
    pub words: usize,
    pub before: Run,
    pub after: Run,
    pub unaccented: Run,
}

impl Report {
    /// The table, and the misses and wrong finds of the "after" runs.
    pub fn table(&self) -> String {
        let mut out = format!(
            "search evaluation: {} sentences, {} distinct words, {} queries (macro-averaged)\n\n",
            self.sentences, self.words, self.queries
        );
        out.push_str(&format!("{:<34} {:>7} {:>10}\n", "run", "recall", "precision"));
        for (label, run) in [
            ("before (\"query\": exact fields)", &self.before),
            ("after (query: exact + stems)", &self.after),
            ("unaccented (bare, no diacritics)", &self.unaccented),
        ] {
            out.push_str(&format!(
                "{label:<34} {:>6.1} % {:>8.1} %\n",
                run.scores.recall * 100.0,
                run.scores.precision * 100.0
            ));
        }
        for run in [&self.after, &self.unaccented] {
            let off: Vec<&QueryOutcome> =
                run.queries.iter().filter(|q| !q.missed.is_empty() || !q.wrong.is_empty()).collect();
            if off.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{}: queries with misses or wrong finds (sentence ids)\n", run.name));
            for q in off {
                out.push_str(&format!(
                    "  {:<14} relevant {:>2}, found {:>2}; missed {:?}; wrong {:?}\n",
                    q.query, q.relevant, q.found, q.missed, q.wrong
                ));
            }
        }
        out
    }
}

/// Indexes the set in a fresh store and index under `work` (a folder the
/// caller owns, e.g. a temporary one) and runs the three query runs.
pub fn run(set: &EvalSet, work: &Path) -> Result<Report, EvalError> {
    let mut store = Store::open_in_memory(crate::matcher::Policy::default())?;
    let mut item_to_sentence: HashMap<i64, u32> = HashMap::new();
    let date = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).single().unwrap_or_default();
    for s in &set.sentences {
        let item = NewItem {
            kind: ItemKind::Email,
            message_id: Some(format!("search-eval-{}@kronika.invalid", s.id)),
            date,
            subject: String::new(),
            body: s.text.clone(),
            content_hash: crate::text::sha256_hex(format!("{}\t{}", s.id, s.text).as_bytes()),
            size: s.text.len() as u64,
            ..NewItem::default()
        };
        let key = SourceKey { source: "search-eval".into(), key: s.id.to_string() };
        if let IngestOutcome::New(id) | IngestOutcome::Duplicate(id) | IngestOutcome::Updated(id) =
            store.ingest(&item, &key)?
        {
            item_to_sentence.insert(id.0, s.id);
        }
    }
    let index = SearchIndex::open(&work.join("index"))?;
    let mut indexer = Indexer::new(&index, 50_000_000)?;
    indexer.catch_up(&store, |_| {})?;
    indexer.commit()?;
    index.reload()?;

    let words: BTreeSet<String> = set
        .sentences
        .iter()
        .flat_map(|s| s.text.split(|c: char| !c.is_alphanumeric()).map(crate::text::fold))
        .filter(|w| !w.is_empty())
        .collect();
    let one_run = |name: &'static str, shape: &dyn Fn(&str) -> String| -> Result<Run, EvalError> {
        let mut queries = Vec::with_capacity(set.queries.len());
        for q in &set.queries {
            let req = SearchRequest { query: shape(q), limit: set.sentences.len().max(1), ..SearchRequest::default() };
            let found: BTreeSet<u32> = index
                .search(&req, |_| String::new())?
                .iter()
                .filter_map(|hit| item_to_sentence.get(&hit.id).copied())
                .collect();
            let relevant: BTreeSet<u32> = set.sentences.iter().filter(|s| s.lemmas.contains(q)).map(|s| s.id).collect();
            queries.push(QueryOutcome {
                query: q.clone(),
                relevant: relevant.len(),
                found: found.len(),
                missed: relevant.difference(&found).copied().collect(),
                wrong: found.difference(&relevant).copied().collect(),
            });
        }
        let n = queries.len().max(1) as f64;
        let scores = Scores {
            recall: queries.iter().map(QueryOutcome::recall).sum::<f64>() / n,
            precision: queries.iter().map(QueryOutcome::precision).sum::<f64>() / n,
        };
        Ok(Run { name, scores, queries })
    };
    let before = one_run("before", &|q| format!("\"{q}\""))?;
    let after = one_run("after", &|q| q.to_string())?;
    let unaccented = one_run("unaccented", &crate::text::fold)?;
    Ok(Report {
        sentences: set.sentences.len(),
        queries: set.queries.len(),
        words: words.len(),
        before,
        after,
        unaccented,
    })
}
