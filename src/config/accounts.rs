//! Calendar accounts: `[[caldav]]` and `[[graph]]` sections, validated.
//! A CalDAV account signs in with a password, with the OAuth2 sign-in of an
//! `[[imap]]` account (one `kronika login` for a mailbox and its calendar),
//! or with a token from the user's own command; a Graph account (Microsoft
//! 365) with the last two.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::time::Duration;

use super::raw::RawConfig;
use super::validate::Validator;
use super::{
    CalendarAccount, CalendarAuth, ConfigError, ImapAuth, ImapConfig, OAuthProvider, PasswordSource, is_loopback,
    parse_duration,
};

/// Google's calendar scope (CalDAV and its API); added to the sign-in of
/// the `[[imap]]` account a `[[caldav]]` account names, so that one
/// `kronika login` consents to both.
pub const GOOGLE_CALENDAR_SCOPE: &str = "https://www.googleapis.com/auth/calendar";

/// The scopes a Graph account asks for by default: the Microsoft sign-in's
/// refresh token is redeemed for them (the app registration needs the
/// delegated permission Calendars.ReadWrite).
pub const GRAPH_SCOPES: [&str; 2] = ["https://graph.microsoft.com/Calendars.ReadWrite", "offline_access"];

/// Microsoft Graph's base URL.
pub const GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";

/// The validated CalDAV and Graph accounts and the `[[imap]]` accounts.
type Accounts = (Vec<CalendarAccount>, Vec<CalendarAccount>, Vec<ImapConfig>);

type ErrFn<'a> = dyn Fn(&str, String) -> ConfigError + 'a;

/// Validates `[[caldav]]` and `[[graph]]`; returns them with the `[[imap]]`
/// accounts, whose Google sign-ins gain the calendar scope when a CalDAV
/// account uses them.
pub(super) fn validate(
    v: &Validator<'_>,
    raw: &RawConfig,
    taken: &[String],
    mut imap: Vec<ImapConfig>,
) -> Result<Accounts, ConfigError> {
    let mut names: Vec<String> = taken.to_vec();
    let mut caldav = Vec::new();
    for section in &raw.caldav {
        let r = section.get_ref();
        let span = section.span();
        let err = |key: &str, msg: String| v.err(span.clone(), key, &msg);
        let name = account_name(&err, "caldav", &r.name, &names)?;
        let url = url(&err, "caldav.url", &name, &r.url)?;
        let auth = match r.auth.as_deref().map(|a| a.trim().to_ascii_lowercase()) {
            None if r.signin.is_none() && r.token_cmd.is_none() => {
                password(&err, &name, r.username.as_deref(), &r.password_cmd, &r.password_env)?
            }
            Some(a) if a == "password" => {
                password(&err, &name, r.username.as_deref(), &r.password_cmd, &r.password_env)?
            }
            None => bearer(&err, "caldav", &name, &r.signin, &r.token_cmd, &r.scopes, &imap, Want::CalDav)?,
            Some(a) if a == "oauth2" || a == "oauth" => {
                if r.password_cmd.is_some() || r.password_env.is_some() {
                    return Err(err(
                        "caldav.password_cmd",
                        format!("account {name:?} signs in with OAuth2: leave out password_cmd and password_env"),
                    ));
                }
                bearer(&err, "caldav", &name, &r.signin, &r.token_cmd, &r.scopes, &imap, Want::CalDav)?
            }
            Some(other) => return Err(err("caldav.auth", format!("{other:?} is not password or oauth2"))),
        };
        if let CalendarAuth::OAuth2 { signin, oauth, .. } = &auth
            && oauth.provider == OAuthProvider::Google
            && let Some(ImapConfig { auth: ImapAuth::OAuth2(o), .. }) = imap.iter_mut().find(|i| &i.name == signin)
            && !o.scopes.iter().any(|s| s == GOOGLE_CALENDAR_SCOPE)
        {
            o.scopes.push(GOOGLE_CALENDAR_SCOPE.to_string());
        }
        caldav.push(CalendarAccount {
            poll_interval: duration(&err, "caldav.poll_interval", &r.poll_interval, 300, false)?,
            past: duration(&err, "caldav.past", &r.past, 365 * 86_400, true)?,
            future: duration(&err, "caldav.future", &r.future, 365 * 86_400, true)?,
            timeout: duration(&err, "caldav.timeout", &r.timeout, 30, false)?,
            calendars: calendar_names(&err, "caldav", &name, &r.calendars)?,
            access: super::validate::source_access(&err, "caldav", &name, &r.owner, &r.visibility)?,
            name: name.clone(),
            url,
            auth,
        });
        names.push(name);
    }
    let mut graph = Vec::new();
    for section in &raw.graph {
        let r = section.get_ref();
        let span = section.span();
        let err = |key: &str, msg: String| v.err(span.clone(), key, &msg);
        let name = account_name(&err, "graph", &r.name, &names)?;
        let url =
            url(&err, "graph.url", &name, r.url.as_deref().unwrap_or(GRAPH_URL))?.trim_end_matches('/').to_string();
        let auth = bearer(&err, "graph", &name, &r.signin, &r.token_cmd, &r.scopes, &imap, Want::Graph)?;
        graph.push(CalendarAccount {
            poll_interval: duration(&err, "graph.poll_interval", &r.poll_interval, 300, false)?,
            past: duration(&err, "graph.past", &r.past, 365 * 86_400, true)?,
            future: duration(&err, "graph.future", &r.future, 365 * 86_400, true)?,
            timeout: duration(&err, "graph.timeout", &r.timeout, 30, false)?,
            calendars: calendar_names(&err, "graph", &name, &r.calendars)?,
            access: super::validate::source_access(&err, "graph", &name, &r.owner, &r.visibility)?,
            name: name.clone(),
            url,
            auth,
        });
        names.push(name);
    }
    Ok((caldav, graph, imap))
}

/// The calendars an account names (`None`: all of them).
fn calendar_names(
    err: &ErrFn<'_>,
    section: &str,
    name: &str,
    raw: &Option<Vec<String>>,
) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(list) = raw else { return Ok(None) };
    let list: Vec<String> = list.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
    if list.is_empty() {
        return Err(err(
            &format!("{section}.calendars"),
            format!("account {name:?}: calendars is empty; name calendars or leave the key out for all"),
        ));
    }
    Ok(Some(list))
}

fn account_name(err: &ErrFn<'_>, section: &str, raw: &str, taken: &[String]) -> Result<String, ConfigError> {
    let name = raw.trim().to_string();
    if name.is_empty() || name.contains('/') {
        return Err(err(&format!("{section}.name"), format!("a {section} account needs a name without '/'")));
    }
    if taken.contains(&name) {
        return Err(err(&format!("{section}.name"), format!("the name {name:?} is used twice")));
    }
    Ok(name)
}

/// An https URL, or plain http to loopback (tests, a local server).
fn url(err: &ErrFn<'_>, key: &str, name: &str, raw: &str) -> Result<String, ConfigError> {
    let u = raw.trim();
    let host = u
        .strip_prefix("http://")
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .map(|authority| authority.rsplit_once('@').map_or(authority, |(_, h)| h))
        .map(|hostport| match hostport.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => hostport,
        });
    let ok = match host {
        Some(h) => is_loopback(h),
        None => u.starts_with("https://") && u.len() > "https://".len(),
    };
    if !ok {
        return Err(err(key, format!("account {name:?}: {u:?} is not an https URL (plain http only to loopback)")));
    }
    if u.split_once("://").is_some_and(|(_, rest)| rest.split('/').next().unwrap_or_default().contains('@')) {
        return Err(err(
            key,
            format!("account {name:?}: put the user name in username and the password in password_cmd, not in the URL"),
        ));
    }
    Ok(u.to_string())
}

fn duration(
    err: &ErrFn<'_>,
    key: &str,
    value: &Option<String>,
    default_secs: u64,
    zero_ok: bool,
) -> Result<Duration, ConfigError> {
    match value {
        Some(p) => parse_duration(p)
            .filter(|d| zero_ok || !d.is_zero())
            .ok_or_else(|| err(key, format!("{p:?} is not a duration above zero like 5m, 1h or 365d"))),
        None => Ok(Duration::from_secs(default_secs)),
    }
}

fn password(
    err: &ErrFn<'_>,
    name: &str,
    username: Option<&str>,
    cmd: &Option<String>,
    env: &Option<String>,
) -> Result<CalendarAuth, ConfigError> {
    let username = username.map(str::trim).filter(|u| !u.is_empty()).ok_or_else(|| {
        err("caldav.username", format!("account {name:?} needs a username (or auth = \"oauth2\" with signin)"))
    })?;
    let password = match (cmd, env) {
        (Some(c), None) if !c.trim().is_empty() => PasswordSource::Cmd(c.clone()),
        (None, Some(e)) if !e.trim().is_empty() => PasswordSource::Env(e.trim().to_string()),
        (Some(_), Some(_)) => {
            return Err(err(
                "caldav.password_cmd",
                format!("account {name:?}: give password_cmd or password_env, not both"),
            ));
        }
        _ => {
            return Err(err(
                "caldav.password_cmd",
                format!(
                    "account {name:?} needs password_cmd (a command that prints the password, an app password for iCloud and Fastmail) or password_env"
                ),
            ));
        }
    };
    Ok(CalendarAuth::Password { username: username.to_string(), password })
}

/// What the token is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    CalDav,
    Graph,
}

/// A bearer token: `token_cmd`, or `signin` naming an `[[imap]]` account
/// that signs in with OAuth2.
#[allow(clippy::too_many_arguments)]
fn bearer(
    err: &ErrFn<'_>,
    section: &str,
    name: &str,
    signin: &Option<String>,
    token_cmd: &Option<String>,
    scopes: &Option<Vec<String>>,
    imap: &[ImapConfig],
    want: Want,
) -> Result<CalendarAuth, ConfigError> {
    let signin = signin.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let token_cmd = token_cmd.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match (signin, token_cmd) {
        (Some(_), Some(_)) => {
            Err(err(&format!("{section}.token_cmd"), format!("account {name:?}: give signin or token_cmd, not both")))
        }
        (None, Some(cmd)) => Ok(CalendarAuth::TokenCmd(cmd.to_string())),
        (None, None) => Err(err(
            &format!("{section}.signin"),
            format!(
                "account {name:?} needs signin = \"IMAP-ACCOUNT\" (the [[imap]] account whose `kronika login` it shares) or token_cmd"
            ),
        )),
        (Some(s), None) => {
            let oauth = match imap.iter().find(|i| i.name == s) {
                Some(ImapConfig { auth: ImapAuth::OAuth2(o), .. }) => o.clone(),
                Some(_) => {
                    return Err(err(
                        &format!("{section}.signin"),
                        format!("account {name:?}: the IMAP account {s:?} does not sign in with OAuth2"),
                    ));
                }
                None => {
                    return Err(err(
                        &format!("{section}.signin"),
                        format!("account {name:?}: there is no [[imap]] account named {s:?}"),
                    ));
                }
            };
            let scopes: Vec<String> = match (scopes, oauth.provider, want) {
                (Some(list), _, _) => list.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
                (None, OAuthProvider::Google, Want::CalDav) => vec![GOOGLE_CALENDAR_SCOPE.to_string()],
                (None, OAuthProvider::Microsoft, Want::CalDav) => {
                    return Err(err(
                        &format!("{section}.signin"),
                        format!(
                            "account {name:?}: Microsoft 365 has no CalDAV; read its calendars with a [[graph]] section (README: Microsoft 365 calendars)"
                        ),
                    ));
                }
                (None, OAuthProvider::Google, Want::Graph) => {
                    return Err(err(
                        &format!("{section}.signin"),
                        format!(
                            "account {name:?}: {s:?} signs in to Google, which has no Microsoft Graph; read a Google calendar with a [[caldav]] section"
                        ),
                    ));
                }
                (None, _, Want::Graph) => GRAPH_SCOPES.iter().map(|s| s.to_string()).collect(),
                (None, _, _) => Vec::new(),
            };
            if scopes.is_empty() {
                return Err(err(
                    &format!("{section}.scopes"),
                    format!("account {name:?} needs scopes: those its provider wants for calendars"),
                ));
            }
            Ok(CalendarAuth::OAuth2 { signin: s.to_string(), oauth, scopes })
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{CalendarAuth, Config};

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(std::path::Path::new("/etc/kronika.toml"), text).map_err(|e| e.to_string())
    }

    const GOOGLE_IMAP: &str = r#"
[[imap]]
name = "jana"
username = "jana@firma.cz"
provider = "google"
client_id = "abc.apps.googleusercontent.com"
"#;

    #[test]
    fn caldav_sections_are_checked_and_named_in_errors() {
        let ok = parse(
            "[[caldav]]\nname = \"cal\"\nurl = \"https://cloud.example.cz/remote.php/dav/\"\nusername = \"jana\"\npassword_cmd = \"pass show cal\"\ncalendars = [\"Práce\"]\npoll_interval = \"5m\"\n",
        )
        .unwrap();
        let c = ok.caldav.first().unwrap();
        assert_eq!(c.calendars.as_deref(), Some(&["Práce".to_string()][..]));
        assert_eq!(c.poll_interval.as_secs(), 300);
        assert!(matches!(c.auth, CalendarAuth::Password { .. }));
        for (text, want) in [
            (
                "[[caldav]]\nname = \"c\"\nurl = \"http://cloud.example.cz/\"\nusername = \"j\"\npassword_cmd = \"x\"\n",
                "not an https URL",
            ),
            (
                "[[caldav]]\nname = \"c\"\nurl = \"https://j:pw@cloud.example.cz/\"\nusername = \"j\"\npassword_cmd = \"x\"\n",
                "not in the URL",
            ),
            (
                "[[caldav]]\nname = \"c\"\nurl = \"https://cloud.example.cz/\"\npassword_cmd = \"x\"\n",
                "needs a username",
            ),
            ("[[caldav]]\nname = \"c\"\nurl = \"https://cloud.example.cz/\"\nusername = \"j\"\n", "needs password_cmd"),
            (
                "[[caldav]]\nname = \"c\"\nurl = \"https://cloud.example.cz/\"\nusername = \"j\"\npassword_cmd = \"x\"\ncalendars = []\n",
                "calendars is empty",
            ),
            (
                "[[caldav]]\nname = \"c\"\nurl = \"https://cloud.example.cz/\"\nauth = \"oauth2\"\nsignin = \"nobody\"\n",
                "no [[imap]] account",
            ),
            (
                "[[caldav]]\nname = \"c\"\nurl = \"https://cloud.example.cz/\"\nusername = \"j\"\npassword_cmd = \"x\"\npoll = \"5m\"\n",
                "unknown field",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(want), "{want}: {e}");
        }
        assert!(
            parse(
                "[[caldav]]\nname = \"c\"\nurl = \"http://127.0.0.1:5232/\"\nusername = \"j\"\npassword_env = \"P\"\n"
            )
            .is_ok()
        );
    }

    #[test]
    fn a_google_calendar_shares_the_mailbox_sign_in() {
        let text = format!(
            "{GOOGLE_IMAP}\n[[caldav]]\nname = \"cal\"\nurl = \"https://apidata.googleusercontent.com/caldav/v2/jana%40firma.cz/events\"\nauth = \"oauth2\"\nsignin = \"jana\"\n"
        );
        let c = parse(&text).unwrap();
        let crate::config::ImapAuth::OAuth2(o) = &c.imap.first().unwrap().auth else { panic!() };
        assert!(o.scopes.iter().any(|s| s == super::GOOGLE_CALENDAR_SCOPE), "one login asks for both: {:?}", o.scopes);
        let CalendarAuth::OAuth2 { signin, scopes, .. } = &c.caldav.first().unwrap().auth else { panic!() };
        assert_eq!(signin, "jana");
        assert_eq!(scopes, &[super::GOOGLE_CALENDAR_SCOPE.to_string()]);
        let ms = GOOGLE_IMAP.replace("google", "microsoft");
        let e = parse(&format!(
            "{ms}\n[[caldav]]\nname = \"cal\"\nurl = \"https://x.example/\"\nauth = \"oauth2\"\nsignin = \"jana\"\n"
        ))
        .unwrap_err();
        assert!(e.contains("no CalDAV"), "{e}");
    }
}
