//! A person's data: what kronika holds about an address (GDPR article 15,
//! `kronika person export`) and its erasure (article 17, `kronika person
//! forget`). The store decides what is touched (`store::person`); this
//! module writes the export, deletes the kept files and purges the index.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::index::{IndexError, Indexer, SearchIndex};
use crate::model::{Contact, ContactId, ItemId};
use crate::store::{Erasure, Footprint, ItemRow, Result, Store, StoreError};

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub address: String,
    pub dir: PathBuf,
    pub items: usize,
    pub messages: usize,
    pub documents: usize,
    pub contacts: usize,
}

/// What a forget did.
#[derive(Debug, Clone, Serialize)]
pub struct Forgotten {
    pub erasure: Erasure,
    pub files_deleted: usize,
    /// How the index dropped the text: `purged` (rewritten now), or
    /// `daemon` (the running daemon drops it within seconds; its files
    /// keep the words until tantivy merges those segments).
    pub index: String,
}

/// Everything that involves `address`, for the dry run of both commands.
pub fn footprint(store: &mut Store, address: &str) -> Result<Footprint> {
    store.person_footprint(address)
}

/// The person's items, whole.
pub fn items(store: &Store, fp: &Footprint) -> Result<Vec<ItemRow>> {
    fp.own_items.iter().chain(&fp.shared_items).chain(&fp.documents).map(|id| store.item(ItemId(*id))).collect()
}

/// The person's contact records.
pub fn contacts(store: &Store, fp: &Footprint) -> Result<Vec<Contact>> {
    fp.contacts.iter().map(|(id, _)| store.contact(ContactId(*id))).collect()
}

/// Writes everything that involves `address` into `dir` (new or empty):
/// `person.json` (the contact records and every item with its text,
/// participants, links and sources), `messages/ID.eml` (the originals),
/// `documents/ID-NAME` (document files) and `README.txt` (a summary).
pub fn export(store: &mut Store, address: &str, dir: &Path) -> Result<Export> {
    let fp = store.person_footprint(address)?;
    let io = |what: String| move |e: std::io::Error| StoreError::Invalid(format!("cannot {what}: {e}"));
    if dir.exists() && std::fs::read_dir(dir).map_err(io(format!("read {}", dir.display())))?.next().is_some() {
        return Err(StoreError::Invalid(format!("cannot export into {}: it is not empty", dir.display())));
    }
    std::fs::create_dir_all(dir.join("messages")).map_err(io(format!("create {}", dir.display())))?;
    std::fs::create_dir_all(dir.join("documents")).map_err(io(format!("create {}", dir.display())))?;
    let items = items(store, &fp)?;
    let contacts = contacts(store, &fp)?;
    let mut messages = 0;
    let mut documents = 0;
    for item in &items {
        if let Some(raw) = store.original(&item.content_hash) {
            let path = dir.join("messages").join(format!("{}.eml", item.id));
            std::fs::write(&path, raw).map_err(io(format!("write {}", path.display())))?;
            messages += 1;
        }
        if let Some(bytes) = super::item::document_bytes(store, item)? {
            let path = dir.join("documents").join(format!("{}-{}", item.id, safe_name(&item.subject)));
            std::fs::write(&path, bytes).map_err(io(format!("write {}", path.display())))?;
            documents += 1;
        }
    }
    let json = serde_json::json!({
        "address": fp.address,
        "exported_at": chrono::Utc::now().to_rfc3339(),
        "names": fp.names,
        "contacts": contacts,
        "items": items,
    });
    let path = dir.join("person.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap_or_default())
        .map_err(io(format!("write {}", path.display())))?;
    let path = dir.join("README.txt");
    std::fs::write(&path, summary(&fp, &items, &contacts)).map_err(io(format!("write {}", path.display())))?;
    Ok(Export {
        address: fp.address,
        dir: dir.to_path_buf(),
        items: items.len(),
        messages,
        documents,
        contacts: contacts.len(),
    })
}

/// A human summary of what kronika holds about a person.
pub fn summary(fp: &Footprint, items: &[ItemRow], contacts: &[Contact]) -> String {
    let mut s = format!(
        "What kronika holds about {}\n\n{} items: {} between them and us alone, {} shared with others, {} documents.\n",
        fp.address,
        items.len(),
        fp.own_items.len(),
        fp.shared_items.len(),
        fp.documents.len()
    );
    if !fp.names.is_empty() {
        s.push_str(&format!("Names: {}\n", fp.names.join(", ")));
    }
    for c in contacts {
        s.push_str(&format!(
            "Contact #{} {}{}{}: {}\n",
            c.id.0,
            c.name,
            c.role.as_deref().map(|r| format!(", {r}")).unwrap_or_default(),
            c.phone.as_deref().map(|p| format!(", {p}")).unwrap_or_default(),
            c.emails.join(", ")
        ));
    }
    s.push_str("\nItems (person.json holds them whole; messages/ the original mail, documents/ the files):\n");
    for i in items {
        s.push_str(&format!(
            "  #{} {} {} {}\n",
            i.id,
            i.date.format("%Y-%m-%d"),
            i.kind,
            crate::text::ellipsize(&i.subject, 80)
        ));
    }
    s
}

/// Erases what involves `address` (see `store::person`), deletes the kept
/// files, and drops the text from the search index: rewritten now when
/// no daemon holds it.
pub fn forget(config: &Config, store: &mut Store, address: &str, by: &str) -> anyhow::Result<Forgotten> {
    let fp = store.person_footprint(address)?;
    let erasure = store.forget_person(&fp, by)?;
    // The erased and redacted items no longer name these files.
    let originals: Vec<&str> = fp.originals.iter().map(String::as_str).collect();
    let documents: Vec<&str> = fp.document_files.iter().map(String::as_str).collect();
    let files_deleted = store.drop_unused_files(&originals, &documents)?;
    let index = purge_index(config, store)?;
    Ok(Forgotten { erasure, files_deleted, index })
}

fn purge_index(config: &Config, store: &Store) -> Result<String, IndexError> {
    let index = SearchIndex::open_for_indexing(&config.index_path())?;
    match Indexer::new(&index, 50 << 20) {
        Ok(mut ix) => {
            ix.catch_up(store, |_| {})?;
            ix.commit()?;
            ix.purge_deleted()?;
            ix.finish()?;
            Ok("purged".into())
        }
        Err(IndexError::Locked(_)) => Ok("daemon".into()),
        Err(e) => Err(e),
    }
}

/// A file name from an item's subject: letters, digits, `.-_` and spaces.
fn safe_name(subject: &str) -> String {
    let s: String = subject
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .take(80)
        .collect();
    let s = s.trim().trim_start_matches('.').to_string();
    if s.is_empty() { "document".into() } else { s }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_from_subjects_are_safe() {
        assert_eq!(super::safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(super::safe_name("Nabídka 2026.pdf"), "Nabídka 2026.pdf");
        assert_eq!(super::safe_name(""), "document");
    }
}
