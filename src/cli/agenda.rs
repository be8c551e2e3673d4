//! `kronika agenda` and `kronika brief`: what is coming, and what to know
//! before it.

use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::{Duration, Utc};
use serde_json::Value;

use super::{Context_, print_json};
use crate::app::visibility::Viewer;
use crate::app::{self, today::Which};
use crate::brief::{occurrence_json, render_brief, when};
use crate::model::ItemId;
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
    let now = Utc::now();
    let (id, which) = match (client, next) {
        (Some(c), false) => (store.resolve_client(&c)?, Which::None),
        (None, true) => match app::today::next_meeting(&store, None, now)? {
            Some((id, row)) => (id, Which::Event(ItemId(row.id))),
            None => bail!("cannot find an upcoming meeting with a client in the calendars"),
        },
        _ => bail!("cannot tell whose brief: give a CLIENT or --next"),
    };
    let mb = app::today::meeting_brief(&store, &config, &Viewer::everyone(), id, which, now)?;
    let b = mb.brief.to_json();
    match format {
        BriefFormat::Json => print_json(&b)?,
        f => {
            if let Some(e) = &mb.meeting {
                println!("Next: {}  {}\n", when(&store.item(ItemId(e.item_id))?), e.summary);
            }
            print!("{}", render_brief(&b, f == BriefFormat::Markdown));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `kronika today`: the day's and the week's meetings, reminders due,
/// threads waiting for our reply, clients gone silent.
pub fn today(ctx: &Context_, json_out: bool) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    let t = app::today::today(&store, &config, &Viewer::everyone(), Utc::now())?;
    if json_out {
        print_json(&t)?;
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render_today(&t));
    Ok(ExitCode::SUCCESS)
}

fn local(d: chrono::DateTime<Utc>, fmt: &str) -> String {
    d.with_timezone(&chrono::Local).format(fmt).to_string()
}

fn meeting_line(m: &app::today::Meeting, with_day: bool) -> String {
    let when = if m.all_day {
        format!("{} (all day)", m.date.clone().unwrap_or_else(|| local(m.start, "%Y-%m-%d")))
    } else {
        let start = local(m.start, if with_day { "%a %Y-%m-%d %H:%M" } else { "%H:%M" });
        let end = m.end.map(|e| local(e, "%H:%M")).unwrap_or_default();
        format!("{start}–{end}")
    };
    let clients: Vec<&str> = m.clients.iter().map(|c| c.name.as_str()).collect();
    let location = if m.location.trim().is_empty() { String::new() } else { format!(" @ {}", m.location.trim()) };
    let who: Vec<&str> = m.attendees.iter().map(|p| p.label()).collect();
    let mut line = format!("  {when}  {}{location}", m.summary);
    if !clients.is_empty() {
        line.push_str(&format!("  [{}]", clients.join(", ")));
    }
    if !who.is_empty() {
        line.push_str(&format!("\n      with {}", who.join(", ")));
    }
    if m.in_progress {
        line.push_str("  (now)");
    }
    line.push('\n');
    line
}

/// Today as text.
pub fn render_today(t: &app::today::Today) -> String {
    let mut out = format!("Today, {}\n", t.date.format("%A %Y-%m-%d"));
    if t.today.is_empty() {
        out.push_str("  no events today\n");
    }
    for m in &t.today {
        out.push_str(&meeting_line(m, false));
    }
    out.push_str(&format!("\nNext 7 days (to {})\n", t.week_end.format("%Y-%m-%d")));
    if t.week.is_empty() {
        out.push_str("  no events in the next 7 days\n");
    }
    for m in &t.week {
        out.push_str(&meeting_line(m, true));
    }
    out.push_str("\nReminders due\n");
    if t.reminders.is_empty() {
        out.push_str("  no reminders due in the next 24 hours\n");
    }
    for r in &t.reminders {
        let state = if r.overdue { "overdue".to_string() } else { r.state.clone() };
        out.push_str(&format!("  {} {:<8} {}\n", local(r.due_at, "%Y-%m-%d %H:%M"), state, r.title));
    }
    let more = if t.waiting_more { "+" } else { "" };
    out.push_str(&format!("\nWaiting for our reply ({}{more})\n", t.waiting_total));
    if t.waiting.is_empty() {
        out.push_str("  no thread waits for our reply\n");
    }
    for w in &t.waiting {
        let clients: Vec<&str> = w.clients.iter().map(|c| c.name.as_str()).collect();
        out.push_str(&format!(
            "  {} days {} h  {}: {}  [{}]\n",
            w.waiting_days,
            w.waiting_hours,
            w.from,
            w.subject,
            clients.join(", ")
        ));
    }
    let s = &t.silent;
    out.push_str(&format!(
        "\nSilent for {} days or more ({}){}\n",
        s.after_days,
        s.total,
        if s.configured { "" } else { " — the default: set [reminders] follow_up_after" }
    ));
    if s.clients.is_empty() {
        out.push_str("  no client has gone silent\n");
    }
    for c in &s.clients {
        let since = match c.last {
            Some(l) => format!("last contact {}", local(l, "%Y-%m-%d")),
            None => format!("no contact yet (added {})", local(c.since, "%Y-%m-%d")),
        };
        out.push_str(&format!("  {}  {} days, {since}\n", c.name, c.days));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::today::{ClientRef, Meeting, Person, Silent, SilentClient, Today, Waiting};

    fn meeting(summary: &str, start: chrono::DateTime<Utc>, clients: Vec<ClientRef>) -> Meeting {
        Meeting {
            item_id: 7,
            start,
            end: Some(start + Duration::hours(1)),
            all_day: false,
            date: None,
            summary: summary.into(),
            location: "Kladno".into(),
            calendar: "work".into(),
            description: String::new(),
            clients,
            organizer: None,
            attendees: vec![Person { name: Some("Karel Horák".into()), address: "k@acme.cz".into(), contact: None }],
            in_progress: true,
            past: false,
        }
    }

    #[test]
    fn today_as_text_says_what_is_empty() {
        let now = Utc::now();
        let date = now.with_timezone(&chrono::Local).date_naive();
        let empty = Today {
            now,
            date,
            week_end: date,
            today: Vec::new(),
            week: Vec::new(),
            reminders: Vec::new(),
            waiting: Vec::new(),
            waiting_total: 0,
            waiting_more: false,
            silent: Silent { after_days: 90, configured: false, clients: Vec::new(), total: 0 },
        };
        let text = render_today(&empty);
        for want in [
            "no events today",
            "no events in the next 7 days",
            "no reminders due",
            "no thread waits for our reply",
            "no client has gone silent",
            "Silent for 90 days or more (0) — the default: set [reminders] follow_up_after",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        let acme = ClientRef { id: 1, name: "Acme".into() };
        let full = Today {
            today: vec![meeting("Kontrolní den", now, vec![acme.clone()])],
            waiting: vec![Waiting {
                item_id: 3,
                thread_id: 3,
                date: now - Duration::hours(30),
                subject: "Dotaz".into(),
                from: "Tomáš".into(),
                waiting_days: 1,
                waiting_hours: 6,
                clients: vec![acme.clone()],
            }],
            waiting_total: 1,
            waiting_more: false,
            silent: Silent {
                after_days: 30,
                configured: true,
                clients: vec![SilentClient { id: 1, name: "Acme".into(), last: None, since: now, days: 40 }],
                total: 1,
            },
            ..empty
        };
        let text = render_today(&full);
        assert!(text.contains("Kontrolní den @ Kladno  [Acme]") && text.contains("with Karel Horák"), "{text}");
        assert!(text.contains("(now)"), "{text}");
        assert!(text.contains("1 days 6 h  Tomáš: Dotaz  [Acme]"), "{text}");
        assert!(
            text.contains("Silent for 30 days or more (1)\n") && text.contains("Acme  40 days, no contact yet"),
            "{text}"
        );
        assert!(text.contains("Waiting for our reply (1)\n"), "{text}");
        // Past the count's bound, the total is a floor.
        let many = Today { waiting_total: 1000, waiting_more: true, ..full };
        assert!(render_today(&many).contains("Waiting for our reply (1000+)\n"));
    }
}
