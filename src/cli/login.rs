//! `kronika login ACCOUNT`: signs an OAuth2 mail account in once and keeps
//! the refresh token (see `oauth`). The daemon picks the new sign-in up by
//! itself.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};

use super::Context_;
use crate::config::{ImapAuth, OAuthFlow};
use crate::oauth;

pub fn login(ctx: &Context_, account: &str, device: bool, browser: bool, no_browser: bool) -> Result<ExitCode> {
    let config = ctx.config()?;
    let imap = config.imap.iter().find(|a| a.name == account).ok_or_else(|| {
        let names: Vec<&str> = config.imap.iter().map(|a| a.name.as_str()).collect();
        anyhow!(
            "cannot find the IMAP account {account:?} in {}; its accounts: {}",
            config.path.display(),
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )
    })?;
    let cfg = match &imap.auth {
        ImapAuth::OAuth2(o) => o.clone(),
        ImapAuth::Password(_) => {
            bail!("cannot sign {account} in: it logs in with a password (auth = \"oauth2\" signs in)")
        }
        ImapAuth::TokenCmd(_) => bail!("cannot sign {account} in: its token_cmd provides the tokens"),
    };
    let flow = match (device, browser) {
        (true, _) => OAuthFlow::Device,
        (_, true) => OAuthFlow::Code,
        _ => cfg.flow,
    };
    let mut out = std::io::stdout();
    let tokens = match flow {
        OAuthFlow::Device => oauth::device_login(&cfg, &mut |p| {
            let _ = match &p.message {
                Some(m) => writeln!(out, "{m}"),
                None => writeln!(
                    out,
                    "To sign {account} in, open {} and enter the code {}",
                    p.verification_uri, p.user_code
                ),
            };
            let _ = writeln!(out, "code: {}\naddress: {}\nwaiting for the approval…", p.user_code, p.verification_uri);
            let _ = out.flush();
        })?,
        OAuthFlow::Code => {
            // A browser only where a desktop is; over SSH the address is printed.
            let desktop = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
            oauth::browser_login(&cfg, desktop && !no_browser, &mut |url| {
                let _ = writeln!(
                    out,
                    "To sign {account} in, open this address in a browser on this machine:\n{url}\nwaiting for the sign-in…"
                );
                let _ = out.flush();
            })?
        }
    };
    if tokens.refresh_token.is_none() {
        eprintln!(
            "kronika: the provider gave no refresh token (is `offline_access` among the scopes?); {account} will need `kronika login` again when the access token expires"
        );
    }
    let path = oauth::token_path(&config.data_dir, account);
    oauth::save(&path, &tokens)?;
    println!("{account} is signed in; the sign-in is kept in {} (readable by you only)", path.display());
    Ok(ExitCode::SUCCESS)
}
