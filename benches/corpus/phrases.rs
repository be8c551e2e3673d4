//! Word and phrase banks for the corpus generator. All companies, people and
//! products are invented. Templates use `{slot}` placeholders that
//! `Slots::fill` in `mod.rs` replaces; `{a}` and `{rad}` follow the writer's
//! gender (`napsal{a}` → napsal / napsala, `{rad}` → rád / ráda).

/// Czech surnames: (male, male vocative, female).
pub const CZ_SURNAMES: &[(&str, &str, &str)] = &[
    ("Horák", "Horáku", "Horáková"),
    ("Novák", "Nováku", "Nováková"),
    ("Dvořák", "Dvořáku", "Dvořáková"),
    ("Svoboda", "Svobodo", "Svobodová"),
    ("Černý", "Černý", "Černá"),
    ("Procházka", "Procházko", "Procházková"),
    ("Kučera", "Kučero", "Kučerová"),
    ("Veselý", "Veselý", "Veselá"),
    ("Krejčí", "Krejčí", "Krejčí"),
    ("Marek", "Marku", "Marková"),
    ("Pokorný", "Pokorný", "Pokorná"),
    ("Beneš", "Beneši", "Benešová"),
    ("Fiala", "Fialo", "Fialová"),
    ("Sedláček", "Sedláčku", "Sedláčková"),
    ("Doležal", "Doležale", "Doležalová"),
    ("Zeman", "Zemane", "Zemanová"),
    ("Kolář", "Koláři", "Kolářová"),
    ("Navrátil", "Navrátile", "Navrátilová"),
    ("Čermák", "Čermáku", "Čermáková"),
    ("Urban", "Urbane", "Urbanová"),
    ("Vaněk", "Vaňku", "Vaňková"),
    ("Blažek", "Blažku", "Blažková"),
    ("Kříž", "Kříži", "Křížová"),
    ("Kovář", "Kováři", "Kovářová"),
    ("Bartoš", "Bartoši", "Bartošová"),
    ("Vlček", "Vlčku", "Vlčková"),
    ("Polák", "Poláku", "Poláková"),
    ("Musil", "Musile", "Musilová"),
    ("Šimek", "Šimku", "Šimková"),
    ("Konečný", "Konečný", "Konečná"),
    ("Malý", "Malý", "Malá"),
    ("Holub", "Holube", "Holubová"),
    ("Štěpánek", "Štěpánku", "Štěpánková"),
    ("Kadlec", "Kadlece", "Kadlecová"),
    ("Jelínek", "Jelínku", "Jelínková"),
    ("Růžička", "Růžičko", "Růžičková"),
    ("Havlík", "Havlíku", "Havlíková"),
    ("Mach", "Machu", "Machová"),
    ("Bureš", "Bureši", "Burešová"),
    ("Hájek", "Hájku", "Hájková"),
    ("Král", "Krále", "Králová"),
    ("Říha", "Řího", "Říhová"),
    ("Šťastný", "Šťastný", "Šťastná"),
    ("Tůma", "Tůmo", "Tůmová"),
    ("Žák", "Žáku", "Žáková"),
    ("Hruška", "Hruško", "Hrušková"),
    ("Lukeš", "Lukeši", "Lukešová"),
    ("Matoušek", "Matoušku", "Matoušková"),
];

/// Czech male first names: (nominative, vocative).
pub const CZ_MALE: &[(&str, &str)] = &[
    ("Karel", "Karle"),
    ("Petr", "Petře"),
    ("Jan", "Jane"),
    ("Tomáš", "Tomáši"),
    ("Martin", "Martine"),
    ("Jiří", "Jiří"),
    ("Pavel", "Pavle"),
    ("Lukáš", "Lukáši"),
    ("Jakub", "Jakube"),
    ("Ondřej", "Ondřeji"),
    ("Josef", "Josefe"),
    ("Michal", "Michale"),
    ("Filip", "Filipe"),
    ("Radek", "Radku"),
    ("Zdeněk", "Zdeňku"),
    ("Miroslav", "Miroslave"),
    ("Vojtěch", "Vojtěchu"),
    ("David", "Davide"),
    ("Aleš", "Aleši"),
    ("Štěpán", "Štěpáne"),
];

/// Czech female first names: (nominative, vocative).
pub const CZ_FEMALE: &[(&str, &str)] = &[
    ("Jana", "Jano"),
    ("Lucie", "Lucie"),
    ("Petra", "Petro"),
    ("Kateřina", "Kateřino"),
    ("Eva", "Evo"),
    ("Markéta", "Markéto"),
    ("Tereza", "Terezo"),
    ("Hana", "Hano"),
    ("Zuzana", "Zuzano"),
    ("Michaela", "Michaelo"),
    ("Lenka", "Lenko"),
    ("Veronika", "Veroniko"),
    ("Alena", "Aleno"),
    ("Monika", "Moniko"),
    ("Barbora", "Barboro"),
    ("Šárka", "Šárko"),
];

pub const EN_MALE: &[&str] =
    &["James", "Tom", "Oliver", "Daniel", "Mark", "Richard", "Paul", "Andrew", "Simon", "Chris", "Ben", "Stuart"];
pub const EN_FEMALE: &[&str] =
    &["Sarah", "Emma", "Claire", "Rachel", "Laura", "Helen", "Sophie", "Kate", "Lucy", "Amy", "Joanne", "Hannah"];
pub const EN_SURNAMES: &[&str] = &[
    "Jones", "Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Edwards", "Green", "Hall",
    "Wood", "Harris", "Clarke", "Turner", "Hill", "Cooper", "Ward", "Morris", "Baker", "Parker", "Bennett", "Price",
];

pub const CZ_ROLES_M: &[&str] =
    &["jednatel", "stavbyvedoucí", "vedoucí provozu", "technik", "nákupčí", "správce budovy", "projektant", "ředitel"];
pub const CZ_ROLES_F: &[&str] =
    &["jednatelka", "účetní", "asistentka", "vedoucí provozu", "nákupčí", "office manager", "projektantka"];
pub const EN_ROLES: &[&str] = &[
    "Operations Manager",
    "Facilities Manager",
    "Procurement Lead",
    "Project Manager",
    "Site Manager",
    "Finance Assistant",
    "Managing Director",
];

/// Trades for "Stavby Horák s.r.o." style names.
pub const CZ_TRADES: &[&str] = &[
    "Stavby",
    "Stavební firma",
    "Instalace",
    "Elektro",
    "Truhlářství",
    "Klempířství",
    "Autodoprava",
    "Zámečnictví",
    "Tiskárna",
    "Pekárna",
    "Řeznictví",
    "Kovovýroba",
    "Topenářství",
    "Malířství",
    "Zahradnictví",
    "Projekce",
    "Montáže",
    "Vinařství",
    "Sklenářství",
    "Podlahy",
    "Střechy",
    "Kamenictví",
];

/// Trades for "Pekárna U Mlýna s.r.o." style names.
pub const CZ_TRADES_U: &[&str] =
    &["Pekárna", "Penzion", "Pivovar", "Cukrárna", "Restaurace", "Hotel", "Řeznictví", "Vinárna", "Lékárna", "Hospoda"];
pub const CZ_U_PLACES: &[&str] = &[
    "U Mlýna",
    "U Lípy",
    "U Kostela",
    "U Nádraží",
    "Na Návsi",
    "Pod Hradem",
    "U Potoka",
    "Na Kopci",
    "U Zlatého klasu",
    "U Tří lip",
    "Na Rychtě",
    "U Brány",
    "Pod Lesem",
    "U Radnice",
    "Na Ostrově",
];

/// Adjective stems taking -ý / -á / -é.
pub const CZ_ADJ_STEMS: &[&str] = &[
    "Kladensk",
    "Plzeňsk",
    "Brněnsk",
    "Pražsk",
    "Jihlavsk",
    "Libereck",
    "Olomouck",
    "Ostravsk",
    "Pardubick",
    "Zlínsk",
    "Táborsk",
    "Píseck",
    "Kolínsk",
    "Mělnick",
    "Berounsk",
    "Budějovick",
    "Moravsk",
    "Jihočesk",
    "Severočesk",
    "Středočesk",
    "Východočesk",
    "Krkonošsk",
    "Šumavsk",
    "Polabsk",
    "Hanáck",
    "Slováck",
];

/// Nouns and their adjective ending: 'm' → -ý, 'f' → -á, 'p' → -é.
pub const CZ_ADJ_NOUNS: &[(&str, char)] = &[
    ("strojírna", 'f'),
    ("stavby", 'p'),
    ("pekárny", 'p'),
    ("mlékárna", 'f'),
    ("tiskárna", 'f'),
    ("slévárna", 'f'),
    ("stavební společnost", 'f'),
    ("teplárna", 'f'),
    ("servis", 'm'),
    ("dopravní podnik", 'm'),
    ("pivovar", 'm'),
    ("stavební podnik", 'm'),
    ("nemovitosti", 'p'),
    ("hotely", 'p'),
    ("vodárny", 'p'),
];

pub const CZ_SYLL_A: &[&str] =
    &["Termo", "Klima", "Stavo", "Elektro", "Techno", "Euro", "Agro", "Inter", "Metal", "Hydro", "Eko", "Geo", "Proto"];
pub const CZ_SYLL_B: &[&str] =
    &["stav", "mont", "tech", "servis", "therm", "plan", "trans", "profi", "com", "projekt", "invest", "real"];

pub const CZ_LEGAL: &[(&str, u32)] = &[(" s.r.o.", 65), (" a.s.", 15), (", spol. s r.o.", 12), (" v.o.s.", 8)];

pub const EN_WORDS: &[&str] = &[
    "Northwind",
    "Harbour",
    "Oakridge",
    "Riverside",
    "Greenfield",
    "Redstone",
    "Silverline",
    "Kingsbridge",
    "Westmoor",
    "Ashford",
    "Blackwater",
    "Highgate",
    "Ironbridge",
    "Lakeside",
    "Meadowbank",
    "Stonegate",
    "Thornbury",
    "Whitecliff",
    "Foxhall",
    "Elmstead",
];
pub const EN_INDUSTRIES: &[&str] = &[
    "Logistics",
    "Engineering",
    "Facilities",
    "Construction",
    "Properties",
    "Foods",
    "Print",
    "Hospitality",
    "Developments",
    "Building Services",
    "Climate Systems",
    "Manufacturing",
    "Supplies",
];
pub const EN_LEGAL: &[(&str, u32)] = &[(" Ltd", 70), (" Limited", 15), (" PLC", 5), (" Group Ltd", 10)];

/// Czech towns: (nominative, genitive, locative).
pub const PLACES: &[(&str, &str, &str)] = &[
    ("Kladno", "Kladna", "Kladně"),
    ("Plzeň", "Plzně", "Plzni"),
    ("Brno", "Brna", "Brně"),
    ("Praha", "Prahy", "Praze"),
    ("Jihlava", "Jihlavy", "Jihlavě"),
    ("Liberec", "Liberce", "Liberci"),
    ("Olomouc", "Olomouce", "Olomouci"),
    ("Pardubice", "Pardubic", "Pardubicích"),
    ("Tábor", "Tábora", "Táboře"),
    ("Beroun", "Berouna", "Berouně"),
    ("Kolín", "Kolína", "Kolíně"),
    ("Zlín", "Zlína", "Zlíně"),
    ("Ostrava", "Ostravy", "Ostravě"),
    ("Mělník", "Mělníka", "Mělníku"),
    ("České Budějovice", "Českých Budějovic", "Českých Budějovicích"),
    ("Hradec Králové", "Hradce Králové", "Hradci Králové"),
    ("Říčany", "Říčan", "Říčanech"),
    ("Třebíč", "Třebíče", "Třebíči"),
];
pub const EN_PLACES: &[&str] =
    &["Bristol", "Leeds", "Manchester", "Reading", "Swindon", "Leicester", "Norwich", "Coventry"];

pub const STREETS: &[&str] = &[
    "Slunečná",
    "Lipová",
    "Komenského",
    "Husova",
    "Nádražní",
    "Polní",
    "Zahradní",
    "Školní",
    "Palackého",
    "Masarykova",
    "Jiráskova",
    "Tyršova",
    "Průmyslová",
    "Krátká",
];

/// Project names; `{street}` and `{town}` are filled when the conversation starts.
pub const CZ_PROJECTS: &[&str] = &[
    "BD {street}",
    "hala {town}",
    "ZŠ {street}",
    "MŠ {street}",
    "RD {town}",
    "sklad {town}",
    "administrativní budova {town}",
    "poliklinika {town}",
    "penzion {town}",
    "kanceláře {street}",
    "výrobní hala {town}",
    "sportovní hala {town}",
];
pub const EN_PROJECTS: &[&str] = &[
    "Unit 4 Riverside Park",
    "Kingsway Offices",
    "Harbour View Apartments",
    "Station Road Depot",
    "Mill Lane School",
    "Queensgate Retail Park",
    "Albion Wharf",
    "Canal Street Studios",
];

/// HVAC products: (Czech nominative, Czech genitive, English).
pub const PRODUCTS: &[(&str, &str, &str)] = &[
    ("rekuperační jednotka RJ-350", "rekuperační jednotky RJ-350", "heat recovery unit HRU-350"),
    ("klimatizace split 3,5 kW", "klimatizace split 3,5 kW", "split air conditioner 3.5 kW"),
    ("tepelné čerpadlo vzduch-voda 12 kW", "tepelného čerpadla vzduch-voda 12 kW", "air-to-water heat pump 12 kW"),
    ("vzduchotechnická jednotka VZT-2000", "vzduchotechnické jednotky VZT-2000", "air handling unit AHU-2000"),
    ("ventilátor VK-200", "ventilátoru VK-200", "duct fan DF-200"),
    ("filtr F7 592×592", "filtru F7 592×592", "F7 bag filter 592x592"),
    ("požární klapka PK-315", "požární klapky PK-315", "fire damper FD-315"),
    ("chladicí jednotka CH-18", "chladicí jednotky CH-18", "chiller unit CH-18"),
    ("multisplit systém MS-5", "multisplit systému MS-5", "multi-split system MS-5"),
    ("kanálová jednotka KJ-800", "kanálové jednotky KJ-800", "ducted unit DU-800"),
    ("regulace MaR pro VZT", "regulace MaR pro VZT", "BMS controls for the AHU"),
    ("potrubí Spiro DN 250", "potrubí Spiro DN 250", "spiral duct DN 250"),
    ("odvlhčovač OD-40", "odvlhčovače OD-40", "dehumidifier DH-40"),
    ("kazetová jednotka 7,1 kW", "kazetové jednotky 7,1 kW", "cassette unit 7.1 kW"),
    ("plynový kotel 24 kW", "plynového kotle 24 kW", "gas boiler 24 kW"),
];

pub const TECHNICIANS: &[&str] = &["Radek Vlček", "Miroslav Kříž", "Jakub Fiala", "Vojtěch Šimek"];
pub const TIMES: &[&str] = &["8:00", "8:30", "9:00", "9:30", "10:00", "10:30", "13:00", "13:30", "14:00", "15:00"];
pub const CZ_WEEKDAYS: &[&str] = &["v pondělí", "v úterý", "ve středu", "ve čtvrtek", "v pátek"];
pub const CZ_WEEKDAYS_CAP: &[&str] = &["V pondělí", "V úterý", "Ve středu", "Ve čtvrtek", "V pátek"];
pub const EN_WEEKDAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
pub const CZ_MONTHS_LOC: &[&str] = &[
    "v lednu",
    "v únoru",
    "v březnu",
    "v dubnu",
    "v květnu",
    "v červnu",
    "v červenci",
    "v srpnu",
    "v září",
    "v říjnu",
    "v listopadu",
    "v prosinci",
];
pub const CZ_MONTHS_GEN: &[&str] = &[
    "ledna",
    "února",
    "března",
    "dubna",
    "května",
    "června",
    "července",
    "srpna",
    "září",
    "října",
    "listopadu",
    "prosince",
];
pub const CZ_MONTHS_NOM: &[&str] = &[
    "leden",
    "únor",
    "březen",
    "duben",
    "květen",
    "červen",
    "červenec",
    "srpen",
    "září",
    "říjen",
    "listopad",
    "prosinec",
];
pub const CZ_DAYS_FULL: &[&str] = &["pondělí", "úterý", "středa", "čtvrtek", "pátek", "sobota", "neděle"];
pub const EN_MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub const EN_DAYS_FULL: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The texts of one topic in one language.
pub struct Bank {
    pub subjects: &'static [&'static str],
    /// The client writes first / we write first / the client replies / we reply.
    pub them_first: &'static [&'static str],
    pub us_first: &'static [&'static str],
    pub them_reply: &'static [&'static str],
    pub us_reply: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Offer,
    Invoice,
    Order,
    Contract,
    Service,
    Meeting,
    Complaint,
    Delivery,
}

impl Topic {
    /// Topics with their share of client conversations (percent) and the
    /// chance that one message of the topic carries an attachment.
    pub const WEIGHTS: &[(Topic, u32, f64)] = &[
        (Topic::Offer, 20, 0.10),
        (Topic::Invoice, 15, 0.16),
        (Topic::Order, 15, 0.08),
        (Topic::Contract, 7, 0.12),
        (Topic::Service, 15, 0.04),
        (Topic::Meeting, 12, 0.015),
        (Topic::Complaint, 6, 0.05),
        (Topic::Delivery, 10, 0.12),
    ];

    pub fn bank(self, english: bool) -> &'static Bank {
        match (self, english) {
            (Topic::Offer, false) => &CS_OFFER,
            (Topic::Invoice, false) => &CS_INVOICE,
            (Topic::Order, false) => &CS_ORDER,
            (Topic::Contract, false) => &CS_CONTRACT,
            (Topic::Service, false) => &CS_SERVICE,
            (Topic::Meeting, false) => &CS_MEETING,
            (Topic::Complaint, false) => &CS_COMPLAINT,
            (Topic::Delivery, false) => &CS_DELIVERY,
            (Topic::Offer, true) => &EN_OFFER,
            (Topic::Invoice, true) => &EN_INVOICE,
            (Topic::Order, true) => &EN_ORDER,
            (Topic::Contract, true) => &EN_CONTRACT,
            (Topic::Service, true) => &EN_SERVICE,
            (Topic::Meeting, true) => &EN_MEETING,
            (Topic::Complaint, true) => &EN_COMPLAINT,
            (Topic::Delivery, true) => &EN_DELIVERY,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Topic::Offer => "offer",
            Topic::Invoice => "invoice",
            Topic::Order => "order",
            Topic::Contract => "contract",
            Topic::Service => "service",
            Topic::Meeting => "meeting",
            Topic::Complaint => "complaint",
            Topic::Delivery => "delivery",
        }
    }

    /// Attachment file names (the extension picks PDF-like or xlsx-like bytes).
    pub fn attachments(self, english: bool) -> &'static [&'static str] {
        match (self, english) {
            (Topic::Offer, false) => &[
                "nabídka_{surname}.pdf",
                "cenová_nabídka_{offer_no}.pdf",
                "kalkulace_{offer_no}.xlsx",
                "nabidka-{offer_no}.pdf",
            ],
            (Topic::Invoice, false) => {
                &["faktura-{invoice_no}.pdf", "Faktura_{invoice_no}.pdf", "faktura č. {invoice_no}.pdf"]
            }
            (Topic::Order, false) => &["objednávka_{order_no}.pdf", "objednávka_{order_no}.xlsx", "OBJ_{order_no}.pdf"],
            (Topic::Contract, false) => {
                &["smlouva_o_dílo_{contract_no}.pdf", "návrh_smlouvy_v{n}.pdf", "SOD_{contract_no}.pdf"]
            }
            (Topic::Service, false) => &["servisní_protokol_{date_compact}.pdf", "protokol-{n}.pdf"],
            (Topic::Meeting, false) => {
                &["zápis_z_kontrolního_dne_{date_compact}.pdf", "harmonogram_{project_slug}.xlsx"]
            }
            (Topic::Complaint, false) => &["reklamační_protokol_{claim_no}.pdf", "reklamace-{claim_no}.pdf"],
            (Topic::Delivery, false) => &["dodací_list_{dl_no}.pdf", "DL_{dl_no}.pdf"],
            (Topic::Offer, true) => &["quotation-{offer_no}.pdf", "price-breakdown-{offer_no}.xlsx"],
            (Topic::Invoice, true) => &["invoice-{invoice_no}.pdf", "Invoice_{invoice_no}.pdf"],
            (Topic::Order, true) => &["PO-{order_no}.pdf", "purchase-order-{order_no}.xlsx"],
            (Topic::Contract, true) => &["draft-agreement-{contract_no}.pdf"],
            (Topic::Service, true) => &["service-report-{n}.pdf"],
            (Topic::Meeting, true) => &["minutes-{date_compact}.pdf", "programme-{project_slug}.xlsx"],
            (Topic::Complaint, true) => &["claim-{claim_no}.pdf"],
            (Topic::Delivery, true) => &["delivery-note-{dl_no}.pdf"],
        }
    }
}

pub static CS_OFFER: Bank = Bank {
    subjects: &[
        "Poptávka – {product}",
        "Cenová nabídka – {project}",
        "Nabídka č. {offer_no}",
        "Aktualizovaná nabídka {offer_no}",
        "Poptávka dodávky a montáže – {project}",
        "Cenová nabídka {offer_no} – {product}",
    ],
    them_first: &[
        "prosím o zaslání cenové nabídky na dodávku {product_gen} pro akci {project}.",
        "potřebovali bychom nacenit {qty} ks – {product}, včetně montáže a dopravy do {place_gen}.",
        "Termín realizace předpokládáme {month}, nejpozději do {date}.",
        "Můžete nám prosím poslat i orientační cenu servisu na další dva roky?",
        "Projektovou dokumentaci Vám pošlu zvlášť, je poměrně velká.",
        "Rozpočet investora je omezený, takže bychom ocenili i levnější variantu.",
        "Jde o rekonstrukci objektu v {place_loc}, prostor má zhruba {area} m2.",
        "Nabídku prosím zašlete nejpozději do {date}, pak ji předáváme investorovi.",
        "Jednotky by měly být co nejtišší, objekt je v obytné zóně.",
    ],
    us_first: &[
        "v příloze Vám zasílám cenovou nabídku č. {offer_no} na dodávku a montáž {product_gen}.",
        "Celková cena činí {amount} bez DPH, platnost nabídky je {days} dní.",
        "Nabídka zahrnuje dopravu, montáž, uvedení do provozu a zaškolení obsluhy.",
        "Termín dodání je aktuálně do {weeks} týdnů od potvrzení objednávky.",
        "Na jednotky poskytujeme záruku 36 měsíců, při pravidelném servisu až 5 let.",
        "Pokud byste měli zájem o jinou variantu, {rad} nabídku upravím.",
        "Příloha: cenová nabídka {offer_no} (PDF).",
        "Ceny jsou uvedeny bez DPH a bez stavebních přípomocí.",
    ],
    them_reply: &[
        "děkujeme za zaslanou nabídku, prošli jsme ji s investorem.",
        "Cena je pro nás zatím vysoká, je prostor pro slevu při odběru {qty} ks?",
        "Můžete prosím do nabídky doplnit i demontáž stávajícího zařízení?",
        "Nabídku akceptujeme, objednávku pošleme do konce týdne.",
        "Prosím ještě o upřesnění, zda cena zahrnuje i revizi a uvedení do provozu.",
        "Investor se rozhodne {weekday}, dám Vám vědět.",
        "Konkurenční nabídka je zhruba o deset procent levnější.",
    ],
    us_reply: &[
        "posílám upravenou nabídku, po dohodě jsme snížili cenu na {amount} bez DPH.",
        "Demontáž stávajícího zařízení jsem do nabídky doplnil{a}, viz příloha.",
        "Cena zahrnuje revizi, uvedení do provozu i zaškolení obsluhy.",
        "Platnost nabídky jsem prodloužil{a} do {date}.",
        "Děkuji za zájem, budu se těšit na objednávku.",
        "Levnější variantu můžeme nabídnout s jednotkou nižší řady, výkon by stačil.",
    ],
};

pub static CS_INVOICE: Bank = Bank {
    subjects: &[
        "Faktura č. {invoice_no}",
        "Faktura {invoice_no} – splatnost {date}",
        "Upomínka – faktura {invoice_no}",
        "Dotaz k faktuře {invoice_no}",
        "Fakturační údaje – {client}",
        "Faktura za servis {year}",
        "Storno faktury {invoice_no}",
    ],
    them_first: &[
        "prosím o zaslání faktury k objednávce {order_no}, potřebujeme ji zaúčtovat ještě tento měsíc.",
        "ve faktuře č. {invoice_no} je uvedeno chybné IČO, správně má být {ico}.",
        "Fakturu prosím posílejte na adresu fakturace@{client_domain}.",
        "Nenašli jsme u Vás fakturu za servisní zásah z {date}, můžete ji prosím poslat znovu?",
        "Platba faktury {invoice_no} byla odeslána dnes, omlouváme se za zpoždění.",
        "Na faktuře nesouhlasí počet kusů s dodacím listem {dl_no}.",
    ],
    us_first: &[
        "v příloze Vám zasíláme fakturu č. {invoice_no} se splatností {days} dní.",
        "Fakturovaná částka: {amount} vč. DPH, variabilní symbol {vs}.",
        "Odběratel: {client}, IČO: {ico}.",
        "Prosíme o úhradu na účet uvedený na faktuře.",
        "Příloha: faktura {invoice_no} ve formátu PDF.",
        "Dovolujeme si Vás upozornit, že faktura č. {invoice_no} je {overdue} dní po splatnosti.",
        "Fakturu jsme zároveň nahráli do Vašeho portálu dodavatelů.",
    ],
    them_reply: &[
        "děkujeme, fakturu jsme obdrželi a předali k úhradě.",
        "Faktura bude uhrazena v nejbližším platebním běhu.",
        "Můžete prosím fakturu vystavit znovu s číslem naší objednávky {order_no}?",
        "Na faktuře chybí číslo objednávky, bez něj ji účetní nepřijme.",
        "Částku jsme uhradili {weekday}, na účtu by měla být do dvou dnů.",
    ],
    us_reply: &[
        "v příloze posílám opravenou fakturu, původní doklad prosím považujte za neplatný.",
        "Platbu jsme přijali, děkujeme.",
        "Číslo objednávky jsem na fakturu doplnil{a}.",
        "Původní fakturu {invoice_no} jsme stornovali, storno doklad je v příloze.",
        "Splatnost faktury jsme po dohodě prodloužili do {date}.",
    ],
};

pub static CS_ORDER: Bank = Bank {
    subjects: &[
        "Objednávka č. {order_no}",
        "Objednávka – {product}",
        "Potvrzení objednávky {order_no}",
        "Změna objednávky {order_no}",
        "Objednávka materiálu – {project}",
    ],
    them_first: &[
        "závazně objednáváme {qty} ks – {product} dle Vaší nabídky {offer_no}.",
        "Dodací adresa: stavba {project}, {place}.",
        "Požadovaný termín dodání je {date}, prosím o potvrzení.",
        "Fakturační údaje zůstávají beze změny.",
        "Objednávku prosím potvrďte na tento e-mail.",
        "Objednávku č. {order_no} posíláme v příloze.",
        "Kontaktní osoba na stavbě je stavbyvedoucí, telefon {phone}.",
    ],
    us_first: &[
        "potvrzujeme přijetí Vaší objednávky č. {order_no}.",
        "Zboží bude expedováno {weekday}, předpokládané doručení {date}.",
        "Část položek je momentálně na cestě od výrobce, dodáme je dodatečně.",
        "Potvrzení objednávky {order_no} posíláme v příloze.",
    ],
    them_reply: &[
        "potvrzení objednávky jsme obdrželi, děkujeme.",
        "Prosíme o změnu množství na {qty} ks, ostatní beze změny.",
        "Bylo by možné dodat zboží o týden dříve?",
        "Objednávku bohužel musíme zrušit, investor akci pozastavil.",
    ],
    us_reply: &[
        "změnu množství jsme zapracovali, upravené potvrzení objednávky je v příloze.",
        "Dřívější dodání bohužel nestihneme, výrobce nám potvrdil až {date}.",
        "Objednávka je připravena k expedici.",
        "Storno objednávky {order_no} potvrzujeme.",
    ],
};

pub static CS_CONTRACT: Bank = Bank {
    subjects: &[
        "Návrh smlouvy o dílo – {project}",
        "Smlouva o dílo č. {contract_no}",
        "Dodatek č. {n} ke smlouvě {contract_no}",
        "Servisní smlouva na rok {year}",
        "Připomínky ke smlouvě – {project}",
    ],
    them_first: &[
        "posíláme návrh smlouvy o dílo na akci {project}, prosím o připomínky.",
        "V článku o smluvních pokutách bychom rádi snížili sazbu na 0,05 % denně.",
        "Pozastávku navrhujeme ve výši 10 % do odstranění vad a nedodělků.",
        "Smlouvu podepsanou za naši stranu zašleme poštou.",
        "Prosíme o doplnění harmonogramu prací jako přílohy smlouvy.",
    ],
    us_first: &[
        "v příloze zasílám návrh smlouvy o dílo č. {contract_no} na akci {project}.",
        "Cena díla je stanovena jako pevná ve výši {amount} bez DPH.",
        "Záruční doba na dílo činí 60 měsíců od předání a převzetí.",
        "Prosím o kontrolu identifikačních údajů a případné připomínky do {date}.",
        "Smlouvu můžeme podepsat elektronicky nebo při osobní schůzce.",
        "Servisní smlouva zahrnuje dvě pravidelné prohlídky ročně a nástup technika do 48 hodin.",
    ],
    them_reply: &[
        "k návrhu smlouvy máme dvě připomínky, posíláme je v revizích.",
        "Smlouva je za nás v pořádku, podepíšeme ji při předání staveniště.",
        "Právník doporučil upravit článek o vyšší moci.",
        "Dodatek č. {n} jsme podepsali, originál je na cestě.",
    ],
    us_reply: &[
        "připomínky jsme zapracovali, posílám upravené znění smlouvy.",
        "Podepsanou smlouvu o dílo zasílám ve skenu, originál jde poštou.",
        "S úpravou článku o vyšší moci souhlasíme.",
        "Harmonogram prací doplníme jako přílohu č. 2.",
    ],
};

pub static CS_SERVICE: Bank = Bank {
    subjects: &[
        "Servis – {product}",
        "Porucha – {product}",
        "Pravidelná revize VZT {year}",
        "Servisní zásah {date}",
        "Servisní protokol – {project}",
        "Objednávka servisu – {place}",
    ],
    them_first: &[
        "zařízení ({product}) v naší provozovně v {place_loc} od rána nefunguje, na displeji svítí chyba E{err}.",
        "prosím o objednání pravidelné servisní prohlídky klimatizace, poslední byla před rokem.",
        "Jednotka při provozu výrazně hlučí a z vnitřní části kape voda.",
        "Technik může přijet kdykoli mezi 7:00 a 15:00, na recepci se prosím nahlaste.",
        "Je to pro nás poměrně urgentní, v kancelářích je přes 30 °C.",
        "Servisní knížka je uložena u správce budovy.",
    ],
    us_first: &[
        "rádi bychom Vás upozornili, že se blíží termín pravidelné revize vzduchotechniky.",
        "Servisní technik {technician} může přijet {weekday} {date} od {time}.",
        "Součástí prohlídky je výměna filtrů, kontrola chladiva a vyčištění výparníku.",
        "Cena servisního zásahu se řídí servisní smlouvou {contract_no}.",
        "Kontrola těsnosti chladicího okruhu je u této jednotky povinná jednou ročně.",
    ],
    them_reply: &[
        "termín {weekday} od {time} nám vyhovuje.",
        "Po výměně filtru jednotka funguje, děkujeme za rychlý zásah.",
        "Prosím o zaslání servisního protokolu, potřebujeme ho pro revizní knihu.",
        "Chyba E{err} se bohužel objevila znovu.",
    ],
    us_reply: &[
        "technik {technician} bude na místě {weekday} kolem {time}.",
        "V příloze posílám servisní protokol z dnešního zásahu.",
        "Závada byla způsobena zaneseným kondenzátním čerpadlem, které jsme vyměnili.",
        "Doporučujeme zkrátit interval výměny filtrů na šest měsíců.",
        "Náhradní díl je objednaný, dorazí {weekday}.",
    ],
};

pub static CS_MEETING: Bank = Bank {
    subjects: &[
        "Schůzka {weekday} {date}",
        "Kontrolní den – {project}",
        "Termín schůzky",
        "Předání díla – {project}",
        "Návštěva stavby {project}",
    ],
    them_first: &[
        "navrhuji schůzku {weekday} {date} v {time} u nás v kanceláři v {place_loc}.",
        "kontrolní den na stavbě {project} bude {weekday} v {time}, prosím o účast.",
        "Rádi bychom probrali harmonogram prací a koordinaci s elektro.",
        "Předání díla plánujeme na {date}, prosím o přípravu dokladů.",
    ],
    us_first: &[
        "{rad} bych domluvil{a} schůzku k akci {project}.",
        "Vyhovoval by Vám {weekday} {date} v {time}?",
        "Přivezu vzorky a katalog novinek na letošní sezónu.",
        "Na schůzce bych rád{a} ukázal{a} i variantu s tepelným čerpadlem.",
    ],
    them_reply: &[
        "termín {weekday} v {time} potvrzuji.",
        "{weekday_cap} nemůžu, navrhuji raději {date} dopoledne.",
        "Parkovat můžete přímo ve dvoře.",
        "Schůzku musím bohužel zrušit, ozvu se s novým termínem.",
    ],
    us_reply: &[
        "děkuji, termín si zapisuji.",
        "Náhradní termín {date} dopoledne mi vyhovuje.",
        "Zápis z kontrolního dne posílám v příloze.",
        "Na kontrolní den dorazí i náš technik {technician}.",
    ],
};

pub static CS_COMPLAINT: Bank = Bank {
    subjects: &[
        "Reklamace – {product}",
        "Reklamace dodávky {dl_no}",
        "Reklamace č. {claim_no}",
        "Vadná dodávka – objednávka {order_no}",
    ],
    them_first: &[
        "reklamujeme dodávku dle dodacího listu {dl_no}, {qty} ks bylo poškozeno při přepravě.",
        "zařízení ({product}) po třech týdnech provozu přestalo chladit.",
        "Fotodokumentaci posíláme v příloze.",
        "Žádáme o výměnu vadných kusů, případně dobropis.",
        "Reklamace je pro nás urgentní, stavba stojí.",
    ],
    us_first: &[
        "potvrzujeme přijetí reklamace č. {claim_no}.",
        "Reklamaci vyřídíme v zákonné lhůtě 30 dnů, o výsledku Vás budeme informovat.",
        "Pro posouzení reklamace prosím pošlete výrobní číslo a fotografie štítku.",
    ],
    them_reply: &[
        "děkujeme za rychlé vyřízení reklamace.",
        "S navrženým řešením reklamace nesouhlasíme, vada se projevila znovu.",
        "Výrobní číslo je uvedeno na štítku, fotku posílám.",
    ],
    us_reply: &[
        "reklamaci jsme uznali, náhradní kusy expedujeme {weekday}.",
        "Technik na místě zjistil, že závada vznikla nesprávnou obsluhou, reklamaci proto nemůžeme uznat.",
        "Výrobce reklamaci uznal a vystaví dobropis.",
        "Reklamační protokol {claim_no} je v příloze.",
    ],
};

pub static CS_DELIVERY: Bank = Bank {
    subjects: &[
        "Dodací list {dl_no}",
        "Expedice objednávky {order_no}",
        "Termín dodání – {product}",
        "Avízo dodávky {dl_no}",
    ],
    them_first: &[
        "kdy můžeme počítat s dodáním zboží z objednávky {order_no}?",
        "Vykládka je možná jen v pracovní dny do 14:00, prosím o avízo den předem.",
        "Na stavbě {project} je omezený příjezd, kamion nad 12 t neprojede.",
    ],
    us_first: &[
        "zboží z objednávky {order_no} bylo dnes expedováno, dodací list {dl_no} je v příloze.",
        "Dopravce doručí zásilku {weekday} {date} mezi 8:00 a 12:00.",
        "Zásilka má {qty} palet, prosím zajistěte vykládku vysokozdvižným vozíkem.",
    ],
    them_reply: &[
        "zásilku jsme převzali bez závad, dodací list podepsaný posíláme zpět.",
        "Na dodacím listu chybí dvě položky, můžete to prosím prověřit?",
        "Dopravce dnes nedorazil, víte o něm něco?",
    ],
    us_reply: &[
        "chybějící položky dovezeme {weekday} s dalším závozem.",
        "Omlouváme se za zpoždění, dopravce měl poruchu vozidla.",
        "Podepsaný dodací list jsme obdrželi, děkujeme.",
    ],
};

pub static EN_OFFER: Bank = Bank {
    subjects: &[
        "Request for quotation - {product}",
        "Quotation {offer_no}",
        "Updated quotation {offer_no}",
        "Quote for {project}",
    ],
    them_first: &[
        "could you please send us a quotation for {qty} units of {product}?",
        "Delivery would be to our site at {project}.",
        "We would need installation and commissioning included.",
        "Our budget is fairly tight, so an alternative option would be welcome.",
        "We need the quotation by {date} to include it in our tender.",
        "We are refurbishing the second floor and need cooling for six offices.",
        "Please include a maintenance option for the first two years.",
    ],
    us_first: &[
        "please find attached our quotation {offer_no} for the supply and installation of {product}.",
        "The total price is {amount} excluding VAT, valid for {days} days.",
        "Lead time is currently {weeks} weeks from order confirmation.",
        "The price includes delivery, installation and commissioning.",
        "We can offer a quieter unit at a small extra cost if noise is a concern.",
        "Prices are valid until {date}.",
    ],
    them_reply: &[
        "thanks for the quotation, we have reviewed it with the client.",
        "Is there any room for a discount if we order {qty} units?",
        "We accept the quotation and will send a purchase order shortly.",
        "The client has asked whether the lead time can be shortened.",
        "Could you split the price into supply and installation?",
    ],
    us_reply: &[
        "attached is the revised quotation with the discount we discussed.",
        "I have extended the validity of the offer until {date}.",
        "Happy to discuss any questions on a call.",
        "The lead time can be shortened to {weeks} weeks if we receive the order this week.",
        "I have split the price into supply and installation as requested.",
    ],
};

pub static EN_INVOICE: Bank = Bank {
    subjects: &[
        "Invoice {invoice_no}",
        "Payment reminder - invoice {invoice_no}",
        "Query regarding invoice {invoice_no}",
    ],
    them_first: &[
        "could you please resend invoice {invoice_no}? It seems to have gone missing.",
        "Please add our PO number {order_no} to the invoice.",
        "Payment for invoice {invoice_no} was released today.",
        "Our accounts team cannot match invoice {invoice_no} to a purchase order.",
    ],
    us_first: &[
        "please find attached invoice {invoice_no}, payment terms {days} days.",
        "The amount due is {amount}.",
        "Please quote the invoice number as the payment reference.",
        "This is a friendly reminder that invoice {invoice_no} is now {overdue} days overdue.",
        "Bank details are shown at the bottom of the invoice.",
    ],
    them_reply: &[
        "thanks, the invoice has been passed to accounts payable.",
        "We will pay in the next payment run.",
        "Could you send the invoice as a PDF rather than a scan?",
    ],
    us_reply: &[
        "attached is the corrected invoice; please disregard the previous one.",
        "We have received your payment, thank you.",
        "The original invoice has been cancelled and a credit note issued.",
        "I have attached the invoice again as a PDF.",
        "Payment terms are {days} days as agreed in the contract.",
    ],
};

pub static EN_ORDER: Bank = Bank {
    subjects: &["Purchase order {order_no}", "Order confirmation {order_no}", "Change to order {order_no}"],
    them_first: &[
        "please find attached our purchase order {order_no} for {qty} units of {product}.",
        "Requested delivery date is {date}.",
        "Please confirm receipt of this order.",
        "The order is subject to our standard terms and conditions.",
    ],
    us_first: &[
        "we confirm receipt of your order {order_no}.",
        "The goods will be dispatched on {weekday_en}.",
        "Some items are on back order and will follow separately.",
        "Please find our order confirmation attached.",
    ],
    them_reply: &[
        "thanks for the confirmation.",
        "Could we increase the quantity to {qty} units?",
        "Please deliver to the site entrance, not to our office.",
        "We need to cancel two of the units, the rest is unchanged.",
    ],
    us_reply: &[
        "the change has been made, updated confirmation attached.",
        "Unfortunately we cannot deliver earlier than {date}.",
        "The order is ready for dispatch.",
        "We have noted the cancellation of two units.",
    ],
};

pub static EN_CONTRACT: Bank = Bank {
    subjects: &["Draft contract - {project}", "Service agreement {year}", "Contract {contract_no} - comments"],
    them_first: &[
        "please find attached the draft contract for {project} for your review.",
        "We would like to cap liquidated damages at 5% of the contract price.",
        "We would also like a 5% retention until practical completion.",
    ],
    us_first: &[
        "attached is our draft agreement {contract_no} for {project}.",
        "The contract price is fixed at {amount} excluding VAT.",
        "The warranty period is 60 months from handover.",
        "The agreement can be signed electronically.",
    ],
    them_reply: &[
        "our legal team has a couple of comments, see tracked changes.",
        "The contract is fine from our side, we will sign it next week.",
        "Could you add the programme of works as an appendix?",
    ],
    us_reply: &[
        "we have incorporated your comments, please see the updated version.",
        "Please find the signed contract attached.",
        "We are happy with the changes to the force majeure clause.",
        "The programme of works will be added as Appendix 2.",
    ],
};

pub static EN_SERVICE: Bank = Bank {
    subjects: &["Service visit - {product}", "Fault report - {product}", "Annual maintenance {year}"],
    them_first: &[
        "the {product} at our {place_en} office stopped working this morning, error code E{err}.",
        "could you arrange the annual maintenance visit?",
        "It is fairly urgent as the office is getting very warm.",
        "The unit is making a loud rattling noise and dripping water.",
    ],
    us_first: &[
        "our engineer {technician} can attend on {weekday_en} {date} from {time}.",
        "The visit includes filter replacement and a refrigerant leak check.",
        "Your annual service visit is due next month.",
        "The visit will take about three hours per unit.",
    ],
    them_reply: &[
        "{weekday_en} works for us, reception will be expecting him.",
        "Thanks, the unit is running fine again.",
        "Could you send the service report for our records?",
        "The error came back again this morning.",
    ],
    us_reply: &[
        "please find the service report attached.",
        "The fault was caused by a blocked condensate pump, which we replaced.",
        "Our engineer will be on site on {weekday_en} around {time}.",
        "We recommend replacing the filters every six months.",
    ],
};

pub static EN_MEETING: Bank = Bank {
    subjects: &["Meeting on {date}", "Site visit - {project}", "Catch-up next week"],
    them_first: &[
        "would you be available for a meeting on {weekday_en} at {time}?",
        "We would like to go through the programme and coordination with the electricians.",
        "The site meeting for {project} is on {weekday_en} at {time}.",
    ],
    us_first: &[
        "I would like to arrange a short meeting about {project}.",
        "Would {weekday_en} {date} at {time} suit you?",
        "I can bring samples of the new indoor units.",
    ],
    them_reply: &[
        "{weekday_en} at {time} is confirmed.",
        "I can't make {weekday_en}, how about {date} in the morning?",
        "Parking is available in the yard behind the building.",
    ],
    us_reply: &[
        "thanks, that's in my diary.",
        "Attached are the minutes from today's site meeting.",
        "Our engineer {technician} will join us as well.",
    ],
};

pub static EN_COMPLAINT: Bank = Bank {
    subjects: &["Complaint - {product}", "Damaged delivery {dl_no}", "Warranty claim {claim_no}"],
    them_first: &[
        "{qty} units from delivery {dl_no} arrived damaged.",
        "The {product} stopped cooling after three weeks in operation.",
        "Photos are attached.",
        "We need replacements urgently as the site is on hold.",
    ],
    us_first: &[
        "we confirm receipt of your warranty claim {claim_no}.",
        "We will process the claim within 30 days.",
        "Please send us the serial number and a photo of the rating plate.",
    ],
    them_reply: &[
        "thank you for resolving this so quickly.",
        "We do not agree with the proposed resolution, the fault has reappeared.",
        "The serial number is on the attached photo.",
    ],
    us_reply: &[
        "the claim has been accepted and replacement units will ship on {weekday_en}.",
        "The manufacturer has accepted the claim and will issue a credit note.",
        "Our engineer found that the fault was caused by incorrect operation.",
    ],
};

pub static EN_DELIVERY: Bank = Bank {
    subjects: &["Delivery note {dl_no}", "Dispatch of order {order_no}", "Delivery date - {product}"],
    them_first: &[
        "when can we expect delivery of order {order_no}?",
        "Unloading is only possible on weekdays before 2 pm.",
        "Access to {project} is restricted, lorries over 12 tonnes cannot get in.",
    ],
    us_first: &[
        "order {order_no} was dispatched today, delivery note {dl_no} attached.",
        "The carrier will deliver on {weekday_en} between 8 am and noon.",
        "The shipment is {qty} pallets, please arrange a forklift for unloading.",
    ],
    them_reply: &[
        "goods received in good condition, signed delivery note attached.",
        "Two items are missing from the delivery note, could you check?",
        "The driver did not turn up today, do you have any news?",
    ],
    us_reply: &[
        "the missing items will follow with the next delivery.",
        "Sorry for the delay, the carrier had a vehicle breakdown.",
        "Thanks, we have received the signed delivery note.",
    ],
};

pub const CS_GENERIC_THEM: &[&str] = &[
    "Děkuji za rychlou odpověď.",
    "V případě dotazů mě prosím kontaktujte na telefonu {phone}.",
    "Omlouvám se za pozdní reakci, byl{a} jsem minulý týden na dovolené.",
    "Předem děkuji za vyřízení.",
    "Budu {rad} za co nejrychlejší odpověď.",
    "Pokud by něco nebylo jasné, ozvěte se prosím.",
    "Tento týden jsem většinou na stavbě, lepší je volat odpoledne.",
    "Kolega, který měl akci na starosti, od nás odešel, proto píšu já.",
    "Prosím o potvrzení přijetí tohoto e-mailu.",
    "Kolegyni dávám do kopie.",
    "Dejte mi prosím vědět do konce týdne.",
];
pub const CS_GENERIC_US: &[&str] = &[
    "V případě jakýchkoli dotazů jsem Vám k dispozici.",
    "Děkuji za spolupráci.",
    "Zítra jsem mimo kancelář, ale na mobilu jsem k zastižení.",
    "Pokud byste cokoli potřebovali, neváhejte se ozvat.",
    "Budeme rádi, když nám dáte vědět co nejdříve.",
    "Od {date} platí nový ceník, ceny se ale u této zakázky nemění.",
    "Ozvu se Vám nejpozději {weekday}.",
    "Děkuji za důvěru a těším se na další spolupráci.",
    "Informaci jsem předal{a} i našemu technikovi.",
];
pub const EN_GENERIC_THEM: &[&str] = &[
    "Thanks for getting back to me so quickly.",
    "Let me know if you need anything else from us.",
    "Many thanks in advance.",
    "I'm on site most of this week, so afternoons are best for a call.",
    "Apologies for the slow reply, I was on leave last week.",
    "Please copy my colleague on future emails.",
    "If anything is unclear, just give me a call on {phone}.",
];
pub const EN_GENERIC_US: &[&str] = &[
    "Let me know if you have any questions.",
    "I'm out of the office tomorrow but reachable on my mobile.",
    "Thanks for your business.",
    "Happy to jump on a call if that's easier.",
    "We look forward to working with you.",
    "I will keep you posted.",
    "Please let me know by {date} if possible.",
];

/// Sentences that should match few documents; each message has a small chance of one.
pub const CS_RARE: &[&str] = &[
    "Upozorňujeme, že v případě prodlení budeme účtovat smluvní penále ve výši 0,05 % denně.",
    "Společnost vstoupila do insolvenčního řízení, pohledávky prosím přihlaste u insolvenčního správce.",
    "Prosím o zaslání kopie certifikátu F-plynů technika, vyžaduje ho náš BOZP technik.",
    "Objekt je památkově chráněný, venkovní jednotky nesmí být viditelné z ulice.",
    "Během prací bude nutné zajistit hydroizolaci prostupů střechou.",
    "K faktuře vystavíme dobropis na rozdíl ceny.",
];
pub const EN_RARE: &[&str] = &[
    "Please note that late payment interest will be charged at the statutory rate.",
    "The building is listed, so outdoor units must not be visible from the street.",
    "Our insurer has asked for a copy of your F-gas certificate.",
];

pub const CS_CLOSINGS: &[&str] = &[
    "S pozdravem",
    "S pozdravem",
    "S pozdravem a přáním hezkého dne",
    "Děkuji a přeji hezký den",
    "S přátelským pozdravem",
    "Hezký den",
];
pub const EN_CLOSINGS: &[&str] = &["Kind regards", "Best regards", "Many thanks", "Regards", "Best wishes"];

pub const CS_DISCLAIMER: &str = "Tento e-mail a případné přílohy jsou důvěrné a určené pouze adresátovi. Pokud jste jej obdrželi omylem, informujte prosím neprodleně odesílatele a zprávu včetně příloh smažte. Obsah zprávy není návrhem na uzavření smlouvy ani jeho přijetím, pokud to výslovně neuvádí.";
pub const EN_DISCLAIMER: &str = "This email and any attachments are confidential and intended solely for the addressee. If you have received it in error, please notify the sender and delete it. Any views expressed are those of the author and not necessarily of the company.";

/// Contract clauses for long contract drafts pasted into the body.
pub const CS_CLAUSES: &[(&str, &[&str])] = &[
    (
        "Předmět smlouvy",
        &[
            "Zhotovitel se zavazuje provést pro objednatele dílo spočívající v dodávce a montáži {product_gen} na akci {project}.",
            "Objednatel se zavazuje dílo převzít a zaplatit za ně sjednanou cenu.",
        ],
    ),
    (
        "Doba plnění",
        &[
            "Zhotovitel zahájí práce nejpozději do {date} a dokončí je do {weeks} týdnů od zahájení.",
            "Termín dokončení se prodlužuje o dobu, po kterou objednatel nezajistil připravenost staveniště.",
        ],
    ),
    (
        "Cena díla",
        &[
            "Cena díla je stanovena dohodou jako cena pevná ve výši {amount} bez DPH.",
            "K ceně bude připočtena DPH v zákonné výši, případně bude uplatněn režim přenesené daňové povinnosti.",
        ],
    ),
    (
        "Platební podmínky",
        &[
            "Cena bude hrazena na základě dílčích faktur vystavených po skončení každého kalendářního měsíce.",
            "Splatnost faktur je {days} dní ode dne doručení objednateli.",
            "Objednatel je oprávněn zadržet pozastávku ve výši 10 % z fakturované částky.",
        ],
    ),
    (
        "Záruka za jakost",
        &[
            "Zhotovitel poskytuje na dílo záruku za jakost v délce 60 měsíců ode dne předání.",
            "Na zařízení platí záruka poskytnutá výrobcem, nejméně však 24 měsíců.",
            "Vady zjištěné v záruční době zhotovitel odstraní bezplatně do 14 dnů od oznámení.",
        ],
    ),
    (
        "Smluvní pokuty",
        &[
            "Za prodlení s dokončením díla zaplatí zhotovitel smluvní pokutu ve výši 0,05 % z ceny díla za každý den prodlení.",
            "Za prodlení s úhradou faktury zaplatí objednatel úrok z prodlení v zákonné výši.",
        ],
    ),
    (
        "Předání a převzetí díla",
        &[
            "O předání díla sepíší smluvní strany předávací protokol.",
            "Součástí předání jsou revizní zprávy, návody k obsluze a záruční listy.",
        ],
    ),
    (
        "Závěrečná ustanovení",
        &[
            "Smlouva nabývá platnosti a účinnosti dnem podpisu oběma smluvními stranami.",
            "Změny smlouvy lze činit pouze písemnými dodatky.",
            "Smlouva je vyhotovena ve dvou stejnopisech, z nichž každá strana obdrží jeden.",
        ],
    ),
];

pub const EN_CLAUSES: &[(&str, &[&str])] = &[
    ("Scope of works", &["The Contractor shall supply and install the {product} at {project}."]),
    ("Programme", &["Works shall commence no later than {date} and be completed within {weeks} weeks."]),
    ("Contract price", &["The contract price is {amount} excluding VAT and is fixed for the duration of the works."]),
    (
        "Payment",
        &[
            "Invoices are payable within {days} days of receipt.",
            "A retention of 5% applies until practical completion.",
        ],
    ),
    ("Warranty", &["The Contractor warrants the works for 60 months from handover."]),
    ("Liquidated damages", &["Liquidated damages apply at 0.05% of the contract price per day of delay."]),
];

/// Newsletter and cold-mail senders: (display name, address, Czech?).
pub const NEWSLETTERS: &[(&str, &str, bool)] = &[
    ("Stavební noviny online", "newsletter@stavebni-noviny-online.cz", true),
    ("TZB Akademie", "info@tzb-akademie-kurzy.cz", true),
    ("Kancelářské potřeby Rychle", "akce@kancelar-rychle-eshop.cz", true),
    ("Klima Expo Brno", "info@klima-expo-veletrh.cz", true),
    ("HVAC Weekly Digest", "news@hvac-weekly-digest.com", false),
    ("Reklamní předměty Plus", "obchod@reklamni-predmety-plus.cz", true),
    ("Facility Insights", "hello@facility-insights-mail.com", false),
];
pub const CS_NEWS_SUBJECTS: &[&str] = &[
    "Novinky ze stavebnictví – {month_name} {year}",
    "Pozvánka: seminář Rekuperace v praxi",
    "Akce měsíce: filtry se slevou 20 %",
    "Dotace Nová zelená úsporám: co se mění",
    "Reklamní předměty s potiskem za výhodné ceny",
];
pub const EN_NEWS_SUBJECTS: &[&str] = &[
    "This week in HVAC",
    "Webinar: heat pump sizing for commercial buildings",
    "Your {month_name} facilities briefing",
];
pub const CS_NEWS_ITEMS: &[&str] = &[
    "Nová vyhláška o energetické náročnosti budov vstoupí v platnost od 1. ledna.",
    "Pozvánka na odborný seminář Rekuperace v praxi – {date}, Praha.",
    "Akce měsíce: filtry do vzduchotechniky se slevou 20 % jen do konce měsíce.",
    "Dotace z programu Nová zelená úsporám: co se mění v příštím roce a jak podat žádost.",
    "Rozhovor: Jak navrhnout chlazení serverovny bez zbytečných nákladů.",
    "Veletrh technického zařízení budov se letos koná v Brně, registrace je zdarma.",
    "Kancelářské potřeby se slevou až 40 % jen do neděle.",
    "Tip redakce: pět chyb při návrhu větrání rodinného domu.",
    "Ceny chladiv opět rostou, výrobci upozorňují na delší dodací lhůty.",
    "Nabízíme Vám reklamní předměty s potiskem vašeho loga za výhodné ceny.",
];
pub const EN_NEWS_ITEMS: &[&str] = &[
    "Refrigerant regulation update: what the new F-gas rules mean for installers.",
    "Webinar on {date}: heat pump sizing for commercial buildings.",
    "Case study: cutting energy use in a 1960s office block by 40%.",
    "Supply chain watch: lead times for compressors are easing.",
    "Five questions to ask before signing a maintenance contract.",
];

pub const INTERNAL_SUBJECTS: &[&str] = &[
    "Podklady k nabídce – {client}",
    "Porada v pondělí",
    "Dovolená od {date}",
    "Předání zakázky {client}",
    "Servisní výjezd {date}",
    "Auto na servis",
    "Fwd: {client} – termín montáže",
];
pub const INTERNAL_SENTENCES: &[&str] = &[
    "posílám podklady k nabídce pro {client}, prosím o kontrolu cen.",
    "Porada obchodu bude v pondělí v 8:30 v zasedačce.",
    "Od {date} jsem na dovolené, zastupuje mě {colleague}.",
    "Zakázku {client} od příštího měsíce přebírá {colleague}.",
    "Kdo z techniků může jet {weekday} do {place_gen}?",
    "Nezapomeňte prosím do pátku vyplnit výkazy.",
    "Klient {client} se ptal na termín montáže, víš o tom něco?",
    "Služební auto je {weekday} v servisu, kdo potřebuje jet, vezměte octavii.",
    "U {client} je po splatnosti faktura {invoice_no}, můžeš jim prosím zavolat?",
];

// ---------------------------------------------------------------------------
// Shape::Varied only: more kinds of attachments, forwards, e-shop newsletters.

/// Word documents (the extension makes them docx-like).
pub const CS_DOCX_NAMES: &[&str] = &[
    "technická_zpráva_{project_slug}.docx",
    "připomínky_ke_smlouvě_v{n}.docx",
    "plná_moc.docx",
    "objednavka-{order_no}.docx",
];
pub const EN_DOCX_NAMES: &[&str] = &["comments-v{n}.docx", "method-statement-{project_slug}.docx"];
/// Screenshots and Outlook's signature pictures (image001.png goes inline).
pub const CS_PNG_NAMES: &[&str] =
    &["image001.png", "image002.png", "snímek obrazovky {date_compact}.png", "chyba_E{err}.png", "logo.png"];
pub const EN_PNG_NAMES: &[&str] = &["image001.png", "screenshot-{date_compact}.png", "error-E{err}.png"];
/// Phone photos (numbered when a message carries several).
pub const CS_PHOTO_NAMES: &[&str] = &[
    "IMG_{date_compact}.jpg",
    "foto_závady.jpg",
    "fotka-jednotka-{n}.jpg",
    "fotodokumentace_{project_slug}.jpg",
    "20250312_104512.jpg",
];
pub const EN_PHOTO_NAMES: &[&str] = &["IMG_{date_compact}.jpg", "photo-unit-{n}.jpg", "site-{project_slug}.jpg"];
/// Scanned paper: a few hundred KB of one image in a PDF.
pub const CS_SCAN_NAMES: &[&str] =
    &["sken_{date_compact}.pdf", "scan0001.pdf", "podepsaná_smlouva_{contract_no}.pdf", "předávací_protokol.pdf"];
pub const EN_SCAN_NAMES: &[&str] = &["scan0001.pdf", "signed-agreement-{contract_no}.pdf"];
/// Large files: drawings, catalogues, full project documentation.
pub const CS_LARGE_NAMES: &[&str] = &[
    "projektová_dokumentace_{project_slug}.pdf",
    "výkresy_{project_slug}.pdf",
    "katalog_{year}.pdf",
    "ceník_{year}.xlsx",
];
pub const EN_LARGE_NAMES: &[&str] = &["drawings-{project_slug}.pdf", "catalogue-{year}.pdf"];

/// What one of our people writes above a forwarded client thread.
pub const FORWARD_NOTES: &[&str] = &[
    "posílám níže komunikaci s {client}, prosím převezmi to.",
    "přeposílám, co psali z {client}, můžeš se na to podívat?",
    "pro info, celá historie je níže.",
    "klient {client} potřebuje odpověď do {weekday}, zvládneš to?",
    "Můžeš prosím zkontrolovat ceny, než jim odpovím?",
    "Jde o zakázku {project}, technické dotazy jsou na konci.",
    "Zavolej mi prosím, až si to přečteš.",
];

/// A line under a product in an e-shop newsletter.
pub const CS_CARD_NOTES: &[&str] = &[
    "Skladem, odesíláme do 24 hodin.",
    "Doprava zdarma při objednávce nad 5 000 Kč.",
    "Novinka v sortimentu, záruka 5 let.",
    "Poslední kusy za akční cenu.",
    "Včetně montážní sady a návodu v češtině.",
];
pub const EN_CARD_NOTES: &[&str] =
    &["In stock, ships within 24 hours.", "Free delivery on orders over £200.", "New this month, 5-year warranty."];
