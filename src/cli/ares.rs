//! `kronika ares`: look a company up in the Czech register without saving it.

use std::process::ExitCode;

use anyhow::{Result, bail};

use super::{Context_, print_json};
use crate::ares::{Ares, Company};

fn print(c: &Company) {
    println!("{}  IČO {}", c.name, c.ico);
    for (label, v) in [("DIČ", &c.dic), ("Address", &c.address), ("Legal form", &c.legal_form)] {
        if let Some(v) = v {
            println!("  {label:<11} {v}");
        }
    }
    if let Some(f) = c.founded {
        println!("  {:<11} {f}", "Founded");
    }
    if let Some(d) = c.dissolved {
        println!("  {:<11} {d}", "Dissolved");
    }
}

pub fn run(ctx: &Context_, ico: Option<String>, name: Option<String>, json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let ares = Ares::new(&config.ares_url, config.ares_timeout);
    let found: Vec<Company> = match (ico, name) {
        (Some(i), None) => vec![ares.by_ico(&i)?],
        (None, Some(n)) => ares.by_name(&n, 20)?,
        _ => bail!("cannot look up: give an IČO or --name TEXT"),
    };
    if json {
        print_json(&found)?;
    } else if found.is_empty() {
        println!("ARES knows no such company");
    } else {
        for c in &found {
            print(c);
        }
    }
    Ok(ExitCode::SUCCESS)
}
