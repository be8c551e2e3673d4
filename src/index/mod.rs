//! The full-text index (tantivy), derived from the store and rebuildable
//! from it. [`SearchIndex`] is the read side; [`Indexer`] owns the only
//! `IndexWriter`.
//!
//! Every document is keyed by its item id (update = delete + add). The
//! commit payload records the highest store `rev` the index contains, so
//! the index knows how far it has got and catches up from there.

pub mod eval;
mod indexer;
mod pread;
mod query;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

use crate::stem::Lang;
use tantivy::{Index, IndexReader, ReloadPolicy};

pub use indexer::{CatchUp, Indexer};
pub use query::{Hit, MAX_QUERY_CHARS, QUERY_FIELDS, Restriction, SearchRequest, SortOrder};

/// Bump when the schema or analysis changes: an index with another version
/// is rebuilt from the store (at the next open: the daemon's start,
/// `kronika reindex`, a search). 2: the `source` field (visibility).
/// 3: the stemmed fields (`subject_cs`, `text_en`, …).
pub const SCHEMA_VERSION: u32 = 4;

/// The `source` term of an item seen in no source at all.
pub const NO_SOURCE: &str = "-";

/// Name of the analyzer: words lower-cased with diacritics folded, so that
/// `priloha` finds `příloha` and `SMLOUVA` finds `smlouva`.
pub const ANALYZER: &str = "kronika";

/// The analyzers of the stemmed fields: [`ANALYZER`], then each word
/// replaced by its stem ([`crate::stem::czech`], [`crate::stem::english`]).
pub const ANALYZER_CS: &str = "kronika_cs";
pub const ANALYZER_EN: &str = "kronika_en";

/// Errors callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot use the search index in {path}: {source}")]
    Tantivy { path: PathBuf, source: tantivy::TantivyError },
    #[error("cannot write the search index in {0}: another kronika (the daemon?) holds it")]
    Locked(PathBuf),
    #[error("cannot understand the query {query:?}: {message}")]
    Query { query: String, message: String, problem: QueryProblem },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What is wrong with a query, for a face to say in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryProblem {
    /// Unbalanced quotes or parentheses, a stray operator.
    Syntax,
    /// A `field:` that does not exist.
    UnknownField(String),
    /// It parses but cannot run (`field:*`).
    CannotRun,
    /// Longer than the limit (characters).
    TooLong(usize),
    /// Parentheses nested deeper than the limit.
    TooDeep(usize),
    /// More `NOT`s than the limit.
    TooManyNots(usize),
    /// Only `-word` / `NOT word`: nothing to look for.
    OnlyExcluding,
    Other,
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub rev: Field,
    pub subject: Field,
    pub text: Field,
    pub from: Field,
    pub to: Field,
    pub participants: Field,
    pub attachment: Field,
    pub kind: Field,
    pub direction: Field,
    pub date: Field,
    pub client: Field,
    pub contact: Field,
    /// The store sources the item was seen in (a document: its mail's), as
    /// whole terms: a restricted viewer's search is limited by them.
    pub source: Field,
    /// The stemmed companions of `subject`, `text` and `attachment`. An
    /// item's words go to the fields of its language only
    /// ([`crate::stem::detect`] on its subject and body).
    ///
    /// Why a field per language rather than one stemmed field fed with
    /// pre-stemmed tokens: each field has its analyzer in the schema, so the
    /// query parser stems a query word for each language by itself, the
    /// snippet generator re-tokenises a body with the same analyzer (and so
    /// highlights every inflected form the stem matched), and each
    /// language keeps its own term statistics (an English `den` and the
    /// Czech `dn` never share a document frequency).
    pub stemmed: Stemmed,
}

/// The stemmed fields, per language.
#[derive(Debug, Clone, Copy)]
pub struct Stemmed {
    pub subject: [Field; 2],
    pub text: [Field; 2],
    pub attachment: [Field; 2],
}

/// The languages of the stemmed fields, in the order of [`Stemmed`]'s arrays.
pub const LANGS: [Lang; 2] = [Lang::Czech, Lang::English];

impl Stemmed {
    /// The stemmed fields of one language.
    pub fn of(&self, lang: Lang) -> [Field; 3] {
        let i = lang_index(lang);
        [self.subject[i], self.text[i], self.attachment[i]]
    }
}

fn lang_index(lang: Lang) -> usize {
    match lang {
        Lang::Czech => 0,
        Lang::English => 1,
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // Stems are looked for one word at a time (a phrase searches the exact
    // fields): no positions, which saves a third of the indexing work.
    let stemmed = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let (cs, en) = (stemmed(ANALYZER_CS), stemmed(ANALYZER_EN));
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | STORED | FAST),
        rev: b.add_u64_field("rev", STORED | FAST),
        subject: b.add_text_field("subject", text.clone()),
        text: b.add_text_field("text", text.clone()),
        from: b.add_text_field("from", text.clone()),
        to: b.add_text_field("to", text.clone()),
        participants: b.add_text_field("participants", text.clone()),
        attachment: b.add_text_field("attachment", text),
        kind: b.add_text_field("kind", STRING),
        direction: b.add_text_field("direction", STRING),
        date: b.add_i64_field("date", INDEXED | FAST),
        client: b.add_u64_field("client", INDEXED | FAST),
        contact: b.add_u64_field("contact", INDEXED),
        source: b.add_text_field("source", STRING),
        stemmed: Stemmed {
            subject: [b.add_text_field("subject_cs", cs.clone()), b.add_text_field("subject_en", en.clone())],
            text: [b.add_text_field("text_cs", cs.clone()), b.add_text_field("text_en", en.clone())],
            attachment: [b.add_text_field("attachment_cs", cs), b.add_text_field("attachment_en", en)],
        },
    };
    (b.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// What the index stores in each commit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payload {
    pub schema: u32,
    /// Every item with `rev <= this` is in the index as of that rev.
    pub rev: i64,
    /// Every `item_sources` row up to this one is in the index's `source`
    /// terms (a mail seen in one more mailbox adds a row, not a rev).
    #[serde(default)]
    pub sources: i64,
}

/// The read side of the index.
pub struct SearchIndex {
    path: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl SearchIndex {
    /// Opens the index in `dir` for searching, creating it when missing. An
    /// index written with another schema version is wiped (the store
    /// rebuilds it).
    pub fn open(dir: &Path) -> Result<SearchIndex, IndexError> {
        Self::open_with(dir, false)
    }

    /// Opens the index in `dir` for an [`Indexer`] that mostly writes (a
    /// pipeline, `reindex`): its files are read into buffers, not mapped,
    /// so that merges do not keep the whole index resident (`pread.rs`).
    pub fn open_for_indexing(dir: &Path) -> Result<SearchIndex, IndexError> {
        Self::open_with(dir, true)
    }

    fn open_with(dir: &Path, pread: bool) -> Result<SearchIndex, IndexError> {
        let err = |source| IndexError::Tantivy { path: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
        let (schema, fields) = schema();
        let directory = || -> Result<Box<dyn tantivy::Directory>, IndexError> {
            let open = |e: tantivy::directory::error::OpenDirectoryError| err(e.into());
            Ok(if pread {
                Box::new(pread::PreadDirectory::open(dir).map_err(open)?)
            } else {
                Box::new(tantivy::directory::MmapDirectory::open(dir).map_err(open)?)
            })
        };
        let create = |schema| Index::create(directory()?, schema, tantivy::IndexSettings::default()).map_err(err);
        let index = if dir.join("meta.json").exists() {
            let index = Index::open(directory()?).map_err(err)?;
            let payload = read_payload(&index);
            if payload.as_ref().map(|p| p.schema) == Some(SCHEMA_VERSION)
                || payload.is_none() && index.schema() == schema
            {
                index
            } else {
                tracing::warn!("search index in {} has an old schema; rebuilding it from the store", dir.display());
                drop(index);
                std::fs::remove_dir_all(dir).map_err(|e| err(e.into()))?;
                std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
                create(schema)?
            }
        } else {
            create(schema)?
        };
        index.tokenizers().register(ANALYZER, analyzer());
        index.tokenizers().register(ANALYZER_CS, crate::stem::analyzer(Lang::Czech));
        index.tokenizers().register(ANALYZER_EN, crate::stem::analyzer(Lang::English));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        Ok(SearchIndex { path: dir.to_path_buf(), index, reader, fields })
    }

    /// The rev the last commit recorded (0 for an empty index).
    pub fn committed_rev(&self) -> i64 {
        read_payload(&self.index).map(|p| p.rev).unwrap_or(0)
    }

    /// The `item_sources` row the last commit recorded.
    pub fn committed_sources(&self) -> i64 {
        read_payload(&self.index).map(|p| p.sources).unwrap_or(0)
    }

    /// Makes the latest commit visible to searches.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload().map_err(|source| IndexError::Tantivy { path: self.path.clone(), source })
    }

    /// Number of documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Item id → rev of every document, for drift checks.
    pub fn doc_revs(&self) -> Result<std::collections::HashMap<i64, i64>, IndexError> {
        let mut out = std::collections::HashMap::new();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let ids = ff.u64("id").map_err(|source| IndexError::Tantivy { path: self.path.clone(), source })?;
            let revs = ff.u64("rev").map_err(|source| IndexError::Tantivy { path: self.path.clone(), source })?;
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                if let (Some(id), Some(rev)) = (ids.first(doc), revs.first(doc)) {
                    out.insert(id as i64, rev as i64);
                }
            }
        }
        Ok(out)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every store source name the index holds documents of (a few dozen:
    /// read from the term dictionary, not the documents).
    pub fn source_names(&self) -> Result<Vec<String>, IndexError> {
        let err = |source| IndexError::Tantivy { path: self.path.clone(), source };
        let mut names = std::collections::BTreeSet::new();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.source).map_err(err)?;
            let mut stream = inverted.terms().stream().map_err(|e| err(e.into()))?;
            while stream.advance() {
                names.insert(String::from_utf8_lossy(stream.key()).into_owned());
            }
        }
        Ok(names.into_iter().collect())
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    pub(crate) fn fields(&self) -> Fields {
        self.fields
    }

    pub(crate) fn reader(&self) -> &IndexReader {
        &self.reader
    }
}

fn read_payload(index: &Index) -> Option<Payload> {
    let metas = index.load_metas().ok()?;
    metas.payload.and_then(|p| serde_json::from_str(&p).ok())
}
