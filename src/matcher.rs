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
    /// Every client with its folded name, the name without its legal form
    /// (for finding it in a note's text) and IČO.
    clients: Vec<ClientEntry>,
    /// Every contact with its folded name.
    contacts: Vec<(ContactId, ClientId, String)>,
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
        self.clients.push(ClientEntry { id, folded, core, ico: ico.map(str::to_string) });
    }

    /// Registers a contact's name for note matching.
    pub fn add_contact_name(&mut self, id: ContactId, client: ClientId, name: &str) {
        self.contacts.push((id, client, crate::text::fold(name)));
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
    /// else the folder it sits in; else client names in the text. Returns
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
        let folded_text = crate::text::fold(text);
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
        let named: Vec<Link> = self
            .clients
            .iter()
            .filter(|c| c.core.chars().count() >= 4 && contains_words(&folded_text, &c.core))
            .map(|c| link(c.id, None, LinkReason::Name, format!("name {}", c.core)))
            .collect();
        (Decision::Links(named), warnings)
    }

    pub fn add_contact_address(&mut self, address: &str, contact: Option<ContactId>, client: ClientId) {
        let list = self.contacts_by_address.entry(address.to_string()).or_default();
        if !list.contains(&(contact, client)) {
            list.push((contact, client));
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

    /// The blocklist entry that covers the address, if any.
    pub fn blocked(&self, address: &str) -> Option<String> {
        if self.blocked_addresses.contains(address) {
            return Some(address.to_string());
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

/// True when `needle` appears in `hay` as whole words.
fn contains_words(hay: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before = hay[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = hay[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return true;
        }
        from = start + needle.len().max(1);
        while !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
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
