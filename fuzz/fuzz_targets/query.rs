//! Query text → the search query parser (`SearchIndex::check_query`) and
//! a search on a small index (query, filters, snippets): never a panic;
//! a query that checks out also runs.
#![no_main]

use std::sync::OnceLock;

use kronika::index::{Indexer, SearchIndex, SearchRequest, SortOrder};
use kronika::matcher::Policy;
use kronika::model::{ItemKind, Participant, Role};
use kronika::store::{NewItem, SourceKey, Store};
use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

const BODIES: &[&str] = &[
    "Dobrý den, posílám cenovou nabídku na rekuperační jednotky – 120 000 Kč.",
    "Příloha: smlouva o dílo, hala Kladno. Žluťoučký kůň úpěl ďábelské ódy.",
    "Hi Jana, the drawings for the Zličín hub will follow. Sarah",
];

struct Fixture {
    index: SearchIndex,
    _dir: std::path::PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kronika-fuzz-query-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let index = SearchIndex::open(&dir).expect("open the index");
        let mut store = Store::open_in_memory(Policy::default()).expect("a store");
        for (i, body) in BODIES.iter().enumerate() {
            let item = NewItem {
                kind: ItemKind::Email,
                message_id: Some(format!("{i}@fuzz")),
                date: common::fixed_time(),
                subject: format!("Nabídka {i} – příloha"),
                body: body.to_string(),
                participants: vec![Participant {
                    role: Role::From,
                    name: Some("Karel Horák".into()),
                    address: "karel.horak@acme-stavby.cz".into(),
                }],
                content_hash: format!("{i:064}"),
                ..NewItem::default()
            };
            store.ingest(&item, &SourceKey { source: "fuzz".into(), key: i.to_string() }).expect("ingest");
        }
        let mut indexer = Indexer::new(&index, 15_000_000).expect("an indexer");
        indexer.catch_up(&store, |_| {}).expect("index the items");
        indexer.finish().expect("commit");
        index.reload().expect("reload");
        Fixture { index, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let f = fixture();
    let checked = f.index.check_query(text);
    for sort in [SortOrder::Relevance, SortOrder::Date] {
        let req = SearchRequest { query: text.to_string(), limit: 5, sort, ..SearchRequest::default() };
        let result = f.index.search(&req, |id| BODIES.get((id as usize).wrapping_sub(1)).unwrap_or(&"").to_string());
        match (&checked, result) {
            (Ok(()), Err(e)) => panic!("{text:?} checks out but does not run: {e}"),
            (Err(_), Ok(_)) => panic!("{text:?} is refused by the check but runs"),
            (_, Ok(hits)) => {
                for h in hits {
                    for r in &h.highlights {
                        assert!(h.snippet.get(r.clone()).is_some(), "highlight {r:?} in {:?}", h.snippet);
                    }
                }
            }
            (Err(_), Err(_)) => {}
        }
    }
});
