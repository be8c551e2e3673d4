//! The command line: clap definitions and dispatch. One file per command
//! group; each turns arguments into library calls and prints the result as
//! text or, with `--json`, as JSON.

mod agenda;
mod ares;
mod backup;
mod client;
mod config_cmd;
mod deal;
mod document;
mod login;
mod meeting;
mod note;
mod person;
mod read;
mod run;
mod store_cmd;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::store::Store;

/// kronika: every client's history in one place.
#[derive(Debug, Parser)]
#[command(name = "kronika", version, about, long_about = None)]
pub struct Args {
    /// Config file (default: $KRONIKA_CONFIG, else ~/.config/kronika/config.toml).
    #[arg(short, long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors in the log.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config file.
    #[command(subcommand)]
    Config(config_cmd::ConfigCmd),
    /// The client directory: companies with their IČO, domains and fields.
    #[command(subcommand)]
    Client(client::ClientCmd),
    /// Contact persons of clients.
    #[command(subcommand)]
    Contact(client::ContactCmd),
    /// Link an item to a client by hand (re-matching never removes it).
    Link(client::LinkArgs),
    /// Remove a manual link.
    Unlink(client::LinkArgs),
    /// Re-match every stored item against the directory and config.
    Rematch,
    /// Sign an OAuth2 mail account (Microsoft 365, Google) in once.
    Login {
        /// The `[[imap]]` account's name.
        account: String,
        /// Use the device-code flow (a code to enter on any device).
        #[arg(long, conflicts_with = "browser")]
        device: bool,
        /// Use the browser flow (a loopback redirect to this machine).
        #[arg(long)]
        browser: bool,
        /// Do not start a browser; print the address only.
        #[arg(long)]
        no_browser: bool,
    },
    /// Import mail archives (Maildir, mbox, eml) once.
    #[command(subcommand)]
    Import(run::ImportCmd),
    /// Run every configured source once and exit (non-zero when one failed).
    Sync,
    /// Run the daemon: watch every source until SIGINT or SIGTERM.
    Run,
    /// Serve the web interface only (no sources) until SIGINT or SIGTERM.
    Serve {
        /// Port or ADDRESS:PORT (default: `[web] listen` of the config).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Users of the web interface.
    #[command(subcommand)]
    User(web::UserCmd),
    /// Call and meeting notes.
    #[command(subcommand)]
    Note(note::NoteCmd),
    /// Meetings in your calendar account: plan one with a client, cancel one.
    #[command(subcommand)]
    Meeting(meeting::MeetingCmd),
    /// A person's data: export it, or erase it (GDPR).
    #[command(subcommand)]
    Person(person::PersonCmd),
    /// The store itself: copy it from SQLite to PostgreSQL or back.
    #[command(subcommand)]
    Store(store_cmd::StoreCmd),
    /// Upcoming calendar events with their clients.
    Agenda {
        #[arg(long, default_value_t = 14)]
        days: i64,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What to know before meeting a client: who they are, the last
    /// interactions, threads waiting for our reply, events, figures.
    Brief {
        /// Client: id, IČO, name or unique prefix.
        client: Option<String>,
        /// The next meeting with any client.
        #[arg(long, conflicts_with = "client")]
        next: bool,
        #[arg(long)]
        json: bool,
        #[arg(long, value_enum, default_value_t = agenda::BriefFormat::Text)]
        format: agenda::BriefFormat,
    },
    /// Pending, fired and missed reminders.
    Reminders {
        #[arg(long)]
        json: bool,
    },
    /// Deals: offers, orders, invoices.
    #[command(subcommand)]
    Deal(deal::DealCmd),
    /// A client's figures and sales chart, or all clients ranked by lifetime value.
    Report {
        /// Client: id, IČO, name or unique prefix.
        client: Option<String>,
        /// Draw the client's sales per quarter with the trend (.svg or .png).
        #[arg(long)]
        chart: Option<PathBuf>,
        /// Rank all clients by lifetime value.
        #[arg(long)]
        clients: bool,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        csv: bool,
    },
    /// Look a company up in the Czech register ARES (nothing is saved).
    Ares {
        /// IČO to look up.
        #[arg(required_unless_present = "name")]
        ico: Option<String>,
        /// Search by name instead.
        #[arg(long, conflicts_with = "ico")]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Documents: add one by hand, show one.
    #[command(subcommand)]
    Document(document::DocumentCmd),
    /// A client's documents (offers, invoices, contracts, orders).
    Documents {
        client: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Today: the day's and week's meetings, reminders due, threads
    /// waiting for our reply, clients gone silent (the web's Today page).
    Today {
        #[arg(long)]
        json: bool,
    },
    /// Search the history.
    Search(read::SearchArgs),
    /// A client's history, newest first.
    History {
        client: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Show deleted items (notes removed from their folder) instead.
        #[arg(long)]
        deleted: bool,
        #[arg(long)]
        json: bool,
    },
    /// One item, whole.
    Show {
        item: i64,
        #[arg(long)]
        json: bool,
    },
    /// Counts by kind and source, and the index's state.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Each source's state: syncing, watching, retrying, last success, last error, counts.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// Back up the data folder while the daemon runs: a consistent copy of
    /// the database, the documents, originals and sign-ins (not the index).
    Backup {
        /// A new (or empty) folder for the backup.
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup into the config's data folder, which must be empty.
    Restore {
        /// A folder made by `kronika backup` (or by `[backup]`).
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Compare the index with the store; --repair fixes any drift.
    Check {
        #[arg(long)]
        repair: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Sets up `tracing` to stderr.
pub fn init_tracing(verbose: u8, quiet: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter(verbose, quiet)));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

/// What `-q`, no flag, `-v`, `-vv` and `-vvv` show. The PDF readers
/// (lopdf, pdf-extract) log every odd object of a broken PDF as an error;
/// kronika says once what it could not read ("the document is kept, its
/// text is not indexed"), so theirs show only at `-vvv`.
fn default_filter(verbose: u8, quiet: bool) -> String {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "kronika=debug,info",
        _ => return "trace".into(),
    };
    format!("{level},lopdf=off,pdf_extract=off")
}

/// Runs one command.
pub fn run(args: Args) -> Result<ExitCode> {
    let ctx = Context_ { config_arg: args.config.clone() };
    match args.command {
        Command::Config(cmd) => config_cmd::run(&ctx, cmd),
        Command::Client(cmd) => client::run_client(&ctx, cmd),
        Command::Contact(cmd) => client::run_contact(&ctx, cmd),
        Command::Link(a) => client::link(&ctx, a, true),
        Command::Unlink(a) => client::link(&ctx, a, false),
        Command::Import(cmd) => run::import(&ctx, cmd),
        Command::Sync => run::sync(&ctx),
        Command::Login { account, device, browser, no_browser } => {
            login::login(&ctx, &account, device, browser, no_browser)
        }
        Command::Note(cmd) => note::run(&ctx, cmd),
        Command::Meeting(cmd) => meeting::run(&ctx, cmd),
        Command::Person(cmd) => person::run(&ctx, cmd),
        Command::Store(cmd) => store_cmd::run(&ctx, cmd),
        Command::Deal(cmd) => deal::run(&ctx, cmd),
        Command::Document(cmd) => document::run(&ctx, cmd),
        Command::Documents { client, kind, json } => document::list(&ctx, client, kind, json),
        Command::Ares { ico, name, json } => ares::run(&ctx, ico, name, json),
        Command::Report { client, chart, clients, json, csv } => deal::report(&ctx, client, chart, clients, json, csv),
        Command::Agenda { days, client, json } => agenda::agenda(&ctx, days, client, json),
        Command::Reminders { json } => agenda::reminders(&ctx, json),
        Command::Today { json } => agenda::today(&ctx, json),
        Command::Brief { client, next, json, format } => agenda::brief(&ctx, client, next, json, format),
        Command::Run => run::run(&ctx),
        Command::Serve { listen } => web::serve(&ctx, listen),
        Command::User(cmd) => web::user(&ctx, cmd),
        Command::Search(a) => read::search(&ctx, a),
        Command::History { client, limit, deleted, json } => read::history(&ctx, client, limit, deleted, json),
        Command::Show { item, json } => read::show(&ctx, item, json),
        Command::Stats { json } => read::stats(&ctx, json),
        Command::Reindex => read::reindex(&ctx),
        Command::Backup { dir, json } => backup::backup(&ctx, &dir, json),
        Command::Restore { dir, json } => backup::restore(&ctx, &dir, json),
        Command::Status { json } => read::status(&ctx, json),
        Command::Check { repair, json } => read::check(&ctx, repair, json),
        Command::Rematch => {
            let (_, mut store) = ctx.open()?;
            let n = store.rematch_all().context("cannot re-match the stored items")?;
            println!("re-matched: {n} items changed their links");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What every command needs: where the config is.
pub(crate) struct Context_ {
    config_arg: Option<PathBuf>,
}

impl Context_ {
    pub(crate) fn config(&self) -> Result<Config> {
        let path = Config::locate(self.config_arg.as_deref())?;
        Ok(Config::load(&path)?)
    }

    pub(crate) fn open(&self) -> Result<(Config, Store)> {
        let config = self.config()?;
        let store = Store::open_config(&config)
            .with_context(|| format!("cannot open the store in {}", config.store_place()))?;
        Ok((config, store))
    }
}

/// Prints a value as pretty JSON.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::default_filter;

    /// Every level's filter parses; the PDF readers' own errors stay quiet
    /// below `-vvv`.
    #[test]
    fn log_filters_parse_and_quiet_the_pdf_readers() {
        for (verbose, quiet) in [(0, true), (0, false), (1, false), (2, false), (3, false)] {
            let f = default_filter(verbose, quiet);
            assert!(tracing_subscriber::EnvFilter::try_new(&f).is_ok(), "{f}");
            assert_eq!(f.contains("lopdf=off") && f.contains("pdf_extract=off"), verbose < 3, "{f}");
        }
    }
}
