//! `kronika person export` and `kronika person forget`: dry runs by
//! default, listing what they would touch; `--yes` acts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::{Context_, print_json};
use crate::app::person;
use crate::store::Footprint;

#[derive(Debug, Subcommand)]
pub enum PersonCmd {
    /// Everything kronika holds that involves a person (GDPR art. 15):
    /// JSON, the original messages as .eml, documents and a summary.
    Export {
        /// The person's e-mail address.
        address: String,
        /// Folder to write (new or empty; default ./person-ADDRESS).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Write it (without: list what would be written).
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Erase a person (GDPR art. 17): their items, text, documents and
    /// contact; shared items are redacted; the address is suppressed so
    /// no resync brings it back. Recorded with who ran it.
    Forget {
        address: String,
        /// Erase (without: list what would be erased).
        #[arg(long)]
        yes: bool,
        /// Who asks for the erasure to be recorded (default: $USER).
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The erasures recorded: when, by whom, the address's hash, counts.
    Erasures {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context_, cmd: PersonCmd) -> Result<ExitCode> {
    let (config, mut store) = ctx.open()?;
    match cmd {
        PersonCmd::Export { address, output, yes, json } => {
            let fp = person::footprint(&mut store, &address)?;
            let dir = output.unwrap_or_else(|| PathBuf::from(format!("person-{}", fp.address)));
            if !yes {
                return dry_run(&store, &fp, json, &format!("would export into {} (add --yes)", dir.display()));
            }
            let e = person::export(&mut store, &address, &dir)
                .with_context(|| format!("cannot export {address} into {}", dir.display()))?;
            if json {
                print_json(&e)?;
            } else {
                println!(
                    "exported {} items, {} messages, {} documents and {} contacts of {} into {}",
                    e.items,
                    e.messages,
                    e.documents,
                    e.contacts,
                    e.address,
                    e.dir.display()
                );
            }
        }
        PersonCmd::Forget { address, yes, by, json } => {
            let fp = person::footprint(&mut store, &address)?;
            if !yes {
                return dry_run(&store, &fp, json, "would erase this (add --yes)");
            }
            let by = by.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
            let f = person::forget(&config, &mut store, &address, &by)
                .with_context(|| format!("cannot erase {address}"))?;
            if json {
                print_json(&f)?;
            } else {
                println!(
                    "erased {}: {} items erased, {} redacted, {} contacts removed, {} files deleted; recorded as erasure #{} by {}",
                    fp.address,
                    f.erasure.items_erased,
                    f.erasure.items_redacted,
                    f.erasure.contacts_erased,
                    f.files_deleted,
                    f.erasure.id,
                    f.erasure.by
                );
                match f.index.as_str() {
                    "purged" => println!("the search index no longer holds their text"),
                    _ => println!("the running daemon drops their text from search within seconds"),
                }
                println!("mail with this address is refused from now on, by every source");
            }
        }
        PersonCmd::Erasures { json } => {
            let all = store.erasures()?;
            if json {
                print_json(&all)?;
            } else if all.is_empty() {
                println!("no erasures recorded");
            } else {
                for e in all {
                    println!(
                        "#{} {} by {}: {} erased, {} redacted, {} contacts, {} files (address hash {})",
                        e.id,
                        e.at,
                        e.by,
                        e.items_erased,
                        e.items_redacted,
                        e.contacts_erased,
                        e.files_erased,
                        e.address_hash
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dry_run(store: &crate::store::Store, fp: &Footprint, json: bool, what: &str) -> Result<ExitCode> {
    let items = person::items(store, fp)?;
    let contacts = person::contacts(store, fp)?;
    if json {
        print_json(
            &serde_json::json!({"dry_run": true, "footprint": fp, "items": items.iter().map(|i| serde_json::json!({
            "id": i.id, "kind": i.kind, "date": i.date, "subject": i.subject,
            "action": if fp.shared_items.contains(&i.id) { "redact" } else { "erase" },
        })).collect::<Vec<_>>(), "contacts": contacts}),
        )?;
    } else {
        print!("{}", person::summary(fp, &items, &contacts));
        println!("{what}");
    }
    Ok(ExitCode::SUCCESS)
}
