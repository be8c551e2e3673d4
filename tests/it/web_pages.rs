//! The read pages over HTTP: Today, the brief of a meeting, the clients
//! list's filters and sorting. The example data plus a calendar written
//! relative to now (a meeting under way, one tomorrow-ish, one in three
//! days, a hostile one), a mail waiting for our reply, a client silent for
//! 400 days, reminders planned by the reminder engine.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::common::Env;
use crate::common::web::{Browser, Page, Server, example_env, no_active_markup, urlencode};

fn ics_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn vevent(uid: &str, start: DateTime<Utc>, minutes: i64, summary: &str, location: &str, attendee: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T080000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{summary}\r\n\
         LOCATION:{location}\r\nDESCRIPTION:Agenda: předat výkresy\r\n\
         ORGANIZER;CN=Jana Svobodová:mailto:jana.svobodova@modrykamen.cz\r\nATTENDEE;CN={attendee}\r\nEND:VEVENT\r\n",
        ics_time(start),
        ics_time(start + Duration::minutes(minutes)),
    )
}

/// The example data, and: a calendar relative to now; a mail from Pekárna
/// 30 hours ago (waiting for our reply); a client whose only mail is 400
/// days old (silent); a `segment` choice field; an open deal; reminders
/// (2 h before each client meeting, follow-ups after 10 days) planned.
fn today_env() -> (Env, DateTime<Utc>) {
    let env = example_env();
    let now = Utc::now();
    let cal = env.path().join("dnes.ics");
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//kronika//test//CS\r\n");
    // Under way, and begun before any meeting of the example that can be
    // under way with it (its weekly call with Acme is half an hour long:
    // a start 10 minutes ago lost to it on Mondays from 8:10 to 8:30).
    ics.push_str(&vevent(
        "now@test",
        now - Duration::minutes(40),
        100,
        "Kontrola rozpočtu hal",
        "Kladno, kancelář",
        "Ing. Karel Horák:mailto:karel.horak@acme-stavby.cz",
    ));
    ics.push_str(&vevent(
        "soon@test",
        now + Duration::hours(20),
        90,
        "Prohlídka haly C",
        "Hala C",
        "Ing. Karel Horák:mailto:karel.horak@acme-stavby.cz",
    ));
    ics.push_str(&vevent(
        "week@test",
        now + Duration::days(3),
        60,
        "Ochutnávka nových pecí",
        "České Budějovice",
        "Tomáš Novák:mailto:tomas@pekarna-novak.cz",
    ));
    ics.push_str(&vevent(
        "hostile@test",
        now + Duration::days(2),
        30,
        "<script>alert(7)</script> Porada",
        "<img src=x onerror=alert(8)>",
        "\"<b onmouseover=alert(9)>\":mailto:karel.horak@acme-stavby.cz",
    ));
    ics.push_str(&format!(
        "BEGIN:VEVENT\r\nUID:own@test\r\nDTSTAMP:20260101T080000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Zubař\r\nEND:VEVENT\r\n",
        ics_time(now + Duration::days(4)),
        ics_time(now + Duration::days(4) + Duration::minutes(30)),
    ));
    ics.push_str("END:VCALENDAR\r\n");
    std::fs::write(&cal, ics).unwrap();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(&format!(
        "\n[[custom_fields]]\nname = \"segment\"\ntype = \"choice\"\nchoices = [\"A\", \"B\"]\n\n\
         [[calendar]]\nname = \"dnes\"\npath = {:?}\n\n[reminders]\nlead_times = [\"2h\"]\nfollow_up_after = \"10d\"\n",
        cal.display().to_string()
    ));
    std::fs::write(env.config_path(), config).unwrap();
    let mail = |name: &str, text: String| std::fs::write(env.path().join("maildir/new").join(name), text).unwrap();
    mail(
        "1799999999.M1P1Q1.waiting",
        format!(
            "From: =?utf-8?q?Tom=C3=A1=C5=A1_Nov=C3=A1k?= <tomas@pekarna-novak.cz>\r\nTo: jana.svobodova@modrykamen.cz\r\n\
             Subject: Dotaz na cenu pece\r\nDate: {}\r\nMessage-ID: <waiting-1@pekarna-novak.cz>\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nDobrý den, kolik by stála nová pec?\r\n",
            (now - Duration::hours(30)).to_rfc2822()
        ),
    );
    env.ok(&["client", "add", "Stará Firma", "--domain", "stara-firma.cz", "--field", "segment=A", "--no-ares"]);
    mail(
        "1799999998.M2P1Q1.old",
        format!(
            "From: Info <info@stara-firma.cz>\r\nTo: jana.svobodova@modrykamen.cz\r\nSubject: Poptávka regálů\r\n\
             Date: {}\r\nMessage-ID: <old-1@stara-firma.cz>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDobrý den.\r\n",
            (now - Duration::days(400)).to_rfc2822()
        ),
    );
    env.ok(&["client", "edit", "pekarna", "--field", "segment=B"]);
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    env.ok(&[
        "deal",
        "add",
        "pekarna",
        "--title",
        "Nová pec",
        "--value",
        "90000",
        "--status",
        "open",
        "--date",
        &today,
    ]);
    env.ok(&["sync"]);
    // Plan reminders as the daemon's reminder engine does.
    reminder_engine(&env).plan().unwrap();
    (env, now)
}

/// The reminder engine on this env's store, with no sinks, on the system clock.
fn reminder_engine(env: &Env) -> kronika::reminders::Reminders {
    let config = kronika::config::Config::load(&env.config_path()).unwrap();
    let store = kronika::store::Store::open(&config.db_path(), config.policy()).unwrap();
    kronika::reminders::Reminders::new(
        config.reminders.clone().unwrap(),
        store,
        Arc::new(kronika::reminders::SystemClock),
        Vec::new(),
        None,
    )
}

/// Text as the templates escape it.
fn esc(s: &str) -> String {
    s.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// The part of a page from the element with `id` to the end of its section.
fn section<'a>(page: &'a Page, id: &str) -> &'a str {
    let start = page.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("section {id} in {}", page.body));
    let rest = &page.body[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

fn signed_in(server: &Server) -> Browser {
    let mut b = Browser::new();
    let p = b.sign_in(server, "jana", "tajne-heslo-1");
    assert_eq!(p.status, 303, "{}", p.body);
    b
}

fn agenda_id(env: &Env, uid: &str) -> i64 {
    let agenda = env.json(&["agenda", "--days", "10"]);
    agenda.as_array().unwrap().iter().find(|e| e["uid"] == uid).unwrap_or_else(|| panic!("{uid} in {agenda}"))["id"]
        .as_i64()
        .unwrap()
}

fn client_id(list: &Page, name: &str) -> String {
    let at = list.body.find(&format!(">{name}</a>")).unwrap_or_else(|| panic!("{name} in the list"));
    let before = &list.body[..at];
    let href = before.rfind("href=\"/clients/").unwrap() + "href=\"/clients/".len();
    before[href..].split('"').next().unwrap().to_string()
}

#[test]
fn signed_out_the_pages_go_to_the_sign_in_page() {
    let env = example_env();
    let server = Server::start(&env);
    let mut b = Browser::new();
    for path in ["/today", "/brief/1", "/brief/1?event=2", "/clients?sort=ltv&status=lead"] {
        let p = b.get(&server.url(path));
        assert_eq!(p.status, 303, "{path}");
        assert_eq!(p.header("location"), "/login", "{path}");
        assert!(!p.body.contains("Acme"), "{path}");
    }
    let p = b.htmx_get(&server.url("/clients?sort=open"));
    assert_eq!(p.header("hx-redirect"), "/login");
    assert!(!p.body.contains("Acme"));
    // The stylesheets are public (they hold no data).
    for css in ["/assets/today.css", "/assets/brief.css", "/assets/clients.css"] {
        let p = b.get(&server.url(css));
        assert_eq!(p.status, 200, "{css}");
        assert!(p.header("content-type").starts_with("text/css"), "{css}");
    }
}

#[test]
fn today_shows_the_agenda_reminders_waiting_threads_and_silent_clients() {
    let (env, _now) = today_env();
    let server = Server::start(&env);
    let mut b = signed_in(&server);
    let p = b.get(&server.url("/today"));
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("/assets/today.css"), "its stylesheet is linked");

    // Today: the meeting under way, with its client, place, attendee and brief.
    let today = section(&p, "today");
    assert!(today.contains("Kontrola rozpočtu hal"), "{today}");
    assert!(today.contains("in progress"), "{today}");
    assert!(today.contains("Kladno, kancelář"), "{today}");
    assert!(today.contains("Acme Stavby s.r.o."), "{today}");
    assert!(today.contains("Karel Horák"), "the attendee: {today}");
    let now_id = agenda_id(&env, "now@test");
    let acme = b.get(&server.url("/clients"));
    let acme_id = client_id(&acme, "Acme Stavby s.r.o.");
    assert!(today.contains(&format!("href=\"/brief/{acme_id}?event={now_id}\"")), "{today}");
    assert!(!today.contains("Ochutnávka"), "three days ahead is not today");

    // The next seven days: the Pekárna meeting with its brief link, our own event without one.
    let week = section(&p, "week");
    let week_id = agenda_id(&env, "week@test");
    assert!(week.contains("Ochutnávka nových pecí") && week.contains("Pekárna Novák s.r.o."), "{week}");
    assert!(week.contains(&format!("?event={week_id}\"")), "{week}");
    assert!(week.contains("Zubař") && week.contains("no client"), "{week}");
    assert!(!week.contains("Kontrola rozpočtu hal"), "today's meeting is not repeated");
    assert!(p.body.contains("Prohlídka haly C"), "the meeting in 20 hours is on the page");

    // Reminders: 2 h before the meeting in 20 h (pending), the follow-up of the silent client (overdue).
    let reminders = section(&p, "reminders");
    assert!(reminders.contains("Prohlídka haly C in 2h"), "{reminders}");
    assert!(reminders.contains("pending"), "{reminders}");
    assert!(reminders.contains("Get in touch with Stará Firma") && reminders.contains("overdue"), "{reminders}");
    assert!(!reminders.contains("Ochutnávka"), "the reminder three days ahead is not due: {reminders}");
    // Once the engine fires what is due, today's page still shows it, as sent.
    assert!(reminder_engine(&env).fire_due().unwrap() > 0);
    let fired = b.get(&server.url("/today"));
    let reminders = section(&fired, "reminders");
    let stara = reminders.split("<li").find(|r| r.contains("Get in touch with Stará Firma")).expect(reminders);
    assert!(stara.contains("sent") && !stara.contains("overdue"), "{stara}");
    assert!(reminders.contains("Prohlídka haly C in 2h"), "not due yet, still pending: {reminders}");

    // Waiting for our reply: Pekárna's mail of 30 hours ago, newest first, with how long.
    let waiting = section(&p, "waiting");
    assert!(waiting.contains("Dotaz na cenu pece"), "{waiting}");
    assert!(waiting.contains("Tomáš Novák"), "{waiting}");
    assert!(waiting.contains("1 d 6 h"), "{waiting}");
    assert!(waiting.contains("href=\"/items/"), "each waiting mail opens: {waiting}");
    let pekarna_at = waiting.find("Dotaz na cenu pece").unwrap();
    let old_at = waiting.find("Poptávka regálů").expect("the 400-day-old mail waits too");
    assert!(pekarna_at < old_at, "newest first");
    // The hostile mail waits too, escaped.
    assert!(waiting.contains(&esc("<script>alert(1)</script> Faktura")), "{waiting}");

    // Clients gone silent: Stará Firma (400 days), not Pekárna (30 hours).
    let silent = section(&p, "silent");
    assert!(silent.contains("Stará Firma") && silent.contains("400 days"), "{silent}");
    assert!(silent.contains("10 days"), "the configured period: {silent}");
    assert!(!silent.contains("Pekárna"), "{silent}");
    assert!(!silent.contains("default"), "the period is configured: {silent}");

    // Hostile calendar text is escaped, no active markup anywhere.
    assert!(p.body.contains(&esc("<script>alert(7)</script> Porada")), "escaped summary");
    assert!(!p.body.contains("<script>alert"), "no script from outside");
    assert!(!p.body.contains("<b onmouseover"), "no markup from an attendee's name");
    no_active_markup(&p.body).unwrap();

    // kronika today says the same.
    let text = env.ok(&["today"]);
    for want in
        ["Kontrola rozpočtu hal", "(now)", "Ochutnávka nových pecí", "Dotaz na cenu pece", "Stará Firma  400 days"]
    {
        assert!(text.contains(want), "{want} in {text}");
    }
    let json = env.json(&["today"]);
    assert!(json["today"].as_array().unwrap().iter().any(|m| m["summary"] == "Kontrola rozpočtu hal"), "{json}");
    assert_eq!(json["waiting"][0]["subject"], "Dotaz na cenu pece", "{json}");
    assert_eq!(json["waiting"][0]["waiting_days"], 1, "{json}");
    assert_eq!(json["silent"]["after_days"], 10, "{json}");
    assert_eq!(json["silent"]["configured"], true, "{json}");
    assert!(json["silent"]["clients"].as_array().unwrap().iter().any(|c| c["name"] == "Stará Firma"), "{json}");

    // Czech.
    b.lang = "cs";
    let p = b.get(&server.url("/today"));
    assert!(p.body.contains("Dnešní program") && p.body.contains("Čeká na naši odpověď"), "{}", p.body);
    assert!(p.body.contains("právě probíhá") && p.body.contains("Podklady"), "{}", p.body);
    let day = ["pondělí", "úterý", "středa", "čtvrtek", "pátek", "sobota", "neděle"];
    assert!(day.iter().any(|d| p.body.contains(d)), "a Czech day name");
}

#[test]
fn today_says_what_is_empty_and_uses_the_default_silence() {
    let env =
        Env::with_config("data_dir = \"data\"\nown_domains = [\"modrykamen.cz\"]\n\n[web]\nlisten = \"127.0.0.1:0\"\n");
    env.cmd(&["user", "add", "jana", "--email", "jana@modrykamen.cz", "--password-stdin"])
        .write_stdin("tajne-heslo-1\n")
        .assert()
        .success();
    let server = Server::start(&env);
    let mut b = signed_in(&server);
    let p = b.get(&server.url("/today"));
    assert_eq!(p.status, 200);
    assert!(section(&p, "today").contains("No meetings or events today."));
    assert!(section(&p, "week").contains("No meetings or events in the next 7 days."));
    assert!(section(&p, "reminders").contains("No reminders due in the next 24 hours."));
    assert!(section(&p, "waiting").contains("No thread is waiting for our reply."));
    let silent = section(&p, "silent");
    assert!(silent.contains("No client has been silent"), "{silent}");
    assert!(silent.contains("90 days") && silent.contains("follow_up_after"), "the default, said: {silent}");
}

#[test]
fn the_brief_of_the_next_meeting_and_of_a_given_one() {
    let (env, _now) = today_env();
    let server = Server::start(&env);
    let mut b = signed_in(&server);
    let list = b.get(&server.url("/clients"));
    let acme = client_id(&list, "Acme Stavby s.r.o.");
    let pekarna = client_id(&list, "Pekárna Novák s.r.o.");

    // The next meeting: the one under way.
    let p = b.get(&server.url(&format!("/brief/{acme}")));
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("/assets/brief.css"), "the print stylesheet is linked");
    let meeting = section(&p, "meeting");
    assert!(meeting.contains("Kontrola rozpočtu hal") && meeting.contains("in progress"), "{meeting}");
    assert!(meeting.contains("Kladno, kancelář") && meeting.contains("Agenda: předat výkresy"), "{meeting}");
    assert!(meeting.contains("Jana Svobodová") && meeting.contains("karel.horak@acme-stavby.cz"), "{meeting}");
    // The client, contacts, recent mail, figures, upcoming events.
    assert!(section(&p, "client").contains("27468135") && section(&p, "client").contains("stavebnictví"));
    assert!(section(&p, "contacts").contains("Karel Horák") && section(&p, "contacts").contains("stavbyvedoucí"));
    // A meeting still ahead is not a last contact.
    let contacts = section(&p, "contacts");
    let last = contacts.split("Last contact: ").nth(1).expect("Karel's last contact").get(..10).unwrap();
    assert!(last <= chrono::Local::now().format("%Y-%m-%d").to_string().as_str(), "{contacts}");
    let recent = section(&p, "recent");
    // The newest mail (the ISDOC invoice) leads; nothing from mail is markup.
    assert!(recent.contains("Faktura FV-2026-151"), "{recent}");
    assert!(!recent.contains("<script>"), "{recent}");
    let figures = section(&p, "figures");
    assert!(figures.contains("Lifetime value") && figures.contains("1 237 400"), "{figures}");
    let upcoming = section(&p, "upcoming");
    let soon = agenda_id(&env, "soon@test");
    assert!(upcoming.contains(&format!("href=\"/brief/{acme}?event={soon}\"")), "{upcoming}");
    no_active_markup(&p.body).unwrap();

    // A given meeting.
    let p = b.get(&server.url(&format!("/brief/{acme}?event={soon}")));
    assert_eq!(p.status, 200);
    let meeting = section(&p, "meeting");
    assert!(meeting.contains("Prohlídka haly C") && meeting.contains("Hala C"), "{meeting}");
    assert!(!meeting.contains("Kontrola rozpočtu hal"), "{meeting}");

    // The hostile meeting, escaped.
    let hostile = agenda_id(&env, "hostile@test");
    let p = b.get(&server.url(&format!("/brief/{acme}?event={hostile}")));
    assert_eq!(p.status, 200);
    assert!(section(&p, "meeting").contains(&esc("<script>alert(7)</script> Porada")));
    assert!(section(&p, "meeting").contains(&esc("<img src=x onerror=alert(8)>")));
    assert!(!p.body.contains("<script>alert") && !p.body.contains("<img src=x"));
    no_active_markup(&p.body).unwrap();

    // Pekárna: its meeting, waiting thread, open deal.
    let week = agenda_id(&env, "week@test");
    let p = b.get(&server.url(&format!("/brief/{pekarna}?event={week}")));
    assert!(section(&p, "meeting").contains("Ochutnávka nových pecí"), "{}", p.body);
    assert!(section(&p, "meeting").contains("Tomáš Novák"), "{}", p.body);
    let waiting = section(&p, "waiting");
    assert!(waiting.contains("Dotaz na cenu pece") && waiting.contains("1 day<"), "{waiting}");
    assert!(section(&p, "figures").contains("90 000"), "the open deal");

    // Another client's meeting, a meeting that is not an event, nonsense: not found.
    for path in [
        format!("/brief/{acme}?event={week}"),
        format!("/brief/{pekarna}?event=999999"),
        format!("/brief/{acme}?event=abc"),
        "/brief/999999".to_string(),
        "/brief/acme".to_string(),
    ] {
        let p = b.get(&server.url(&path));
        assert_eq!(p.status, 404, "{path}");
        assert!(!p.body.contains("Ochutnávka"), "{path}");
    }

    // A client without a meeting ahead: the brief, and a sentence saying so.
    let p = b.get(&server.url("/clients?q=stara"));
    let stara = client_id(&p, "Stará Firma");
    let p = b.get(&server.url(&format!("/brief/{stara}")));
    assert_eq!(p.status, 200);
    assert!(section(&p, "meeting").contains("No meeting with this client is planned"), "{}", p.body);
    assert!(section(&p, "waiting").contains("Poptávka regálů"), "{}", p.body);
    assert!(section(&p, "upcoming").contains("none"), "{}", p.body);

    // The print stylesheet: no navigation, black on white, sections kept whole.
    let css = b.get(&server.url("/assets/brief.css"));
    assert!(css.body.contains("@media print"));
    assert!(css.body.contains("header.top") && css.body.contains("display: none"));
    assert!(css.body.contains("#fff") && css.body.contains("#000") && css.body.contains("break-inside: avoid"));

    // The CLI brief of the same client says the same.
    let json = env.json(&["brief", "pekarna"]);
    assert_eq!(json["open_threads"][0]["subject"], "Dotaz na cenu pece", "{json}");
    assert_eq!(json["open_threads"][0]["waiting_days"], 1, "{json}");
    assert_eq!(json["figures"]["deals"]["open_value"]["CZK"], 90_000.0, "{json}");
}

/// Where each name is on the page, in order.
fn order(p: &Page, names: &[&str]) -> Vec<usize> {
    names.iter().map(|n| p.body.find(&format!(">{n}</a>")).unwrap_or_else(|| panic!("{n} in {}", p.body))).collect()
}

fn ascending(v: &[usize]) -> bool {
    v.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn the_clients_list_filters_and_sorts() {
    let (env, _now) = today_env();
    let server = Server::start(&env);
    let mut b = signed_in(&server);
    let (acme, bright, pek, stara) = ("Acme Stavby s.r.o.", "Brightwell Ltd", "Pekárna Novák s.r.o.", "Stará Firma");

    // Every column that can be sorted by is shown, with its value.
    let p = b.get(&server.url("/clients"));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("/assets/clients.css"));
    for want in ["Last contact", "Lifetime value", "Open deals", "segment", "obor", "90 000 CZK (1)", "stavebnictví"] {
        assert!(p.body.contains(want), "{want} in the list");
    }
    assert!(ascending(&order(&p, &[acme, bright, pek, stara])), "by name, A to Z");
    assert!(p.body.contains("4 clients"), "how many");
    // The filters: status, the choice field as a select, the text field as a box.
    assert!(p.body.contains("<select name=\"status\">"), "{}", p.body);
    assert!(p.body.contains("<select name=\"f.segment\">"));
    assert!(p.body.contains("<input type=\"text\" name=\"f.obor\""));
    assert!(p.body.contains("hx-get=\"/clients\"") && p.body.contains("hx-target=\"#client-rows\""));

    // Each sort order, as htmx asks for it (rows only) and as a link.
    let rows = |b: &mut Browser, query: &str| {
        let p = b.htmx_get(&server.url(&format!("/clients?{query}")));
        assert_eq!(p.status, 200, "{query}");
        assert!(!p.body.contains("<html") && !p.body.contains("<form"), "{query}: only the rows");
        p
    };
    let p = rows(&mut b, "sort=name&order=desc");
    assert!(ascending(&order(&p, &[stara, pek, bright, acme])), "by name, Z to A");
    let p = rows(&mut b, "sort=ltv");
    assert!(ascending(&order(&p, &[acme, bright, pek, stara])), "Acme has the lifetime value; the rest by name");
    assert!(p.body.contains("sortable num desc"), "the column says it is the order");
    let p = rows(&mut b, "sort=open");
    let at = order(&p, &[pek, acme, bright, stara]);
    assert!(ascending(&at), "Pekárna has the open deal");
    let p = rows(&mut b, "sort=last");
    assert!(ascending(&order(&p, &[pek, acme, stara])), "newest contact first: {}", p.body);
    let p = rows(&mut b, "sort=last&order=asc");
    assert!(ascending(&order(&p, &[stara, acme, pek])), "oldest contact first");
    let p = rows(&mut b, "sort=bogus");
    assert!(ascending(&order(&p, &[acme, bright, pek, stara])), "an unknown order is by name");

    // Filters.
    let p = rows(&mut b, "status=lead");
    assert!(p.body.contains("2 clients"), "{}", p.body);
    assert!(p.body.contains(bright) && p.body.contains(stara), "{}", p.body);
    assert!(!p.body.contains(acme) && !p.body.contains(pek));
    let p = rows(&mut b, "status=client");
    assert!(p.body.contains(acme) && p.body.contains(pek) && !p.body.contains(bright) && !p.body.contains(stara));
    let p = rows(&mut b, &format!("f.obor={}", urlencode("POTRAVINAR")));
    assert!(p.body.contains(pek) && !p.body.contains(acme) && !p.body.contains(bright), "contains, accents ignored");
    let p = rows(&mut b, "f.segment=A");
    assert!(p.body.contains("1 client<"), "{}", p.body);
    assert!(p.body.contains(stara) && !p.body.contains(pek) && !p.body.contains(acme), "a choice: equal");
    let p = rows(&mut b, "f.segment=b&status=client&sort=open");
    assert!(p.body.contains(pek) && !p.body.contains(stara));
    let p = rows(&mut b, "status=lead&q=stara");
    assert!(p.body.contains(stara) && !p.body.contains(bright), "search and filters together");
    let p = rows(&mut b, "status=client&f.segment=A");
    assert!(p.body.contains("No client matches"), "{}", p.body);
    let p = rows(&mut b, "status=nonsense&f.unknown=x");
    assert!(ascending(&order(&p, &[acme, bright, pek, stara])), "unknown filters are ignored");

    // A filtered, sorted list is a link: the page opens with the form set
    // and the column links keep the filters.
    let p = b.get(&server.url(&format!("/clients?status=client&f.obor={}&sort=ltv&order=asc", urlencode("stav"))));
    assert_eq!(p.status, 200);
    assert!(p.body.contains(acme) && !p.body.contains(pek), "{}", p.body);
    assert!(p.body.contains("<option value=\"client\" selected>"), "the status is selected");
    assert!(p.body.contains("name=\"f.obor\" value=\"stav\""), "the text filter is filled in");
    assert!(p.body.contains("<option value=\"ltv\" selected>") && p.body.contains("<option value=\"asc\" selected>"));
    assert!(
        p.body.contains(&format!("href=\"{}\"", esc("/clients?status=client&f.obor=stav&sort=ltv&order=desc"))),
        "{}",
        p.body
    );
    assert!(p.body.contains(&format!("href=\"{}\"", esc("/clients?status=client&f.obor=stav&sort=name&order=asc"))));
    assert!(p.body.contains("Clear filters"));

    // Hostile filter text is escaped back into the form, not run.
    let evil = "\"><script>alert(5)</script>";
    let p = b.get(&server.url(&format!("/clients?f.obor={}&q={}", urlencode(evil), urlencode(evil))));
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("<script>alert(5)"), "{}", p.body);
    assert!(p.body.contains(&format!("value=\"{}\"", esc(evil))), "{}", p.body);
    no_active_markup(&p.body).unwrap();

    // Czech.
    b.lang = "cs";
    let p = b.get(&server.url("/clients?sort=open"));
    assert!(p.body.contains("Otevřené obchody") && p.body.contains("Řadit podle") && p.body.contains("všechny stavy"));
    assert!(p.body.contains("4 klienti"), "{}", p.body);
}

#[test]
fn today_and_the_brief_hide_what_a_user_may_not_read() {
    let (env, _now) = today_env();
    // Jana's mailbox: others see who wrote and when, not what.
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let config = config.replacen(
        "[[maildir]]\nname = \"mail\"\npath = \"maildir\"\n",
        "[[maildir]]\nname = \"mail\"\npath = \"maildir\"\nowner = \"jana\"\nvisibility = \"metadata\"\n",
        1,
    );
    assert!(config.contains("visibility = \"metadata\""), "{config}");
    std::fs::write(env.config_path(), config).unwrap();
    let server = Server::start(&env);
    let list = signed_in(&server).get(&server.url("/clients"));
    let pekarna = client_id(&list, "Pekárna Novák s.r.o.");

    let mut eva = Browser::new();
    assert_eq!(eva.sign_in(&server, "eva", "evino-heslo-2").status, 303);
    let p = eva.get(&server.url("/today"));
    let waiting = section(&p, "waiting");
    assert!(waiting.contains("Tomáš Novák"), "who wrote is metadata: {waiting}");
    assert!(waiting.contains("(no subject)"), "{waiting}");
    assert!(!waiting.contains("Dotaz na cenu pece"), "{waiting}");
    assert!(section(&p, "today").contains("Kontrola rozpočtu hal"), "calendars are not mail");
    let p = eva.get(&server.url(&format!("/brief/{pekarna}")));
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("Dotaz na cenu pece") && !p.body.contains("kolik by stála"), "{}", p.body);

    // The owner reads it all.
    let mut jana = signed_in(&server);
    let p = jana.get(&server.url("/today"));
    assert!(section(&p, "waiting").contains("Dotaz na cenu pece"));
    let p = jana.get(&server.url(&format!("/brief/{pekarna}")));
    assert!(p.body.contains("Dotaz na cenu pece") && p.body.contains("kolik by stála"), "{}", p.body);
}
