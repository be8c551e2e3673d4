//! `kronika note add`: writes a note file (the file is the truth) into the
//! first notes folder; the watcher, or a sync run right here when no
//! daemon runs, files it into the history.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{Local, Utc};
use clap::Subcommand;

use super::Context_;
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

/// `Pekárna Novák s.r.o.` → `pekarna-novak-s-r-o`.
fn slug(s: &str) -> String {
    let folded = crate::text::fold(s);
    let mut out = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(40).collect()
}

/// A YAML double-quoted string.
fn yaml(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn run(ctx: &Context_, cmd: NoteCmd) -> Result<ExitCode> {
    let NoteCmd::Add { client, kind, contact, date, text } = cmd;
    let (config, store) = ctx.open()?;
    let folder = config
        .notes
        .first()
        .ok_or_else(|| {
            anyhow!("cannot write a note: the config has no [[notes]] folder (see config/kronika.example.toml)")
        })?
        .clone();
    let client_id = store.resolve_client(&client)?;
    let c = store.client(client_id)?;
    let contact = match contact {
        Some(q) => {
            let id = store.resolve_contact(Some(client_id), &q)?;
            let p = store.contact(id)?;
            Some(p.emails.first().cloned().unwrap_or(p.name))
        }
        None => None,
    };
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
    let when = match &date {
        Some(d) => crate::notes::parse_when(d)
            .ok_or_else(|| anyhow!("cannot read the date {d:?}: use YYYY-MM-DD or YYYY-MM-DD HH:MM"))?,
        None => Utc::now(),
    };
    let kind = kind.unwrap_or(folder.kind);
    if !matches!(kind, ItemKind::Call | ItemKind::Meeting) {
        bail!("cannot write a note of kind {kind}: use call or meeting");
    }
    let local = when.with_timezone(&Local);
    let subject =
        text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").trim_start_matches('#').trim().to_string();
    let mut front = format!(
        "---\nclient: {}\ndate: {}\nkind: {}\nsubject: {}\n",
        yaml(&c.name),
        local.format("%Y-%m-%d %H:%M"),
        kind,
        yaml(&crate::text::ellipsize(&subject, 120))
    );
    if let Some(p) = &contact {
        front.push_str(&format!("contact: {}\n", yaml(p)));
    }
    front.push_str("---\n");
    std::fs::create_dir_all(&folder.path).with_context(|| format!("cannot create {}", folder.path.display()))?;
    let base = format!("{}-{}-{}", local.format("%Y-%m-%d"), slug(&c.name), kind);
    let mut path = folder.path.join(format!("{base}.md"));
    let mut n = 2;
    while path.exists() {
        path = folder.path.join(format!("{base}-{n}.md"));
        n += 1;
    }
    // Written aside and renamed, so the watcher never sees half a note.
    let tmp = folder.path.join(format!(".{base}.md.tmp"));
    std::fs::write(&tmp, format!("{front}\n{}\n", text.trim_end()))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    drop(store);
    println!("{}", path.display());
    if crate::daemon::running_pid(&config).is_none() {
        // No daemon to watch the folder: file the note now.
        let mut sources: Vec<Box<dyn crate::sources::Source>> =
            vec![Box::new(crate::sources::notes::NotesSource::from_config(&folder))];
        let rt = super::run::runtime()?;
        let pipeline = crate::daemon::start_pipeline(&config, crate::pipeline::PipelineOptions::default())?;
        let results =
            rt.block_on(crate::daemon::sync_once(&mut sources, &pipeline, |_| indicatif::ProgressBar::hidden()));
        pipeline.finish()?;
        for r in results {
            r.result.with_context(|| format!("cannot file the note into the history ({})", r.source))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("Pekárna Novák s.r.o."), "pekarna-novak-s-r-o");
        assert_eq!(super::yaml("a \"b\""), "\"a \\\"b\\\"\"");
    }
}
