//! The clients list: search as you type, filters and sorting.

use serde::Serialize;

use crate::store::{Result, Store};

/// A client as the clients list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ClientSummary {
    pub id: i64,
    pub name: String,
    pub ico: Option<String>,
    pub status: String,
    pub domains: Vec<String>,
    pub contacts: Vec<String>,
}

/// Clients whose name, IČO, DIČ, domains, own addresses or contacts
/// (names, addresses) contain every word of `query`, accents and case
/// ignored; all clients for an empty query.
pub fn find_clients(store: &Store, query: &str) -> Result<Vec<ClientSummary>> {
    let words: Vec<String> = crate::text::fold(query).split_whitespace().map(str::to_string).collect();
    let mut out = Vec::new();
    for c in store.clients()? {
        let contacts = store.contacts(c.id)?;
        if !words.is_empty() {
            let mut hay = vec![c.name.clone(), c.ico.clone().unwrap_or_default(), c.dic.clone().unwrap_or_default()];
            hay.extend(c.domains.iter().cloned());
            hay.extend(store.client_emails(c.id)?);
            for p in &contacts {
                hay.push(p.name.clone());
                hay.extend(p.emails.iter().cloned());
            }
            let hay = crate::text::fold(&hay.join(" "));
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                continue;
            }
        }
        out.push(ClientSummary {
            id: c.id.0,
            name: c.name,
            ico: c.ico,
            status: c.status.to_string(),
            domains: c.domains,
            contacts: contacts.into_iter().map(|p| p.name).collect(),
        });
    }
    Ok(out)
}
