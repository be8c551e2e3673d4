//! `kronika document add|show` and `kronika documents`: offers, invoices,
//! contracts and orders of a client, from mail or added by hand.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Context_, print_json};
use crate::documents::{DocKind, classify, extract_text};
use crate::model::{ItemId, ItemKind};
use crate::store::{DateSource, IngestOutcome, NewItem, SourceKey, keep_file};

#[derive(Debug, Subcommand)]
pub enum DocumentCmd {
    /// Keep a file as a document of a client.
    Add {
        client: String,
        file: PathBuf,
        /// offer, invoice, contract, order or other (default: from the name and text).
        #[arg(long)]
        kind: Option<String>,
    },
    /// A document's stored file and metadata.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

fn mime_of(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("pdf") => "application/pdf",
        Some("txt") | Some("md") => "text/plain",
        Some("csv") => "text/csv",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("doc") => "application/msword",
        _ => "application/octet-stream",
    }
}

fn document_json(row: &crate::store::ItemRow) -> Value {
    json!({
        "id": row.id,
        "kind": row.extra["doc_kind"],
        "name": row.subject,
        "date": row.date.to_rfc3339(),
        "mime": row.extra["mime"],
        "size": row.size,
        "path": row.extra["path"],
        "content_hash": row.content_hash,
        "from_item": row.extra["from_item"],
        "text_indexed": !row.body.is_empty(),
        "clients": row.links.iter().map(|l| l.client.clone()).collect::<Vec<_>>(),
    })
}

pub fn run(ctx: &Context_, cmd: DocumentCmd) -> Result<ExitCode> {
    let (_, mut store) = ctx.open()?;
    match cmd {
        DocumentCmd::Add { client, file, kind } => {
            let client = store.resolve_client(&client)?;
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mime = mime_of(&file);
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "document".into());
            let (text, unreadable) = match extract_text(mime, &bytes) {
                Ok(t) => (t, None),
                Err(e) => {
                    eprintln!("kronika: {}: {e}; the document is kept, its text is not indexed", file.display());
                    (String::new(), Some(e))
                }
            };
            let kind = match kind {
                Some(k) => DocKind::parse(&k).map_err(|e| anyhow!(e))?,
                None => classify(&name, &text).unwrap_or(DocKind::Other),
            };
            let hash = crate::sources::sha256_hex(&bytes);
            let files =
                store.files_dir().ok_or_else(|| anyhow!("cannot keep documents without a data folder"))?.to_path_buf();
            let path = keep_file(&files, &hash, &bytes).with_context(|| format!("cannot keep {}", file.display()))?;
            store
                .share_file(&hash, crate::store::FileKind::Document, &bytes)
                .with_context(|| format!("cannot share {} with the other nodes", file.display()))?;
            let item = NewItem {
                kind: ItemKind::Document,
                date: Utc::now(),
                date_source: DateSource::Import,
                subject: name.clone(),
                body: text,
                content_hash: hash.clone(),
                size: bytes.len() as u64,
                extra: json!({"doc_kind": kind.as_str(), "mime": mime, "name": name, "path": path.display().to_string(), "text_unreadable": unreadable}),
                ..NewItem::default()
            };
            let id = match store.ingest(&item, &SourceKey { source: "documents".into(), key: hash })? {
                IngestOutcome::New(id) | IngestOutcome::Duplicate(id) | IngestOutcome::Updated(id) => id,
                IngestOutcome::Blocked(a) => return Err(anyhow!("cannot add the document: {a} is blocklisted")),
            };
            store.link_manual(id, client, None)?;
            println!("document {id}: {name} ({}) kept as {}", kind.as_str(), path.display());
        }
        DocumentCmd::Show { id, json: as_json } => {
            let row = store.item(ItemId(id))?;
            if row.kind != "document" {
                return Err(anyhow!("cannot show item {id} as a document: it is a {}", row.kind));
            }
            if as_json {
                print_json(&document_json(&row))?;
            } else {
                println!("{}", row.extra["path"].as_str().unwrap_or("(file not kept)"));
                println!(
                    "  {} {}, {} bytes, {}",
                    row.extra["doc_kind"].as_str().unwrap_or(""),
                    row.subject,
                    row.size,
                    row.extra["mime"].as_str().unwrap_or("")
                );
                for l in &row.links {
                    println!("  client {} ({})", l.client, l.reason);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(ctx: &Context_, client: String, kind: Option<String>, as_json: bool) -> Result<ExitCode> {
    let (_, store) = ctx.open()?;
    let id = store.resolve_client(&client)?;
    let kind = kind.map(|k| DocKind::parse(&k).map_err(|e| anyhow!(e))).transpose()?;
    let far = Utc::now() + chrono::Duration::days(36_500);
    let rows: Vec<crate::store::ItemRow> = store
        .client_items_of_kind(id, ItemKind::Document, far, 10_000)?
        .into_iter()
        .map(|i| store.item(i))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|r| kind.is_none_or(|k| r.extra["doc_kind"] == k.as_str()))
        .collect();
    if as_json {
        print_json(&rows.iter().map(document_json).collect::<Vec<_>>())?;
    } else {
        for r in &rows {
            println!(
                "{:>6}  {}  {:<8} {}{}",
                format!("#{}", r.id),
                r.date.format("%Y-%m-%d"),
                r.extra["doc_kind"].as_str().unwrap_or(""),
                r.subject,
                if r.body.is_empty() { "  (text not indexed)" } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
