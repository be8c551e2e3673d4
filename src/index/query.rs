//! Searching: the user's query (words, "phrases", `from:`, `to:`,
//! `subject:`, `attachment:`, AND / OR / NOT / -word) combined with
//! filters (client, contact, kind, dates, direction), ranked by relevance
//! or date, with a highlighted snippet per hit. A bare word finds its
//! exact (accent-folded) form first and then its other forms through the
//! stemmed fields of each language; a quoted word or phrase only itself.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::ops::Bound;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, QueryParserError, RangeQuery, TermQuery};
use tantivy::query_grammar::{Delimiter, Occur as GrammarOccur, UserInputAst, UserInputLeaf, UserInputLiteral};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher};

use super::{IndexError, QueryProblem, SearchIndex};

/// How to order hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SortOrder {
    #[default]
    Relevance,
    Date,
}

/// A search, as validated from the command line or a web form.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    pub clients: Vec<i64>,
    pub contact: Option<i64>,
    pub kind: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    pub direction: Option<String>,
    pub limit: usize,
    /// Hits to skip (the next page).
    pub offset: usize,
    pub sort: SortOrder,
    /// What the viewer may not read; `None`: everything is readable.
    pub restriction: Option<Restriction>,
}

/// A viewer's limits, by store source name (`SearchIndex::source_names`
/// lists them): mail seen only in `subject` sources is searched by its
/// subject and participants, mail seen only in `metadata` sources by its
/// participants, kind and direction. An item seen in any other source is
/// searched whole. A word of a hidden body or subject never finds the item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restriction {
    /// Every source the index holds that the viewer reads whole.
    pub full: Vec<String>,
    pub subject: Vec<String>,
    pub metadata: Vec<String>,
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: i64,
    pub score: f32,
    /// A fragment of the item's text around the matches.
    pub snippet: String,
    /// Byte ranges of the matches inside `snippet`.
    pub highlights: Vec<std::ops::Range<usize>>,
}

/// Field names users may put before a colon.
pub const QUERY_FIELDS: &[&str] = &["subject", "text", "from", "to", "participants", "attachment", "kind", "direction"];

/// What a tier of a restricted search may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Subject,
    Metadata,
}

impl SearchIndex {
    /// The query as a viewer of `tier` may run it: without a field it
    /// searches only what the tier shows, and a field the tier hides
    /// (`text:`, `attachment:`, and `subject:` for metadata, and their
    /// stemmed companions) matches nothing.
    fn parse_tier(&self, text: &str, tier: Tier) -> Result<Box<dyn Query>, IndexError> {
        let f = self.fields();
        let st = f.stemmed;
        let schema = self.index().schema();
        let stems_of = |fields: &[[Field; 2]]| fields.iter().flatten().copied().collect::<Vec<_>>();
        // Hidden fields hide their stemmed companions too: a hidden body is
        // found neither by its words nor by their stems.
        let (defaults, words, mut hidden) = match tier {
            Tier::Subject => (vec![f.subject, f.participants], &["subject"][..], vec![f.text, f.attachment]),
            Tier::Metadata => (vec![f.participants], &[][..], vec![f.text, f.attachment, f.subject]),
        };
        hidden.extend(match tier {
            Tier::Subject => stems_of(&[st.text, st.attachment]),
            Tier::Metadata => stems_of(&[st.subject, st.text, st.attachment]),
        });
        let bad = |(message, problem): (String, QueryProblem)| IndexError::Query {
            query: text.to_string(),
            message,
            problem,
        };
        let ast = tantivy::query_grammar::parse_query(text)
            .map_err(|_| bad(explain(&QueryParserError::SyntaxError(text.to_string()))))?;
        let hides = |name: &str| schema.find_field(name).is_some_and(|(field, _)| hidden.contains(&field));
        let ast = add_stems(hide_fields(ast, &hides), words);
        self.parser(defaults).build_query_from_user_input_ast(ast).map_err(|e| bad(explain(&e)))
    }

    /// A parser of the query language over `defaults`: words must all
    /// match, exact forms weigh twice their stems, subjects twice bodies.
    fn parser(&self, defaults: Vec<Field>) -> QueryParser {
        let f = self.fields();
        let mut parser = QueryParser::for_index(self.index(), defaults);
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.subject, 2.0 * EXACT_BOOST);
        for exact in [f.text, f.participants, f.attachment] {
            parser.set_field_boost(exact, EXACT_BOOST);
        }
        for stemmed in f.stemmed.subject {
            parser.set_field_boost(stemmed, 2.0);
        }
        parser
    }

    /// Parses the query text alone (for errors and snippets): bare words on
    /// the exact fields and on the stemmed ones ([`add_stems`]).
    fn parse(&self, text: &str) -> Result<Option<Box<dyn Query>>, IndexError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        // The query grammar recurses: a deep query would overflow the stack
        // (and take the web server down). Refuse it first.
        guard(text).map_err(|(message, problem)| IndexError::Query {
            query: crate::text::ellipsize(text, 80),
            message,
            problem,
        })?;
        let f = self.fields();
        let bad = |e: &QueryParserError| {
            let (message, problem) = explain(e);
            IndexError::Query { query: text.to_string(), message, problem }
        };
        let ast = tantivy::query_grammar::parse_query(text)
            .map_err(|_| bad(&QueryParserError::SyntaxError(text.to_string())))?;
        let ast = add_stems(ast, &["subject", "text", "attachment"]);
        let parser = self.parser(vec![f.subject, f.text, f.participants, f.attachment]);
        let q = parser.build_query_from_user_input_ast(ast).map_err(|e| bad(&e))?;
        // Some queries parse but cannot run (`to:*` asks for any value of a
        // field that has no fast column): refuse them as the user's query,
        // not as a broken index.
        let searcher = self.reader().searcher();
        if let Err(e) = q.weight(tantivy::query::EnableScoring::disabled_from_searcher(&searcher)) {
            return Err(IndexError::Query {
                query: text.to_string(),
                message: format!("it cannot be run ({e}); `field:*` is not supported: give a word after the colon"),
                problem: QueryProblem::CannotRun,
            });
        }
        Ok(Some(q))
    }

    /// Runs a search. `body_of` gives the text of an item for its snippet:
    /// for an item the viewer may not read whole it must give nothing.
    pub fn search(&self, req: &SearchRequest, mut body_of: impl FnMut(i64) -> String) -> Result<Vec<Hit>, IndexError> {
        self.search_counted(req, |ids| ids.iter().map(|id| body_of(*id)).collect()).map(|(hits, _)| hits)
    }

    /// [`SearchIndex::search`], and how many items match in all. `bodies`
    /// gives the texts of all the hits at once, in the order of the ids it
    /// is given (one read of the store for a page, not one per hit: a
    /// round trip each on PostgreSQL); a missing one counts as empty.
    pub fn search_counted(
        &self,
        req: &SearchRequest,
        bodies: impl FnOnce(&[i64]) -> Vec<String>,
    ) -> Result<(Vec<Hit>, usize), IndexError> {
        let f = self.fields();
        let text_query = self.parse(&req.query)?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let whole: Box<dyn Query> = match &text_query {
            Some(q) => q.box_clone(),
            None => Box::new(AllQuery),
        };
        match &req.restriction {
            None => clauses.push((Occur::Must, whole)),
            Some(r) => {
                let any_of = |names: &[String]| -> Box<dyn Query> {
                    Box::new(BooleanQuery::new(
                        names
                            .iter()
                            .map(|n| {
                                let q: Box<dyn Query> = Box::new(TermQuery::new(
                                    Term::from_field_text(f.source, n),
                                    IndexRecordOption::Basic,
                                ));
                                (Occur::Should, q)
                            })
                            .collect(),
                    ))
                };
                let tier_query = |tier| -> Result<Box<dyn Query>, IndexError> {
                    match &text_query {
                        Some(_) => self.parse_tier(&req.query, tier),
                        None => Ok(Box::new(AllQuery)),
                    }
                };
                let mut tiers: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                if !r.full.is_empty() {
                    tiers.push((
                        Occur::Should,
                        Box::new(BooleanQuery::new(vec![(Occur::Must, whole), (Occur::Must, any_of(&r.full))])),
                    ));
                }
                if !r.subject.is_empty() {
                    let mut t = vec![(Occur::Must, tier_query(Tier::Subject)?), (Occur::Must, any_of(&r.subject))];
                    if !r.full.is_empty() {
                        t.push((Occur::MustNot, any_of(&r.full)));
                    }
                    tiers.push((Occur::Should, Box::new(BooleanQuery::new(t))));
                }
                if !r.metadata.is_empty() {
                    let mut t = vec![(Occur::Must, tier_query(Tier::Metadata)?), (Occur::Must, any_of(&r.metadata))];
                    let readable: Vec<String> = r.full.iter().chain(&r.subject).cloned().collect();
                    if !readable.is_empty() {
                        t.push((Occur::MustNot, any_of(&readable)));
                    }
                    tiers.push((Occur::Should, Box::new(BooleanQuery::new(t))));
                }
                if tiers.is_empty() {
                    // An empty index: nothing to find.
                    return Ok((Vec::new(), 0));
                }
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(tiers))));
            }
        }
        if !req.clients.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> = req
                .clients
                .iter()
                .map(|c| {
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(Term::from_field_u64(f.client, *c as u64), IndexRecordOption::Basic));
                    (Occur::Should, q)
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(c) = req.contact {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_u64(f.contact, c as u64), IndexRecordOption::Basic)),
            ));
        }
        if let Some(k) = &req.kind {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_text(f.kind, k), IndexRecordOption::Basic)),
            ));
        }
        if let Some(d) = &req.direction {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_text(f.direction, d), IndexRecordOption::Basic)),
            ));
        }
        if req.since.is_some() || req.until.is_some() {
            let lower = req.since.map(|s| Bound::Included(Term::from_field_i64(f.date, s))).unwrap_or(Bound::Unbounded);
            let upper = req.until.map(|u| Bound::Excluded(Term::from_field_i64(f.date, u))).unwrap_or(Bound::Unbounded);
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader().searcher();
        let limit = req.limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(req.offset);
        let tantivy_err = |source| IndexError::Tantivy { path: self.path().to_path_buf(), source };
        let (found, total): (Vec<(f32, DocAddress)>, usize) = match req.sort {
            SortOrder::Relevance => searcher.search(&query, &(top.order_by_score(), Count)).map_err(tantivy_err)?,
            SortOrder::Date => {
                let (found, total) = searcher
                    .search(&query, &(top.order_by_fast_field::<i64>("date", Order::Desc), Count))
                    .map_err(tantivy_err)?;
                (found.into_iter().map(|(_, addr)| (0.0, addr)).collect(), total)
            }
        };
        // A snippet from the stemmed analysis first: its generator stems the
        // body again and so highlights every form the stem matched
        // (`faktura` marks `faktury`); then the exact field (a "phrase"
        // has terms only there).
        let f_text = [f.stemmed.text[0], f.stemmed.text[1], f.text];
        let snippets = match &text_query {
            Some(q) => f_text
                .iter()
                .map(|field| SnippetGenerator::create(&searcher, q.as_ref(), *field))
                .collect::<Result<Vec<_>, _>>()
                .map_err(tantivy_err)?,
            None => Vec::new(),
        };
        let mut hits = Vec::with_capacity(found.len());
        let found: Vec<(f32, i64)> = found
            .into_iter()
            .map(|(score, addr)| doc_id(&searcher, addr).map(|id| (score, id)))
            .collect::<Result<_, _>>()
            .map_err(tantivy_err)?;
        let ids: Vec<i64> = found.iter().map(|(_, id)| *id).collect();
        let mut texts = bodies(&ids).into_iter();
        for (score, id) in found {
            let body = texts.next().unwrap_or_default();
            // The generator analyses all the text it is given (stemming it
            // too): the beginning of a long body first, the rest only when
            // no match is there (a quarter of a search's time went to
            // snippets of long bodies at a million items).
            let head = head_of(&body, SNIPPET_SCAN);
            let best = snippets.iter().map(|g| g.snippet(head)).find(|s| !s.is_empty()).or_else(|| {
                (head.len() < body.len())
                    .then(|| snippets.iter().map(|g| g.snippet(&body)).find(|s| !s.is_empty()))
                    .flatten()
            });
            let (snippet, highlights) = match best {
                Some(s) => (s.fragment().to_string(), s.highlighted().to_vec()),
                None => (lead(&body), Vec::new()),
            };
            hits.push(Hit { id, score, snippet, highlights });
        }
        Ok((hits, total))
    }

    /// Checks a query's syntax without running it.
    pub fn check_query(&self, text: &str) -> Result<(), IndexError> {
        self.parse(text).map(|_| ())
    }
}

/// How much more an exact form weighs than a stem.
const EXACT_BOOST: f32 = 2.0;

/// The stemmed companions of a text field, by name.
fn stemmed_names(field: &str) -> &'static [&'static str] {
    match field {
        "subject" => &["subject_cs", "subject_en"],
        "text" => &["text_cs", "text_en"],
        "attachment" => &["attachment_cs", "attachment_en"],
        _ => &[],
    }
}

/// The query with every bare word (`faktura`, `subject:faktura`) also
/// looked for by its stems, in the stemmed companions of its field or of
/// `defaults` (the fields a word without a field searches). A quoted
/// "phrase", even of one word, and a `prefix*` stay on the exact fields.
fn add_stems(ast: UserInputAst, defaults: &[&str]) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => {
            UserInputAst::Clause(clauses.into_iter().map(|(occur, a)| (occur, add_stems(a, defaults))).collect())
        }
        UserInputAst::Boost(a, boost) => UserInputAst::Boost(Box::new(add_stems(*a, defaults)), boost),
        UserInputAst::Leaf(leaf) => match *leaf {
            // One word only: stemmed fields keep no positions, and a bare
            // `FV-2026-118` is a phrase of three.
            UserInputLeaf::Literal(l) if matches!(l.delimiter, Delimiter::None) && !l.prefix && one_word(&l.phrase) => {
                let stems: Vec<&str> = match &l.field_name {
                    None => defaults.iter().flat_map(|f| stemmed_names(f)).copied().collect(),
                    Some(f) => stemmed_names(f).to_vec(),
                };
                // A Czech infinitive also looks for its other forms' stems.
                let verb_forms = crate::stem::czech_verb_forms(&l.phrase);
                let mut any = Vec::with_capacity(stems.len() + 1);
                for name in stems {
                    let czech = name.ends_with("_cs");
                    let phrases = std::iter::once(&l.phrase).chain(verb_forms.iter().filter(|_| czech));
                    for phrase in phrases {
                        let stemmed = UserInputLiteral {
                            field_name: Some(name.to_string()),
                            phrase: phrase.clone(),
                            ..l.clone()
                        };
                        any.push((
                            Some(GrammarOccur::Should),
                            UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(stemmed))),
                        ));
                    }
                }
                let exact = UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(l)));
                if any.is_empty() {
                    return exact;
                }
                any.insert(0, (Some(GrammarOccur::Should), exact));
                UserInputAst::Clause(any)
            }
            other => UserInputAst::Leaf(Box::new(other)),
        },
    }
}

/// Whether a literal is one word to the tokenizer (which splits on
/// anything not a letter or digit): `faktur*` is, `FV-2026-118` is not.
fn one_word(phrase: &str) -> bool {
    phrase.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count() <= 1
}

/// The query with every leaf on a hidden field replaced by one that
/// matches nothing (a `kind` no item has).
fn hide_fields(ast: UserInputAst, hides: &dyn Fn(&str) -> bool) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => {
            UserInputAst::Clause(clauses.into_iter().map(|(occur, a)| (occur, hide_fields(a, hides))).collect())
        }
        UserInputAst::Boost(a, boost) => UserInputAst::Boost(Box::new(hide_fields(*a, hides)), boost),
        UserInputAst::Leaf(leaf) => {
            let field = match leaf.as_ref() {
                UserInputLeaf::Literal(l) => l.field_name.as_deref(),
                UserInputLeaf::Range { field, .. }
                | UserInputLeaf::Set { field, .. }
                | UserInputLeaf::Regex { field, .. } => field.as_deref(),
                UserInputLeaf::Exists { field } => Some(field.as_str()),
                UserInputLeaf::All => None,
            };
            if field.is_some_and(hides) {
                UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(UserInputLiteral {
                    field_name: Some("kind".into()),
                    phrase: NOTHING.into(),
                    delimiter: Delimiter::None,
                    slop: 0,
                    prefix: false,
                })))
            } else {
                UserInputAst::Leaf(leaf)
            }
        }
    }
}

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// The deepest nesting of parentheses, and the most `NOT`s.
const MAX_DEPTH: usize = 16;
const MAX_NOTS: usize = 64;

/// Refuses a query too long or too deep to parse safely.
fn guard(text: &str) -> Result<(), (String, QueryProblem)> {
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err((
            format!("it is {chars} characters long; the limit is {MAX_QUERY_CHARS}"),
            QueryProblem::TooLong(MAX_QUERY_CHARS),
        ));
    }
    let (mut depth, mut deepest, mut quoted) = (0usize, 0usize, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => {
                depth = depth.saturating_add(1);
                deepest = deepest.max(depth);
            }
            ')' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_DEPTH {
        return Err((
            format!("it nests parentheses {deepest} deep; the limit is {MAX_DEPTH}"),
            QueryProblem::TooDeep(MAX_DEPTH),
        ));
    }
    let nots = text.split_whitespace().filter(|w| w.trim_start_matches('(') == "NOT").count();
    if nots > MAX_NOTS {
        return Err((format!("it has {nots} NOTs; the limit is {MAX_NOTS}"), QueryProblem::TooManyNots(MAX_NOTS)));
    }
    Ok(())
}

/// A `kind` no item has.
const NOTHING: &str = "\u{1}hidden";

fn doc_id(searcher: &Searcher, addr: DocAddress) -> tantivy::Result<i64> {
    let segment = searcher.segment_reader(addr.segment_ord);
    let ids = segment.fast_fields().u64("id")?;
    Ok(ids.first(addr.doc_id).unwrap_or(0) as i64)
}

/// How much of a body a snippet is looked for in first, in bytes.
const SNIPPET_SCAN: usize = 16 * 1024;

/// The first `max` bytes of `text` or fewer, cut on a character boundary.
fn head_of(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let cut = (0..=max).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    text.get(..cut).unwrap_or_default()
}

/// The first ~150 characters of a text, on one line.
fn lead(body: &str) -> String {
    // 150 characters are shown: a few kilobytes of a long body are enough.
    let flat: String = head_of(body, 4096).split_whitespace().collect::<Vec<_>>().join(" ");
    crate::text::ellipsize(&flat, 150)
}

fn explain(e: &QueryParserError) -> (String, QueryProblem) {
    match e {
        QueryParserError::FieldDoesNotExist(field) => (
            format!(
                "there is no field {field:?}; use one of {} (or put the word in quotes)",
                QUERY_FIELDS.iter().map(|f| format!("{f}:")).collect::<Vec<_>>().join(", ")
            ),
            QueryProblem::UnknownField(field.clone()),
        ),
        QueryParserError::SyntaxError(s) => {
            (format!("syntax error ({s}); check quotes and parentheses"), QueryProblem::Syntax)
        }
        QueryParserError::AllButQueryForbidden => {
            ("it only excludes (-word, NOT word); add a word to look for".to_string(), QueryProblem::OnlyExcluding)
        }
        other => (other.to_string(), QueryProblem::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_or_long_queries_are_refused_before_parsing() {
        assert!(guard("(nabidka OR poptavka) AND NOT (spam)").is_ok());
        assert!(guard("\"((((((((((((((((((((((((((\"").is_ok(), "parentheses in a phrase do not nest");
        let deep = format!("{}a{}", "(".repeat(17), ")".repeat(17));
        assert!(guard(&deep).unwrap_err().0.contains("17 deep"));
        assert_eq!(guard(&deep).unwrap_err().1, QueryProblem::TooDeep(16));
        assert!(guard(&"(".repeat(100_000)).unwrap_err().0.contains("limit is 2000"));
        assert!(guard(&"NOT ".repeat(65)).unwrap_err().0.contains("65 NOTs"));
        let ok = format!("{}a{}", "(".repeat(16), ")".repeat(16));
        assert!(guard(&ok).is_ok());
    }

    #[test]
    fn a_head_is_cut_on_a_character_boundary() {
        assert_eq!(head_of("žž", 3), "ž");
        assert_eq!(head_of("žž", 4), "žž");
        assert_eq!(head_of("abc", 0), "");
        let long = lead(&format!("  A\n\n b {}", "x ".repeat(10_000)));
        assert!(long.starts_with("A b x x") && long.ends_with('…') && long.chars().count() == 150, "{long}");
    }

    #[test]
    fn only_single_words_get_stems() {
        assert!(one_word("faktura"));
        assert!(one_word("faktur*"));
        assert!(one_word("nabídkách"));
        assert!(!one_word("FV-2026-118"));
        assert!(!one_word("e.on"));
    }
}
