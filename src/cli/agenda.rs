//! `kronika agenda` and `kronika brief`: what is coming, and what to know
//! before it.

use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::{Duration, Utc};
use serde_json::Value;

use super::{Context_, print_json};
use crate::brief::{brief_json, occurrence_json, render_brief, when};
use crate::model::ClientId;
use crate::store::ItemRow;

pub fn agenda(ctx: &Context_, days: i64, client: Option<String>, json_out: bool) -> Result<ExitCode> {
    let (_, store) = ctx.open()?;
    let client = client.map(|c| store.resolve_client(&c)).transpose()?;
    let now = Utc::now();
    // An event that has begun but not ended is still on the agenda.
    // `--days` of any size reaches at most the end of time, never past it.
    // (Stored dates are RFC 3339 text: the bound stays within four-digit years.)
    let last = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z").map(|d| d.with_timezone(&Utc)).ok();
    let end = Duration::try_days(days.max(1))
        .and_then(|d| now.checked_add_signed(d))
        .into_iter()
        .chain(last)
        .min()
        .unwrap_or(now);
    let ids = store.events_between(now - Duration::hours(12), end, client)?;
    let rows: Vec<ItemRow> = ids
        .iter()
        .map(|i| store.item(*i))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|r| {
            r.extra["end"]
                .as_str()
                .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
                .map(|e| e.with_timezone(&Utc) > now)
                .unwrap_or(r.date >= now)
        })
        .collect();
    if json_out {
        print_json(&rows.iter().map(occurrence_json).collect::<Vec<_>>())?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("nothing in the next {days} days");
    }
    for r in &rows {
        let o = occurrence_json(r);
        let clients: Vec<&str> = o["clients"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let location = o["location"].as_str().filter(|l| !l.is_empty()).map(|l| format!(" @ {l}")).unwrap_or_default();
        println!(
            "{}  {}{location}{}",
            when(r),
            r.subject,
            if clients.is_empty() { String::new() } else { format!("  [{}]", clients.join(", ")) }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Output formats of the brief.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BriefFormat {
    #[default]
    Text,
    Markdown,
    Json,
}

pub fn brief(
    ctx: &Context_,
    client: Option<String>,
    next: bool,
    json_flag: bool,
    format: BriefFormat,
) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    let format = if json_flag { BriefFormat::Json } else { format };
    let (id, event) = match (client, next) {
        (Some(c), false) => (store.resolve_client(&c)?, None),
        (None, true) => {
            let now = Utc::now();
            let upcoming = store.events_between(now, now + Duration::days(366), None)?;
            let mut found = None;
            for i in upcoming {
                let row = store.item(i)?;
                if let Some(l) = row.links.first() {
                    found = Some((ClientId(l.client_id), row));
                    break;
                }
            }
            match found {
                Some((id, row)) => (id, Some(row)),
                None => bail!("cannot find an upcoming meeting with a client in the calendars"),
            }
        }
        _ => bail!("cannot tell whose brief: give a CLIENT or --next"),
    };
    let mut b = brief_json(&store, &config.figures, id)?;
    if let Some(e) = &event {
        b["next_event"] = occurrence_json(e);
    }
    match format {
        BriefFormat::Json => print_json(&b)?,
        f => {
            if let Some(e) = &event {
                println!("Next: {}  {}\n", when(e), e.subject);
            }
            print!("{}", render_brief(&b, f == BriefFormat::Markdown));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn reminders(ctx: &Context_, json_out: bool) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    let rows = store.all_reminders()?;
    if json_out {
        let out: Vec<Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "kind": r.kind, "title": r.title, "state": r.state,
                    "due_at": r.due_at.to_rfc3339(), "event_start": r.event_start.map(|d| d.to_rfc3339()),
                    "fired_at": r.fired_at, "client_id": r.client_id, "item_id": r.item_id,
                    "deliveries": r.deliveries.iter().map(|(sink, state, attempts, error)| serde_json::json!({
                        "sink": sink, "state": state, "attempts": attempts, "error": error,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if config.reminders.is_none() {
        println!("reminders are off: add a [reminders] section to {}", config.path.display());
    }
    if rows.is_empty() {
        println!("no reminders planned yet (the daemon plans them)");
    }
    for r in rows {
        let sinks: Vec<String> = r.deliveries.iter().map(|(s, st, _, _)| format!("{s}: {st}")).collect();
        println!(
            "{:<9} {}  {}{}",
            r.state,
            r.due_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M"),
            r.title,
            if sinks.is_empty() { String::new() } else { format!("  [{}]", sinks.join(", ")) }
        );
    }
    Ok(ExitCode::SUCCESS)
}
