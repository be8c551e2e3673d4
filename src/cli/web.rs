//! `kronika serve` and `kronika user …`: the web interface alone, and its users.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;

use super::{Context_, print_json};
use crate::web::auth;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user of the web interface (asks the password).
    Add {
        /// User name to sign in with (one word).
        name: String,
        #[arg(long)]
        email: String,
        /// May manage users (kept for the parts still to come).
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin, without asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's password (ends their sessions).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// Shortest password accepted.
const MIN_PASSWORD: usize = 8;

fn read_line(from_stdin: bool, prompt: &str) -> Result<String> {
    let stdin = std::io::stdin();
    let interactive = !from_stdin && stdin.is_terminal();
    if interactive {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
    }
    let _echo = interactive.then(EchoOff::new);
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("cannot read the password")?;
    if interactive {
        eprintln!();
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The password: one line of stdin, or asked twice on a terminal.
fn password(from_stdin: bool) -> Result<String> {
    let p = read_line(from_stdin, "Password: ")?;
    if p.chars().count() < MIN_PASSWORD {
        bail!("cannot use that password: use at least {MIN_PASSWORD} characters");
    }
    if !from_stdin && std::io::stdin().is_terminal() && read_line(false, "Again: ")? != p {
        bail!("cannot use that password: the two differ");
    }
    Ok(p)
}

/// Turns the terminal's echo off while it lives (password prompts).
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: tcgetattr/tcsetattr on stdin with a zeroed, then filled, termios.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return EchoOff(None);
            }
            let old = t;
            t.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return EchoOff(None);
            }
            EchoOff(Some(old))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            // SAFETY: restoring the attributes read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, old);
            }
        }
    }
}

pub fn user(ctx: &Context_, cmd: UserCmd) -> Result<ExitCode> {
    let (_, mut store) = ctx.open()?;
    match cmd {
        UserCmd::Add { name, email, admin, password_stdin } => {
            let email = crate::address::normalize(&email)
                .ok_or_else(|| anyhow!("cannot add user {name:?}: {email:?} is not a mail address"))?;
            if store.user_by_name(&name)?.is_some() {
                bail!("cannot add user {name:?}: the name is taken");
            }
            let hash = auth::hash_password(&password(password_stdin)?).map_err(|e| anyhow!(e))?;
            let id = store.add_user(&name, &email, admin, &hash)?;
            println!("added user {id}: {name} <{email}>{}", if admin { " (admin)" } else { "" });
        }
        UserCmd::Passwd { name, password_stdin } => {
            if store.user_by_name(&name)?.is_none() {
                bail!("cannot find user {name:?}");
            }
            let hash = auth::hash_password(&password(password_stdin)?).map_err(|e| anyhow!(e))?;
            store.set_password(&name, &hash)?;
            println!("changed the password of {name}; their sessions ended");
        }
        UserCmd::List { json } => {
            let users = store.users()?;
            if json {
                print_json(&users)?;
            } else if users.is_empty() {
                println!("no users yet: add one with `kronika user add NAME --email ADDRESS`");
            } else {
                for u in users {
                    println!("{:>4}  {:<20} {}{}", u.id, u.name, u.email, if u.admin { "  admin" } else { "" });
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `kronika serve`: the web interface without the sources.
pub fn serve(ctx: &Context_, listen: Option<String>) -> Result<ExitCode> {
    let config = ctx.config()?;
    let addr = match listen {
        Some(l) => crate::config::parse_listen(&l)
            .ok_or_else(|| anyhow!("cannot listen on {l:?}: give a port or an address like 127.0.0.1:8080"))?,
        None => config.web.as_ref().map(|w| w.listen).ok_or_else(|| {
            anyhow!("cannot serve: add [web] listen = \"127.0.0.1:8080\" to {} or pass --listen", config.path.display())
        })?,
    };
    let rt = super::run::runtime()?;
    let stop = crate::shutdown::Shutdown::new();
    let s = stop.clone();
    let result = rt.block_on(async move {
        let server = tokio::spawn(crate::web::serve(addr, config, s));
        tokio::select! {
            r = server => return r.map_err(|e| anyhow!(e))?.with_context(|| format!("cannot serve on {addr}")),
            _ = super::run::shutdown_signal() => {}
        }
        stop.trigger();
        Ok(())
    });
    // Browsers keep connections open; they do not hold the exit.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result?;
    Ok(ExitCode::SUCCESS)
}
