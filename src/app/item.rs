//! One item, whole, as the web's item page shows it (and `kronika show`
//! prints it): its row, the thread around it, whether an HTML version and
//! the attachments can be opened from the kept original; the HTML version
//! sanitised, an attachment's or a document's bytes for download.

use serde::Serialize;

use super::visibility::{Access, Viewer};
use crate::mail::view::AttachmentBytes;
use crate::model::{ClientId, ItemId};
use crate::store::{ItemRow, Result, Store};

/// What the item page shows.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    /// Redacted to [`ItemView::access`].
    pub row: ItemRow,
    pub access: Access,
    /// The kept original has an HTML part.
    pub has_html: bool,
    /// The original is kept: attachments can be downloaded.
    pub original_kept: bool,
    /// A document item whose file is kept.
    pub document_kept: bool,
    /// The other items of its thread, oldest first (at most 50).
    pub thread: Vec<super::TimelineEntry>,
}

/// The item page's data for item `id`, as `viewer` may see it.
pub fn open(store: &Store, id: ItemId, viewer: &Viewer) -> Result<ItemView> {
    let mut row = store.item(id)?;
    let access = viewer.redact_item_in(store, &mut row)?;
    let original = store.original(&row.content_hash).filter(|_| row.kind == "email" && access.shows_body());
    let has_html = original.as_deref().is_some_and(|raw| crate::mail::view::html_body(raw).is_some());
    let thread = match row.thread_id {
        Some(t) => store
            .thread_items(t, 51)?
            .into_iter()
            .filter(|&i| i != id)
            .take(50)
            .map(|i| super::entry_for(store, viewer, i))
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    Ok(ItemView {
        access,
        has_html,
        original_kept: original.is_some(),
        document_kept: access.shows_body() && document_kept(store, &row),
        thread,
        row,
    })
}

/// The sanitised HTML version of a mail item; `None` without one, or
/// when `viewer` may not read its body.
pub fn html(store: &Store, id: ItemId, viewer: &Viewer) -> Result<Option<String>> {
    let row = store.item(id)?;
    if !viewer.item_access(store, &row)?.shows_body() {
        return Ok(None);
    }
    Ok(store.original(&row.content_hash).and_then(|raw| crate::mail::view::html_body(&raw)))
}

/// An attachment of a mail item by its content hash, from the kept
/// original; `None` when `viewer` may not read the item whole.
pub fn attachment(store: &Store, id: ItemId, content_hash: &str, viewer: &Viewer) -> Result<Option<AttachmentBytes>> {
    let row = store.item(id)?;
    if !viewer.item_access(store, &row)?.shows_body() || !row.attachments.iter().any(|a| a.content_hash == content_hash)
    {
        return Ok(None);
    }
    Ok(store.original(&row.content_hash).and_then(|raw| crate::mail::view::attachment(&raw, content_hash)))
}

/// Where a document item's file is kept, if it is.
pub fn document_path(store: &Store, row: &ItemRow) -> Option<std::path::PathBuf> {
    if row.kind != "document" {
        return None;
    }
    let by_hash = store.files_dir().map(|d| crate::store::document_path(d, &row.content_hash));
    let recorded = row.extra["path"].as_str().map(std::path::PathBuf::from);
    by_hash.into_iter().chain(recorded).find(|p| p.is_file())
}

/// Whether a document item's file is kept (here, or shared by another node).
pub fn document_kept(store: &Store, row: &ItemRow) -> bool {
    documents_kept(store, std::slice::from_ref(row)).is_ok_and(|kept| kept.contains(&row.id))
}

/// The ids of `rows`' documents whose files are kept (here, or shared by
/// another node): one question to the store for all of them, not one each
/// (a round trip each on PostgreSQL, for a card's hundreds of documents).
pub fn documents_kept(store: &Store, rows: &[ItemRow]) -> Result<std::collections::HashSet<i64>> {
    let (here, elsewhere): (Vec<&ItemRow>, Vec<&ItemRow>) =
        rows.iter().filter(|r| r.kind == "document").partition(|r| document_path(store, r).is_some());
    let hashes: Vec<&str> = elsewhere.iter().map(|r| r.content_hash.as_str()).collect();
    let shared = store.shared_among(&hashes)?;
    Ok(here
        .into_iter()
        .chain(elsewhere.into_iter().filter(|r| shared.contains(&r.content_hash)))
        .map(|r| r.id)
        .collect())
}

/// A document item's bytes: its file here, else the copy another node shared.
pub fn document_bytes(store: &Store, row: &ItemRow) -> Result<Option<Vec<u8>>> {
    if let Some(path) = document_path(store, row) {
        return std::fs::read(&path).map(Some).map_err(|e| {
            crate::store::StoreError::Invalid(format!("cannot read the document file {}: {e}", path.display()))
        });
    }
    if row.kind != "document" {
        return Ok(None);
    }
    store.shared_file(&row.content_hash)
}

/// A document item's file: its name, MIME type and bytes; `None` when
/// `viewer` may not read it.
pub fn document(store: &Store, id: ItemId, viewer: &Viewer) -> Result<Option<AttachmentBytes>> {
    let row = store.item(id)?;
    if !viewer.item_access(store, &row)?.shows_body() {
        return Ok(None);
    }
    let Some(bytes) = document_bytes(store, &row)? else { return Ok(None) };
    let mime = row.extra["mime"].as_str().unwrap_or("application/octet-stream").to_string();
    Ok(Some(AttachmentBytes { name: row.subject, mime, bytes }))
}

/// A client's sales per quarter and the trend projected a year ahead, in
/// the currency the client bought most in, else the base currency, else CZK.
#[derive(Debug, Clone)]
pub struct SalesSeries {
    pub client: String,
    pub currency: String,
    pub series: Vec<crate::chart::QuarterSales>,
    pub projected: Vec<crate::chart::QuarterSales>,
}

/// The series `kronika report CLIENT --chart` and the card's chart draw.
pub fn sales_series(store: &Store, config: &crate::config::Config, id: ClientId) -> Result<SalesSeries> {
    let c = store.client(id)?;
    let deals = store.deals(Some(id))?;
    let f = crate::brief::figures_among(&deals, &c, &config.figures);
    let currency = f
        .total_sold
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(c, _)| c.clone())
        .or(config.figures.base_currency.clone())
        .unwrap_or_else(|| "CZK".into());
    let series: Vec<crate::chart::QuarterSales> = crate::figures::quarterly(&deals, &currency, &config.figures)
        .into_iter()
        .map(|(year, quarter, value)| crate::chart::QuarterSales { year, quarter, value })
        .collect();
    let series = crate::chart::fill_quarters(&series);
    let projected = crate::chart::trend(&series, 4, 4);
    Ok(SalesSeries { client: c.name, currency, series, projected })
}

/// The client's sales chart as an SVG document (the card shows it inline).
pub fn sales_chart(store: &Store, config: &crate::config::Config, id: ClientId) -> Result<String> {
    let s = sales_series(store, config, id)?;
    crate::chart::sales_svg(&s.client, &s.currency, &s.series, &s.projected)
        .map_err(|e| crate::store::StoreError::Invalid(e.to_string()))
}
