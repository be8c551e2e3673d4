//! Visibility of mail: owners see their own, others what the source allows
//! (`owner` and `visibility` on `[[maildir]]`); search respects it in the
//! index (a word of a hidden body finds nothing), the CLI sees all. And the
//! search page: filters, highlighting, escaping, bad queries, more results.

use std::collections::BTreeSet;

use crate::common::web::{Browser, HOSTILE, Page, Server, no_active_markup, urlencode};
use crate::common::{Env, fixtures};

/// jana's mailbox (others see subjects), eva's (others see who and when),
/// and a shared one (everyone's, with the hostile message and 25 mails for
/// paging).
fn visibility_env() -> Env {
    let env = Env::with_config(
        r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz", "eva.kralova@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[maildir]]
name = "jana"
path = "mail/jana"
owner = "jana"
visibility = "subject"

[[maildir]]
name = "eva"
path = "mail/eva"
owner = "eva"
visibility = "metadata"

[[maildir]]
name = "shared"
path = "mail/shared"
"#,
    );
    for m in ["jana", "eva", "shared"] {
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(env.path().join("mail").join(m).join(sub)).unwrap();
        }
    }
    let put = |mailbox: &str, name: &str, text: &str| {
        std::fs::write(env.path().join("mail").join(mailbox).join("new").join(name), text.replace('\n', "\r\n"))
            .unwrap();
    };
    put(
        "jana",
        "1793000001.M1P1Q1.jana",
        "From: Karel Horák <karel.horak@acme-stavby.cz>\n\
To: jana.svobodova@modrykamen.cz\n\
Subject: Poptávka lešení hala C\n\
Date: Thu, 5 Nov 2026 09:00:00 +0100\n\
Message-ID: <poptavka-1@acme-stavby.cz>\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Dobrý den, pošlete prosím cenovou nabídku na lešení. Heslo brány je modrotisk.\n",
    );
    put(
        "jana",
        "1793000002.M2P1Q1.jana",
        "From: Jana Svobodová <jana.svobodova@modrykamen.cz>\n\
To: Karel Horák <karel.horak@acme-stavby.cz>\n\
Subject: Re: Poptávka lešení hala C\n\
Date: Sat, 7 Nov 2026 14:00:00 +0100\n\
Message-ID: <odpoved-1@modrykamen.cz>\n\
In-Reply-To: <poptavka-1@acme-stavby.cz>\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Dobrý den, posílám vám nabídka na lešení, termín montáže je pondělí.\n",
    );
    put(
        "eva",
        "1793000003.M3P1Q1.eva",
        "From: Tomáš Novák <tomas@pekarna-novak.cz>\n\
To: eva.kralova@modrykamen.cz\n\
Subject: Reklamace zlatokop\n\
Date: Fri, 6 Nov 2026 11:00:00 +0100\n\
Message-ID: <reklamace-1@pekarna-novak.cz>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=\"XX\"\n\
\n\
--XX\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Náš rozpočet je tajemstvi, nikomu ho neukazujte.\n\
--XX\n\
Content-Type: text/plain; charset=utf-8; name=\"nabidka-pekarna.txt\"\n\
Content-Disposition: attachment; filename=\"nabidka-pekarna.txt\"\n\
\n\
Cenová nabídka pro pekárnu, položka ztracenyklic.\n\
--XX--\n",
    );
    put("shared", "1792000000.M9P1Q1.hostile", &HOSTILE.replace("\r\n", "\n"));
    for i in 1..=25 {
        put(
            "shared",
            &format!("17910000{i:02}.M{i}P2Q2.shared"),
            &format!(
                "From: Sarah Jones <sarah.jones@brightwell.co.uk>\n\
To: petr@modrykamen.cz\n\
Subject: Hromada {i}\n\
Date: {i} Oct 2026 08:00:00 +0000\n\
Message-ID: <hromada-{i}@brightwell.co.uk>\n\
Content-Type: text/plain; charset=utf-8\n\
\n\
Weekly hromada report number {i}.\n"
            ),
        );
    }
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env.ok(&["contact", "add", "acme", "Karel Horák", "--email", "karel.horak@acme-stavby.cz"]);
    env.ok(&["sync"]);
    for (user, password) in [("jana", "tajne-heslo-1"), ("eva", "evino-heslo-2")] {
        let mut add = vec!["user", "add", user, "--email", "x@modrykamen.cz", "--password-stdin"];
        if user == "jana" {
            add.push("--admin");
        }
        env.cmd(&add).write_stdin(format!("{password}\n")).assert().success();
    }
    env
}

fn search(b: &mut Browser, server: &Server, query: &str) -> Page {
    b.get(&server.url(&format!("/search?{query}")))
}

fn q(words: &str) -> String {
    format!("q={}", urlencode(words))
}

/// The results part of a page (the form above it repeats the query).
fn results(html: &str) -> &str {
    html.split_once("id=\"search-results\"").map_or(html, |(_, r)| r)
}

/// Item ids the page links to, in order.
fn item_ids(html: &str) -> Vec<i64> {
    html.split("href=\"/items/").skip(1).filter_map(|s| s.split('"').next()?.parse().ok()).collect()
}

fn signed_in(server: &Server, user: &str, password: &str) -> Browser {
    let mut b = Browser::new();
    let p = b.sign_in(server, user, password);
    assert_eq!(p.status, 303, "{user} signs in: {}", p.body);
    b
}

#[test]
fn search_respects_each_mailboxs_visibility() {
    let env = visibility_env();
    let server = Server::start(&env);
    let mut jana = signed_in(&server, "jana", "tajne-heslo-1");
    let mut eva = signed_in(&server, "eva", "evino-heslo-2");

    // jana sees her own mailbox whole, the match marked.
    let p = search(&mut jana, &server, &q("modrotisk"));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Poptávka lešení hala C"), "{}", p.body);
    assert!(p.body.contains("<mark>modrotisk</mark>"), "{}", p.body);
    assert_eq!(item_ids(&p.body).len(), 1);

    // A word of eva's hidden body, subject or attachment finds nothing for
    // jana (an admin: it does not open a salesperson's mailbox).
    for word in ["tajemstvi", "zlatokop", "ztracenyklic", "text:tajemstvi", "subject:zlatokop", "attachment:pekarna"] {
        let p = search(&mut jana, &server, &q(word));
        assert_eq!(p.status, 200, "{word}");
        assert!(item_ids(&p.body).is_empty(), "{word} must find nothing for jana: {}", p.body);
        assert!(p.body.contains("Nothing matches"), "{word}");
        assert!(!p.body.contains("Reklamace") && !results(&p.body).contains("tajemstvi"), "{word}");
    }
    // Who and when stay visible: by the sender, eva's mail (and its
    // document) is there without subject or body.
    let p = search(&mut jana, &server, &q("from:pekarna-novak.cz"));
    assert_eq!(p.status, 200);
    assert!(!item_ids(&p.body).is_empty(), "{}", p.body);
    assert!(p.body.contains("(subject hidden)") && p.body.contains("Content hidden"), "{}", p.body);
    let pekarna = env.json(&["client", "show", "pekarna"])["id"].as_i64().unwrap();
    assert!(
        p.body.contains(&format!("<a class=\"client\" href=\"/clients/{pekarna}\">")),
        "the client is metadata: {}",
        p.body
    );
    for secret in ["Reklamace", "zlatokop", "tajemstvi", "ztracenyklic", "nabidka-pekarna", "rozpočet"] {
        assert!(!p.body.contains(secret), "{secret} leaks to jana");
    }
    // A negation cannot probe a hidden body either: it reads what jana may read.
    let p = search(&mut jana, &server, &q("from:pekarna-novak.cz -tajemstvi"));
    assert!(!item_ids(&p.body).is_empty() && !results(&p.body).contains("tajemstvi"));

    // eva finds her own words, snippet and all.
    let p = search(&mut eva, &server, &q("tajemstvi"));
    assert!(p.body.contains("Reklamace zlatokop"), "{}", p.body);
    assert!(p.body.contains("<mark>tajemstvi</mark>"), "{}", p.body);
    let p = search(&mut eva, &server, &q("ztracenyklic"));
    assert_eq!(item_ids(&p.body).len(), 1, "her document: {}", p.body);
    assert!(p.body.contains("<mark>ztracenyklic</mark>"));

    // eva sees jana's subjects, not her bodies.
    let p = search(&mut eva, &server, &q("modrotisk"));
    assert!(item_ids(&p.body).is_empty(), "a word of jana's body finds nothing for eva: {}", p.body);
    let p = search(&mut eva, &server, &q("lešení"));
    assert_eq!(item_ids(&p.body).len(), 2, "both subjects: {}", p.body);
    assert!(p.body.contains("Poptávka lešení hala C") && p.body.contains("Content hidden"), "{}", p.body);
    assert!(!results(&p.body).contains("modrotisk") && !p.body.contains("montáže"), "no body of jana's: {}", p.body);
    let p = search(&mut eva, &server, &q("subject:poptavka"));
    assert_eq!(item_ids(&p.body).len(), 2);
    assert!(item_ids(&search(&mut eva, &server, &q("text:modrotisk")).body).is_empty());

    // The shared mailbox is everyone's.
    for b in [&mut jana, &mut eva] {
        let p = search(b, &server, &q("hromada report 7"));
        assert!(p.body.contains("<mark>report</mark>"), "{}", p.body);
    }

    // The operator at the machine sees all.
    let hits = env.json(&["search", "tajemstvi"]);
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["subject"], "Reklamace zlatokop");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("tajemstvi"));
    assert_eq!(env.json(&["search", "modrotisk"]).as_array().unwrap().len(), 1);
    let text = env.ok(&["search", "ztracenyklic"]);
    assert!(text.contains("«ztracenyklic»"), "{text}");
}

#[test]
fn a_mail_in_ones_own_mailbox_too_is_ones_own() {
    let env = visibility_env();
    let server = Server::start(&env);
    let mut jana = signed_in(&server, "jana", "tajne-heslo-1");
    assert!(item_ids(&search(&mut jana, &server, &q("tajemstvi")).body).is_empty());
    // eva's mail reaches jana's mailbox too (a copy, the same Message-ID):
    // one item, now jana's whole, found by its body and its document.
    let eva_mail = env.path().join("mail/eva/new/1793000003.M3P1Q1.eva");
    let copy = env.path().join("mail/jana/new/1793000004.M4P1Q1.jana");
    std::fs::copy(&eva_mail, &copy).unwrap();
    env.ok(&["sync"]);
    assert_eq!(env.json(&["search", "tajemstvi"]).as_array().unwrap().len(), 1, "still one item");
    let p = search(&mut jana, &server, &q("tajemstvi"));
    assert_eq!(item_ids(&p.body).len(), 1, "{}", p.body);
    assert!(p.body.contains("Reklamace zlatokop") && p.body.contains("<mark>tajemstvi</mark>"), "{}", p.body);
    let p = search(&mut jana, &server, &q("ztracenyklic"));
    assert_eq!(item_ids(&p.body).len(), 1, "its document too: {}", p.body);
    // And eva still sees it whole.
    let mut eva = signed_in(&server, "eva", "evino-heslo-2");
    assert!(search(&mut eva, &server, &q("tajemstvi")).body.contains("<mark>tajemstvi</mark>"));
}

/// Marks the index as written by the schema before sources were indexed.
fn make_index_old(env: &Env) {
    let meta = env.path().join("data/index/meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    let old = text.replace(&format!("\\\"schema\\\":{}", kronika::index::SCHEMA_VERSION), "\\\"schema\\\":1");
    assert_ne!(old, text, "the payload names the schema: {text}");
    std::fs::write(&meta, old).unwrap();
}

#[test]
fn an_old_index_is_rebuilt_with_the_sources() {
    let env = visibility_env();
    // A search (here the web's) finds the old schema and rebuilds the index.
    make_index_old(&env);
    let server = Server::start(&env);
    let mut jana = signed_in(&server, "jana", "tajne-heslo-1");
    assert!(item_ids(&search(&mut jana, &server, &q("tajemstvi")).body).is_empty());
    assert!(!item_ids(&search(&mut jana, &server, &q("from:pekarna-novak.cz")).body).is_empty());
    assert_eq!(item_ids(&search(&mut jana, &server, &q("modrotisk")).body).len(), 1);
    drop(server);
    // So does kronika reindex.
    make_index_old(&env);
    let out = env.ok(&["reindex"]);
    assert!(out.contains("reindexed"), "{out}");
    let server = Server::start(&env);
    let mut eva = signed_in(&server, "eva", "evino-heslo-2");
    assert_eq!(item_ids(&search(&mut eva, &server, &q("tajemstvi")).body).len(), 1);
    assert!(item_ids(&search(&mut eva, &server, &q("modrotisk")).body).is_empty());
}

#[test]
fn the_search_page() {
    let env = visibility_env();
    let server = Server::start(&env);
    let mut b = Browser::new();

    // Signed out: to the sign-in page, nothing shown.
    let p = b.get(&server.url("/search?q=hromada"));
    assert!(p.status == 303 || p.status == 302, "{}", p.status);
    assert_eq!(p.header("location"), "/login");
    assert!(!p.body.contains("Hromada"));
    let p = b.htmx_get(&server.url("/search?q=hromada"));
    assert_eq!(p.header("hx-redirect"), "/login");
    assert!(!b.get(&server.url("/search/more?q=hromada&offset=20")).body.contains("Hromada"));

    let mut b = signed_in(&server, "jana", "tajne-heslo-1");
    // The empty form: filters as selects, a hint, the page's stylesheet.
    let p = b.get(&server.url("/search"));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("<select name=\"client\">") && p.body.contains("Acme Stavby s.r.o."), "{}", p.body);
    assert!(p.body.contains("<option value=\"document\">") && p.body.contains("<select name=\"kind\">"));
    assert!(p.body.contains("hx-push-url=\"true\"") && p.body.contains("hx-target=\"#search-results\""));
    assert!(p.body.contains("/assets/search.css") && p.body.contains("Type a word"));
    assert!(
        p.body.contains("mailboxes show you what their settings allow"),
        "jana is told some mail is hidden from her"
    );
    assert!(item_ids(&p.body).is_empty());
    let css = b.get(&server.url("/assets/search.css"));
    assert!(css.header("content-type").starts_with("text/css") && css.body.contains("mark"));
    assert!(!p.body.contains("style=") && !p.body.contains(" onclick"), "CSP: no inline style or handler");

    // Accents ignored: nabidka finds nabídka, marked as written.
    let p = b.get(&server.url(&format!("/search?{}", q("nabidka"))));
    assert!(p.body.contains("<mark>nabídka</mark>"), "{}", p.body);
    // Results link to the item and to its client card.
    // Both of her own mails: one says nabídka, the other nabídku (stemmed).
    let ids = item_ids(&p.body);
    assert_eq!(ids.len(), 2, "{}", p.body);
    assert!(p.body.contains("href=\"/clients/"), "{}", p.body);
    assert!(p.body.contains("value=\"nabidka\""), "the form keeps the query");

    // As you type: htmx gets the results alone.
    let p = b.htmx_get(&server.url(&format!("/search?{}", q("hromada"))));
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("<html") && p.body.contains("<ol class=\"results\">"), "{}", p.body);

    // Filters: client, kind, direction, dates, contact, order.
    let acme = env.json(&["client", "show", "acme"])["id"].as_i64().unwrap();
    let p = search(&mut b, &server, &format!("client={acme}"));
    let acme_ids = item_ids(&p.body);
    assert_eq!(acme_ids.len(), 3, "two of jana's and the hostile one: {}", p.body);
    assert!(p.body.contains(&format!("<option value=\"{acme}\" selected>")), "the select keeps the choice");
    let p = search(&mut b, &server, &format!("client={acme}&direction=out"));
    assert_eq!(item_ids(&p.body).len(), 1);
    assert!(p.body.contains("Re: Poptávka lešení hala C"));
    let p = search(&mut b, &server, &format!("client={acme}&direction=in&from=2026-11-03"));
    assert_eq!(item_ids(&p.body).len(), 1, "the hostile one (2 Nov) is before: {}", p.body);
    assert!(p.body.contains("Poptávka lešení hala C") && !p.body.contains("Faktura"));
    let p = search(&mut b, &server, &format!("client={acme}&to=2026-11-05"));
    assert_eq!(item_ids(&p.body).len(), 2, "to includes the whole day: {}", p.body);
    let p = search(&mut b, &server, &format!("contact={}", urlencode("karel.horak@acme-stavby.cz")));
    assert!(!item_ids(&p.body).is_empty());
    assert!(item_ids(&p.body).iter().all(|i| acme_ids.contains(i)), "{}", p.body);
    let p = search(&mut b, &server, "kind=document");
    assert_eq!(item_ids(&p.body).len(), 1, "eva's document, hidden: {}", p.body);
    assert!(p.body.contains("(subject hidden)") && !p.body.contains("nabidka-pekarna"));
    let p = search(&mut b, &server, &format!("{}&sort=date", q("hromada")));
    let dates: Vec<&str> = p.body.split("<time>").skip(1).filter_map(|s| s.split('<').next()).collect();
    assert_eq!(dates.len(), 20, "a page of 20");
    assert!(p.body.contains("<p class=\"count\">25 results</p>"), "{}", p.body);
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");

    // More: the next page, nothing twice, no more after the last.
    let first = item_ids(&p.body);
    assert!(p.body.contains("/search/more?q=hromada&#38;sort=date&#38;offset=20"), "{}", p.body);
    let more = b.htmx_get(&server.url("/search/more?q=hromada&sort=date&offset=20"));
    assert_eq!(more.status, 200);
    let second = item_ids(&more.body);
    assert_eq!(second.len(), 5, "{}", more.body);
    let all: BTreeSet<i64> = first.iter().chain(&second).copied().collect();
    assert_eq!(all.len(), 25, "nothing twice");
    assert!(!more.body.contains("/search/more"), "the last page");
    let page2 = search(&mut b, &server, "q=hromada&sort=date&offset=20");
    assert_eq!(item_ids(&page2.body), second, "without htmx the link opens the page from there");

    // Hostile text is escaped: no markup from the message is active.
    let p = search(&mut b, &server, &q("Faktura"));
    assert_eq!(item_ids(&p.body).len(), 1, "{}", p.body);
    assert!(p.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{}", p.body);
    assert!(!p.body.contains("<script>alert") && !p.body.contains("<img src=x"));
    no_active_markup(&p.body).unwrap();
    let p = search(&mut b, &server, &q("<script>alert(1)</script>"));
    assert!(!p.body.contains("<script>alert"), "the query is escaped in the form too");
    assert!(p.body.contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;\""), "{}", p.body);
    no_active_markup(&p.body).unwrap();

    // A bad query or filter: a clear message with 400, never a 500.
    for (query, words) in [
        (q("\"lešení"), "check quotes"),
        (q("nosuchfield:x"), "there is no field"),
        (q("to:*"), "give a word after the colon"),
        (q(&"(".repeat(20_000)), "the limit is 2000"),
        (q(&format!("{}a{}", "(".repeat(500), ")".repeat(500))), "500 deep"),
        ("contact=nikdo%40nikde.cz".to_string(), "cannot find contact"),
        ("from=brzy".to_string(), "cannot read the date"),
        ("kind=fax".to_string(), "cannot read item kind"),
    ] {
        let p = search(&mut b, &server, &query);
        assert_eq!(p.status, 400, "{query}: {}", p.body);
        assert!(p.body.contains(words), "{query} should say {words}: {}", p.body);
        assert!(p.body.contains("role=\"alert\""));
        assert!(item_ids(&p.body).is_empty());
        // As you type, the message replaces the results (htmx swaps 2xx only).
        let p = b.htmx_get(&server.url(&format!("/search?{query}")));
        assert_eq!(p.status, 200, "{query}");
        assert!(p.body.contains(words), "{query}: {}", p.body);
    }

    // Whatever the unrestricted search runs, a restricted viewer's runs too
    // (jana may not read eva's mail whole: her search is built per tier).
    for query in [
        "-hromada",
        "NOT hromada",
        "hromada OR lešení",
        "(hromada AND report) OR subject:poptavka",
        "\"hromada report\"",
        "subject:hromada^2",
        "from:sarah.jones@brightwell.co.uk -text:report",
        "attachment:pekarna OR hromada",
        "kind:email direction:in",
        "date:[2026-01-01T00:00:00Z TO 2027-01-01T00:00:00Z]",
    ] {
        let cli = env.cmd(&["search", "--json", "--", query]).output().unwrap();
        let p = search(&mut b, &server, &q(query));
        assert_eq!(
            p.status == 200,
            cli.status.success(),
            "{query}: {} / {}",
            p.status,
            String::from_utf8_lossy(&cli.stderr)
        );
        assert!(p.status == 200 || p.status == 400, "{query}: {}", p.status);
    }
    assert_eq!(item_ids(&search(&mut b, &server, &q("hromada OR lešení")).body).len(), 20, "a page");

    // Czech.
    b.lang = "cs";
    let p = search(&mut b, &server, &q("nicnenajdes"));
    assert!(p.body.contains("Hledání") && p.body.contains("Nic neodpovídá"), "{}", p.body);
    assert!(search(&mut b, &server, &q("hromada")).body.contains("25 výsledků"));
    assert!(search(&mut b, &server, &q("lešení")).body.contains("2 výsledky"));
    assert!(search(&mut b, &server, &q("modrotisk")).body.contains("1 výsledek"));
    for (query, words) in [
        (q("\"lešení"), "zkontrolujte uvozovky a závorky"),
        (q("nosuchfield:x"), "pole „nosuchfield:“ neexistuje"),
        (q("-hromada"), "dotaz jen vylučuje"),
        ("contact=nikdo%40nikde.cz".to_string(), "Kontakt „nikdo@nikde.cz“ nenalezen"),
        ("from=brzy".to_string(), "datum „brzy“ nelze přečíst"),
    ] {
        let p = search(&mut b, &server, &query);
        assert_eq!(p.status, 400, "{query}");
        assert!(p.body.contains(words), "{query} should say {words}: {}", results(&p.body));
        assert!(p.body.contains("nelze použít"), "{query}");
    }
}
