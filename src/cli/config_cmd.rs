//! `kronika config check`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use super::{Context_, print_json};

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Validate the config file and print a summary.
    Check {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context_, cmd: ConfigCmd) -> Result<ExitCode> {
    match cmd {
        ConfigCmd::Check { json } => {
            let c = ctx.config()?;
            // The feed's address with its token (made now if it has none yet).
            let feed = match &c.reminders {
                Some(rc) => match rc.serve {
                    Some(addr) => {
                        let token = crate::reminders::feed_token(&c, rc)?;
                        Some(crate::reminders::feed_url(addr, token.as_deref()))
                    }
                    None => None,
                },
                None => None,
            };
            if json {
                print_json(&json!({
                    "file": c.path,
                    "data_dir": c.data_dir,
                    "store": c.store.as_ref().map(|s| serde_json::json!({"url": s.url, "schema": s.schema})),
                    "node": c.node.name,
                    "own_addresses": c.own_addresses,
                    "own_domains": c.own_domains,
                    "free_mail_domains": c.free_mail_domains.len(),
                    "blocklist": c.blocklist.len(),
                    "auto_contacts": c.auto_contacts,
                    "custom_fields": c.custom_fields,
                    "reminder_feed": feed,
                }))?;
            } else {
                println!("config {} is valid", c.path.display());
                println!("  data_dir           {}", c.data_dir.display());
                match &c.store {
                    Some(_) => println!("  store              PostgreSQL {}", c.store_place()),
                    None => println!("  store              SQLite in data_dir"),
                }
                println!("  node               {} (lease {}s)", c.node.name, c.node.lease.as_secs());
                println!("  own addresses      {}", list_or_none(&c.own_addresses));
                println!("  own domains        {}", list_or_none(&c.own_domains));
                println!("  free-mail domains  {} (built-in and added)", c.free_mail_domains.len());
                println!("  blocklist          {} entries", c.blocklist.len());
                let auto = match c.auto_contacts {
                    crate::model::AutoContacts::SentAndReceived => {
                        "sent_and_received (whoever writes to us or we to them)"
                    }
                    crate::model::AutoContacts::Sent => "sent (people we write to)",
                    crate::model::AutoContacts::None => "none",
                };
                println!("  auto contacts      {auto}");
                let fields: Vec<String> = c
                    .custom_fields
                    .iter()
                    .map(|f| {
                        format!(
                            "{} ({})",
                            f.name,
                            serde_json::to_value(&f.kind)
                                .ok()
                                .and_then(|v| v["type"].as_str().map(str::to_string))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                println!("  custom fields      {}", list_or_none(&fields));
                if let Some(f) = &feed {
                    println!("  reminder feed      {f}");
                }
                if let Some(w) = &c.web {
                    println!("  web interface      http://{}/", w.listen);
                }
                if let Some(b) = &c.backup {
                    let every = humantime_secs(b.every.as_secs());
                    println!("  backups            every {every} into {}, the newest {} kept", b.dir.display(), b.keep);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

/// `86400` → `1d`, `5400` → `1h30m`.
fn humantime_secs(secs: u64) -> String {
    let mut out = String::new();
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        let q = secs / n
            % if n == 86_400 {
                u64::MAX
            } else if n == 3600 {
                24
            } else {
                60
            };
        if q > 0 {
            out.push_str(&format!("{q}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_back_as_written() {
        assert_eq!(super::humantime_secs(86_400), "1d");
        assert_eq!(super::humantime_secs(5_400), "1h30m");
        assert_eq!(super::humantime_secs(2 * 86_400 + 61), "2d1m1s");
        assert_eq!(super::humantime_secs(0), "0s");
    }
}
