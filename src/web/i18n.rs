//! The interface's words in Czech and English: one table per language,
//! chosen by the `lang` cookie, else by `Accept-Language`.

/// Every word the pages show.
#[derive(Debug)]
pub struct Msg {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub user: &'static str,
    pub password: &'static str,
    pub wrong_password: &'static str,
    pub too_many: &'static str,
    pub today: &'static str,
    pub clients: &'static str,
    pub search_nav: &'static str,
    pub new_client: &'static str,
    pub search: &'static str,
    pub no_clients: &'static str,
    pub name: &'static str,
    pub ico: &'static str,
    pub dic: &'static str,
    pub legal_form: &'static str,
    pub address: &'static str,
    pub billing: &'static str,
    pub domains: &'static str,
    pub emails: &'static str,
    pub status: &'static str,
    pub budget: &'static str,
    pub company: &'static str,
    pub contacts: &'static str,
    pub role: &'static str,
    pub phone: &'static str,
    pub last_contact: &'static str,
    pub custom_fields: &'static str,
    pub undeclared: &'static str,
    pub timeline: &'static str,
    pub load_more: &'static str,
    pub upcoming: &'static str,
    pub figures: &'static str,
    pub items: &'static str,
    pub none: &'static str,
    pub date: &'static str,
    pub kind: &'static str,
    pub subject: &'static str,
    pub no_subject: &'static str,
    pub not_found: &'static str,
    pub forbidden: &'static str,
    pub error: &'static str,
}

pub static CS: Msg = Msg {
    lang: "cs",
    other_lang: "en",
    other_lang_name: "English",
    sign_in: "Přihlásit",
    sign_out: "Odhlásit",
    user: "Uživatel",
    password: "Heslo",
    wrong_password: "Nesprávné jméno nebo heslo.",
    too_many: "Příliš mnoho neúspěšných pokusů. Zkuste to později.",
    today: "Dnes",
    clients: "Klienti",
    search_nav: "Hledání",
    new_client: "Nový klient",
    search: "Hledat: název, IČO, doména, kontakt",
    no_clients: "Žádný klient neodpovídá.",
    name: "Název",
    ico: "IČO",
    dic: "DIČ",
    legal_form: "Právní forma",
    address: "Adresa",
    billing: "Fakturace",
    domains: "Domény",
    emails: "Adresy",
    status: "Stav",
    budget: "Roční rozpočet",
    company: "Firma",
    contacts: "Kontaktní osoby",
    role: "Role",
    phone: "Telefon",
    last_contact: "Poslední kontakt",
    custom_fields: "Vlastní pole",
    undeclared: "nedeklarované",
    timeline: "Komunikace",
    load_more: "Načíst další",
    upcoming: "Nadcházející události",
    figures: "Čísla",
    items: "položek",
    none: "žádné",
    date: "Datum",
    kind: "Druh",
    subject: "Předmět",
    no_subject: "(bez předmětu)",
    not_found: "Nenalezeno.",
    forbidden: "Formulář vypršel nebo nepochází odsud. Načtěte stránku znovu.",
    error: "Něco se pokazilo.",
};

pub static EN: Msg = Msg {
    lang: "en",
    other_lang: "cs",
    other_lang_name: "Česky",
    sign_in: "Sign in",
    sign_out: "Sign out",
    user: "User",
    password: "Password",
    wrong_password: "Wrong user name or password.",
    too_many: "Too many failed attempts. Try again later.",
    today: "Today",
    clients: "Clients",
    search_nav: "Search",
    new_client: "New client",
    search: "Search: name, IČO, domain, contact",
    no_clients: "No client matches.",
    name: "Name",
    ico: "IČO",
    dic: "DIČ",
    legal_form: "Legal form",
    address: "Address",
    billing: "Billing",
    domains: "Domains",
    emails: "Addresses",
    status: "Status",
    budget: "Annual budget",
    company: "Company",
    contacts: "Contact persons",
    role: "Role",
    phone: "Phone",
    last_contact: "Last contact",
    custom_fields: "Custom fields",
    undeclared: "undeclared",
    timeline: "Timeline",
    load_more: "Load more",
    upcoming: "Upcoming events",
    figures: "Figures",
    items: "items",
    none: "none",
    date: "Date",
    kind: "Kind",
    subject: "Subject",
    no_subject: "(no subject)",
    not_found: "Not found.",
    forbidden: "The form expired or did not come from here. Reload the page.",
    error: "Something went wrong.",
};

impl Msg {
    /// An item kind, a deal status or a client status in this language.
    pub fn word(&self, key: &str) -> &'static str {
        let cs = self.lang == "cs";
        match (key, cs) {
            ("email", true) => "e-mail",
            ("email", false) => "mail",
            ("call", true) => "hovor",
            ("call", false) => "call",
            ("meeting", true) => "schůzka",
            ("meeting", false) => "meeting",
            ("event", true) => "událost",
            ("event", false) => "event",
            ("cancelled", true) => "zrušená událost",
            ("cancelled", false) => "cancelled event",
            ("document", true) => "dokument",
            ("document", false) => "document",
            ("deal", true) => "obchod",
            ("deal", false) => "deal",
            ("lead", true) => "zájemce",
            ("lead", false) => "lead",
            ("client", true) => "klient",
            ("client", false) => "client",
            ("open", true) => "otevřený",
            ("open", false) => "open",
            ("won", true) => "vyhraný",
            ("won", false) => "won",
            ("lost", true) => "prohraný",
            ("lost", false) => "lost",
            _ => "",
        }
    }

    /// The label of a figure row (`app::FigureRow::key`).
    pub fn figure(&self, key: &str) -> &'static str {
        let cs = self.lang == "cs";
        match (key, cs) {
            ("total_sold", true) => "Prodáno celkem",
            ("total_sold", false) => "Total sold",
            ("sold_last_year", true) => "Prodáno za poslední rok",
            ("sold_last_year", false) => "Sold last year",
            ("rejected_offers", true) => "Odmítnuté nabídky",
            ("rejected_offers", false) => "Rejected offers",
            ("open_value", true) => "Otevřené obchody",
            ("open_value", false) => "Open deals",
            ("share_of_revenue", true) => "Podíl na tržbách",
            ("share_of_revenue", false) => "Share of revenue",
            ("top_products", true) => "Nejprodávanější",
            ("top_products", false) => "Top products",
            ("annual_budget", true) => "Roční rozpočet",
            ("annual_budget", false) => "Annual budget",
            (_, true) => "Hodnota zákazníka (LTV)",
            (_, false) => "Lifetime value",
        }
    }
}

/// The table for a `lang` cookie value, else the first Czech, Slovak or
/// English tag of `Accept-Language` (by weight); English when neither says.
pub fn choose(cookie: Option<&str>, accept_language: Option<&str>) -> &'static Msg {
    match cookie {
        Some("cs") => return &CS,
        Some("en") => return &EN,
        _ => {}
    }
    let mut best: Option<(f32, &'static Msg)> = None;
    for part in accept_language.unwrap_or("").split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let msg = if tag.starts_with("cs") || tag.starts_with("sk") {
            &CS
        } else if tag.starts_with("en") {
            &EN
        } else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, msg));
        }
    }
    best.map(|(_, m)| m).unwrap_or(&EN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_then_accept_language() {
        assert_eq!(choose(Some("cs"), Some("en")).lang, "cs");
        assert_eq!(choose(None, Some("cs-CZ,cs;q=0.9,en;q=0.8")).lang, "cs");
        assert_eq!(choose(None, Some("de, en;q=0.5, cs;q=0.7")).lang, "cs");
        assert_eq!(choose(None, Some("en-US,en")).lang, "en");
        assert_eq!(choose(Some("xx"), None).lang, "en");
        assert_eq!(choose(None, Some("sk")).lang, "cs");
    }
}
