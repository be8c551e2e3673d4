//! `kronika deal …` and `kronika report`: what was sold or offered, and
//! what clients are worth.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Context_, print_json};
use crate::app::edit;
use crate::config::Config;
use crate::figures::Figures;
use crate::model::ClientId;
use crate::store::{DealInput, Store};

#[derive(Debug, Subcommand)]
pub enum DealCmd {
    /// Add a deal (an offer, an order, an invoice) to a client.
    Add {
        client: String,
        #[arg(long)]
        title: String,
        #[arg(long, allow_negative_numbers = true)]
        value: String,
        #[arg(long, default_value = "CZK")]
        currency: String,
        /// open, won or lost.
        #[arg(long, default_value = "open")]
        status: String,
        #[arg(long)]
        date: Option<String>,
        #[arg(long = "product")]
        products: Vec<String>,
    },
    /// Change a deal.
    Edit {
        id: i64,
        #[arg(long)]
        title: Option<String>,
        #[arg(long, allow_negative_numbers = true)]
        value: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        date: Option<String>,
        #[arg(long = "product")]
        products: Vec<String>,
    },
    /// List deals, of one client or all.
    List {
        client: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Import deals from CSV (orders or invoices exported from accounting).
    Import { file: PathBuf },
    /// Invoices read from PDF text (no ISDOC attached), waiting to be
    /// confirmed as deals.
    Proposals {
        /// Also those confirmed or dismissed.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Confirm a proposed deal (its id from `deal proposals`).
    Confirm {
        id: i64,
        /// The client, when the invoice did not tell it.
        #[arg(long)]
        client: Option<String>,
        /// The value to record instead of the stated total (which includes VAT).
        #[arg(long)]
        value: Option<String>,
    },
    /// Dismiss a proposed deal.
    Dismiss { id: i64 },
}

pub fn run(ctx: &Context_, cmd: DealCmd) -> Result<ExitCode> {
    let (_, mut store) = ctx.open()?;
    match cmd {
        DealCmd::Add { client, title, value, currency, status, date, products } => {
            let id = store.resolve_client(&client)?;
            let draft = edit::DealDraft { title, value, currency, status, date, products };
            let deal = edit::add_deal(&mut store, id, &draft)?;
            println!("added deal {deal} to {}", store.client(id)?.name);
        }
        DealCmd::Edit { id, title, value, currency, status, date, products } => {
            let changes = edit::DealChanges {
                title,
                value,
                currency,
                status,
                date,
                products: (!products.is_empty()).then_some(products),
            };
            edit::edit_deal(&mut store, id, &changes)?;
            println!("changed deal {id}");
        }
        DealCmd::List { client, json } => {
            let c = client.map(|c| store.resolve_client(&c)).transpose()?;
            let deals = store.deals(c)?;
            if json {
                print_json(&deals)?;
            } else {
                for d in deals {
                    let status =
                        if d.side == "purchase" { format!("{} (purchase)", d.status) } else { d.status.clone() };
                    println!(
                        "{:>5}  {}  {:<5} {:>14} {}  {}  [{}]{}",
                        d.id,
                        d.date,
                        status,
                        crate::text::format_amount(d.value),
                        d.currency,
                        d.title,
                        d.client,
                        if d.products.is_empty() { String::new() } else { format!("  {}", d.products.join(", ")) }
                    );
                }
            }
        }
        DealCmd::Import { file } => return import(&mut store, &file),
        DealCmd::Proposals { all, json } => {
            let list = store.deal_proposals(all)?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("nothing proposed");
            } else {
                for p in list {
                    println!(
                        "{:>4}  {:<9} {}  {} {:>14} {}  {}  [{}]  from item {} ({})",
                        p.id,
                        p.status,
                        p.date,
                        if p.value < 0.0 { "credit note" } else { "invoice" },
                        crate::text::format_amount(p.value),
                        p.currency,
                        p.number,
                        p.client.as_deref().unwrap_or("client unknown: confirm with --client"),
                        p.item_id,
                        p.document
                    );
                }
            }
        }
        DealCmd::Confirm { id, client, value } => {
            let client = client.map(|c| store.resolve_client(&c)).transpose()?;
            if let Some(deal) =
                edit::decide_deal_proposal(&mut store, id, edit::Verdict::Accept, client, value.as_deref())?
            {
                let d = store.deal(deal)?;
                println!(
                    "confirmed proposal {id}: deal {deal} of {}, {} {}",
                    d.client,
                    crate::text::format_amount(d.value),
                    d.currency
                );
            }
        }
        DealCmd::Dismiss { id } => {
            edit::decide_deal_proposal(&mut store, id, edit::Verdict::Dismiss, None, None)?;
            println!("dismissed proposal {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import(store: &mut Store, file: &PathBuf) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (rows, mut errors) =
        crate::csvio::read_deals(&bytes).map_err(|e| anyhow!("cannot import {}: {e}", file.display()))?;
    let (mut added, mut known) = (0, 0);
    for row in rows {
        let result = store.resolve_client(&row.client).map_err(|e| e.to_string()).and_then(|client| {
            let input = DealInput {
                // The same row imported again is the same deal.
                import_key: Some(format!("{}|{}", client.0, row.deal.number.clone().unwrap_or(row.cells))),
                ..row.deal
            };
            store.add_deal(client, &input).map(|id| id.is_some()).map_err(|e| e.to_string())
        });
        match result {
            Ok(true) => added += 1,
            Ok(false) => known += 1,
            Err(message) => errors.push(crate::csvio::RowError { line: row.line, message }),
        }
    }
    errors.sort_by_key(|e| e.line);
    for e in &errors {
        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
    }
    println!("imported {}: {added} deals added, {known} already there, {} rows refused", file.display(), errors.len());
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// A client's figures, as `client show`, the brief and the report use them.
pub fn client_figures(store: &Store, config: &Config, id: ClientId) -> Result<Figures> {
    Ok(crate::brief::client_figures(store, &config.figures, id)?)
}

fn money(m: &crate::figures::Money) -> String {
    if m.is_empty() {
        return "0".into();
    }
    m.iter().map(|(c, v)| format!("{} {c}", crate::text::format_amount(*v))).collect::<Vec<_>>().join(" + ")
}

/// The figures as text lines (client show, brief).
pub fn figure_lines(f: &Figures) -> Vec<String> {
    crate::app::figure_rows(f)
        .into_iter()
        .map(|r| {
            let label = match r.key {
                "total_sold" => "Total sold",
                "sold_last_year" => "Sold last year",
                "rejected_offers" => "Rejected offers",
                "open_value" => "Open deals",
                "share_of_revenue" => "Share of revenue",
                "top_products" => "Top products",
                "annual_budget" => "Annual budget",
                _ => "Lifetime value",
            };
            format!("{label:<16} {}", r.value)
        })
        .collect()
}

pub fn report(
    ctx: &Context_,
    client: Option<String>,
    chart: Option<PathBuf>,
    clients: bool,
    json: bool,
    csv_out: bool,
) -> Result<ExitCode> {
    let (config, store) = ctx.open()?;
    if clients || client.is_none() {
        let all = store.deals(None)?;
        let mut rows: Vec<(String, i64, Figures)> = store
            .clients()?
            .iter()
            .map(|c| (c.name.clone(), c.id.0, crate::brief::figures_among(&all, c, &config.figures)))
            .collect();
        let key = |f: &Figures| f.ltv.values().map(|l| l.value).fold(0.0, f64::max);
        rows.sort_by(|a, b| key(&b.2).total_cmp(&key(&a.2)).then(a.0.cmp(&b.0)));
        if json {
            let out: Vec<Value> = rows.iter().map(|(n, id, f)| json!({"id": id, "name": n, "figures": f})).collect();
            print_json(&out)?;
        } else if csv_out {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "rank",
                "id",
                "name",
                "currency",
                "ltv",
                "total_sold",
                "sold_last_year",
                "open_value",
                "rejected_count",
            ])?;
            for (i, (n, id, f)) in rows.iter().enumerate() {
                let currencies: std::collections::BTreeSet<&String> = f.ltv.keys().chain(f.open_value.keys()).collect();
                for cur in currencies {
                    w.write_record([
                        (i + 1).to_string(),
                        id.to_string(),
                        n.clone(),
                        cur.clone(),
                        format!("{:.2}", f.ltv.get(cur).map(|l| l.value).unwrap_or(0.0)),
                        format!("{:.2}", f.total_sold.get(cur).copied().unwrap_or(0.0)),
                        format!("{:.2}", f.sold_last_year.get(cur).copied().unwrap_or(0.0)),
                        format!("{:.2}", f.open_value.get(cur).copied().unwrap_or(0.0)),
                        f.rejected_offers.count.to_string(),
                    ])?;
                }
            }
            w.flush()?;
        } else {
            for (i, (n, _, f)) in rows.iter().enumerate() {
                let ltv: Vec<String> =
                    f.ltv.iter().map(|(c, l)| format!("{} {c}", crate::text::format_amount(l.value))).collect();
                println!(
                    "{:>3}. {:<32} LTV {:<20} sold {}",
                    i + 1,
                    crate::text::ellipsize(n, 32),
                    if ltv.is_empty() { "-".into() } else { ltv.join(" + ") },
                    money(&f.total_sold)
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let id = store.resolve_client(client.as_deref().unwrap_or_default())?;
    let f = client_figures(&store, &config, id)?;
    for l in figure_lines(&f) {
        println!("{l}");
    }
    if let Some(path) = chart {
        let s = crate::app::item::sales_series(&store, &config, id)?;
        crate::chart::draw_sales(&path, &s.client, &s.currency, &s.series, &s.projected)?;
        println!("chart written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
