//! Search that understands Czech inflection: the evaluation set
//! (`fixtures/search-eval/`) through kronika's store, indexer and search,
//! and the example mailbox through the `kronika` binary.

use kronika::index::eval::{EvalSet, run};

use crate::common::fixtures;

#[test]
fn stemming_finds_the_inflected_forms_and_little_else() {
    let set = EvalSet::load(&fixtures().join("search-eval")).expect("the evaluation set");
    assert!(set.sentences.len() >= 200, "{} sentences", set.sentences.len());
    assert!(set.queries.len() >= 60, "{} queries", set.queries.len());
    let work = tempfile::tempdir().expect("temp dir");
    let report = run(&set, work.path()).expect("the evaluation runs");
    println!("{}", report.table());
    let after = report.after.scores;
    assert!(after.recall >= 0.95, "recall after {:.3}", after.recall);
    assert!(after.precision >= 0.90, "precision after {:.3}", after.precision);
    // Quoted, a query finds only its exact (folded) form: what stemming adds.
    assert!(report.before.scores.recall < after.recall, "{:?} vs {after:?}", report.before.scores);
    let unaccented = report.unaccented.scores;
    assert!(unaccented.recall >= 0.90 && unaccented.precision >= 0.90, "unaccented {unaccented:?}");
}
