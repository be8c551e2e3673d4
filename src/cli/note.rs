//! `kronika note add`: writes a note file (the file is the truth) into the
//! first notes folder; the watcher, or a sync run right here when no
//! daemon runs, files it into the history.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::Context_;
use crate::app::edit;
use crate::model::ItemKind;

#[derive(Debug, Subcommand)]
pub enum NoteCmd {
    /// Write a note for a client; prints the file's path.
    Add {
        /// Client: id, IČO, name or unique prefix.
        client: String,
        /// call or meeting (default: the folder's kind).
        #[arg(long)]
        kind: Option<ItemKind>,
        /// Contact person (name or address).
        #[arg(long)]
        contact: Option<String>,
        /// When it happened (YYYY-MM-DD, YYYY-MM-DD HH:MM, D.M.YYYY; default now).
        #[arg(long)]
        date: Option<String>,
        /// The note's text; `-` reads it from standard input.
        text: Option<String>,
    },
}

pub fn run(ctx: &Context_, cmd: NoteCmd) -> Result<ExitCode> {
    let NoteCmd::Add { client, kind, contact, date, text } = cmd;
    let (config, store) = ctx.open()?;
    edit::notes_folder(&config)?;
    let client_id = store.resolve_client(&client)?;
    let contact = contact.map(|q| store.resolve_contact(Some(client_id), &q)).transpose()?;
    let text = match text.as_deref() {
        Some("-") | None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("cannot read the note from standard input")?;
            s
        }
        Some(t) => t.to_string(),
    };
    if text.trim().is_empty() {
        bail!("cannot write an empty note: give its text, or - to read it from standard input");
    }
    // A running daemon watches the folder; without one, the note is filed here.
    let filing = if crate::daemon::running_pid(&config).is_some() { edit::Filing::Watcher } else { edit::Filing::Now };
    let draft = edit::NoteDraft { client: client_id, kind, contact, date, text };
    let written = edit::add_note(&store, &config, &draft, filing)?;
    println!("{}", written.path.display());
    Ok(ExitCode::SUCCESS)
}
