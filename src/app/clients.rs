//! The clients list: search as you type, filters (status, custom fields)
//! and sorting (name, last contact, lifetime value, open deals). A handful
//! of statements for the whole list, whatever the number of clients.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::figures::Money;
use crate::model::{ClientStatus, FieldKind};
use crate::store::{Deal, Result, Store};

/// How the list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    /// By name, A to Z.
    #[default]
    Name,
    /// The newest mail, note or document first (as follow-ups count it).
    LastContact,
    /// The highest lifetime value first.
    Ltv,
    /// The highest value of open deals first.
    OpenDeals,
}

impl ClientSort {
    pub const ALL: [ClientSort; 4] =
        [ClientSort::Name, ClientSort::LastContact, ClientSort::Ltv, ClientSort::OpenDeals];

    /// The query-string word: `name`, `last`, `ltv`, `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientSort::Name => "name",
            ClientSort::LastContact => "last",
            ClientSort::Ltv => "ltv",
            ClientSort::OpenDeals => "open",
        }
    }

    pub fn parse(s: &str) -> Option<ClientSort> {
        ClientSort::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The order a click on the column gives first: names A to Z, the rest highest first.
    pub fn descending_by_default(self) -> bool {
        self != ClientSort::Name
    }
}

/// What the list shows: every word of `query` must be found (accents and
/// case ignored), the status and each field filter must hold.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub query: String,
    pub status: Option<ClientStatus>,
    /// Custom field name → wanted value: a `choice` field must equal it
    /// (case ignored), other fields must contain it (accents and case
    /// ignored). Empty values and fields the config does not declare are ignored.
    pub fields: Vec<(String, String)>,
    pub sort: ClientSort,
    /// `None`: the sort's own direction ([`ClientSort::descending_by_default`]).
    pub descending: Option<bool>,
}

/// A client as the clients list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ClientSummary {
    pub id: i64,
    pub name: String,
    pub ico: Option<String>,
    pub status: String,
    pub domains: Vec<String>,
    pub contacts: Vec<String>,
    /// The newest mail, note or document (calendar events do not count,
    /// as for follow-ups).
    pub last_contact: Option<DateTime<Utc>>,
    /// Lifetime value by currency (see [`crate::figures`]).
    pub ltv: Money,
    /// Value of open deals by currency, and how many there are.
    pub open_value: Money,
    pub open_deals: usize,
    /// The declared custom fields' values, in the config's order (empty when unset).
    pub fields: Vec<(String, String)>,
}

/// A money column's single number to sort by: the sum over currencies
/// (one currency when `[figures] base_currency` converts them).
fn amount(m: &Money) -> Option<f64> {
    if m.is_empty() { None } else { Some(m.values().sum()) }
}

fn field_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The clients `filter` lets through, in its order.
pub fn find_clients(store: &Store, config: &Config, filter: &ClientFilter) -> Result<Vec<ClientSummary>> {
    let words: Vec<String> = crate::text::fold(&filter.query).split_whitespace().map(str::to_string).collect();
    let wanted: Vec<(&crate::model::CustomField, String)> = filter
        .fields
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter_map(|(k, v)| config.custom_field(k).map(|f| (f, v.trim().to_string())))
        .collect();
    let last: BTreeMap<i64, Option<DateTime<Utc>>> =
        store.client_last_interactions()?.into_iter().map(|a| (a.id, a.last)).collect();
    let all_deals = store.deals(None)?;
    let mut by_client: BTreeMap<i64, Vec<Deal>> = BTreeMap::new();
    for d in &all_deals {
        by_client.entry(d.client_id).or_default().push(d.clone());
    }
    let today = chrono::Local::now().date_naive();
    let mut out = Vec::new();
    for row in store.client_list()? {
        let c = row.client;
        if filter.status.is_some_and(|s| s != c.status) {
            continue;
        }
        let fits = wanted.iter().all(|(f, want)| {
            let have = c.custom.get(&f.name).map(field_text).unwrap_or_default();
            match &f.kind {
                FieldKind::Choice { .. } => have.trim().eq_ignore_ascii_case(want),
                _ => crate::text::fold(&have).contains(&crate::text::fold(want)),
            }
        });
        if !fits {
            continue;
        }
        if !words.is_empty() {
            let mut hay = vec![c.name.clone(), c.ico.clone().unwrap_or_default(), c.dic.clone().unwrap_or_default()];
            hay.extend(c.domains.iter().cloned());
            hay.extend(row.emails.iter().cloned());
            if let Some(a) = &c.address {
                hay.push(a.clone());
            }
            for p in &row.contacts {
                hay.push(p.name.clone());
                hay.extend(p.emails.iter().cloned());
            }
            let hay = crate::text::fold(&hay.join(" "));
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                continue;
            }
        }
        let mine = by_client.remove(&c.id.0).unwrap_or_default();
        let open_deals = mine.iter().filter(|d| d.status == "open").count();
        let f = crate::figures::figures(&mine, &all_deals, c.annual_budget, today, &config.figures);
        let fields = config
            .custom_fields
            .iter()
            .map(|d| (d.name.clone(), c.custom.get(&d.name).map(field_text).unwrap_or_default()))
            .collect();
        out.push(ClientSummary {
            id: c.id.0,
            last_contact: last.get(&c.id.0).copied().flatten(),
            ltv: f.ltv.iter().map(|(cur, l)| (cur.clone(), l.value)).collect(),
            open_value: f.open_value,
            open_deals,
            fields,
            name: c.name,
            ico: c.ico,
            status: c.status.to_string(),
            domains: c.domains,
            contacts: row.contacts.into_iter().map(|p| p.name).collect(),
        });
    }
    sort_clients(&mut out, filter.sort, filter.descending.unwrap_or(filter.sort.descending_by_default()));
    Ok(out)
}

/// Orders the list; clients without the value (no contact, no deals) come
/// last either way, by name.
fn sort_clients(list: &mut [ClientSummary], sort: ClientSort, descending: bool) {
    let by_name = |a: &ClientSummary, b: &ClientSummary| {
        crate::text::fold(&a.name).cmp(&crate::text::fold(&b.name)).then(a.id.cmp(&b.id))
    };
    let directed = |o: std::cmp::Ordering| if descending { o.reverse() } else { o };
    fn present<T: PartialOrd>(
        a: Option<T>,
        b: Option<T>,
        dir: impl Fn(std::cmp::Ordering) -> std::cmp::Ordering,
    ) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match (a, b) {
            (Some(x), Some(y)) => dir(x.partial_cmp(&y).unwrap_or(Equal)),
            (Some(_), None) => Less,
            (None, Some(_)) => Greater,
            (None, None) => Equal,
        }
    }
    list.sort_by(|a, b| {
        let first = match sort {
            ClientSort::Name => directed(by_name(a, b)),
            ClientSort::LastContact => present(a.last_contact, b.last_contact, directed),
            ClientSort::Ltv => present(amount(&a.ltv), amount(&b.ltv), directed),
            ClientSort::OpenDeals => present(amount(&a.open_value), amount(&b.open_value), directed),
        };
        first.then_with(|| by_name(a, b))
    });
}
