//! `kronika backup` and `kronika restore`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{Context_, print_json};
use crate::backup::Manifest;

pub fn backup(ctx: &Context_, dir: &Path, json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let manifest = crate::backup::backup(&config, dir, None)
        .with_context(|| format!("cannot back up {} into {}", config.data_dir.display(), dir.display()))?;
    if json {
        print_json(&manifest)?;
    } else {
        println!("backed up into {}", dir.display());
        print_summary(&manifest);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn restore(ctx: &Context_, dir: &Path, json: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let manifest = crate::backup::restore(&config, dir)
        .with_context(|| format!("cannot restore {} into {}", dir.display(), config.data_dir.display()))?;
    if json {
        print_json(&manifest)?;
    } else {
        println!("restored {} into {}", dir.display(), config.data_dir.display());
        print_summary(&manifest);
        println!("the search index is rebuilt at the next `kronika run` or search (or now: `kronika reindex`)");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(m: &Manifest) {
    println!(
        "  taken {} by kronika {}: {} items (schema {}), database {}",
        m.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        m.kronika,
        m.items,
        m.schema,
        mb(m.database_bytes)
    );
    println!(
        "  {} files, {}{}",
        m.files,
        mb(m.file_bytes),
        if m.linked > 0 { format!(" ({} linked to the previous backup)", m.linked) } else { String::new() }
    );
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}
