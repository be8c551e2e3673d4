//! Decides which clients and contacts an item belongs to, from its
//! participants and a snapshot of the directory. Pure: no I/O, no clock.
//!
//! The rules, in order (README "How matching decides"):
//! 1. a participant on the blocklist keeps the whole item out of the store;
//! 2. own addresses and addresses at own domains are never linked; an item
//!    whose participants are all ours is internal;
//! 3. a contact's exact address links that contact and its client;
//! 4. otherwise the address's domain, or a parent of it down to the
//!    registrable domain, links every client that owns it (several owners:
//!    each link is marked ambiguous); free-mail domains never match here.
//!
//! Notes also match by name (last, after front matter, addresses, IČO and
//! folders): client and contact names are found in any grammatical case
//! by comparing Czech stems word by word ([`crate::stem::czech`]), and
//! short, common or shared names never link on their own.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::address::{domain_chain, domain_of, within};
use crate::model::{ClientId, ContactId, Link, LinkReason, Participant};

/// What the matcher needs to know about the directory and the user.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Normalised address → the contacts (and their clients) that use it;
    /// `None` for an address of the company itself (info@, fakturace@).
    contacts_by_address: HashMap<String, Vec<(Option<ContactId>, ClientId)>>,
    /// Normalised domain → clients that own it.
    clients_by_domain: HashMap<String, Vec<ClientId>>,
    own_addresses: HashSet<String>,
    own_domains: Vec<String>,
    free_mail: HashSet<String>,
    blocked_addresses: HashSet<String>,
    blocked_domains: Vec<String>,
    /// Erased people (`kronika person forget`): the store's key and the
    /// keyed hashes of their addresses ([`suppress_hash`]).
    suppressed: Option<(Vec<u8>, HashSet<String>)>,
    /// Every client with its folded name, the name without its legal form
    /// (for finding it in a note's text) and IČO.
    clients: Vec<ClientEntry>,
    /// Every contact with its folded name.
    contacts: Vec<(ContactId, ClientId, String)>,
    /// Stemmed names of clients and contacts, by their first stem, so a
    /// note's words are looked up once each instead of scanning every name.
    names: HashMap<String, Vec<NameEntry>>,
    /// (Surname stem, feminine -ová form) → the contacts that carry it: a
    /// surname alone links only the one contact with it.
    surnames: HashMap<(String, bool), Vec<ContactId>>,
}

/// A name as a sequence of stems ("pekarn", "novak") and what it names.
#[derive(Debug, Clone)]
struct NameEntry {
    stems: Vec<String>,
    target: NameTarget,
    /// For a contact: where the surname sits in `stems`, and whether it is
    /// a feminine -ová form. The stemmer gives "Horák" and "Horáková" one
    /// stem, but they are two people.
    surname: Option<(usize, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameTarget {
    Client(ClientId),
    /// A contact's full name (given names and surname, either order).
    Contact(ContactId, ClientId),
    /// A contact's surname alone: needs a salutation before it.
    Surname(ContactId, ClientId),
}

#[derive(Debug, Clone)]
struct ClientEntry {
    id: ClientId,
    folded: String,
    core: String,
    ico: Option<String>,
}

/// What a note says about its client beyond addresses: front matter and
/// the folders it sits in (nearest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoteHints {
    /// `client:` from front matter (name, IČO or id).
    pub client: Option<String>,
    /// `contact:` from front matter (name or address).
    pub contact: Option<String>,
    /// Folder names between the notes root and the file, nearest first.
    pub folders: Vec<String>,
}

/// The outcome for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A participant is on the blocklist: do not store the item at all.
    Blocked { address: String },
    /// Only our own people take part.
    Internal,
    /// The links found (possibly none).
    Links(Vec<Link>),
}

/// The suppress list's hash of a normalised address: SHA-256 of the
/// store's random key and the address, so the list cannot be checked
/// against a list of addresses without the database.
pub fn suppress_hash(key: &[u8], address: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(key);
    h.update(address.as_bytes());
    hex::encode(h.finalize())
}

/// The user's own side and private exclusions, as the config gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub own_addresses: Vec<String>,
    pub own_domains: Vec<String>,
    pub free_mail_domains: Vec<String>,
    /// Addresses, or `@domain` entries that cover the domain and its subdomains.
    pub blocklist: Vec<String>,
    /// Who becomes a contact by themselves (the store applies it).
    pub auto_contacts: crate::model::AutoContacts,
}

impl Directory {
    /// Builds a directory from the policy; add clients and contacts with
    /// [`Directory::add_domain`] and [`Directory::add_contact_address`].
    pub fn new(policy: &Policy) -> Directory {
        let mut d = Directory {
            own_addresses: policy.own_addresses.iter().cloned().collect(),
            own_domains: policy.own_domains.clone(),
            free_mail: policy.free_mail_domains.iter().cloned().collect(),
            ..Directory::default()
        };
        for entry in &policy.blocklist {
            match entry.strip_prefix('@') {
                Some(domain) => d.blocked_domains.push(domain.to_string()),
                None => {
                    d.blocked_addresses.insert(entry.clone());
                }
            }
        }
        d
    }

    pub fn add_domain(&mut self, domain: &str, client: ClientId) {
        let owners = self.clients_by_domain.entry(domain.to_string()).or_default();
        if !owners.contains(&client) {
            owners.push(client);
        }
    }

    /// Registers a client for note matching (names, IČO, folders).
    pub fn add_client(&mut self, id: ClientId, name: &str, ico: Option<&str>) {
        let folded = crate::text::fold(name);
        let core = strip_legal_form(&folded);
        let stems: Vec<String> = words(&core).into_iter().map(|w| w.stem).collect();
        if distinctive(&stems) {
            self.add_name(stems, NameTarget::Client(id), None);
        }
        self.clients.push(ClientEntry { id, folded, core, ico: ico.map(str::to_string) });
    }

    /// Registers a contact's name for note matching.
    pub fn add_contact_name(&mut self, id: ContactId, client: ClientId, name: &str) {
        // "Ing. Karel Horák", "Horák Karel": titles dropped, surname last.
        let plain = crate::person::parse_display_name(name).map_or_else(|| name.to_string(), |p| p.name);
        let name_words = words(&plain);
        let fem = name_words.last().is_some_and(|w| w.feminine);
        let stems: Vec<String> = name_words.into_iter().map(|w| w.stem).collect();
        if let Some(surname) = stems.last() {
            let letters = plain.split_whitespace().next_back().map_or(0, |w| w.chars().count());
            // A surname shorter than four letters ("Su", "Ek") is too often something else.
            if letters >= 4 && surname.chars().count() >= 2 {
                let carriers = self.surnames.entry((surname.clone(), fem)).or_default();
                if !carriers.contains(&id) {
                    carriers.push(id);
                }
                self.add_name(vec![surname.clone()], NameTarget::Surname(id, client), Some((0, fem)));
            }
        }
        if stems.len() >= 2 {
            if let [given, surname] = stems.as_slice() {
                // Notes say "Horák Karel" as often as "Karel Horák".
                self.add_name(vec![surname.clone(), given.clone()], NameTarget::Contact(id, client), Some((0, fem)));
            }
            let last = stems.len() - 1;
            self.add_name(stems, NameTarget::Contact(id, client), Some((last, fem)));
        }
        self.contacts.push((id, client, crate::text::fold(name)));
    }

    fn add_name(&mut self, stems: Vec<String>, target: NameTarget, surname: Option<(usize, bool)>) {
        let Some(first) = stems.first() else { return };
        self.names.entry(first.clone()).or_default().push(NameEntry { stems, target, surname });
    }

    /// Client and contact names in a text, in any grammatical case: the
    /// text's words are stemmed once and each is looked up among the
    /// names' first stems. At each word the longest name found wins; a
    /// name shared by two clients (or two contacts) links nobody, and a
    /// surname alone links only after a salutation ("panu Horákovi") and
    /// only when no other contact has that surname.
    fn names_in(&self, text: &str) -> Vec<Link> {
        let words = words(text);
        let mut found: Vec<Link> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let here = words.get(i..).unwrap_or_default();
            let Some(bucket) = here.first().and_then(|w| self.names.get(&w.stem)) else {
                i += 1;
                continue;
            };
            let fits = |e: &&NameEntry| {
                e.stems.len() <= here.len()
                    && e.stems.iter().zip(here).enumerate().all(|(n, (s, w))| *s == w.stem && (n == 0 || w.tight))
                    && e.surname.is_none_or(|(at, fem)| here.get(at).is_some_and(|w| w.feminine == fem))
            };
            let matching: Vec<&NameEntry> = bucket.iter().filter(fits).collect();
            let longest = matching.iter().map(|e| e.stems.len()).max().unwrap_or(0);
            let spelled = |n: usize| here.iter().take(n).map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            let before = i.checked_sub(1).and_then(|b| words.get(b));
            let mut linked = false;
            let mut clients: Vec<ClientId> = Vec::new();
            let mut contacts: Vec<(ContactId, ClientId)> = Vec::new();
            let mut by_surname: Vec<(ContactId, ClientId)> = Vec::new();
            for e in matching.iter().filter(|e| e.stems.len() == longest) {
                match e.target {
                    NameTarget::Client(c) if !clients.contains(&c) => clients.push(c),
                    NameTarget::Contact(p, c) if !contacts.contains(&(p, c)) => contacts.push((p, c)),
                    NameTarget::Surname(p, c) if !by_surname.contains(&(p, c)) => by_surname.push((p, c)),
                    _ => {}
                }
            }
            let name_link = |client, contact, evidence: String| Link {
                client,
                contact,
                reason: LinkReason::Name,
                ambiguous: false,
                evidence: format!("name {evidence:?}"),
            };
            if let [client] = clients.as_slice() {
                found.push(name_link(*client, None, spelled(longest)));
                linked = true;
            }
            if let [(contact, client)] = contacts.as_slice() {
                found.push(name_link(*client, Some(*contact), spelled(longest)));
                linked = true;
            }
            if let ([(contact, client)], Some(salutation)) = (by_surname.as_slice(), before)
                && here.first().is_some_and(|w| w.tight || w.after_dot)
                && SALUTATIONS.contains(&crate::text::fold(&salutation.text).as_str())
                && here
                    .first()
                    .and_then(|w| self.surnames.get(&(w.stem.clone(), w.feminine)))
                    .is_some_and(|c| c.len() == 1)
            {
                found.push(name_link(
                    *client,
                    Some(*contact),
                    format!(
                        "{}{} {}",
                        salutation.text,
                        if here.first().is_some_and(|w| w.after_dot) { "." } else { "" },
                        spelled(1)
                    ),
                ));
                linked = true;
            }
            i += if linked { longest.max(1) } else { 1 };
        }
        // Each (client, contact) once, first mention first; a client named
        // through one of its contacts needs no link of its own.
        let mut out: Vec<Link> = Vec::new();
        for l in found {
            if !out.iter().any(|o| o.client == l.client && o.contact == l.contact) {
                out.push(l);
            }
        }
        let with_contact: HashSet<ClientId> = out.iter().filter(|l| l.contact.is_some()).map(|l| l.client).collect();
        out.retain(|l| l.contact.is_some() || !with_contact.contains(&l.client));
        out
    }

    /// A client by id, IČO, exact name or unique name prefix (accents and case ignored).
    pub fn resolve_client(&self, query: &str) -> Option<ClientId> {
        let q = query.trim();
        if q.is_empty() {
            return None;
        }
        if q.chars().all(|c| c.is_ascii_digit()) {
            if let Some(c) = self.clients.iter().find(|c| c.ico.as_deref() == Some(&format!("{q:0>8}"))) {
                return Some(c.id);
            }
            if let Ok(id) = q.parse::<i64>()
                && let Some(c) = self.clients.iter().find(|c| c.id.0 == id)
            {
                return Some(c.id);
            }
        }
        let f = crate::text::fold(q);
        if let Some(c) = self.clients.iter().find(|c| c.folded == f || c.core == f) {
            return Some(c.id);
        }
        let prefixed: Vec<&ClientEntry> = self.clients.iter().filter(|c| c.folded.starts_with(&f)).collect();
        (prefixed.len() == 1).then(|| prefixed[0].id)
    }

    /// A contact of `client` by address or name.
    fn resolve_contact(&self, client: ClientId, query: &str) -> Option<ContactId> {
        if let Some(addr) = crate::address::normalize(query)
            && let Some(list) = self.contacts_by_address.get(&addr)
        {
            return list.iter().find(|(_, c)| *c == client).and_then(|(p, _)| *p);
        }
        let f = crate::text::fold(query);
        let hits: Vec<ContactId> = self
            .contacts
            .iter()
            .filter(|(_, c, n)| *c == client && (*n == f || n.starts_with(&f)))
            .map(|(p, _, _)| *p)
            .collect();
        (hits.len() == 1).then(|| hits[0])
    }

    /// Decides a note's links. In order: the front matter's client; else
    /// addresses in the note (as for mail); else IČO numbers in the text;
    /// else the folder it sits in; else client and contact names in the
    /// text, in any grammatical case (see `names_in`). Returns
    /// the decision and warnings worth showing the user.
    pub fn decide_note(&self, participants: &[Participant], hints: &NoteHints, text: &str) -> (Decision, Vec<String>) {
        let mut warnings = Vec::new();
        let by_address = self.decide(participants);
        if matches!(by_address, Decision::Blocked { .. }) {
            return (by_address, warnings);
        }
        let link = |client: ClientId, contact: Option<ContactId>, reason: LinkReason, evidence: String| Link {
            client,
            contact,
            reason,
            ambiguous: false,
            evidence,
        };
        if let Some(query) = &hints.client {
            return match self.resolve_client(query) {
                Some(client) => {
                    let contact = hints.contact.as_deref().and_then(|c| self.resolve_contact(client, c));
                    if let (Some(c), None) = (&hints.contact, contact) {
                        let company_address = crate::address::normalize(c)
                            .and_then(|a| self.contacts_by_address.get(&a))
                            .is_some_and(|l| l.iter().any(|(_, owner)| *owner == client));
                        if !company_address {
                            warnings.push(format!("contact {c:?} is not a contact of this client"));
                        }
                    }
                    (
                        Decision::Links(vec![link(
                            client,
                            contact,
                            LinkReason::Manual,
                            format!("front matter client: {query}"),
                        )]),
                        warnings,
                    )
                }
                None => {
                    warnings.push(format!(
                        "client {query:?} from the front matter is not in the directory; the note stays unlinked"
                    ));
                    (Decision::Links(Vec::new()), warnings)
                }
            };
        }
        if let Decision::Links(l) = &by_address
            && !l.is_empty()
        {
            return (by_address, warnings);
        }
        let icos: Vec<Link> = find_icos(text)
            .into_iter()
            .filter_map(|ico| {
                self.clients
                    .iter()
                    .find(|c| c.ico.as_deref() == Some(ico.as_str()))
                    .map(|c| link(c.id, None, LinkReason::Ico, format!("IČO {ico}")))
            })
            .collect();
        if !icos.is_empty() {
            return (Decision::Links(dedup_links(icos)), warnings);
        }
        for folder in &hints.folders {
            if let Some(client) = self.resolve_client(folder) {
                return (
                    Decision::Links(vec![link(client, None, LinkReason::Folder, format!("folder {folder}"))]),
                    warnings,
                );
            }
        }
        (Decision::Links(self.names_in(text)), warnings)
    }

    /// The contacts (not the clients' own) that use `address`.
    pub fn contacts_at(&self, address: &str) -> impl Iterator<Item = ContactId> + '_ {
        self.contacts_by_address.get(address).into_iter().flatten().filter_map(|(contact, _)| *contact)
    }

    pub fn add_contact_address(&mut self, address: &str, contact: Option<ContactId>, client: ClientId) {
        let list = self.contacts_by_address.entry(address.to_string()).or_default();
        if !list.contains(&(contact, client)) {
            list.push((contact, client));
        }
    }

    /// Forgets one owner of an address (the store's cached directory
    /// follows an address moved from a client to its new contact).
    pub fn remove_contact_address(&mut self, address: &str, contact: Option<ContactId>, client: ClientId) {
        if let Some(list) = self.contacts_by_address.get_mut(address) {
            list.retain(|e| *e != (contact, client));
            if list.is_empty() {
                self.contacts_by_address.remove(address);
            }
        }
    }

    /// True when the address is one of ours (an own address or at an own domain).
    pub fn is_own(&self, address: &str) -> bool {
        self.own_addresses.contains(address)
            || domain_of(address).is_some_and(|d| self.own_domains.iter().any(|o| within(d, o)))
    }

    /// True when the address's domain is a free-mail provider (or a subdomain of one).
    pub fn is_free_mail(&self, address: &str) -> bool {
        domain_of(address)
            .is_some_and(|d| self.free_mail.contains(d) || domain_chain(d).iter().any(|p| self.free_mail.contains(*p)))
    }

    /// Erased people's addresses, by their keyed hashes: items with them
    /// are refused like the blocklist's.
    pub fn set_suppressed(&mut self, key: Vec<u8>, hashes: impl IntoIterator<Item = String>) {
        self.suppressed = Some((key, hashes.into_iter().collect()));
    }

    /// The blocklist entry that covers the address, if any (an erased
    /// person's address is covered by the suppress list).
    pub fn blocked(&self, address: &str) -> Option<String> {
        if self.blocked_addresses.contains(address) {
            return Some(address.to_string());
        }
        if let Some((key, hashes)) = &self.suppressed
            && hashes.contains(&suppress_hash(key, address))
        {
            return Some("an erased person".to_string());
        }
        let domain = domain_of(address)?;
        self.blocked_domains.iter().find(|b| within(domain, b)).map(|b| format!("@{b}"))
    }

    /// Decides the links of an item from its participants.
    pub fn decide(&self, participants: &[Participant]) -> Decision {
        let addresses: Vec<&str> = participants.iter().map(|p| p.address.as_str()).filter(|a| !a.is_empty()).collect();
        for a in &addresses {
            if self.blocked(a).is_some() {
                return Decision::Blocked { address: a.to_string() };
            }
        }
        let foreign: Vec<&str> = addresses.iter().copied().filter(|a| !self.is_own(a)).collect();
        if foreign.is_empty() && !addresses.is_empty() {
            return Decision::Internal;
        }
        // Keyed by (client, contact) so each pair appears once; the first
        // reason found wins because participants come in header order.
        let mut links: BTreeMap<(ClientId, Option<ContactId>), Link> = BTreeMap::new();
        for a in foreign {
            if let Some(owners) = self.contacts_by_address.get(a) {
                let ambiguous = owners.len() > 1;
                for (contact, client) in owners {
                    links.entry((*client, *contact)).or_insert(Link {
                        client: *client,
                        contact: *contact,
                        reason: LinkReason::Address,
                        ambiguous,
                        evidence: a.to_string(),
                    });
                }
                continue;
            }
            if self.is_free_mail(a) {
                continue;
            }
            let Some(domain) = domain_of(a) else { continue };
            // The most specific owned domain decides: `mail.acme.cz` owned by
            // one client wins over `acme.cz` owned by another.
            for candidate in domain_chain(domain) {
                if let Some(owners) = self.clients_by_domain.get(candidate) {
                    let ambiguous = owners.len() > 1;
                    for client in owners {
                        links.entry((*client, None)).or_insert(Link {
                            client: *client,
                            contact: None,
                            reason: LinkReason::Domain,
                            ambiguous,
                            evidence: a.to_string(),
                        });
                    }
                    break;
                }
            }
        }
        // A client already linked through one of its contacts needs no
        // separate domain link.
        let with_contact: HashSet<ClientId> = links.keys().filter(|(_, c)| c.is_some()).map(|(cl, _)| *cl).collect();
        let out = links.into_values().filter(|l| l.contact.is_some() || !with_contact.contains(&l.client)).collect();
        Decision::Links(out)
    }
}

/// Legal forms dropped when looking for a company's name in free text.
const LEGAL_FORMS: &[&str] = &[
    "s.r.o.",
    "s. r. o.",
    "spol. s r.o.",
    "a.s.",
    "a. s.",
    "v.o.s.",
    "k.s.",
    "z.s.",
    "ltd",
    "ltd.",
    "limited",
    "gmbh",
    "inc.",
    "inc",
    "plc",
];

/// `pekarna novak s.r.o.` → `pekarna novak`.
fn strip_legal_form(folded: &str) -> String {
    let mut s = folded.trim().trim_end_matches(',').to_string();
    loop {
        let before = s.clone();
        for form in LEGAL_FORMS {
            if let Some(rest) = s.strip_suffix(form) {
                s = rest.trim().trim_end_matches(',').trim().to_string();
            }
        }
        if s == before {
            return s;
        }
    }
}

/// A word of a text (letters and digits), its Czech stem, and how it
/// joins the word before it.
#[derive(Debug)]
struct Word {
    text: String,
    stem: String,
    /// Only spaces, line breaks or a hyphen since the previous word: the
    /// two can belong to one name ("Pekárnou Novák", "Nováková-Malá").
    tight: bool,
    /// The previous word ends with a dot ("Ing. Horák").
    after_dot: bool,
    /// A feminine surname's form: "Horáková", "Horákové", "Horákovou".
    feminine: bool,
}

/// The words of a text, each stemmed once.
fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current = String::new();
    // How the gap since the last word looks so far.
    let (mut tight, mut after_dot, mut gap_start) = (true, false, false);
    for c in text.chars() {
        if c.is_alphanumeric() {
            current.push(c);
            continue;
        }
        if !current.is_empty() {
            let text = std::mem::take(&mut current);
            out.push(Word { stem: crate::stem::czech(&text), feminine: feminine(&text), text, tight, after_dot });
            (tight, after_dot, gap_start) = (true, false, true);
        }
        if gap_start && c == '.' {
            (tight, after_dot) = (false, true);
        } else if !(c.is_whitespace() || c == '-') {
            (tight, after_dot) = (false, false);
        }
        gap_start = false;
    }
    if !current.is_empty() {
        out.push(Word {
            stem: crate::stem::czech(&current),
            feminine: feminine(&current),
            text: current,
            tight,
            after_dot,
        });
    }
    out
}

/// Is the word a form of a feminine -ová surname? Masculine forms end
/// otherwise ("Horákovi" is Horák's dative), so this tells the two apart
/// where their stems meet.
fn feminine(word: &str) -> bool {
    let f = crate::text::fold(word);
    f.chars().count() >= 4 && ["ova", "ove", "ovou"].iter().any(|e| f.ends_with(e))
}

/// Salutations and titles that let a surname alone name a contact (folded).
const SALUTATIONS: &[&str] = &[
    "pan", "pana", "panu", "panem", "pane", "panovi", "pani", "slecna", "slecny", "slecne", "slecnou", "kolega",
    "kolegu", "kolegovi", "kolegou", "kolego", "kolegyne", "kolegyni", "ing", "mgr", "bc", "dr", "judr", "mudr", "doc",
    "prof", "mr", "mrs", "ms", "miss",
];

/// Words too common to name a client alone: "Stavby s.r.o." is no client
/// anybody would recognise in "stavby na Kladně" (compared stemmed).
const COMMON_NAME_WORDS: &[&str] = &[
    "stavby",
    "stavba",
    "stavebni",
    "servis",
    "service",
    "services",
    "obchod",
    "doprava",
    "transport",
    "projekt",
    "projekty",
    "group",
    "partner",
    "partners",
    "system",
    "systems",
    "solutions",
    "consulting",
    "trade",
    "trading",
    "holding",
    "invest",
    "reality",
    "design",
    "studio",
    "media",
    "market",
    "shop",
    "eshop",
    "centrum",
    "center",
    "elektro",
    "energie",
    "energy",
    "logistika",
    "montaze",
    "vyroba",
    "prodej",
    "nakup",
    "data",
    "software",
    "tech",
    "team",
    "klima",
    "okna",
    "auto",
    "autoservis",
    "tisk",
    "print",
    "company",
    "firma",
    "nabytek",
    "global",
    "international",
    "europe",
    "czech",
    "praha",
    "brno",
    "ostrava",
    "morava",
    "bohemia",
    "plus",
    "profi",
    "real",
    "home",
    "byty",
    "domy",
];

/// Can this stemmed client name link on its own? Not a single word
/// shorter than five letters ("Alfa", "Gama") or a common word, and not
/// only common words.
fn distinctive(stems: &[String]) -> bool {
    static COMMON: std::sync::LazyLock<HashSet<String>> =
        std::sync::LazyLock::new(|| COMMON_NAME_WORDS.iter().map(|w| crate::stem::czech(w)).collect());
    match stems {
        [] => false,
        [one] => one.chars().count() >= 5 && !COMMON.contains(one),
        many => !many.iter().all(|s| COMMON.contains(s)),
    }
}

/// Valid IČO numbers (8 digits with a correct check digit) standing alone in a text.
pub fn find_icos(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j - i == 8 {
                let candidate = &text[i..j];
                if crate::model::Ico::parse(candidate).is_ok() && !out.iter().any(|o| o == candidate) {
                    out.push(candidate.to_string());
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn dedup_links(links: Vec<Link>) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    for l in links {
        if !out.iter().any(|o| o.client == l.client) {
            out.push(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    const ACME: ClientId = ClientId(1);
    const BETA: ClientId = ClientId(2);
    const GAMMA: ClientId = ClientId(3);
    const UK: ClientId = ClientId(4);
    const KAREL: ContactId = ContactId(10);
    const LUCIE: ContactId = ContactId(11);

    fn directory() -> Directory {
        let mut d = Directory::new(&Policy {
            own_addresses: vec!["jana@modrykamen.cz".into(), "me@gmail.com".into()],
            own_domains: vec!["modrykamen.cz".into()],
            free_mail_domains: vec!["gmail.com".into(), "seznam.cz".into()],
            blocklist: vec!["mama@gmail.com".into(), "@private.example".into()],
            ..Policy::default()
        });
        d.add_domain("acme.cz", ACME);
        d.add_domain("beta.cz", BETA);
        d.add_domain("shared.cz", BETA);
        d.add_domain("shared.cz", GAMMA);
        d.add_domain("brightwell.co.uk", UK);
        d.add_domain("sklad.beta.cz", GAMMA);
        d.add_contact_address("karel@acme.cz", Some(KAREL), ACME);
        d.add_contact_address("karel.private@seznam.cz", Some(KAREL), ACME);
        d.add_contact_address("lucie@beta.cz", Some(LUCIE), ACME);
        d.add_contact_address("info@shared.cz", None, GAMMA);
        d
    }

    fn p(role: Role, address: &str) -> Participant {
        Participant { role, name: None, address: address.into() }
    }

    /// (client, contact, reason, ambiguous)
    type Want = (ClientId, Option<ContactId>, LinkReason, bool);

    fn links(decision: Decision) -> Vec<Want> {
        match decision {
            Decision::Links(l) => l.into_iter().map(|l| (l.client, l.contact, l.reason, l.ambiguous)).collect(),
            other => panic!("expected links, got {other:?}"),
        }
    }

    #[test]
    fn rules_table() {
        use LinkReason::*;
        use Role::*;
        let d = directory();
        let cases: Vec<(&str, Vec<Participant>, Vec<Want>)> = vec![
            (
                "contact exact address",
                vec![p(From, "karel@acme.cz"), p(To, "jana@modrykamen.cz")],
                vec![(ACME, Some(KAREL), Address, false)],
            ),
            (
                "contact at free-mail address still matches",
                vec![p(From, "karel.private@seznam.cz")],
                vec![(ACME, Some(KAREL), Address, false)],
            ),
            ("unknown person at client domain", vec![p(From, "novy@acme.cz")], vec![(ACME, None, Domain, false)]),
            ("subdomain belongs to parent", vec![p(From, "x@mail.acme.cz")], vec![(ACME, None, Domain, false)]),
            ("deeper subdomain", vec![p(Cc, "x@a.b.acme.cz")], vec![(ACME, None, Domain, false)]),
            ("look-alike domain does not match", vec![p(From, "x@notacme.cz")], vec![]),
            ("public suffix aware co.uk", vec![p(From, "s@mail.brightwell.co.uk")], vec![(UK, None, Domain, false)]),
            ("other co.uk company is not brightwell", vec![p(From, "s@other.co.uk")], vec![]),
            ("free-mail never matches by domain", vec![p(From, "someone@gmail.com")], vec![]),
            (
                "shared domain links all owners, ambiguous",
                vec![p(From, "x@shared.cz")],
                vec![(BETA, None, Domain, true), (GAMMA, None, Domain, true)],
            ),
            ("most specific owned domain wins", vec![p(From, "x@sklad.beta.cz")], vec![(GAMMA, None, Domain, false)]),
            (
                "contact address beats the domain's owner",
                vec![p(From, "lucie@beta.cz")],
                vec![(ACME, Some(LUCIE), Address, false)],
            ),
            (
                "several clients on one item",
                vec![p(From, "karel@acme.cz"), p(Cc, "y@beta.cz")],
                vec![(ACME, Some(KAREL), Address, false), (BETA, None, Domain, false)],
            ),
            (
                "contact link absorbs the domain link of the same client",
                vec![p(From, "karel@acme.cz"), p(Cc, "novy@acme.cz")],
                vec![(ACME, Some(KAREL), Address, false)],
            ),
            (
                "bcc and reply-to count",
                vec![p(Bcc, "x@beta.cz"), p(ReplyTo, "karel@acme.cz")],
                vec![(ACME, Some(KAREL), Address, false), (BETA, None, Domain, false)],
            ),
            (
                "attendees count",
                vec![p(Organizer, "jana@modrykamen.cz"), p(Attendee, "x@beta.cz")],
                vec![(BETA, None, Domain, false)],
            ),
            (
                "own address at free-mail is never a client",
                vec![p(From, "me@gmail.com"), p(To, "x@acme.cz")],
                vec![(ACME, None, Domain, false)],
            ),
            (
                "company address links the client only",
                vec![p(From, "info@shared.cz")],
                vec![(GAMMA, None, Address, false)],
            ),
            ("nobody known", vec![p(From, "x@unknown.cz")], vec![]),
            ("no participants at all", vec![], vec![]),
        ];
        for (name, participants, want) in cases {
            assert_eq!(links(d.decide(&participants)), want, "case: {name}");
        }
    }

    #[test]
    fn notes_rules_table() {
        use LinkReason::*;
        let mut d = directory();
        d.add_client(ACME, "Acme Stavby s.r.o.", Some("27468135"));
        d.add_client(BETA, "Pekárna Novák s.r.o.", Some("05831296"));
        d.add_client(GAMMA, "Gamma", None);
        d.add_contact_name(KAREL, ACME, "Karel Horák");
        let hints = |client: Option<&str>, folders: &[&str]| NoteHints {
            client: client.map(str::to_string),
            contact: Some("karel".into()),
            folders: folders.iter().map(|s| s.to_string()).collect(),
        };
        let mentioned = |a: &str| vec![p(Role::Mentioned, a)];
        type Case<'a> = (&'a str, Vec<Participant>, NoteHints, &'a str, Vec<(ClientId, LinkReason)>);
        let cases: Vec<Case> = vec![
            ("front matter by name", vec![], hints(Some("acme stavby"), &[]), "", vec![(ACME, Manual)]),
            ("front matter by IČO", vec![], hints(Some("5831296"), &[]), "", vec![(BETA, Manual)]),
            (
                "front matter beats everything",
                mentioned("x@beta.cz"),
                hints(Some("Acme"), &["Gamma"]),
                "",
                vec![(ACME, Manual)],
            ),
            (
                "unknown front matter client stays unlinked",
                mentioned("x@beta.cz"),
                hints(Some("Nobody"), &[]),
                "",
                vec![],
            ),
            ("address in the text", mentioned("novy@acme.cz"), hints(None, &["Gamma"]), "", vec![(ACME, Domain)]),
            (
                "IČO in the text",
                vec![],
                hints(None, &["Gamma"]),
                "Odběratel IČO: 05831296, děkujeme",
                vec![(BETA, Ico)],
            ),
            (
                "invalid IČO is ignored; folder decides",
                vec![],
                hints(None, &["Gamma"]),
                "číslo 05831297",
                vec![(GAMMA, Folder)],
            ),
            ("folder by prefix, nearest first", vec![], hints(None, &["2026", "Pekárna"]), "", vec![(BETA, Folder)]),
            (
                "name in the text without legal form",
                vec![],
                hints(None, &["misc"]),
                "Volal pan Novák, firma PEKÁRNA NOVÁK chce servis.",
                vec![(BETA, Name)],
            ),
            ("a name inside a word is no match", vec![], hints(None, &[]), "acme stavbyvedouci", vec![]),
        ];
        for (name, participants, h, text, want) in cases {
            let (decision, _) = d.decide_note(&participants, &h, text);
            let got: Vec<(ClientId, LinkReason)> = match decision {
                Decision::Links(l) => l.into_iter().map(|l| (l.client, l.reason)).collect(),
                other => panic!("{name}: {other:?}"),
            };
            assert_eq!(got, want, "case: {name}");
        }
        let (_, warnings) = d.decide_note(&[], &hints(Some("Nobody"), &[]), "");
        assert!(warnings[0].contains("Nobody"));
        let (Decision::Links(l), _) = d.decide_note(&[], &hints(Some("Acme"), &[]), "") else { panic!() };
        assert_eq!(l[0].contact, Some(KAREL));
    }

    const JANA: ContactId = ContactId(12);
    const PETR: ContactId = ContactId(13);
    const PAVEL: ContactId = ContactId(14);
    const HORIZONT_A: ClientId = ClientId(5);
    const HORIZONT_B: ClientId = ClientId(6);
    const STAVBY: ClientId = ClientId(7);

    /// The directory for names in notes: clients in any case, contacts by
    /// full name and by surname after a salutation.
    fn name_directory() -> Directory {
        let mut d = directory();
        d.add_client(ACME, "Acme Stavby s.r.o.", None);
        d.add_client(BETA, "Pekárna Novák s.r.o.", None);
        d.add_client(GAMMA, "Gamma", None);
        d.add_client(HORIZONT_A, "Horizont s.r.o.", None);
        d.add_client(HORIZONT_B, "Horizont a.s.", None);
        d.add_client(STAVBY, "Stavby s.r.o.", None);
        d.add_contact_name(KAREL, ACME, "Ing. Karel Horák");
        d.add_contact_name(LUCIE, ACME, "Lucie Malá");
        d.add_contact_name(JANA, BETA, "Jana Horáková");
        d.add_contact_name(PETR, GAMMA, "Petr Dvořák");
        d.add_contact_name(PAVEL, BETA, "Pavel Dvořák");
        d
    }

    fn named(d: &Directory, text: &str) -> Vec<(ClientId, Option<ContactId>, String)> {
        match d.decide_note(&[], &NoteHints::default(), text).0 {
            Decision::Links(l) => l
                .into_iter()
                .inspect(|l| assert_eq!(l.reason, LinkReason::Name, "{text}"))
                .map(|l| (l.client, l.contact, l.evidence))
                .collect(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn names_in_all_seven_cases() {
        let d = name_directory();
        // (text, client, contact, the form named in the evidence)
        let cases: Vec<(&str, ClientId, Option<ContactId>, &str)> = vec![
            ("Pekárna Novák volala kvůli peci.", BETA, None, "Pekárna Novák"),
            ("Nic nového od Pekárny Novák.", BETA, None, "Pekárny Novák"),
            ("Poslali jsme nabídku Pekárně Novák.", BETA, None, "Pekárně Novák"),
            ("Máme rádi Pekárnu Novák.", BETA, None, "Pekárnu Novák"),
            ("Milá Pekárno Novák, děkujeme.", BETA, None, "Pekárno Novák"),
            ("Mluvili jsme o PEKÁRNĚ NOVÁK.", BETA, None, "PEKÁRNĚ NOVÁK"),
            ("volal jsem s Pekárnou Novák", BETA, None, "Pekárnou Novák"),
            ("volal jsem s pekarnou novak", BETA, None, "pekarnou novak"),
            ("Acme Stavby chtějí termín.", ACME, None, "Acme Stavby"),
            ("Faktura od Acme Staveb přišla.", ACME, None, "Acme Staveb"),
            ("Poslali jsme Acme Stavbám smlouvu.", ACME, None, "Acme Stavbám"),
            ("Navštívili jsme Acme Stavby.", ACME, None, "Acme Stavby"),
            ("Zmínka o Acme Stavbách v tisku.", ACME, None, "Acme Stavbách"),
            ("s firmou Acme Stavby", ACME, None, "Acme Stavby"),
            ("Jednali jsme s Acme Stavbami.", ACME, None, "Acme Stavbami"),
            ("Karel Horák volal.", ACME, Some(KAREL), "Karel Horák"),
            ("Bez Karla Horáka to nepůjde.", ACME, Some(KAREL), "Karla Horáka"),
            ("Poslat Karlovi Horákovi nabídku.", ACME, Some(KAREL), "Karlovi Horákovi"),
            ("Viděl jsem Karla Horáka.", ACME, Some(KAREL), "Karla Horáka"),
            ("Karle Horáku, ozvěte se.", ACME, Some(KAREL), "Karle Horáku"),
            ("Mluvili jsme o Karlovi Horákovi.", ACME, Some(KAREL), "Karlovi Horákovi"),
            ("Schůzka s Karlem Horákem.", ACME, Some(KAREL), "Karlem Horákem"),
            ("Volal Horák Karel.", ACME, Some(KAREL), "Horák Karel"),
            ("Lucie Malá pošle výkresy.", ACME, Some(LUCIE), "Lucie Malá"),
            ("Výkresy od Lucie Malé.", ACME, Some(LUCIE), "Lucie Malé"),
            ("Poslat Lucii Malé.", ACME, Some(LUCIE), "Lucii Malé"),
            ("Známe Lucii Malou dlouho.", ACME, Some(LUCIE), "Lucii Malou"),
            ("Mluvili jsme o Lucii Malé.", ACME, Some(LUCIE), "Lucii Malé"),
            ("Schůzka s Lucií Malou.", ACME, Some(LUCIE), "Lucií Malou"),
            ("Volal pan Horák.", ACME, Some(KAREL), "pan Horák"),
            ("Zavolat panu Horákovi.", ACME, Some(KAREL), "panu Horákovi"),
            ("Mluvil jsem s panem Horákem.", ACME, Some(KAREL), "panem Horákem"),
            ("Pane Horáku, děkujeme.", ACME, Some(KAREL), "Pane Horáku"),
            ("Přijde Ing. Horák.", ACME, Some(KAREL), "Ing. Horák"),
            ("Poslat paní Malé výkresy.", ACME, Some(LUCIE), "paní Malé"),
            ("Jednal jsem s paní Malou.", ACME, Some(LUCIE), "paní Malou"),
            ("Přijde kolegyně Malá.", ACME, Some(LUCIE), "kolegyně Malá"),
            ("Mluvil jsem s paní Horákovou.", BETA, Some(JANA), "paní Horákovou"),
            ("Poslat paní Horákové.", BETA, Some(JANA), "paní Horákové"),
            ("Petr Dvořák volal.", GAMMA, Some(PETR), "Petr Dvořák"),
            ("Pavlem Dvořákem začneme.", BETA, Some(PAVEL), "Pavlem Dvořákem"),
        ];
        let wrong: Vec<String> = cases
            .into_iter()
            .filter_map(|(text, client, contact, form)| {
                let got = named(&d, text);
                let want = vec![(client, contact, format!("name \"{form}\""))];
                (got != want).then(|| format!("{text:?}: got {got:?}, want {want:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn ambiguous_names_do_not_link() {
        let d = name_directory();
        let cases = [
            ("a name inside a word", "acme stavbyvedouci přijel"),
            ("a name glued to a word", "Pekárnanovák"),
            ("a short single-word client", "Gamma chce slevu."),
            ("a common word as a client's name", "Stavby na Kladně stojí."),
            ("two clients share a name", "Volali z Horizontu."),
            ("a surname without a salutation", "Horák volal, Malá taky."),
            ("a surname two contacts carry", "Volal pan Dvořák."),
            ("a salutation cut off by punctuation", "Volal pan, Horák ne."),
            ("a name across a sentence", "Pekárna. Novák"),
            ("the feminine surname is someone else", "Horákovou jsme neviděli."),
            ("nothing", ""),
        ];
        for (name, text) in cases {
            assert_eq!(named(&d, text), vec![], "case: {name}");
        }
        // Horáková's forms never name Horák.
        let mut only_karel = directory();
        only_karel.add_contact_name(KAREL, ACME, "Karel Horák");
        assert_eq!(named(&only_karel, "Mluvil jsem s paní Horákovou."), vec![]);
        assert_eq!(named(&only_karel, "Poslat paní Horákové."), vec![]);
        assert_eq!(
            named(&only_karel, "Poslat panu Horákovi."),
            vec![(ACME, Some(KAREL), "name \"panu Horákovi\"".to_string())]
        );
    }

    #[test]
    fn names_in_one_note() {
        let d = name_directory();
        // A client and a contact of another client; a contact absorbs its
        // client's own mention; each once, in the order found.
        assert_eq!(
            named(&d, "S Pekárnou Novák a s panem Horákem z Acme Stavby. Pekárně Novák zavolat."),
            vec![
                (BETA, None, "name \"Pekárnou Novák\"".to_string()),
                (ACME, Some(KAREL), "name \"panem Horákem\"".to_string())
            ]
        );
        // Malá's forms share one stem. Horák's and Horáková's may too (the
        // light stemmer takes -ová off), so the feminine form tells them apart.
        let stems = |w: &[&str]| w.iter().map(|w| crate::stem::czech(w)).collect::<HashSet<_>>();
        assert_eq!(stems(&["Malá", "Malé", "Malou"]).len(), 1);
        assert_eq!(stems(&["Horák", "Horáka", "Horákovi", "Horákem", "Horáku"]).len(), 1);
        assert_eq!(stems(&["Horáková", "Horákové", "Horákovou"]).len(), 1);
        assert!(["Horák", "Horáka", "Horákovi", "Horákem", "Horáku", "Malá", "Nový"].iter().all(|w| !feminine(w)));
        assert!(["Horáková", "Horákové", "Horákovou", "HORÁKOVÁ", "Nová"].iter().all(|w| feminine(w)));
    }

    #[test]
    fn names_scale_with_a_big_directory() {
        let mut d = directory();
        for n in 0..2_000i64 {
            d.add_client(ClientId(100 + n), &format!("Firma{n} Kladno s.r.o."), None);
        }
        for n in 0..8_000i64 {
            d.add_contact_name(ContactId(10_000 + n), ClientId(100 + n % 2_000), &format!("Jan Novák{n}"));
        }
        d.add_client(BETA, "Pekárna Novák s.r.o.", None);
        let mut text = "Běžný text poznámky o ničem zvláštním, jen slova a čísla 123. ".repeat(800);
        text.push_str("Nakonec volal jsem s Pekárnou Novák a s firmou Firma1999 Kladno.");
        assert!(text.len() > 50_000);
        let started = std::time::Instant::now();
        let got: Vec<ClientId> = named(&d, &text).into_iter().map(|(c, _, _)| c).collect();
        assert_eq!(got, vec![BETA, ClientId(2_099)]);
        // Generous for a debug build on a busy machine; a scan of every
        // name per word would take minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }

    #[test]
    fn own_domains_are_never_clients() {
        let mut d = directory();
        // Even if someone enters our own domain as a client's domain.
        d.add_domain("modrykamen.cz", ACME);
        let r = d.decide(&[p(Role::From, "petr@modrykamen.cz"), p(Role::To, "novy@acme.cz")]);
        assert_eq!(links(r), vec![(ACME, None, LinkReason::Domain, false)]);
    }

    #[test]
    fn internal_items_stay_unlinked() {
        let d = directory();
        let r = d.decide(&[p(Role::From, "jana@modrykamen.cz"), p(Role::To, "petr@sklad.modrykamen.cz")]);
        assert_eq!(r, Decision::Internal);
    }

    #[test]
    fn blocklist_keeps_items_out() {
        let d = directory();
        let cases = [
            ("mama@gmail.com", true),
            ("x@private.example", true),
            ("x@deep.private.example", true),
            ("x@notprivate.example", false),
        ];
        for (addr, blocked) in cases {
            let r = d.decide(&[p(Role::From, addr), p(Role::To, "karel@acme.cz")]);
            assert_eq!(matches!(r, Decision::Blocked { .. }), blocked, "{addr}");
        }
    }

    #[test]
    fn evidence_names_the_deciding_address() {
        let d = directory();
        let Decision::Links(l) = d.decide(&[p(Role::From, "x@mail.acme.cz")]) else { panic!() };
        assert_eq!(l[0].evidence, "x@mail.acme.cz");
    }
}
