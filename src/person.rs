//! People in mail: display names (titles kept apart, name order
//! normalised), role addresses, and what a signature says (phones,
//! position). Pure.
//!
//! Everything here reads text from outside (headers, bodies), so nothing
//! slices or indexes a string: words are split, folded and compared.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::text::fold;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PersonName {
    /// Given name(s) then surname: "Karel Horák".
    pub name: String,
    /// Titles before the name: "Ing.", "Mgr.", "Bc.", "MUDr.", "JUDr.", "Ing. arch.", "doc. Ing." …
    pub title_before: Option<String>,
    /// Titles after: "Ph.D.", "CSc.", "MBA", "DiS." …
    pub title_after: Option<String>,
}

/// Phone numbers and position read from a signature.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Signature {
    /// Phone numbers in E.164 ("+420312000456"), in the order found, no duplicates; mobile and landline.
    pub phones: Vec<String>,
    /// The position: "jednatel", "obchodní ředitel", "nákup", "Sales Manager", … when it can be told.
    pub position: Option<String>,
}

/// The longest name kept: anything longer is not one person's name.
const MAX_NAME: usize = 100;

/// The longest display name read at all (firm and titles included).
const MAX_DISPLAY: usize = 300;

// ---------------------------------------------------------------------------
// Word lists
// ---------------------------------------------------------------------------

/// Common given names (Czech, Slovak, English, a few German), both sexes.
/// Compared folded, so "Jiří" also covers "Jiri" and "JIŘÍ". Used to tell
/// "Horák Karel" (surname first, as Outlook writes it) from "Karel Horák",
/// and to accept a two-word display name as a person's.
#[rustfmt::skip]
const GIVEN_NAMES: &[&str] = &[
    // Czech, male
    "Adam", "Aleš", "Alexandr", "Alois", "Antonín", "Arnošt", "Bedřich", "Benedikt", "Bohdan", "Bohumil",
    "Bohumír", "Bohuslav", "Bořivoj", "Břetislav", "Bronislav", "Čestmír", "Ctibor", "Dalibor", "Daniel",
    "David", "Denis", "Dominik", "Drahomír", "Dušan", "Eduard", "Emil", "Erik", "Ferdinand", "Filip",
    "František", "Hugo", "Hynek", "Igor", "Ivan", "Ivo", "Jáchym", "Jakub", "Jan", "Jaromír", "Jaroslav",
    "Jindřich", "Jiří", "Jonáš", "Josef", "Julius", "Kamil", "Karel", "Kristián", "Kryštof", "Ladislav",
    "Leoš", "Libor", "Lubomír", "Lubor", "Luboš", "Luděk", "Ludvík", "Lukáš", "Marek", "Martin", "Matěj",
    "Matouš", "Matyáš", "Max", "Maxmilián", "Michal", "Mikuláš", "Milan", "Miloslav", "Miloš", "Miroslav",
    "Norbert", "Oldřich", "Ondřej", "Oskar", "Otakar", "Oto", "Patrik", "Pavel", "Petr", "Přemysl", "Radek",
    "Radim", "Radomír", "Radovan", "René", "Richard", "Robert", "Roman", "Rostislav", "Rudolf", "Samuel",
    "Sebastián", "Šimon", "Stanislav", "Štěpán", "Svatopluk", "Tadeáš", "Teodor", "Tobiáš", "Tomáš", "Václav",
    "Vavřinec", "Viktor", "Vilém", "Vít", "Vítězslav", "Vladimír", "Vladislav", "Vlastimil", "Vojtěch",
    "Vratislav", "Zbyněk", "Zbyšek", "Zdeněk",
    // Czech, female
    "Adéla", "Agáta", "Alena", "Alice", "Alžběta", "Amálie", "Andrea", "Aneta", "Anežka", "Anna", "Apolena",
    "Barbora", "Beáta", "Blanka", "Bohdana", "Bohumila", "Božena", "Dagmar", "Dana", "Daniela", "Denisa",
    "Diana", "Dita", "Dominika", "Drahomíra", "Edita", "Eliška", "Ema", "Emilie", "Eva", "Gabriela", "Hana",
    "Hedvika", "Helena", "Ilona", "Irena", "Iva", "Ivana", "Ivona", "Jana", "Jarmila", "Jaroslava",
    "Jindřiška", "Jiřina", "Jitka", "Johana", "Julie", "Kamila", "Karolína", "Kateřina", "Klára", "Kristina",
    "Kristýna", "Lada", "Ladislava", "Laura", "Lea", "Lenka", "Leona", "Libuše", "Linda", "Lucie", "Ludmila",
    "Lýdie", "Magdaléna", "Marcela", "Marie", "Markéta", "Marta", "Martina", "Michaela", "Milada", "Milena",
    "Miloslava", "Miroslava", "Monika", "Naděžda", "Natálie", "Nela", "Nikol", "Nikola", "Nina", "Olga",
    "Pavla", "Pavlína", "Petra", "Radka", "Renata", "Romana", "Růžena", "Sabina", "Simona", "Šárka", "Sofie",
    "Soňa", "Stanislava", "Stela", "Světlana", "Taťána", "Tereza", "Vanda", "Vendula", "Věra", "Veronika",
    "Viktorie", "Vladimíra", "Vlasta", "Yvona", "Zdeňka", "Zdenka", "Zita", "Zlata", "Zora", "Zuzana",
    "Žaneta",
    // Slovak (those not spelled as in Czech)
    "Adrián", "Alžbeta", "Branislav", "Dáša", "Ján", "Jozef", "Juraj", "Katarína", "Kristína", "Ľubica",
    "Ľubomír", "Ľuboš", "Ľudmila", "Ľudovít", "Lucia", "Mária", "Marián", "Mário", "Matúš", "Natália", "Oľga",
    "Pavol", "Peter", "Radoslav", "Rastislav", "Róbert", "Silvia", "Slavomír", "Štefan", "Tibor", "Timotej",
    "Viliam", "Boris", "Erika",
    // English, male
    "Aaron", "Alan", "Albert", "Alexander", "Alistair", "Andrew", "Anthony", "Arthur", "Austin", "Ben",
    "Benjamin", "Bill", "Billy", "Bob", "Bobby", "Brandon", "Brian", "Bruce", "Carl", "Charles", "Chris",
    "Christian", "Christopher", "Colin", "Craig", "Dan", "Dave", "Dennis", "Donald", "Douglas", "Dylan",
    "Edward", "Eric", "Ethan", "Eugene", "Frank", "Gabriel", "Gareth", "Gary", "George", "Graham", "Gregory",
    "Harold", "Harry", "Henry", "Ian", "Jack", "Jacob", "James", "Jason", "Jeffrey", "Jeremy", "Jerry",
    "Jesse", "Joe", "John", "Johnny", "Jonathan", "Jordan", "Joseph", "Joshua", "Justin", "Keith", "Kenneth",
    "Kevin", "Kyle", "Larry", "Lawrence", "Leo", "Lewis", "Logan", "Louis", "Luke", "Mark", "Matthew", "Matt",
    "Michael", "Mike", "Neil", "Nathan", "Nicholas", "Nick", "Noah", "Oliver", "Owen", "Patrick", "Paul",
    "Philip", "Ralph", "Raymond", "Rhys", "Roger", "Ronald", "Roy", "Russell", "Ryan", "Sam", "Scott", "Sean",
    "Simon", "Stephen", "Steve", "Steven", "Stuart", "Thomas", "Tim", "Timothy", "Tom", "Tony", "Tyler",
    "Vincent", "Walter", "Wayne", "William", "Zachary",
    // English, female
    "Abigail", "Amanda", "Amber", "Amelia", "Amy", "Angela", "Ann", "Ashley", "Betty", "Brenda", "Carol",
    "Carolyn", "Catherine", "Charlotte", "Cheryl", "Chloe", "Christine", "Claire", "Cynthia", "Deborah",
    "Denise", "Donna", "Dorothy", "Elizabeth", "Ella", "Emily", "Emma", "Evelyn", "Fiona", "Gemma", "Gloria",
    "Grace", "Hannah", "Heather", "Helen", "Holly", "Isabella", "Jacqueline", "Jane", "Janet", "Jennifer",
    "Jenny", "Jessica", "Joan", "Joyce", "Judith", "Julia", "Karen", "Kate", "Katherine", "Kathleen", "Kelly",
    "Kimberly", "Lauren", "Lisa", "Lucy", "Margaret", "Mary", "Megan", "Melissa", "Michelle", "Nancy",
    "Natalie", "Nicole", "Olivia", "Pamela", "Patricia", "Rachel", "Rebecca", "Ruth", "Samantha", "Sandra",
    "Sarah", "Sara", "Sharon", "Sophia", "Stephanie", "Susan", "Teresa", "Victoria", "Zoe",
    // German
    "Andreas", "Dieter", "Hans", "Jürgen", "Klaus", "Markus", "Sabine", "Stefan", "Ursula", "Uwe", "Wolfgang",
];

static GIVEN: LazyLock<HashSet<String>> = LazyLock::new(|| GIVEN_NAMES.iter().map(|n| fold(n)).collect());

fn is_given(word: &str) -> bool {
    GIVEN.contains(&fold(word))
}

/// Academic titles: (folded key without dots, how it is written, before the name?).
const TITLES: &[(&str, &str, bool)] = &[
    ("ing", "Ing.", true),
    ("arch", "arch.", true),
    ("mgr", "Mgr.", true),
    ("bc", "Bc.", true),
    ("mga", "MgA.", true),
    ("bca", "BcA.", true),
    ("mudr", "MUDr.", true),
    ("mddr", "MDDr.", true),
    ("mvdr", "MVDr.", true),
    ("judr", "JUDr.", true),
    ("phdr", "PhDr.", true),
    ("rndr", "RNDr.", true),
    ("paeddr", "PaedDr.", true),
    ("pharmdr", "PharmDr.", true),
    ("thdr", "ThDr.", true),
    ("thlic", "ThLic.", true),
    ("doc", "doc.", true),
    ("prof", "prof.", true),
    ("dr", "Dr.", true),
    ("dipl", "Dipl.", true),
    ("phd", "Ph.D.", false),
    ("csc", "CSc.", false),
    ("drsc", "DrSc.", false),
    ("dsc", "DSc.", false),
    ("thd", "Th.D.", false),
    ("artd", "ArtD.", false),
    ("mba", "MBA", false),
    ("emba", "EMBA", false),
    ("dis", "DiS.", false),
    ("llm", "LL.M.", false),
    ("msc", "MSc.", false),
    ("bsc", "BSc.", false),
    ("mpa", "MPA", false),
    ("dba", "DBA", false),
];

/// Words that open a name but are not part of it.
#[rustfmt::skip]
const SALUTATIONS: &[&str] = &[
    "pan", "pani", "slecna", "mr", "mrs", "ms", "miss", "herr", "frau",
];

/// Words that make a display name a company's, a department's, a role's
/// or a greeting rather than a person's (folded, dots removed).
#[rustfmt::skip]
const NOT_NAME_WORDS: &[&str] = &[
    // legal forms
    "sro", "spol", "as", "vos", "ks", "zs", "ops", "ltd", "limited", "gmbh", "inc", "llc", "plc", "ag", "kg",
    "se", "co", "corp", "company", "druzstvo",
    // business words
    "stavby", "stavebni", "stavebniny", "servis", "service", "services", "obchod", "obchodni", "pekarna",
    "restaurace", "hotel", "truhlarstvi", "zamecnictvi", "elektro", "doprava", "autodoprava", "transport",
    "logistika", "logistics", "technika", "technology", "technologies", "system", "systems", "solutions",
    "consulting", "group", "holding", "trade", "trading", "partner", "partners", "studio", "design",
    "agentura", "agency", "reality", "finance", "invest", "energie", "energy", "software", "eshop", "shop",
    "centrum", "center", "centre", "klinika", "lekarna", "skola", "urad", "mesto", "obec", "magistrat",
    "nadace", "spolek", "cz", "sk", "eu", "com", "net", "org", "web", "online", "media", "vyroba", "sklad",
    // departments and roles
    "oddeleni", "department", "dept", "team", "tym", "fakturace", "faktury", "faktura", "ucetni", "uctarna",
    "ucetnictvi", "accounting", "billing", "invoices", "procurement", "purchasing", "nakup", "prodej",
    "zakaznicky", "zakaznicka", "zakaznicke", "customer", "customers", "support", "podpora", "helpdesk",
    "sales", "marketing", "office", "kancelar", "recepce", "reception", "sekretariat", "personalni", "hr",
    "admin", "administrator", "info", "informace", "noreply", "newsletter", "notifications", "notification",
    "oznameni", "objednavky", "orders", "reklamace", "expedice", "provoz", "vedeni", "management", "reditel",
    "reditelstvi", "jednatel", "kontakt", "contact", "webmaster", "postmaster", "robot", "mailer", "daemon",
    "kariera", "careers", "jobs", "novinky", "news",
    // greetings, which a signature search meets in the same lines
    "diky", "dekuji", "dekujeme", "pozdrav", "pozdravem", "pozdravom", "regards", "thanks", "best", "zdravim",
    "ahoj", "cau", "hello", "dobry", "den",
];

/// Lower-case particles of names ("van", "de") kept as written.
#[rustfmt::skip]
const PARTICLES: &[&str] = &[
    "van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "ten", "ter", "dos",
];

/// Local parts (folded, without separators and digits) of role addresses.
#[rustfmt::skip]
const ROLE_LOCALS: &[&str] = &[
    "info", "informace", "obchod", "sales", "prodej", "nakup", "purchasing", "procurement", "faktury",
    "faktura", "fakturace", "invoice", "invoices", "uctarna", "ucetni", "ucetnictvi", "accounting",
    "accounts", "billing", "noreply", "donotreply", "noreplay", "mailerdaemon", "postmaster", "office",
    "kancelar", "sekretariat", "podpora", "support", "servis", "service", "helpdesk", "help", "recepce",
    "reception", "objednavky", "objednavka", "orders", "order", "marketing", "hr", "kariera", "jobs",
    "careers", "admin", "administrator", "webmaster", "hostmaster", "newsletter", "newsletters", "news",
    "novinky", "notifications", "notification", "notify", "alerts", "oznameni", "kontakt", "contact", "eshop",
    "shop", "reklamace", "expedice", "sklad", "logistika", "dotazy", "poptavky", "poptavka", "bounce",
    "bounces", "abuse", "security", "privacy", "gdpr", "legal", "press", "media", "root", "daemon", "robot",
    "feedback", "hello", "team", "tym", "mail", "email", "posta", "epodatelna", "podatelna",
];

/// Lines (folded) that close the letter; the signature follows the last one.
#[rustfmt::skip]
const GREETINGS: &[&str] = &[
    "s pozdravem", "s pratelskym pozdravem", "se srdecnym pozdravem", "srdecne zdravim", "s uctou",
    "s prianim", "predem dekuji", "dekuji", "dekujeme", "diky", "dik", "zdravim", "hezky den", "pekny den",
    "mejte se", "s pozdravom", "s priatelskym pozdravom", "dakujem", "dakujeme", "best regards",
    "kind regards", "warm regards", "regards", "best wishes", "many thanks", "thank you", "thanks", "cheers",
    "sincerely", "yours sincerely", "yours faithfully", "all the best", "best", "mit freundlichen grussen",
    "viele grusse", "--",
];

/// Positions written alone on a line (folded).
#[rustfmt::skip]
const POSITIONS: &[&str] = &[
    "jednatel", "jednatelka", "spolecnik", "spolecnice", "majitel", "majitelka", "predseda predstavenstva",
    "clen predstavenstva", "prokurista", "prokuristka", "reditel", "reditelka", "obchodni reditel",
    "obchodni reditelka", "vykonny reditel", "vykonna reditelka", "generalni reditel", "generalni reditelka",
    "financni reditel", "financni reditelka", "technicky reditel", "technicka reditelka", "provozni reditel",
    "provozni reditelka", "obchodni zastupce", "obchodni zastupkyne", "obchodnik", "obchodnice", "obchod",
    "nakup", "nakupci", "nakupcí", "prodej", "fakturace", "ucetni", "hlavni ucetni", "mzdova ucetni",
    "ucetnictvi", "asistent", "asistentka", "asistentka reditele", "asistentka jednatele", "sekretarka",
    "recepcni", "projektovy manazer", "projektova manazerka", "projektant", "projektantka", "stavbyvedouci",
    "mistr", "technik", "servisni technik", "technicka podpora", "servis", "logistika", "expedice",
    "dispecer", "dispecerka", "skladnik", "marketing", "personalista", "personalistka", "mistr vyroby", "ceo",
    "cto", "cfo", "coo", "cmo", "cio", "founder", "co-founder", "cofounder", "owner", "president",
    "vice president", "sales", "purchasing", "procurement", "accounting", "director", "managing director",
    "sales manager", "account manager", "office manager", "buyer", "purchaser", "accountant", "consultant",
    "engineer", "partner", "managing partner",
];

/// First words that make a line a position: "vedoucí nákupu", "Head of Sales".
#[rustfmt::skip]
const POSITION_HEADS: &[&str] = &[
    "vedouci", "veduci", "head of", "referent", "referentka", "manazer", "manazerka", "specialista",
    "specialistka", "reditel", "reditelka", "namestek", "namestkyne", "koordinator", "koordinatorka",
    "spravce", "spravkyne", "asistent", "asistentka", "senior", "junior", "chief", "vice president", "vp",
    "director of", "obchodni", "technicky", "technicka", "provozni", "projektovy", "projektova", "hlavni",
    "team leader",
];

/// Last words that make a line a position: "Facilities Manager", "obchodní zástupce".
#[rustfmt::skip]
const POSITION_TAILS: &[&str] = &[
    "manager", "manazer", "manazerka", "director", "reditel", "reditelka", "officer", "engineer",
    "specialist", "specialista", "specialistka", "zastupce", "zastupkyne", "technik", "assistant", "asistent",
    "asistentka", "coordinator", "koordinator", "koordinatorka", "consultant", "konzultant", "konzultantka",
    "executive", "lead", "leader", "analyst", "analytik", "analyticka", "representative", "referent",
    "referentka", "ucetni", "architect", "architekt", "architektka", "projektant", "projektantka", "mistr",
    "vedouci", "buyer", "nakupci",
];

/// Words in front of a number that say it is not a phone (folded).
#[rustfmt::skip]
const NOT_PHONE_LABELS: &[&str] = &[
    "ico", "ic", "dic", "icdph", "ucet", "uctu", "cu", "iban", "swift", "bic", "psc", "objednavka",
    "objednavky", "obj", "order", "faktura", "faktury", "invoice", "vs", "variabilni", "zakazka", "ref",
    "cislo", "no", "nr", "num", "fax", "spz", "datum", "date", "id",
];

/// Words that label a phone number (folded).
#[rustfmt::skip]
const PHONE_LABELS: &[&str] = &[
    "tel", "telefon", "telephone", "phone", "mobil", "mobile", "mob", "gsm", "cell", "hotline", "linka",
];

// ---------------------------------------------------------------------------
// Display names
// ---------------------------------------------------------------------------

/// A person's name from a display name, or None when it is not one
/// person's name (empty, an address, quoted address, a company or
/// department: "Acme Stavby s.r.o.", "Fakturace", "Obchodní oddělení",
/// "Acme – nákup", "noreply", all-caps role words…). Titles go apart,
/// "Horák, Karel", "HORÁK Karel" and "Horák Karel" become "Karel Horák",
/// a parenthesised firm or one after `|` or ` - ` is dropped. A single
/// word is not enough: it names nobody in particular.
pub fn parse_display_name(display: &str) -> Option<PersonName> {
    // Even with a firm and titles, a longer text is not a display name.
    if display.chars().nth(MAX_DISPLAY).is_some() {
        return None;
    }
    let text: String = display.nfc().collect();
    if text.chars().any(|c| c == '\u{FFFD}' || (c.is_control() && !c.is_whitespace())) {
        return None;
    }
    // `Karel Horák <karel@acme.cz>`: the name is what precedes the address.
    let text = text.split('<').next().unwrap_or("");
    if text.contains('@') {
        return None;
    }
    let text = without_brackets(text);
    let text = text.trim_matches(|c: char| c.is_whitespace() || is_quote(c));
    if text.is_empty() {
        return None;
    }
    // "Lucie Malá | Acme", "Karel Horák - Acme Stavby": the first part that
    // is a person's name is the person.
    split_pieces(text).iter().find_map(|part| parse_part(part).or_else(|| before_firm(part)))
}

/// "Karel Horák, Acme Stavby s.r.o.", "Ing. Karel Horák, Ph.D., Acme":
/// the name with what follows the last comma(s) left off.
fn before_firm(part: &str) -> Option<PersonName> {
    let segments: Vec<&str> = part.split(',').collect();
    // The name itself has a comma only as "Horák, Karel", which this is not.
    if segments.first().is_none_or(|first| first.split_whitespace().count() < 2) {
        return None;
    }
    (1..segments.len().min(4))
        .rev()
        .find_map(|k| parse_part(&segments.iter().take(k).copied().collect::<Vec<_>>().join(",")))
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '”' | '„' | '‚' | '‘' | '’' | '«' | '»' | '`')
}

/// The text with `( … )` and `[ … ]` left out (a firm, a department).
fn without_brackets(s: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Splits at the separators people put between a name and a firm or a
/// department: `|`, `/`, `;`, `•`, `·`, and dashes with spaces around
/// (a hyphen inside "Nováková-Malá" stays).
fn split_pieces(s: &str) -> Vec<String> {
    let spaced = s.replace(" - ", "|").replace(" – ", "|").replace(" — ", "|").replace(" -- ", "|");
    spaced
        .split(['|', '/', ';', '•', '·', '\t'])
        .map(|p| p.trim_matches(|c: char| c.is_whitespace() || is_quote(c)).to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The folded key of a token for the word lists: dots, commas and quotes gone.
fn key(token: &str) -> String {
    fold(token).chars().filter(|c| c.is_alphanumeric()).collect()
}

fn title_of(token: &str) -> Option<(&'static str, bool)> {
    let k = key(token);
    TITLES.iter().find(|(t, _, _)| *t == k).map(|(_, written, before)| (*written, *before))
}

/// "Ing.Karel" → "Ing.", "Karel"; other tokens as they are.
fn split_glued_title(token: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = token;
    while let Some((head, tail)) = rest.split_once('.')
        && tail.chars().next().is_some_and(char::is_alphabetic)
        && title_of(head).is_some()
        && title_of(rest).is_none()
    {
        out.push(format!("{head}."));
        rest = tail;
    }
    out.push(rest.to_string());
    out
}

/// A name word: letters with inner hyphens or apostrophes ("Nováková-Malá", "O'Brien").
fn is_name_word(w: &str) -> bool {
    // Combining marks count with their letter: "İ" lower-cases to "i" and a dot.
    let letter = |c: char| c.is_alphabetic() || is_combining_mark(c);
    let mut letters = 0;
    for c in w.chars() {
        if c.is_alphabetic() {
            letters += 1;
        } else if !letter(c) && !matches!(c, '-' | '\'' | '’') {
            return false;
        }
    }
    letters >= 2 && w.chars().next().is_some_and(char::is_alphabetic) && w.chars().next_back().is_some_and(letter)
}

/// "K." as a given name's initial.
fn is_initial(w: &str) -> bool {
    let mut chars = w.chars();
    matches!((chars.next(), chars.next(), chars.next()), (Some(c), Some('.'), None) if c.is_alphabetic())
}

fn is_all_caps(w: &str) -> bool {
    w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !w.chars().any(char::is_lowercase)
}

/// "Horák" or "McDonald": an upper-case letter first, lower-case ones after.
fn is_capitalised(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase) && w.chars().skip(1).any(char::is_lowercase)
}

/// "HORÁK" → "Horák", "nováková-malá" → "Nováková-Malá"; "McDonald" stays.
fn fix_case(w: &str, first: bool) -> String {
    // One char for one: "ŉ" would grow into "ʼN", "İ" into "i" and a dot.
    fn one(mapped: impl Iterator<Item = char>, c: char) -> char {
        match mapped.collect::<Vec<_>>().as_slice() {
            [m] => *m,
            _ => c,
        }
    }
    let upper = |c: char| one(c.to_uppercase(), c);
    let lower = |c: char| one(c.to_lowercase(), c);
    if is_initial(w) {
        return w.chars().map(upper).collect();
    }
    if !first && PARTICLES.contains(&w) {
        return w.to_string();
    }
    if !is_all_caps(w) && w.chars().next().is_some_and(char::is_uppercase) {
        return w.to_string();
    }
    let mut out = String::with_capacity(w.len());
    let mut start = true;
    for c in w.chars() {
        out.push(if start { upper(c) } else { lower(c) });
        start = matches!(c, '-' | '\'' | '’');
    }
    out
}

/// One part of a display name (no separators left) → a person's name.
fn parse_part(part: &str) -> Option<PersonName> {
    let mut before: Vec<&'static str> = Vec::new();
    let mut after: Vec<&'static str> = Vec::new();
    // Name words by comma-separated segment: "Horák, Karel" has two.
    let mut segments: Vec<Vec<String>> = Vec::new();
    for segment in part.split(',') {
        let mut words = Vec::new();
        for raw in segment.split_whitespace() {
            for token in split_glued_title(raw.trim_matches(is_quote)) {
                if token.is_empty() {
                    continue;
                }
                if let Some((written, is_before)) = title_of(&token) {
                    let list = if is_before { &mut before } else { &mut after };
                    if !list.contains(&written) {
                        list.push(written);
                    }
                    continue;
                }
                let k = key(&token);
                if words.is_empty() && segments.iter().all(Vec::is_empty) && SALUTATIONS.contains(&k.as_str()) {
                    continue;
                }
                if NOT_NAME_WORDS.contains(&k.as_str()) {
                    return None;
                }
                if !is_name_word(&token) && !is_initial(&token) {
                    return None;
                }
                words.push(token);
            }
        }
        if !words.is_empty() {
            segments.push(words);
        }
    }
    let (words, comma_form) = match segments.as_slice() {
        [one] => (one.clone(), false),
        // "Horák, Karel": surname first.
        [surname, given] if surname.len() <= 2 && given.len() <= 2 => {
            (given.iter().chain(surname.iter()).cloned().collect::<Vec<_>>(), true)
        }
        _ => return None,
    };
    if words.len() < 2 || words.len() > 4 {
        return None;
    }
    // Initials stand for given names: the surname is a whole word, and
    // "s. r. o." is not three initials.
    if words.iter().filter(|w| is_initial(w)).count() > 2 {
        return None;
    }
    let has_title = !before.is_empty() || !after.is_empty();
    let any_given = words.iter().any(|w| is_given(w) || is_initial(w));
    let all_capitalised = words.iter().all(|w| is_capitalised(w) || is_initial(w) || PARTICLES.contains(&w.as_str()));
    // Without a known given name or a title, only properly capitalised
    // words pass: "ACME Stavby" and "obchod praha" are not people.
    if !has_title && !any_given && !comma_form && !all_capitalised {
        return None;
    }
    let ordered = if comma_form { words } else { surname_last(words) };
    if ordered.last().is_some_and(|w| is_initial(w)) {
        return None;
    }
    let name = ordered.iter().enumerate().map(|(i, w)| fix_case(w, i == 0)).collect::<Vec<_>>().join(" ");
    if name.chars().count() > MAX_NAME {
        return None;
    }
    let join = |l: &[&str], sep: &str| (!l.is_empty()).then(|| l.join(sep));
    Some(PersonName { name, title_before: join(&before, " "), title_after: join(&after, ", ") })
}

/// Puts the surname last: "HORÁK Karel" (the all-caps word is the
/// surname), "Horák Karel" (a known given name after an unknown word).
fn surname_last(words: Vec<String>) -> Vec<String> {
    let caps: Vec<bool> = words.iter().map(|w| is_all_caps(w) && !is_initial(w)).collect();
    let n_caps = caps.iter().filter(|c| **c).count();
    // "KAREL Horák" shouts the given name: the caps rule is for surnames.
    let caps_are_given = words.iter().zip(&caps).all(|(w, c)| !c || is_given(w))
        && words.iter().zip(&caps).any(|(w, c)| !c && !is_given(w));
    if n_caps > 0 && n_caps < words.len() && !caps_are_given {
        let (mut given, mut surname) = (Vec::new(), Vec::new());
        for (w, is_caps) in words.into_iter().zip(caps) {
            if is_caps { surname.push(w) } else { given.push(w) }
        }
        given.append(&mut surname);
        return given;
    }
    let given_like = |w: &String| is_given(w) || is_initial(w);
    match words.split_first() {
        Some((first, rest)) if !given_like(first) && !rest.is_empty() && rest.iter().all(given_like) => {
            let mut out = rest.to_vec();
            out.push(first.clone());
            out
        }
        _ => words,
    }
}

// ---------------------------------------------------------------------------
// Role addresses
// ---------------------------------------------------------------------------

/// A role address: its local part names a function, not a person (info,
/// obchod, fakturace, noreply, support, …, also "info2", "obchod.praha",
/// "faktury-cz", "no-reply"). Accents folded, case ignored.
pub fn is_role_address(address: &str) -> bool {
    let local = address.trim().rsplit_once('@').map_or(address.trim(), |(l, _)| l);
    let folded = fold(local.trim_matches(|c: char| c == '"' || c == '<'));
    let parts: Vec<&str> = folded.split(|c: char| !c.is_alphabetic()).filter(|p| !p.is_empty()).collect();
    let joined: String = parts.concat();
    let is_role = |w: &str| ROLE_LOCALS.contains(&w);
    if joined.is_empty() {
        return false;
    }
    // "no-reply", "do_not_reply", "mailer-daemon": the words run together.
    if is_role(&joined) || parts.first().is_some_and(|p| is_role(p)) {
        return true;
    }
    // "praha.obchod", "cz-sales": a role word among non-names.
    parts.iter().any(|p| is_role(p)) && !parts.iter().any(|p| is_given(p))
}

// ---------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------

/// What the signature of a message body says about its sender: phones (in
/// E.164) and the position. The signature is what follows the last
/// greeting ("S pozdravem", "Best regards", a "--" line), or the last 12
/// non-empty lines; quoted text (">" lines, and everything from an
/// "Original Message", "Od: … Odesláno:", "Dne … napsal(a):" or "On …
/// wrote:" on) is never read, so an older signature does not count.
pub fn signature(body: &str, name: Option<&PersonName>) -> Signature {
    let lines = own_lines(body);
    let block = signature_block(&lines);
    // A sender's signature comes back with every mail: reading its phones
    // (the phonenumber parser) and position was a fifth of parsing a
    // message. What a block says depends only on its lines and the name.
    let mut key = block.join("\n");
    key.push('\u{0}');
    key.push_str(name.map_or("", |n| n.name.as_str()));
    thread_local! {
        static READ: Kept<Signature> = Default::default();
    }
    kept(&READ, SIGNATURES_KEPT, &key, || read_signature(&block, name))
}

/// What this thread read lately, by the text it was read from.
type Kept<V> = std::cell::RefCell<std::collections::HashMap<String, V>>;

/// `read()` for `key`, or what it gave last time; `most` kept at most (all
/// forgotten at once past that).
fn kept<V: Clone>(
    cache: &'static std::thread::LocalKey<Kept<V>>,
    most: usize,
    key: &str,
    read: impl FnOnce() -> V,
) -> V {
    if let Some(known) = cache.with(|c| c.borrow().get(key).cloned()) {
        return known;
    }
    let found = read();
    cache.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= most {
            c.clear();
        }
        c.insert(key.to_string(), found.clone());
    });
    found
}

/// How many signatures [`signature`] remembers per thread.
const SIGNATURES_KEPT: usize = 4_096;

/// Signature lines with digits whose phones a thread keeps: one per
/// correspondent (a few MB at most).
const PHONE_LINES_KEPT: usize = 16_384;

fn read_signature(block: &[&str], name: Option<&PersonName>) -> Signature {
    let mut phones: Vec<String> = Vec::new();
    for line in block {
        for phone in phones_in_line(line) {
            if !phones.contains(&phone) && phones.len() < 8 {
                phones.push(phone);
            }
        }
    }
    Signature { phones, position: position_in(block, name) }
}

/// The body's own lines: quoted lines dropped, nothing after the start of
/// a quoted message.
fn own_lines(body: &str) -> Vec<&str> {
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if starts_quote(&lines, i) {
            break;
        }
        if line.trim_start().starts_with('>') {
            continue;
        }
        out.push(*line);
    }
    out
}

fn ends_attribution(folded: &str) -> bool {
    ["napsal(a):", "napsal:", "napsala:", "napisal(a):", "napisal:", "napisala:", "wrote:", "schrieb:"]
        .iter()
        .any(|e| folded.ends_with(e))
}

/// Does a quoted message start at line `i`?
fn starts_quote(lines: &[&str], i: usize) -> bool {
    let Some(line) = lines.get(i) else { return false };
    // Every line of every message comes here: fold only the few that can
    // start a quote (a rule, a header, a line ending with a colon).
    let raw = line.trim();
    let ends_colon = |l: &str| l.trim_end().ends_with(':');
    let head: String = raw.chars().take(5).flat_map(char::to_lowercase).collect();
    if !(raw.starts_with("-----")
        || head.starts_with("od:")
        || head.starts_with("from:")
        || ends_colon(raw)
        || lines.get(i + 1).is_some_and(|next| ends_colon(next)))
    {
        return false;
    }
    let t = fold(raw);
    if t.starts_with("-----")
        && ["original message", "puvodni zprava", "povodna sprava", "forwarded message", "preposlana zprava"]
            .iter()
            .any(|m| t.contains(m))
    {
        return true;
    }
    if t.starts_with("od:") || t.starts_with("from:") {
        let header = |l: &&str| {
            let f = fold(l.trim());
            ["odeslano:", "sent:", "datum:", "date:"].iter().any(|h| f.starts_with(h))
        };
        return lines.iter().skip(i + 1).take(4).any(header);
    }
    if ends_attribution(&t) {
        return true;
    }
    // "Dne 2. 12. 2026 v 10:15 Karel Horák <karel@acme.cz>" wrapped before "napsal(a):".
    (t.starts_with("dne ") || t.starts_with("on "))
        && lines.get(i + 1).is_some_and(|next| ends_attribution(&fold(next.trim())))
}

/// Is the line a closing greeting ("S pozdravem", "Díky, Karel")?
fn is_greeting(line: &str) -> bool {
    if line.split_whitespace().nth(8).is_some() {
        return false;
    }
    // The last sixty lines of every mail come here: a line whose first
    // letter begins no greeting is not folded whole. (A folded line starts
    // with its first letter folded; none, a lone mark, passes on.)
    let Some(first) = line.trim_start().chars().next() else { return false };
    let first = fold(first.encode_utf8(&mut [0; 4]));
    if !GREETINGS.iter().any(|g| g.starts_with(first.as_str())) {
        return false;
    }
    let t = fold(line.trim());
    GREETINGS.iter().any(|g| {
        // "--" is the signature delimiter only alone on its line.
        t.strip_prefix(g).is_some_and(|rest| match *g {
            "--" => rest.trim().is_empty(),
            _ => rest.chars().next().is_none_or(|c| !c.is_alphanumeric()),
        })
    })
}

/// How many of the last lines may hold the closing greeting.
const GREETING_REACH: usize = 60;

/// The lines of the signature: from the last greeting (kept, as it may
/// carry the name) to at most 15 lines after it, or the last 12 non-empty lines.
fn signature_block<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let non_empty = |l: &&&str| !l.trim().is_empty();
    // A greeting sits near the end (a long legal footer may follow it);
    // looking further back costs time on every long message for nothing.
    let from = lines.len().saturating_sub(GREETING_REACH);
    match lines.iter().skip(from).rposition(|l| is_greeting(l)).map(|at| at + from) {
        Some(at) => lines.iter().skip(at).filter(non_empty).take(16).copied().collect(),
        None => {
            let mut tail: Vec<&str> = lines.iter().rev().filter(non_empty).take(12).copied().collect();
            tail.reverse();
            tail
        }
    }
}

/// Phone numbers on one signature line, in E.164.
fn phones_in_line(line: &str) -> Vec<String> {
    // A phone has at least 9 digits (see `judge`): most lines have fewer.
    if line.bytes().filter(u8::is_ascii_digit).count() < 9 {
        return Vec::new();
    }
    // A person's phone line comes back in every mail, also when the rest
    // of the block differs (the greeting, a footer), and the phonenumber
    // parser is the dearest part of reading a signature: a line's numbers
    // depend on the line alone.
    thread_local! {
        static LINES: Kept<Vec<String>> = Default::default();
    }
    kept(&LINES, PHONE_LINES_KEPT, line, || read_phones(line))
}

/// [`phones_in_line`], read.
fn read_phones(line: &str) -> Vec<String> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out = Vec::new();
    let mut label_text = String::new();
    let mut i = 0;
    while let Some(&(_, c)) = chars.get(i) {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).map(|(_, c)| *c);
        let starts = (c.is_ascii_digit() || c == '+' || (c == '(' && chars.get(i + 1).is_some_and(|(_, n)| *n == '+')))
            && prev.is_none_or(|p| !(p.is_alphanumeric() || matches!(p, '/' | '-' | '.' | '_' | '#' | '+')));
        if !starts {
            label_text.push(c);
            i += 1;
            continue;
        }
        // The run: digits with the spaces, hyphens and brackets people group them with.
        let mut run = String::new();
        let mut j = i;
        while let Some(&(_, d)) = chars.get(j) {
            let fits = d.is_ascii_digit()
                || matches!(d, ' ' | '\u{a0}' | '-' | '(' | ')')
                || (d == '+' && run.trim().trim_start_matches('(').is_empty());
            if !fits {
                break;
            }
            run.push(d);
            j += 1;
        }
        // Give back the trailing separators, so the char after the last digit decides.
        let kept = run.trim_end_matches(|c: char| !c.is_ascii_digit()).chars().count();
        let next = chars.get(i + kept).map(|(_, c)| *c);
        let candidate: String = run.chars().take(kept).collect();
        if let Some(phone) = judge(&candidate, &label_text, next) {
            out.push(phone);
        }
        label_text.clear();
        i += kept.max(1);
    }
    out
}

/// Is this run of digits a phone number, given the text before it on its
/// line (since the previous number) and the char right after it?
fn judge(candidate: &str, before: &str, next: Option<char>) -> Option<String> {
    // "123456789/0100" is a bank account, "12345678-9" or "602123456Kč" no phone.
    if next.is_some_and(|n| n == '/' || n.is_alphanumeric()) {
        return None;
    }
    let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
    let digit_count = digits.chars().count();
    if !(9..=15).contains(&digit_count) {
        return None;
    }
    let trimmed = candidate.trim_start_matches('(').trim_start();
    let international = trimmed.starts_with('+') || digits.starts_with("00");
    let (labelled, blocked) = labels(before);
    if blocked {
        return None;
    }
    if !international && !labelled && digit_count != 9 {
        return None;
    }
    let text = if international && !trimmed.starts_with('+') {
        format!("+{}", digits.strip_prefix("00").unwrap_or(&digits))
    } else {
        candidate.to_string()
    };
    // A Slovak number written nationally starts with its trunk 0 ("0905 123 456").
    let region = if !international && digits.starts_with('0') {
        phonenumber::country::Id::SK
    } else {
        phonenumber::country::Id::CZ
    };
    let number = phonenumber::parse(Some(region), &text).ok()?;
    if !number.is_valid() {
        return None;
    }
    Some(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// (a phone label, a not-a-phone label) in the text before a number; what
/// comes last wins: "IČO: 12345678, tel.: …" labels the phone.
fn labels(before: &str) -> (bool, bool) {
    let folded = fold(before);
    let mut last: Option<bool> = None;
    let words: Vec<&str> = folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    for (n, w) in words.iter().enumerate() {
        // "Tel./fax:" is a phone that also takes faxes.
        let tel_fax =
            *w == "fax" && last == Some(true) && n > 0 && words.get(n - 1).is_some_and(|p| PHONE_LABELS.contains(p));
        if PHONE_LABELS.contains(w) || tel_fax {
            last = Some(true);
        } else if NOT_PHONE_LABELS.contains(w) || (*w == "c" && n + 1 == words.len()) {
            last = Some(false);
        }
    }
    // "T: 312 000 456", "M: 602 …": one letter followed by a colon.
    let single = folded.trim_end().strip_suffix(':').map(|s| s.trim_end()).is_some_and(|s| {
        let mut rev = s.chars().rev();
        matches!(
            (rev.next(), rev.next()),
            (Some('t' | 'm' | 'p'), None) | (Some('t' | 'm' | 'p'), Some(' ' | ',' | '|'))
        )
    });
    if single {
        last = Some(true);
    }
    (last == Some(true), last == Some(false))
}

/// The position next to the sender's name in the signature block.
fn position_in(block: &[&str], name: Option<&PersonName>) -> Option<String> {
    let surname = name.and_then(|n| n.name.split_whitespace().next_back()).map(fold);
    let by_surname = surname.as_ref().and_then(|s| {
        block.iter().position(|l| fold(l).split(|c: char| !c.is_alphanumeric()).any(|w| w == s.as_str()))
    });
    let name_at = by_surname.or_else(|| {
        block
            .iter()
            .position(|l| !is_greeting(l) && split_pieces(l).first().is_some_and(|p| parse_display_name(p).is_some()))
    })?;
    let line = |i: usize| block.get(i).copied();
    // On the name's line: "Lucie Malá, nákupčí".
    if let Some(l) = line(name_at) {
        let pieces: Vec<String> =
            split_pieces(l).iter().flat_map(|p| p.split(',').map(str::to_string).collect::<Vec<_>>()).collect();
        if let Some(p) = pieces.iter().skip(1).find_map(|p| position_piece(p)) {
            return Some(p);
        }
    }
    let mut near = vec![name_at + 1];
    if let Some(prev) = name_at.checked_sub(1)
        && line(prev).is_some_and(|l| !is_greeting(l))
    {
        near.push(prev);
    }
    near.push(name_at + 2);
    near.into_iter().filter_map(line).find_map(position_on_line)
}

/// A position on its own line, maybe followed by the firm: "nákup | Acme
/// Stavby s.r.o.", "jednatel, Acme Stavby s.r.o.", "Sales Manager".
fn position_on_line(line: &str) -> Option<String> {
    let pieces: Vec<String> =
        split_pieces(line).iter().flat_map(|p| p.split(',').map(str::to_string).collect::<Vec<_>>()).collect();
    pieces.first().and_then(|p| position_piece(p))
}

/// The piece, cleaned, when it is a known position.
fn position_piece(piece: &str) -> Option<String> {
    let cleaned = piece.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation() && c != '&');
    let f = fold(cleaned);
    let words: Vec<&str> = f.split_whitespace().collect();
    if words.is_empty()
        || words.len() > 6
        || cleaned.chars().count() > 60
        || cleaned.chars().any(|c| c.is_ascii_digit() || c == '@')
    {
        return None;
    }
    let known = |phrase: &str| {
        let w: Vec<&str> = phrase.split_whitespace().collect();
        POSITIONS.contains(&phrase)
            || POSITION_HEADS.iter().any(|h| {
                phrase.starts_with(h) && phrase.len() > h.len() && phrase.as_bytes().get(h.len()) == Some(&b' ')
            })
            || w.len() > 1 && w.last().is_some_and(|l| POSITION_TAILS.contains(l))
    };
    // "servis a obchod", "Sales & Marketing": every part a position.
    let phrase = words.join(" ");
    let parts: Vec<&str> = phrase
        .split([',', '&'])
        .flat_map(|p| p.split(" a "))
        .flat_map(|p| p.split(" and "))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (known(&phrase) || parts.len() > 1 && parts.iter().all(|p| known(p))).then(|| cleaned.to_string())
}

// ---------------------------------------------------------------------------
// Same person
// ---------------------------------------------------------------------------

/// Two display names or names denote the same person: titles ignored,
/// accents and case folded, order-insensitive ("Horák Karel" = "Ing.
/// Karel Horák"), a given-name initial accepted ("K. Horák"). For merge
/// suggestions: a person writing from a firm address and from seznam.cz.
pub fn same_person(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Option<Vec<String>> {
        let p = parse_display_name(s)?;
        Some(p.name.split_whitespace().map(|w| fold(w).trim_end_matches('.').to_string()).collect())
    };
    let (Some(wa), Some(wb)) = (words(a), words(b)) else { return false };
    let mut sa = wa.clone();
    let mut sb = wb.clone();
    sa.sort();
    sb.sort();
    if sa == sb {
        return true;
    }
    // Same surname (the last word once the order is settled), and every
    // given name of the shorter side found on the other, an initial
    // matching the first letter.
    let (Some((surname_a, given_a)), Some((surname_b, given_b))) = (wa.split_last(), wb.split_last()) else {
        return false;
    };
    if surname_a != surname_b {
        return false;
    }
    let (short, long) = if given_a.len() <= given_b.len() { (given_a, given_b) } else { (given_b, given_a) };
    let fits = |x: &String, y: &String| {
        x == y
            || x.chars().count() == 1 && y.starts_with(x.as_str())
            || y.chars().count() == 1 && x.starts_with(y.as_str())
    };
    !short.is_empty() && short.iter().all(|x| long.iter().any(|y| fits(x, y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pn(name: &str, before: Option<&str>, after: Option<&str>) -> Option<PersonName> {
        Some(PersonName { name: name.into(), title_before: before.map(Into::into), title_after: after.map(Into::into) })
    }

    #[test]
    fn display_names_table() {
        let cases: Vec<(&str, Option<PersonName>)> = vec![
            ("Karel Horák", pn("Karel Horák", None, None)),
            ("Horák Karel", pn("Karel Horák", None, None)),
            ("Ing. Karel Horák, Ph.D.", pn("Karel Horák", Some("Ing."), Some("Ph.D."))),
            ("Ing. Karel Horák Ph.D.", pn("Karel Horák", Some("Ing."), Some("Ph.D."))),
            ("Horák Karel Ing.", pn("Karel Horák", Some("Ing."), None)),
            ("Ing Karel Horak", pn("Karel Horak", Some("Ing."), None)),
            ("Ing.Karel Horák", pn("Karel Horák", Some("Ing."), None)),
            ("Ing. arch. Jana Svobodová", pn("Jana Svobodová", Some("Ing. arch."), None)),
            ("doc. Ing. Petr Dvořák, CSc.", pn("Petr Dvořák", Some("doc. Ing."), Some("CSc."))),
            ("MUDr. Eva Nová, MBA", pn("Eva Nová", Some("MUDr."), Some("MBA"))),
            ("Bc. Tomáš Novák, DiS.", pn("Tomáš Novák", Some("Bc."), Some("DiS."))),
            ("Mgr. Lucie Malá, Ph.D., MBA", pn("Lucie Malá", Some("Mgr."), Some("Ph.D., MBA"))),
            ("\"Malá, Lucie\"", pn("Lucie Malá", None, None)),
            ("Horák, Karel", pn("Karel Horák", None, None)),
            ("Jones, Sarah", pn("Sarah Jones", None, None)),
            ("Svobodova, Jana", pn("Jana Svobodova", None, None)),
            ("HORÁK Karel", pn("Karel Horák", None, None)),
            ("Karel HORÁK", pn("Karel Horák", None, None)),
            ("KAREL HORÁK", pn("Karel Horák", None, None)),
            ("karel horák", pn("Karel Horák", None, None)),
            ("Karel Horák (Acme Stavby)", pn("Karel Horák", None, None)),
            ("Karel Horák [Acme]", pn("Karel Horák", None, None)),
            ("Lucie Malá | Acme", pn("Lucie Malá", None, None)),
            ("Lucie Malá - Acme Stavby s.r.o.", pn("Lucie Malá", None, None)),
            ("Lucie Malá – nákup", pn("Lucie Malá", None, None)),
            ("'Lucie Malá'", pn("Lucie Malá", None, None)),
            ("„Lucie Malá“", pn("Lucie Malá", None, None)),
            ("  Karel    Horák  ", pn("Karel Horák", None, None)),
            ("Karel Horák <karel@acme.cz>", pn("Karel Horák", None, None)),
            ("Jana Nováková-Malá", pn("Jana Nováková-Malá", None, None)),
            ("JANA NOVÁKOVÁ-MALÁ", pn("Jana Nováková-Malá", None, None)),
            ("K. Horák", pn("K. Horák", None, None)),
            ("Horák K.", pn("K. Horák", None, None)),
            ("Sarah Jones", pn("Sarah Jones", None, None)),
            ("Seán O'Brien", pn("Seán O'Brien", None, None)),
            ("Ludwig van Beethoven", pn("Ludwig van Beethoven", None, None)),
            ("Wei Zhang", pn("Wei Zhang", None, None)),
            ("Ľubomír Kováč", pn("Ľubomír Kováč", None, None)),
            ("Kováč Ľubomír", pn("Ľubomír Kováč", None, None)),
            ("Mr John Smith", pn("John Smith", None, None)),
            ("paní Lucie Malá", pn("Lucie Malá", None, None)),
            ("Jan Karel Horák", pn("Jan Karel Horák", None, None)),
            ("KAREL Horák", pn("Karel Horák", None, None)),
            ("Karel Horák, Acme Stavby s.r.o.", pn("Karel Horák", None, None)),
            ("Ing. Karel Horák, Ph.D., Acme Stavby s.r.o.", pn("Karel Horák", Some("Ing."), Some("Ph.D."))),
            ("Svobodová Jana", pn("Jana Svobodová", None, None)),
            ("SVOBODOVÁ Jana, Ing.", pn("Jana Svobodová", Some("Ing."), None)),
            ("Ing.arch.Jana Svobodová", pn("Jana Svobodová", Some("Ing. arch."), None)),
            // Not one person's name.
            ("", None),
            ("   ", None),
            ("karel@acme.cz", None),
            ("'karel@acme.cz'", None),
            ("\"karel@acme.cz\" <karel@acme.cz>", None),
            ("Acme Stavby s.r.o.", None),
            ("Acme Stavby", None),
            ("ACME Stavby - fakturace", None),
            ("ACME STAVBY", None),
            ("Fakturace", None),
            ("Obchodní oddělení", None),
            ("Acme – nákup", None),
            ("noreply", None),
            ("NOREPLY", None),
            ("Zákaznický servis", None),
            ("Customer Support", None),
            ("Brightwell Procurement", None),
            ("TZB novinky", None),
            ("Pekárna Novák s.r.o.", None),
            ("Modrý Kámen s. r. o.", None),
            ("Acme a.s.", None),
            ("Karel", None),
            ("Team 42", None),
            ("Karel Horák 2", None),
            ("Díky, Karel", None),
            ("S pozdravem Karel", None),
            ("Karel, Lucie, Petr", None),
            ("Jan Novák a Petr Dvořák a Eva", None),
            ("Karel\u{FFFD}Horák", None),
            ("<karel@acme.cz>", None),
            ("Acme Stavby s.r.o., Karel", None),
            ("Ing.Ing.Ing.", None),
        ];
        let wrong: Vec<String> = cases
            .into_iter()
            .filter_map(|(input, want)| {
                let got = parse_display_name(input);
                (got != want).then(|| format!("{input:?}: got {got:?}, want {want:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn display_names_are_bounded() {
        let long = format!("Karel {}", "Horák".repeat(30));
        assert_eq!(parse_display_name(&long), None);
        let words = "Karel ".repeat(1000);
        assert_eq!(parse_display_name(&words), None);
        assert_eq!(parse_display_name(&"(".repeat(10_000)), None);
    }

    #[test]
    fn role_addresses_table() {
        let cases = [
            ("info@acme.cz", true),
            ("INFO@acme.cz", true),
            ("info2@acme.cz", true),
            ("obchod.praha@acme.cz", true),
            ("praha.obchod@acme.cz", true),
            ("faktury-cz@acme.cz", true),
            ("fakturace@acme.cz", true),
            ("účtárna@acme.cz", true),
            ("ucetni@acme.cz", true),
            ("noreply@acme.cz", true),
            ("no-reply@acme.cz", true),
            ("do-not-reply@acme.cz", true),
            ("do_not_reply@acme.cz", true),
            ("mailer-daemon@mx.acme.cz", true),
            ("MAILER-DAEMON@mx.acme.cz", true),
            ("postmaster@acme.cz", true),
            ("office@acme.cz", true),
            ("kancelar@acme.cz", true),
            ("podpora@acme.cz", true),
            ("support@acme.cz", true),
            ("servis@acme.cz", true),
            ("helpdesk@acme.cz", true),
            ("recepce@acme.cz", true),
            ("objednavky@acme.cz", true),
            ("orders@acme.cz", true),
            ("marketing@acme.cz", true),
            ("hr@acme.cz", true),
            ("kariera@acme.cz", true),
            ("jobs@acme.cz", true),
            ("admin@acme.cz", true),
            ("webmaster@acme.cz", true),
            ("newsletter@acme.cz", true),
            ("notifications@github.com", true),
            ("news@example-newsletter.com", true),
            ("procurement@brightwell.co.uk", true),
            ("sales-cz@acme.cz", true),
            ("cz-sales@acme.cz", true),
            ("billing@acme.cz", true),
            ("accounting@acme.cz", true),
            ("info", true),
            ("karel.horak@acme.cz", false),
            ("karel@acme.cz", false),
            ("lucie.mala@acme-stavby.cz", false),
            ("k.horak@seznam.cz", false),
            ("horak@acme.cz", false),
            ("informatik@acme.cz", false),
            ("jan.servisni@acme.cz", false),
            ("hrabal@acme.cz", false),
            ("petr.obchod@acme.cz", false),
            ("", false),
            ("@acme.cz", false),
            ("1234@acme.cz", false),
        ];
        for (address, want) in cases {
            assert_eq!(is_role_address(address), want, "address {address:?}");
        }
    }

    const LUCIE_M03: &str = "Dobrý den, paní Svobodová,\n\nděkuji za zaslání přílohy. Cenová nabídka je v pořádku, jen bych Vás prosila\no upřesnění položky č. 3 – vyústky 600×200: jsou v ceně i regulační klapky?\n\nPan Horák chce mít finální verzi na poradě ve čtvrtek, takže ideálně do středy.\nFakturační údaje zůstávají stejné, jen prosím uvádějte číslo zakázky „Z-2026-014“.\n\nDěkuji a přeji hezký den\n\nLucie Malá\nnákup | Acme Stavby s.r.o.\ntel. +420 312 000 456\n";

    const KAREL_M01: &str = "Dobrý den, paní Svobodová,\n\njak jsme se bavili na veletrhu, posílám poptávku na dodávku a montáž\nvzduchotechniky pro novou skladovou halu (cca 2 400 m², světlá výška 9 m).\n\nProsím o orientační cenovou nabídku do konce května.\n\nS pozdravem\n\nIng. Karel Horák\njednatel\nAcme Stavby s.r.o.\nPrůmyslová 1472/8, 272 01 Kladno\n";

    #[test]
    fn signatures_table() {
        let karel = parse_display_name("Ing. Karel Horák");
        let lucie = parse_display_name("Lucie Malá");
        let sarah = parse_display_name("Sarah Jones");
        let tomas = parse_display_name("Tomáš Novák");
        let petr = parse_display_name("Petr Dvořák");
        let jan = parse_display_name("Ján Kováč");
        let john = parse_display_name("John Smith");
        let sig = |phones: &[&str], position: Option<&str>| Signature {
            phones: phones.iter().map(|p| p.to_string()).collect(),
            position: position.map(Into::into),
        };
        let cases: Vec<(&str, &str, Option<&PersonName>, Signature)> = vec![
            (
                "fixture M03: Lucie, nákup | firm, tel.",
                LUCIE_M03,
                lucie.as_ref(),
                sig(&["+420312000456"], Some("nákup")),
            ),
            ("M03 without the name", LUCIE_M03, None, sig(&["+420312000456"], Some("nákup"))),
            (
                "fixture M01: Karel, jednatel, address with a postal code",
                KAREL_M01,
                karel.as_ref(),
                sig(&[], Some("jednatel")),
            ),
            (
                "fixture M04: position, firm on one line",
                "Dodání prosím do 19. 6. 2026.\n\nDěkuji\n\nLucie Malá\nnákup, Acme Stavby s.r.o.\n",
                lucie.as_ref(),
                sig(&[], Some("nákup")),
            ),
            (
                "fixture M10: label, mobile without a prefix, sent from a phone",
                "od rána nám nejede odsávání.\n\nDěkuji\nTomáš Novák\nPekárna Novák s.r.o.\ntel. 604 000 333\n\nOdesláno z mobilu\n",
                tomas.as_ref(),
                sig(&["+420604000333"], None),
            ),
            (
                "fixture: English, position before the firm",
                "Please send the quotation by 30 September 2026.\n\nKind regards,\n\nSarah Jones\nFacilities Manager, Brightwell Ltd\n12 Harbour Street, Bristol BS1 4XY, United Kingdom\n",
                sarah.as_ref(),
                sig(&[], Some("Facilities Manager")),
            ),
            (
                "fixture: jednatel, firm on the name's next line",
                "Prosím o potvrzení účasti.\n\nIng. Karel Horák\njednatel, Acme Stavby s.r.o.\n",
                karel.as_ref(),
                sig(&[], Some("jednatel")),
            ),
            (
                "our own signature after --",
                "Text.\n\nS pozdravem\n\n--\nJana Svobodová\nobchod | Modrý Kámen s.r.o.\nvzduchotechnika a vytápění\ntel. +420 601 000 111 | www.modrykamen.cz\n",
                None,
                sig(&["+420601000111"], Some("obchod")),
            ),
            (
                "two departments",
                "Díky\n--\nPetr Dvořák\nservis a obchod | Modrý Kámen s.r.o.\ntel. +420 601 000 222\n",
                petr.as_ref(),
                sig(&["+420601000222"], Some("servis a obchod")),
            ),
            (
                "mobile and landline, labels M: and T:",
                "S pozdravem\nKarel Horák\nobchodní ředitel\nT: 312 000 456\nM: 602 123 456\n",
                karel.as_ref(),
                sig(&["+420312000456", "+420602123456"], Some("obchodní ředitel")),
            ),
            (
                "00420 prefix, mobil, GSM, duplicates once",
                "S pozdravem\nKarel Horák\nmobil: 00420 602 123 456\nGSM +420 602 123 456\n",
                karel.as_ref(),
                sig(&["+420602123456"], None),
            ),
            (
                "Slovak numbers",
                "S pozdravom\nJán Kováč\nvedúci nákupu\n+421 905 123 456\nmob. 0905 654 321\n",
                jan.as_ref(),
                sig(&["+421905123456", "+421905654321"], Some("vedúci nákupu")),
            ),
            (
                "IČO, DIČ, bank account, order number, date are no phones",
                "S pozdravem\nLucie Malá\nnákupčí\nAcme Stavby s.r.o., IČO: 27468135, DIČ: CZ27468135\nč. ú. 123456789/0100, 19-123456789/0300\nObjednávka č. 602123456 ze dne 2. 12. 2026\nPSČ 272 01\n",
                lucie.as_ref(),
                sig(&[], Some("nákupčí")),
            ),
            (
                "a valid 9-digit number in the block without a label",
                "S pozdravem\nLucie Malá\nAcme Stavby s.r.o.\n602 123 456\n",
                lucie.as_ref(),
                sig(&["+420602123456"], None),
            ),
            (
                "label and IČO on one line",
                "S pozdravem\nLucie Malá\nIČO 27468135, tel. 312 000 456\n",
                lucie.as_ref(),
                sig(&["+420312000456"], None),
            ),
            (
                "two numbers on one line",
                "Best regards\nJohn Smith | Sales Manager | Acme\nphone +420 312 000 456 / +420 602 123 456\n",
                john.as_ref(),
                sig(&["+420312000456", "+420602123456"], Some("Sales Manager")),
            ),
            ("name, position on one line", "Díky,\nLucie Malá, nákupčí\n", lucie.as_ref(), sig(&[], Some("nákupčí"))),
            (
                "position before the name",
                "Regards,\nHead of Procurement\nSarah Jones\n",
                sarah.as_ref(),
                sig(&[], Some("Head of Procurement")),
            ),
            (
                "quoted reply with an older signature (Outlook, Czech)",
                "Dobře, děkuji.\n\nS pozdravem\nLucie Malá\n\nOd: Karel Horák <karel@acme.cz>\nOdesláno: úterý 2. prosince 2026 10:15\nKomu: Lucie Malá\n\nS pozdravem\nKarel Horák\njednatel\ntel. +420 602 123 456\n",
                lucie.as_ref(),
                sig(&[], None),
            ),
            (
                "quoted reply (Thunderbird, wrapped attribution)",
                "Ano, platí.\n\nDne 2. 12. 2026 v 10:15 Karel Horák\n<karel@acme.cz> napsal(a):\n> S pozdravem\n> Karel Horák\n> jednatel\n> tel. +420 602 123 456\n",
                karel.as_ref(),
                sig(&[], None),
            ),
            (
                "quoted reply (English)",
                "Thanks, fine.\nSarah\n\nOn Tue, 2 Dec 2026 at 10:15, John Smith <john@acme.com> wrote:\n> Best regards\n> John Smith\n> Sales Manager\n> +420 602 123 456\n",
                sarah.as_ref(),
                sig(&[], None),
            ),
            (
                "Original Message",
                "OK.\n\n-----Original Message-----\nFrom: John Smith\nBest regards\nJohn Smith\nCEO\n+420 602 123 456\n",
                None,
                sig(&[], None),
            ),
            (
                "quoted lines only are skipped, the new signature counts",
                "> tel. +420 602 123 456\nRozumím.\n\nS pozdravem\nLucie Malá\nnákup\ntel. 312 000 456\n",
                lucie.as_ref(),
                sig(&["+420312000456"], Some("nákup")),
            ),
            (
                "fixture M16: English, department and firm, a bare international number",
                "I am available 13–16 October.\n\nBest regards,\n\nJana Svobodová\nSales, Modrý Kámen s.r.o.\n+420 601 000 111\n",
                None,
                sig(&["+420601000111"], Some("Sales")),
            ),
            (
                "a fax is no phone",
                "S pozdravem\nLucie Malá\nTel.: +420 312 000 456, fax: +420 312 000 457\n",
                lucie.as_ref(),
                sig(&["+420312000456"], None),
            ),
            (
                "tel./fax is a phone",
                "S pozdravem\nLucie Malá\nTel./fax: 312 000 456\n",
                lucie.as_ref(),
                sig(&["+420312000456"], None),
            ),
            ("empty body", "", None, sig(&[], None)),
            ("no signature at all", "Zavolejte mi prosím.", None, sig(&[], None)),
            (
                "a phone in the body text far from the end is not the signature's",
                "Volejte prosím na 602 123 456.\n\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nS pozdravem\nLucie Malá\n",
                lucie.as_ref(),
                sig(&[], None),
            ),
        ];
        let wrong: Vec<String> = cases
            .into_iter()
            .filter_map(|(name, body, person, want)| {
                let got = signature(body, person);
                (got != want).then(|| format!("{name}: got {got:?}, want {want:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn same_person_table() {
        let cases = [
            ("Horák Karel", "Ing. Karel Horák", true),
            ("Karel Horák", "karel horak", true),
            ("Ing. Karel Horák, Ph.D.", "Karel Horák", true),
            ("K. Horák", "Karel Horák", true),
            ("Karel Horák", "Horák, K.", true),
            ("\"Malá, Lucie\"", "Lucie Malá | Acme", true),
            ("Lucie Malá (Acme Stavby)", "LUCIE MALÁ", true),
            ("Wei Zhang", "Zhang Wei", true),
            ("Jan Karel Horák", "Karel Horák", true),
            ("Karel Horák", "Karel Horáková", false),
            ("Karel Horák", "Lucie Horáková", false),
            ("K. Horák", "Lucie Horák", false),
            ("Karel Horák", "Karel Novák", false),
            ("Karel Horák", "Horák", false),
            ("Karel Horák", "karel.horak@seznam.cz", false),
            ("Fakturace", "Fakturace", false),
            ("", "", false),
        ];
        for (a, b, want) in cases {
            assert_eq!(same_person(a, b), want, "{a:?} vs {b:?}");
            assert_eq!(same_person(b, a), want, "{b:?} vs {a:?}");
        }
    }
}
