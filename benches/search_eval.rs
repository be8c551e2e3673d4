//! The search evaluation (not a timed benchmark): the labelled Czech
//! business sentences of `fixtures/search-eval/` indexed through kronika's
//! store, indexer and search, and each basic-form query's recall and
//! precision, macro-averaged, before stemming (each query quoted: the
//! exact, accent-folded fields), after (the bare query: exact fields and
//! stems) and unaccented (the bare query without diacritics).
//!
//! ```text
//! cargo bench --bench search_eval [-- DIR]
//! ```
//!
//! `DIR` is another set in the same format (`sentences.tsv`,
//! `queries.txt`). The same run is a test: `cargo test --test it --
//! search_eval::`.

use std::path::PathBuf;
use std::process::ExitCode;

use kronika::index::eval::{EvalSet, run};

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; anything else is the set's folder.
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/search-eval"));
    let outcome = EvalSet::load(&dir).and_then(|set| {
        let work = tempfile::tempdir()
            .map_err(|source| kronika::index::eval::EvalError::Read { path: std::env::temp_dir(), source })?;
        run(&set, work.path())
    });
    match outcome {
        Ok(report) => {
            println!("{}", report.table());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("search_eval: {e}");
            ExitCode::FAILURE
        }
    }
}
