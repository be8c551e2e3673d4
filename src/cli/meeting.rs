//! `kronika meeting add` and `kronika meeting cancel`: meetings written to
//! the user's CalDAV calendar (`app::meeting`), then synced back.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::Context_;
use crate::app::meeting;

#[derive(Debug, Subcommand)]
pub enum MeetingCmd {
    /// Plan a meeting with a client in your calendar; prints its UID.
    Add {
        /// Client: id, IČO, name or unique prefix.
        client: String,
        /// When (local time): "YYYY-MM-DD HH:MM".
        #[arg(long)]
        at: String,
        /// How long: 30m, 1h, 90m (default 1h).
        #[arg(long)]
        duration: Option<String>,
        /// The title (default "Schůzka: CLIENT").
        #[arg(long)]
        title: Option<String>,
        /// An attendee's address (repeat it); default: the client's first contact.
        #[arg(long = "with")]
        with: Vec<String>,
        /// ACCOUNT or ACCOUNT/CALENDAR of a [[caldav]] or [[graph]] section (default: the first).
        #[arg(long)]
        calendar: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a meeting in the calendar that holds it (the server tells the attendees).
    Cancel {
        /// The meeting's UID (`agenda --json` shows it).
        uid: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context_, cmd: MeetingCmd) -> Result<ExitCode> {
    match cmd {
        MeetingCmd::Add { client, at, duration, title, with, calendar, json } => {
            let (config, store) = ctx.open()?;
            let client = store.resolve_client(&client)?;
            let draft = meeting::MeetingDraft { client, at, duration, title, with, calendar };
            let planned = meeting::add(&store, &config, &draft)?;
            if json {
                super::print_json(&planned)?;
            } else {
                println!(
                    "{} {} – {} in {} with {}",
                    planned.uid,
                    planned.start.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M"),
                    planned.end.with_timezone(&chrono::Local).format("%H:%M"),
                    planned.calendar,
                    planned.attendees.join(", ")
                );
            }
        }
        MeetingCmd::Cancel { uid, json } => {
            let (config, store) = ctx.open()?;
            let done = meeting::cancel(&store, &config, &uid)?;
            if json {
                super::print_json(&done)?;
            } else {
                println!("cancelled {} in {}", done.uid, done.calendar);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
