//! `kronika search`, `history`, `show`, `stats`, `reindex`, `check`: the
//! read side, and the index's maintenance.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::Local;
use clap::Args as ClapArgs;
use serde_json::{Value, json};

use super::{Context_, print_json};
use crate::app::search::SearchInput;
use crate::app::visibility::Viewer;
use crate::config::Config;
use crate::index::{IndexError, Indexer, SearchIndex, SortOrder};
use crate::model::{Direction, ItemId, ItemKind};
use crate::store::ItemRow;

#[derive(Debug, ClapArgs)]
pub struct SearchArgs {
    /// Words, "phrases", from:, to:, subject:, attachment:, AND, OR, NOT, -word.
    query: String,
    /// Only items of this client (id, IČO, name or prefix).
    #[arg(long)]
    client: Option<String>,
    /// Only items of this contact (id, address or name).
    #[arg(long)]
    contact: Option<String>,
    /// email, call, meeting, event or document.
    #[arg(long)]
    kind: Option<ItemKind>,
    /// From this date on (YYYY-MM-DD or D.M.YYYY, local time).
    #[arg(long)]
    since: Option<String>,
    /// Before this date.
    #[arg(long)]
    until: Option<String>,
    /// in or out.
    #[arg(long)]
    direction: Option<Direction>,
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = SortOrder::Relevance)]
    sort: SortOrder,
    #[arg(long)]
    json: bool,
}

pub fn search(ctx: &Context_, a: SearchArgs) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    let input = SearchInput {
        query: a.query.clone(),
        client: a.client.clone(),
        contact: a.contact.clone(),
        kind: a.kind.map(|k| k.as_str().to_string()),
        since: a.since.clone(),
        until: a.until.clone(),
        direction: a.direction.map(|d| d.as_str().to_string()),
        sort: a.sort,
        limit: a.limit,
        offset: 0,
    };
    // The operator at the machine sees everything.
    let page = crate::app::search::search(&store, &config, &Viewer::everyone(), &input)?;
    let hits = page.hits;
    if a.json {
        let out: Vec<Value> = hits
            .iter()
            .map(|h| {
                let mut v = item_summary(&h.row, &h.snippet_text);
                v["score"] = json!(h.score);
                v["highlights"] = json!(h.highlights.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>());
                v
            })
            .collect();
        print_json(&out)?;
    } else if hits.is_empty() {
        println!("no items match {:?}", a.query);
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for h in &hits {
            print_line(&h.row);
            println!("      {}", highlight(&h.snippet_text, &h.highlights, color));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Marks the matches: bold on a terminal, «…» elsewhere.
fn highlight(snippet: &str, ranges: &[std::ops::Range<usize>], color: bool) -> String {
    let (open, close) = if color { ("\x1b[1;33m", "\x1b[0m") } else { ("«", "»") };
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        if r.start < at
            || r.end > snippet.len()
            || !snippet.is_char_boundary(r.start)
            || !snippet.is_char_boundary(r.end)
        {
            continue;
        }
        out.push_str(&snippet[at..r.start]);
        out.push_str(open);
        out.push_str(&snippet[r.clone()]);
        out.push_str(close);
        at = r.end;
    }
    out.push_str(&snippet[at..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The JSON shape shared by search and history hits.
fn item_summary(row: &ItemRow, snippet: &str) -> Value {
    let clients: Vec<String> = unique(row.links.iter().map(|l| l.client.clone()));
    let from = row.participants.iter().find(|p| p.role.as_str() == "from" || p.role.as_str() == "organizer");
    json!({
        "id": row.id,
        "kind": row.kind,
        "date": row.date.to_rfc3339(),
        "direction": row.direction,
        "subject": row.subject,
        "from": from.map(|p| p.address.clone()),
        "snippet": snippet,
        "clients": clients,
        "client_ids": unique(row.links.iter().map(|l| l.client_id)),
        "thread_id": row.thread_id,
        "attachments": row.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        "cancelled": crate::model::is_cancelled_event(&row.kind, &row.extra),
    })
}

fn unique<T: PartialEq>(it: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for v in it {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn print_line(row: &ItemRow) {
    let clients: Vec<String> = unique(row.links.iter().map(|l| l.client.clone()));
    let arrow = match row.direction.as_str() {
        "out" => "→",
        "in" => "←",
        _ => "·",
    };
    let who = row
        .participants
        .iter()
        .find(|p| p.role.as_str() == "from" || p.role.as_str() == "organizer")
        .map(|p| p.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| p.address.clone()))
        .unwrap_or_default();
    let local = row.date.with_timezone(&Local);
    let cancelled = crate::model::is_cancelled_event(&row.kind, &row.extra);
    println!(
        "{:>6}  {}  {:<7} {} {:<24} {}{}{}",
        format!("#{}", row.id),
        local.format("%Y-%m-%d %H:%M"),
        row.kind,
        arrow,
        crate::text::ellipsize(&who, 24),
        if cancelled { "(cancelled) " } else { "" },
        if row.subject.is_empty() { "(no subject)" } else { &row.subject },
        if clients.is_empty() { String::new() } else { format!("  [{}]", clients.join(", ")) }
    );
}

use crate::app::lead;

pub fn history(ctx: &Context_, client: String, limit: usize, deleted: bool, json: bool) -> Result<ExitCode> {
    let (_, store) = ctx.open()?;
    let id = store.resolve_client(&client)?;
    let c = store.client(id)?;
    let rows = crate::app::history(&store, id, limit, deleted)?;
    if json {
        let out: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut v = item_summary(r, &lead(&r.body));
                v["links"] = json!(r.links.iter().filter(|l| l.client_id == id.0).collect::<Vec<_>>());
                v
            })
            .collect();
        print_json(&out)?;
    } else {
        println!("{} — {} items{}", c.name, rows.len(), if deleted { " (deleted)" } else { "" });
        for r in &rows {
            print_line(r);
            let reasons: Vec<String> = r
                .links
                .iter()
                .filter(|l| l.client_id == id.0)
                .map(|l| match &l.contact {
                    Some(p) => format!("{} via {}", l.reason, p),
                    None => format!("{} {}", l.reason, l.evidence),
                })
                .collect();
            println!("      {}", lead(&r.body));
            println!("      linked by {}", reasons.join("; "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(ctx: &Context_, item: i64, json: bool) -> Result<ExitCode> {
    let (_, store) = ctx.open()?;
    let row = store.item(ItemId(item))?;
    if json {
        print_json(&row)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("#{}  {}  {}", row.id, row.kind, row.direction);
    println!(
        "Date:     {}{}",
        row.date.with_timezone(&Local).format("%Y-%m-%d %H:%M %z"),
        match row.date_source.as_str() {
            "header" => String::new(),
            other => format!("  (from {other}: the message had no usable Date)"),
        }
    );
    for p in &row.participants {
        let label = format!("{}:", capitalise(p.role.as_str()));
        match &p.name {
            Some(n) if !n.is_empty() => println!("{label:<9} {n} <{}>", p.address),
            _ => println!("{label:<9} {}", p.address),
        }
    }
    println!("Subject:  {}", row.subject);
    if let Some(m) = &row.message_id {
        println!("Message:  <{m}>");
    }
    if let Some(t) = row.thread_id {
        println!("Thread:   {t}");
    }
    for l in &row.links {
        println!(
            "Client:   {} (id {}){}, by {} {}{}",
            l.client,
            l.client_id,
            l.contact.as_ref().map(|c| format!(", contact {c}")).unwrap_or_default(),
            l.reason,
            l.evidence,
            if l.ambiguous { " (ambiguous: the domain has several clients)" } else { "" }
        );
    }
    for a in &row.attachments {
        println!("Attached: {} ({}, {} bytes)", a.name, a.mime, a.size);
    }
    for s in &row.sources {
        println!("Source:   {s}");
    }
    println!("\n{}", row.body);
    Ok(ExitCode::SUCCESS)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub fn stats(ctx: &Context_, json: bool) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    let by_kind = store.item_counts()?;
    let total: i64 = by_kind.values().sum();
    let by_source = store.source_counts()?;
    let max_rev = store.max_rev()?;
    let index = SearchIndex::open(&config.index_path())?;
    let indexed_rev = index.committed_rev();
    let docs = index.num_docs();
    let clients = store.clients()?.len();
    let linked = store.linked_item_count()?;
    if json {
        print_json(&json!({
            "items": total,
            "by_kind": by_kind,
            "by_source": by_source,
            "clients": clients,
            "linked_items": linked,
            "index": {"documents": docs, "rev": indexed_rev, "store_rev": max_rev, "up_to_date": indexed_rev >= max_rev},
        }))?;
    } else {
        println!("{total} items, {linked} linked to {clients} clients");
        for (k, n) in &by_kind {
            println!("  {k:<10} {n}");
        }
        println!("by source");
        for (s, n) in &by_source {
            println!("  {n:>8}  {s}");
        }
        println!(
            "index: {docs} documents, {}",
            if indexed_rev >= max_rev {
                "up to date".to_string()
            } else {
                format!("behind the store (rev {indexed_rev} of {max_rev}; it catches up on the next search or sync)")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn writer(config: &Config) -> Result<(SearchIndex, Indexer)> {
    let index = SearchIndex::open_for_indexing(&config.index_path())?;
    let ix = match Indexer::new(&index, 100 << 20) {
        Err(IndexError::Locked(p)) => {
            bail!("cannot write the index in {}: the daemon holds it; stop `kronika run` first", p.display())
        }
        other => other?,
    };
    Ok((index, ix))
}

pub fn reindex(ctx: &Context_) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    let (_, mut ix) = writer(&config)?;
    let bar = super::run::progress_bar("reindex");
    bar.set_length(store.max_rev()? as u64);
    ix.clear()?;
    let done = ix.catch_up(&store, |n| bar.inc(n as u64))?;
    ix.commit()?;
    ix.finish()?;
    bar.finish_and_clear();
    println!("reindexed {} items", done.indexed);
    Ok(ExitCode::SUCCESS)
}

pub fn check(ctx: &Context_, repair: bool, json: bool) -> Result<ExitCode> {
    let (config, mut store) = ctx.open()?;
    let index = SearchIndex::open(&config.index_path())?;
    let committed = index.committed_rev();
    let live = store.live_revs()?;
    let docs = index.doc_revs()?;
    let mut missing = Vec::new();
    let mut stale = Vec::new();
    for (id, rev) in &live {
        match docs.get(id) {
            // Not yet indexed because it changed after the last commit: pending, not drift.
            _ if *rev > committed => {}
            None => missing.push(*id),
            Some(doc_rev) if doc_rev != rev => stale.push(*id),
            Some(_) => {}
        }
    }
    // A document of an item deleted after the last commit goes with the
    // next commit: pending, not drift.
    let deleted = store.deleted_revs()?;
    let deleting = |id: &i64| deleted.get(id).is_some_and(|rev| *rev > committed);
    let extra: Vec<i64> = docs.keys().filter(|id| !live.contains_key(id) && !deleting(id)).copied().collect();
    // An index ahead of the store (a restored backup) must be rebuilt.
    let ahead = committed > store.max_rev()?;
    let pending = live.values().filter(|r| **r > committed).count() + docs.keys().filter(|id| deleting(id)).count();
    missing.sort_unstable();
    stale.sort_unstable();
    // Each thread's last mail (`thread_last`, kept by triggers) against
    // the items: derived like the index, so repaired like it.
    let threads = store.thread_last_drift().context("cannot compare the threads' last mails with the items")?;
    if repair && !threads.is_empty() {
        store.rebuild_thread_last().context("cannot write the threads' last mails again")?;
    }
    let documents = missing.len() + stale.len() + extra.len() + usize::from(ahead);
    let drift = documents + threads.len();
    if repair && documents > 0 {
        let (_, mut ix) = writer(&config)?;
        let touch: Vec<i64> = missing.iter().chain(&stale).copied().collect();
        store.touch_items(&touch).context("cannot mark items for re-indexing")?;
        ix.remove(&extra);
        ix.catch_up(&store, |_| {})?;
        ix.commit()?;
        ix.finish()?;
    }
    if json {
        print_json(&json!({
            "store_items": live.len(),
            "index_documents": docs.len(),
            "missing": missing, "stale": stale, "extra": extra, "pending": pending, "ahead_of_store": ahead,
            "threads_out_of_date": threads,
            "repaired": repair && drift > 0,
        }))?;
    } else {
        println!("store: {} items; index: {} documents; {pending} pending", live.len(), docs.len());
        let show = |label: &str, ids: &[i64]| {
            if !ids.is_empty() {
                let few: Vec<String> = ids.iter().take(10).map(|i| format!("#{i}")).collect();
                println!("  {label}: {} ({}{})", ids.len(), few.join(" "), if ids.len() > 10 { " …" } else { "" });
            }
        };
        show("missing from the index", &missing);
        show("stale in the index", &stale);
        show("in the index but not in the store", &extra);
        show("threads whose last mail is out of date", &threads);
        if ahead {
            println!("  the index is ahead of the store (was the store restored from a backup?)");
        }
        if drift == 0 {
            println!("no drift");
        } else if repair {
            println!("repaired {documents} documents and {} threads", threads.len());
        } else {
            println!("run `kronika check --repair` to fix it");
        }
    }
    Ok(if drift > 0 && !repair { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn status(ctx: &Context_, json: bool) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    let daemon = crate::daemon::running_pid(&config);
    let rows = store.source_statuses()?;
    let leases = store.leases()?;
    // Which node runs a source (or the reminders) now; `None`: none does.
    let node_of = |name: &str| leases.iter().find(|l| l.name == name && l.expires_in > 0).map(|l| l.node.clone());
    let configured: Vec<String> = config
        .maildirs
        .iter()
        .map(|m| m.name.clone())
        .chain(config.notes.iter().map(|n| n.name.clone()))
        .chain(config.calendars.iter().map(|c| c.name.clone()))
        .chain(config.imap.iter().map(|i| i.name.clone()))
        .chain(config.caldav.iter().map(|c| c.name.clone()))
        .chain(config.graph.iter().map(|c| c.name.clone()))
        .collect();
    // Calendar accounts: the events their calendars hold now.
    let mut events = std::collections::HashMap::new();
    let accounts =
        config.caldav.iter().map(|c| ("caldav", &c.name)).chain(config.graph.iter().map(|c| ("graph", &c.name)));
    for (kind, name) in accounts {
        events.insert(name.clone(), store.live_items_of_sources(&format!("{kind}:{name}/"))?);
    }
    if json {
        let sources: Vec<Value> = configured
            .iter()
            .map(|name| {
                let row = rows.iter().find(|r| &r.0 == name);
                json!({
                    "source": name,
                    "state": row.map(|r| r.1.clone()).unwrap_or_else(|| "never run".into()),
                    "last_success": row.and_then(|r| r.2.clone()),
                    "last_error": row.and_then(|r| r.3.clone()),
                    "last_error_at": row.and_then(|r| r.4.clone()),
                    "counts": row.and_then(|r| serde_json::from_str::<Value>(&r.5).ok()),
                    "updated_at": row.map(|r| r.6.clone()),
                    "events": events.get(name),
                    "node": node_of(name),
                })
            })
            .collect();
        let backup = backup_status(&config, &rows);
        let nodes: Vec<Value> = leases
            .iter()
            .map(|l| {
                json!({"lease": l.name, "node": l.node, "since": l.taken_at, "renewed": l.renewed_at,
                       "expires_in": l.expires_in})
            })
            .collect();
        let links: Vec<Value> = rows
            .iter()
            .filter_map(|r| Some((r.0.strip_prefix(crate::daemon::STORE_LINK_PREFIX)?, r)))
            .map(|(node, r)| json!({"node": node, "state": r.1, "last_error": r.3, "updated_at": r.6}))
            .collect();
        print_json(&json!({
            "daemon": daemon,
            "node": config.node.name,
            "store_links": links,
            "sources": sources,
            "leases": nodes,
            "reminders_node": node_of(crate::daemon::REMINDERS_LEASE),
            "backup": backup
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    match daemon {
        Some(pid) => println!("daemon running (pid {pid})"),
        None => println!("daemon not running (start it with `kronika run`)"),
    }
    println!("this node: {}", config.node.name);
    for (node, r) in rows.iter().filter_map(|r| Some((r.0.strip_prefix(crate::daemon::STORE_LINK_PREFIX)?, r))) {
        println!("store seen from node {node}: {} (as of {})", r.1, r.6);
        if let Some(err) = &r.3 {
            println!("  {err}");
        }
    }
    if config.reminders.is_some() {
        match node_of(crate::daemon::REMINDERS_LEASE) {
            Some(node) => println!("reminders: delivered by node {node}"),
            None => println!("reminders: delivered by no node now"),
        }
    }
    if configured.is_empty() {
        println!("no sources configured");
    }
    for name in &configured {
        match rows.iter().find(|r| &r.0 == name) {
            None => println!("{name}: never run"),
            Some((_, state, ok, err, err_at, counts, updated)) => {
                match node_of(name) {
                    Some(node) => println!("{name}: {state} (as of {updated}), run by node {node}"),
                    None => println!("{name}: {state} (as of {updated}), run by no node now"),
                }
                if let Some(n) = events.get(name) {
                    println!("  {n} events");
                }
                if let Some(ok) = ok {
                    let c: Value = serde_json::from_str(counts).unwrap_or_default();
                    println!("  last success {ok}: {} new, {} read", c["new"], c["read"]);
                }
                if let Some(err) = err {
                    println!("  last error {}: {err}", err_at.as_deref().unwrap_or("?"));
                }
                let c: Value = serde_json::from_str(counts).unwrap_or_default();
                if let Some(skipped) = c["skipped"].as_object() {
                    for (reason, n) in skipped {
                        println!("  skipped {n}: {reason}");
                    }
                }
                if let Some(warnings) = c["warnings"].as_array() {
                    for w in warnings {
                        println!("  warning: {}", w.as_str().unwrap_or_default());
                    }
                }
            }
        }
    }
    let backup = backup_status(&config, &rows);
    if !backup.is_null() {
        println!(
            "backups in {}: {} kept, the newest {}",
            backup["dir"].as_str().unwrap_or_default(),
            backup["kept"],
            backup["newest"].as_str().unwrap_or("none yet")
        );
        if let Some(state) = backup["state"].as_str() {
            println!("  {state}{}", backup["last_error"].as_str().map(|e| format!(": {e}")).unwrap_or_default());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The scheduled backups (`[backup]`): what the folder holds and the
/// daemon's last outcome; null without the section.
fn backup_status(config: &Config, rows: &[crate::store::SourceStatusRow]) -> Value {
    let Some(b) = &config.backup else { return Value::Null };
    let kept = crate::backup::list(&b.dir);
    let row = rows.iter().find(|r| r.0 == "backup");
    json!({
        "dir": b.dir.display().to_string(),
        "kept": kept.len(),
        "newest": kept.last().map(|(t, _)| t.to_rfc3339()),
        "next_due": crate::backup::next_due(&b.dir, b.every).to_rfc3339(),
        "state": row.map(|r| r.1.clone()),
        "last_success": row.and_then(|r| r.2.clone()),
        "last_error": row.and_then(|r| r.3.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_on_char_boundaries() {
        let s = "cenová nabídka je v příloze";
        let start = s.find("nabídka").unwrap();
        let ranges: Vec<std::ops::Range<usize>> = std::iter::once(start..start + "nabídka".len()).collect();
        let out = highlight(s, &ranges, false);
        assert_eq!(out, "cenová «nabídka» je v příloze");
        let inside_a_char: Vec<std::ops::Range<usize>> = std::iter::once(5..6).collect();
        assert_eq!(highlight(s, &inside_a_char, false), s);
    }
}
