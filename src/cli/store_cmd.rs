//! `kronika store copy`: the whole store moved from SQLite to PostgreSQL
//! or back (issue 19), then verified table by table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::{Context_, print_json};
use crate::config::PasswordSource;
use crate::store::Store;
use crate::store::pg::{PgTarget, redacted};

#[derive(Debug, Subcommand)]
pub enum StoreCmd {
    /// Copy the configured store into an empty one: a PostgreSQL database
    /// (postgres://user@host/db) or an SQLite data folder. Stop the daemons
    /// first; the copy is then checked by counts and checksums.
    Copy {
        /// postgres://user@host/database, or the data folder of an SQLite store.
        #[arg(long)]
        to: String,
        /// The PostgreSQL schema of the firm (default: public).
        #[arg(long)]
        schema: Option<String>,
        /// A command that prints the PostgreSQL password (else PGPASSFILE or ~/.pgpass).
        #[arg(long)]
        password_cmd: Option<String>,
        /// A CA certificate (PEM) to trust for the PostgreSQL server.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context_, cmd: StoreCmd) -> Result<ExitCode> {
    let StoreCmd::Copy { to, schema, password_cmd, ca_file, json } = cmd;
    let (config, from) = ctx.open()?;
    if crate::daemon::running_pid(&config).is_some() {
        bail!("cannot copy the store while kronika run is running here: stop the daemons first");
    }
    let (dest, shown) = if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        if let Some(s) = &schema
            && !crate::config::valid_schema(s)
        {
            bail!("cannot use schema {s:?}: lowercase letters, digits and _, starting with a letter");
        }
        let password = match &password_cmd {
            Some(cmd) => Some(
                PasswordSource::Cmd(cmd.clone())
                    .read()
                    .map_err(|e| anyhow::anyhow!("cannot read the password: {e}"))?,
            ),
            None => None,
        };
        let target = PgTarget { url: to.clone(), password, schema: schema.clone(), ca_file };
        let dest = Store::open_postgres(&target, config.policy(), None)
            .with_context(|| format!("cannot open the store at {}", redacted(&to)))?;
        (dest, redacted(&to))
    } else {
        if from.db_path().is_some() {
            bail!("cannot copy SQLite into SQLite: use kronika backup and kronika restore");
        }
        let dir = PathBuf::from(&to);
        let path = dir.join("kronika.sqlite3");
        let dest = Store::open(&path, config.policy())
            .with_context(|| format!("cannot open the store in {}", dir.display()))?;
        (dest, dir.display().to_string())
    };
    let report = crate::store::copy::copy(&from, &dest)
        .with_context(|| format!("cannot copy the store in {} to {shown}", config.store_place()))?;
    let rows: u64 = report.tables.iter().map(|(_, n)| n).sum();
    if json {
        let tables: serde_json::Map<String, serde_json::Value> =
            report.tables.iter().map(|(t, n)| (t.clone(), serde_json::json!(n))).collect();
        print_json(
            &serde_json::json!({"to": shown, "rows": rows, "files": report.files, "tables": tables, "verified": true}),
        )?;
    } else {
        for (t, n) in report.tables.iter().filter(|(_, n)| *n > 0) {
            println!("{t}: {n}");
        }
        println!("copied {rows} rows and {} files to {shown}; counts and checksums agree", report.files);
        println!("point [store] of the config at it (or remove [store] for SQLite) and start the daemons");
    }
    Ok(ExitCode::SUCCESS)
}
