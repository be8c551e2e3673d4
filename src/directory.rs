//! Validation of client and contact data as users type it (CLI arguments,
//! CSV cells) into the checked inputs the store takes. Pure.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use crate::address;
use crate::config::Config;
use crate::model::{ClientStatus, Ico, parse_number};
use crate::store::ClientInput;

/// Client fields as given, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawClient {
    pub name: String,
    pub ico: Option<String>,
    pub dic: Option<String>,
    pub address: Option<String>,
    pub billing: Option<String>,
    pub status: Option<String>,
    pub annual_budget: Option<String>,
    pub domains: Vec<String>,
    pub emails: Vec<String>,
    /// `(field, value)` pairs for custom fields.
    pub fields: Vec<(String, String)>,
}

/// Validates a raw client against the config. The error says what is
/// wrong (the first refused field).
pub fn client_input(raw: &RawClient, config: &Config) -> Result<ClientInput, String> {
    check_client(raw, config).map_err(|refused| refused.into_iter().next().map(|(_, m)| m).unwrap_or_default())
}

/// A refused field: its form field's name (`name`, `ico`, `field.obor`, …)
/// and what is wrong with it ("cannot …").
pub type Refused = (String, String);

/// Validates a raw client against the config, every field on its own:
/// the input, or each refused field in the order name, IČO, DIČ, status,
/// budget, domains, addresses, custom fields.
pub fn check_client(raw: &RawClient, config: &Config) -> Result<ClientInput, Vec<Refused>> {
    let mut refused = Vec::new();
    let name = raw.name.trim();
    if name.is_empty() {
        refused.push(("name".to_string(), "cannot add a client without a name".to_string()));
    }
    let ico = optional(&raw.ico).and_then(|s| keep(&mut refused, "ico", ico(s)));
    let dic = optional(&raw.dic).and_then(|s| keep(&mut refused, "dic", dic(s)));
    let status = optional(&raw.status).and_then(|s| keep(&mut refused, "status", status(s)));
    let annual_budget = optional(&raw.annual_budget).and_then(|s| keep(&mut refused, "budget", budget(s)));
    let domains = keep(&mut refused, "domains", domains(&raw.domains, config)).unwrap_or_default();
    let emails = keep(&mut refused, "emails", emails(&raw.emails)).unwrap_or_default();
    let custom = fields_each(&raw.fields, config, &mut refused);
    if !refused.is_empty() {
        return Err(refused);
    }
    Ok(ClientInput {
        name: name.to_string(),
        ico,
        dic,
        address: optional(&raw.address).map(str::to_string),
        billing: optional(&raw.billing).map(str::to_string),
        status,
        annual_budget,
        domains,
        emails,
        custom,
    })
}

/// The value, or `None` with the refusal noted under `field`.
fn keep<T>(refused: &mut Vec<Refused>, field: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|m| refused.push((field.to_string(), m))).ok()
}

/// The form field of a custom field.
pub fn custom_field_key(name: &str) -> String {
    format!("field.{}", name.to_lowercase())
}

/// Checks custom values one by one ([`fields`] each), so each refused one
/// is noted under its own form field ([`custom_field_key`]).
pub fn fields_each(
    pairs: &[(String, String)],
    config: &Config,
    refused: &mut Vec<Refused>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (k, v) in pairs {
        if let Some(m) = keep(refused, &custom_field_key(k), fields(&[(k.clone(), v.clone())], config)) {
            out.extend(m);
        }
    }
    out
}

fn optional(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub fn ico(s: &str) -> Result<Ico, String> {
    Ico::parse(s)
}

/// DIČ: a country prefix and digits (`CZ27074358`); spaces are dropped.
pub fn dic(s: &str) -> Result<String, String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    // Split at a char boundary only: `CŽ12345678` is refused, not a panic.
    let ok = compact.split_at_checked(2).is_some_and(|(country, rest)| {
        country.chars().all(|c| c.is_ascii_alphabetic())
            && rest.len() >= 2
            && rest.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if ok {
        Ok(compact)
    } else {
        Err(format!("cannot read DIČ {s:?}: expected a country code and digits, e.g. CZ27074358"))
    }
}

pub fn status(s: &str) -> Result<ClientStatus, String> {
    s.parse()
}

pub fn budget(s: &str) -> Result<f64, String> {
    match parse_number(s) {
        Some(n) if n > crate::csvio::MAX_AMOUNT => Err(format!("cannot use annual budget {s:?}: larger than 10^15")),
        Some(n) if n >= 0.0 => Ok(n),
        _ => Err(format!("cannot read annual budget {s:?}: expected a non-negative number")),
    }
}

/// Splits a cell or argument that may hold several values (`a.cz, b.cz`).
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' ', '\n', '|']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Normalises client domains; refuses public suffixes, free-mail and own domains.
pub fn domains(list: &[String], config: &Config) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in list.iter().flat_map(|d| split_list(d)) {
        let d = address::normalize_domain(&raw).ok_or_else(|| format!("cannot read domain {raw:?}"))?;
        if address::is_public_suffix(&d) {
            return Err(format!("cannot use domain {d:?}: it is a public suffix, shared by unrelated owners"));
        }
        if config.free_mail_domains.iter().any(|f| address::within(&d, f)) {
            return Err(format!(
                "cannot use domain {d:?}: it is a free-mail provider; add the person's address as a contact instead"
            ));
        }
        if config.own_domains.iter().any(|o| address::within(&d, o)) {
            return Err(format!("cannot use domain {d:?}: it is one of our own domains (own_domains)"));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Normalises mail addresses.
pub fn emails(list: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in list.iter().flat_map(|d| split_list(d)) {
        let a = address::normalize(&raw).ok_or_else(|| format!("cannot read mail address {raw:?}"))?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Splits `key=value`.
pub fn field_arg(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("cannot read field {s:?}: expected key=value")),
    }
}

/// Checks custom field values against the config. An empty value maps to
/// `null` (remove the field).
pub fn fields(
    pairs: &[(String, String)],
    config: &Config,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut out = serde_json::Map::new();
    for (k, v) in pairs {
        let field = config.custom_field(k).ok_or_else(|| {
            let known: Vec<&str> = config.custom_fields.iter().map(|f| f.name.as_str()).collect();
            if known.is_empty() {
                format!("cannot set field {k:?}: the config declares no custom_fields")
            } else {
                format!("cannot set field {k:?}: the config declares only {}", known.join(", "))
            }
        })?;
        let value = if v.trim().is_empty() { serde_json::Value::Null } else { field.kind.check(&field.name, v)? };
        out.insert(field.name.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config() -> Config {
        Config::parse(
            Path::new("k.toml"),
            "own_domains = [\"modrykamen.cz\"]\n[[custom_fields]]\nname = \"obor\"\ntype = \"text\"\n[[custom_fields]]\nname = \"since\"\ntype = \"date\"\n",
        )
        .unwrap()
    }

    #[test]
    fn validates_a_whole_client() {
        let raw = RawClient {
            name: " Acme ".into(),
            ico: Some("27074358".into()),
            dic: Some("cz 27074358".into()),
            status: Some("Client".into()),
            annual_budget: Some("1 200 000".into()),
            domains: vec!["https://www.Acme.cz/, mail.acme.cz".into()],
            emails: vec!["Info@Acme.cz".into()],
            fields: vec![("OBOR".into(), "stavebnictví".into()), ("since".into(), "1.2.2020".into())],
            ..RawClient::default()
        };
        let input = client_input(&raw, &config()).unwrap();
        assert_eq!(input.name, "Acme");
        assert_eq!(input.dic.as_deref(), Some("CZ27074358"));
        assert_eq!(input.domains, vec!["acme.cz", "mail.acme.cz"]);
        assert_eq!(input.emails, vec!["info@acme.cz"]);
        assert_eq!(input.custom["obor"], "stavebnictví");
        assert_eq!(input.custom["since"], "2020-02-01");
    }

    #[test]
    fn refuses_bad_values_with_reasons() {
        let c = config();
        let cases: Vec<(RawClient, &str)> = vec![
            (RawClient { name: "".into(), ..Default::default() }, "without a name"),
            (RawClient { name: "A".into(), ico: Some("27074359".into()), ..Default::default() }, "check digit"),
            (RawClient { name: "A".into(), status: Some("vip".into()), ..Default::default() }, "client status"),
            (RawClient { name: "A".into(), domains: vec!["co.uk".into()], ..Default::default() }, "public suffix"),
            (RawClient { name: "A".into(), domains: vec!["gmail.com".into()], ..Default::default() }, "free-mail"),
            (
                RawClient { name: "A".into(), domains: vec!["modrykamen.cz".into()], ..Default::default() },
                "own domains",
            ),
            (
                RawClient { name: "A".into(), fields: vec![("colour".into(), "red".into())], ..Default::default() },
                "declares only",
            ),
            (
                RawClient { name: "A".into(), fields: vec![("since".into(), "soon".into())], ..Default::default() },
                "not a date",
            ),
            (RawClient { name: "A".into(), annual_budget: Some("-5".into()), ..Default::default() }, "non-negative"),
            (RawClient { name: "A".into(), emails: vec!["nope".into()], ..Default::default() }, "mail address"),
            (RawClient { name: "A".into(), dic: Some("CŽ12345678".into()), ..Default::default() }, "DIČ"),
            (RawClient { name: "A".into(), dic: Some("Ž".into()), ..Default::default() }, "DIČ"),
            (RawClient { name: "A".into(), dic: Some("CZ1".into()), ..Default::default() }, "DIČ"),
            (RawClient { name: "A".into(), annual_budget: Some("1e400".into()), ..Default::default() }, "budget"),
            (RawClient { name: "A".into(), annual_budget: Some("1e16".into()), ..Default::default() }, "10^15"),
            (RawClient { name: "A".into(), annual_budget: Some("NaN".into()), ..Default::default() }, "budget"),
        ];
        for (raw, want) in cases {
            let e = client_input(&raw, &c).unwrap_err();
            assert!(e.contains(want), "{e:?} should mention {want:?}");
            assert!(e.starts_with("cannot "), "{e}");
        }
    }

    /// Issue 10: `--dic "CŽ12345678"` panicked (a byte slice inside `Ž`);
    /// the same cell from a CSV import is refused the same way.
    #[test]
    fn a_dic_with_a_multi_byte_char_is_refused_not_a_panic() {
        for s in ["CŽ12345678", "ŽC12345678", "ŽŽ", "Ž", "C", "", "CZ12345678Ž", "ßß12"] {
            let _ = dic(s);
        }
        assert!(dic("CŽ12345678").unwrap_err().starts_with("cannot read DIČ \"CŽ12345678\""));
        assert_eq!(dic("cz 274 681 35").unwrap(), "CZ27468135");
        let (rows, errors, _) = crate::csvio::read_clients("Název;DIČ\nTest s.r.o.;CŽ12345678\n".as_bytes(), &[]);
        assert!(errors.is_empty(), "{errors:?}");
        let e = client_input(&rows[0].client, &config()).unwrap_err();
        assert!(e.contains("cannot read DIČ"), "{e}");
    }
}
