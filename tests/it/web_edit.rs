//! Editing from the web: clients (ARES fill), contacts, deals, custom fields, notes, links.
//! Against a real server on 127.0.0.1:0 (the harness in `common/web.rs`)
//! and a local ARES-shaped server with the companies of `fixtures/ares/`;
//! what the web changed is read back through the CLI, the other face of
//! the same library functions.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::common::web::{Browser, Page, Server, example_env, no_active_markup};
use crate::common::{Env, fixtures};

/// Serves `fixtures/ares/{ico}.json` for GET /ekonomicke-subjekty/{ico}; 404
/// as ARES says it otherwise.
fn ares_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = vec![0u8; 16384];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req.split_whitespace().nth(1).unwrap_or("").to_string();
            let ico = path.rsplit('/').next().unwrap_or("");
            let body = std::fs::read(fixtures().join(format!("ares/{ico}.json"))).ok();
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", br#"{"kod":"NENALEZENO","popis":"Ekonomicky subjekt nenalezen."}"#.to_vec()),
            };
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = s.write_all(&body);
        }
    });
    port
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

const MORE_FIELDS: &str = r#"
[[custom_fields]]
name = "segment"
type = "choice"
choices = ["A", "B"]

[[custom_fields]]
name = "since"
type = "date"

[[custom_fields]]
name = "zamestnanci"
type = "number"
"#;

const NOTES: &str = "\n[[notes]]\nname = \"poznamky\"\npath = \"poznamky\"\nkind = \"call\"\n";

/// The example config with more sections appended.
fn with_config(env: &Env, base: &str, more: &str) {
    std::fs::write(env.config_path(), format!("{base}{more}")).unwrap();
}

fn ares_section(port: u16) -> String {
    format!("\n[ares]\nbase_url = \"http://127.0.0.1:{port}\"\ntimeout = \"2s\"\n")
}

fn signed_in(server: &Server) -> (Browser, String) {
    let mut b = Browser::new();
    let p = b.sign_in(server, "jana", "tajne-heslo-1");
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get(&server.url("/clients"));
    let csrf = Browser::csrf(&page);
    (b, csrf)
}

fn client_id(env: &Env, query: &str) -> i64 {
    env.json(&["client", "show", query])["id"].as_i64().unwrap()
}

/// The value attribute of the input named `name`.
fn input_value(page: &Page, name: &str) -> Option<String> {
    let at = page.body.find(&format!("name=\"{name}\""))?;
    let tag_end = page.body[at..].find('>')? + at;
    let tag = &page.body[at..tag_end];
    let v = tag.find("value=\"")? + "value=\"".len();
    Some(tag[v..].split('"').next()?.to_string())
}

fn assert_redirect_to(p: &Page, to: &str) {
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.header("location"), to);
}

#[test]
fn clients_from_ares_and_custom_fields_of_every_type() {
    let env = example_env();
    let base = std::fs::read_to_string(env.config_path()).unwrap();

    // ARES down, and no notes folder.
    with_config(&env, &base, &ares_section(dead_port()));
    {
        let server = Server::start(&env);
        let mut out = Browser::new();
        for path in ["/clients/new", "/clients/1/edit", "/ares?ico=29458170", "/clients/1/notes/new"] {
            let p = out.get(&server.url(path));
            assert_redirect_to(&p, "/login");
        }
        let p = out.post(&server.url("/clients/new"), &[("name", "X"), ("csrf", "x")]);
        assert_redirect_to(&p, "/login");
        let p = out.htmx_get(&server.url("/ares?ico=29458170"));
        assert_eq!(p.header("hx-redirect"), "/login");

        let (mut b, csrf) = signed_in(&server);
        let p = b.htmx_get(&server.url("/ares?ico=29458170&name="));
        assert_eq!(p.status, 200, "an ARES that is down is a message, not an error: {}", p.body);
        assert!(p.body.contains("ARES does not answer now") && p.body.contains("cannot reach ARES"), "{}", p.body);
        assert!(p.body.contains("id=\"ares-fields\"") && p.body.contains("name=\"name\""), "{}", p.body);
        // The no-script button gives the same message in the whole form.
        let p = b.post(&server.url("/clients/new"), &[("csrf", &csrf), ("ico", "29458170"), ("fill", "1")]);
        assert_eq!(p.status, 200);
        assert!(p.body.contains("ARES does not answer now"), "{}", p.body);
        // Adding by hand still works with ARES down.
        let p = b.post(&server.url("/clients/new"), &[("csrf", &csrf), ("name", "Ruční s.r.o."), ("status", "lead")]);
        assert_eq!(p.status, 303, "{}", p.body);
        assert_eq!(p.header("location"), format!("/clients/{}", client_id(&env, "Ruční s.r.o.")));

        // Without a [[notes]] folder the note form says what to add.
        let acme = client_id(&env, "acme");
        let p = b.get(&server.url(&format!("/clients/{acme}/notes/new")));
        assert_eq!(p.status, 200);
        assert!(p.body.contains("[[notes]]") && p.body.contains("path ="), "{}", p.body);
        assert!(!p.body.contains("name=\"text\""), "no form to fill in vain");
        let p = b.post(
            &server.url(&format!("/clients/{acme}/notes/new")),
            &[("csrf", &csrf), ("kind", "call"), ("text", "Hovor")],
        );
        assert_eq!(p.status, 409, "{}", p.body);
        assert!(p.body.contains("[[notes]]"));
    }

    // ARES up, more custom fields.
    with_config(&env, &base, &format!("{}{MORE_FIELDS}{NOTES}", ares_section(ares_server())));
    let server = Server::start(&env);
    let (mut b, csrf) = signed_in(&server);

    let form = b.get(&server.url("/clients/new"));
    assert_eq!(form.status, 200);
    assert!(form.body.contains("hx-get=\"/ares\"") && form.body.contains("delay:400ms"), "{}", form.body);
    assert!(form.body.contains("/assets/edit.css"));
    assert!(form.body.contains("name=\"field.since\" type=\"date\""), "a date input: {}", form.body);
    assert!(form.body.contains("name=\"field.zamestnanci\" type=\"text\" value=\"\" inputmode=\"decimal\""));
    assert!(form.body.contains("<select id=\"f-field-segment\" name=\"field.segment\""));
    assert!(form.body.contains("<option value=\"A\">A</option><option value=\"B\">B</option>"));
    assert!(!form.body.contains("style=") && !form.body.contains(" onclick") && no_active_markup(&form.body).is_ok());
    let css = b.get(&server.url("/assets/edit.css"));
    assert!(css.status == 200 && css.header("content-type").starts_with("text/css"));

    // Typing: nothing is asked before 8 digits; a bad check digit is said.
    assert_eq!(b.htmx_get(&server.url("/ares?ico=2945")).status, 204);
    let p = b.htmx_get(&server.url("/ares?ico=29458171"));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("check digit"), "{}", p.body);
    let p = b.htmx_get(&server.url("/ares?ico=26168685&name="));
    assert_eq!(p.status, 200);
    assert!(p.body.contains("ARES does not know this IČO"), "{}", p.body);

    // A known IČO fills the blank fields…
    let p = b.htmx_get(&server.url("/ares?ico=29458170&name=&dic=&address=&legal_form="));
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(input_value(&p, "name").as_deref(), Some("Železářství Řezníček, v.o.s. v likvidaci"), "{}", p.body);
    assert_eq!(input_value(&p, "address").as_deref(), Some("Dolní Lhota 47, 539 01 Horní Ždánice"));
    assert_eq!(input_value(&p, "legal_form").as_deref(), Some("v.o.s."));
    assert!(p.body.contains("Filled from ARES") && p.body.contains("dissolved 2023-06-30"), "dissolved: {}", p.body);
    // …keeps what the user typed, and shows ARES's word beside it…
    let p = b.htmx_get(&server.url("/ares?ico=29458170&name=%C5%98ezn%C3%AD%C4%8Dek&address="));
    assert_eq!(input_value(&p, "name").as_deref(), Some("Řezníček"), "{}", p.body);
    assert!(p.body.contains("ARES: <span class=\"registered\">Železářství Řezníček, v.o.s. v likvidaci</span>"));
    assert!(p.body.contains("hx-get=\"/ares?take=name\""), "{}", p.body);
    assert_eq!(input_value(&p, "address").as_deref(), Some("Dolní Lhota 47, 539 01 Horní Ždánice"));
    // …and takes it when asked.
    let p = b.htmx_get(&server.url("/ares?take=name&ico=29458170&name=%C5%98ezn%C3%AD%C4%8Dek"));
    assert_eq!(input_value(&p, "name").as_deref(), Some("Železářství Řezníček, v.o.s. v likvidaci"));
    // Without script: the button fills the whole form, nothing is saved.
    let before = env.json(&["client", "list"]).as_array().unwrap().len();
    let p = b.post(&server.url("/clients/new"), &[("csrf", &csrf), ("ico", "29458170"), ("fill", "1")]);
    assert_eq!(p.status, 200);
    assert_eq!(input_value(&p, "name").as_deref(), Some("Železářství Řezníček, v.o.s. v likvidaci"));
    assert_eq!(env.json(&["client", "list"]).as_array().unwrap().len(), before);

    // Saving: CSRF first.
    let filled = [
        ("name", "Železářství Řezníček, v.o.s. v likvidaci"),
        ("ico", "29458170"),
        ("dic", ""),
        ("address", "Dolní Lhota 47, 539 01 Horní Ždánice"),
        ("legal_form", "v.o.s."),
        ("billing", "Fakturace e-mailem"),
        ("status", "lead"),
        ("budget", "250 000"),
        ("domains", "zelezarstvi-reznicek.cz\nreznicek.cz"),
        ("emails", "info@zelezarstvi-reznicek.cz"),
        ("field.obor", "železářství"),
        ("field.segment", "A"),
        ("field.since", "2024-03-01"),
        ("field.zamestnanci", "1 250"),
    ];
    let p = b.post(&server.url("/clients/new"), &filled);
    assert_eq!(p.status, 403, "no token");
    let mut with_token = filled.to_vec();
    with_token.push(("csrf", "0".repeat(64).leak()));
    assert_eq!(b.post(&server.url("/clients/new"), &with_token).status, 403, "a wrong token");
    assert_eq!(env.json(&["client", "list"]).as_array().unwrap().len(), before);
    let mut ok = filled.to_vec();
    ok.push(("csrf", &csrf));
    let p = b.post(&server.url("/clients/new"), &ok);
    let id = client_id(&env, "29458170");
    assert_redirect_to(&p, &format!("/clients/{id}"));
    let j = env.json(&["client", "show", "29458170"]);
    assert_eq!(j["legal_form"], "v.o.s.");
    assert_eq!(j["annual_budget"], 250000.0);
    assert_eq!(j["domains"], serde_json::json!(["reznicek.cz", "zelezarstvi-reznicek.cz"]));
    assert_eq!(j["emails"], serde_json::json!(["info@zelezarstvi-reznicek.cz"]));
    assert_eq!(j["custom"]["segment"], "A");
    assert_eq!(j["custom"]["since"], "2024-03-01");
    assert_eq!(j["custom"]["zamestnanci"], 1250.0);
    assert_eq!(j["custom"]["obor"], "železářství");
    let card = b.get(&server.url(&format!("/clients/{id}")));
    assert!(card.body.contains("Železářství Řezníček") && card.body.contains("v.o.s."), "{}", card.body);
    // The same IČO again is a conflict shown beside the IČO.
    let p = b.post(&server.url("/clients/new"), &[("csrf", &csrf), ("name", "Jiné jméno"), ("ico", "29458170")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("already belongs") && p.body.contains("id=\"f-ico-error\""), "{}", p.body);
    assert_eq!(input_value(&p, "name").as_deref(), Some("Jiné jméno"));
    let p = b.post(&server.url("/clients/new"), &[("csrf", &csrf), ("name", "acme stavby s.r.o.")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("already exists"), "{}", p.body);

    // Typing an IČO that a client already has says so, with its card; not
    // on that client's own form.
    let p = b.htmx_get(&server.url("/ares?ico=29458170&self="));
    assert!(p.body.contains(&format!("This IČO already belongs to <a href=\"/clients/{id}\">")), "{}", p.body);
    let p = b.htmx_get(&server.url(&format!("/ares?ico=29458170&self={id}")));
    assert!(!p.body.contains("already belongs") && p.body.contains("Filled from ARES"), "{}", p.body);

    // Editing: the form comes filled.
    let edit_url = server.url(&format!("/clients/{id}/edit"));
    let p = b.get(&edit_url);
    assert_eq!(p.status, 200);
    assert_eq!(input_value(&p, "field.since").as_deref(), Some("2024-03-01"));
    assert_eq!(input_value(&p, "legal_form").as_deref(), Some("v.o.s."));
    assert_eq!(input_value(&p, "self"), Some(id.to_string()));
    assert!(p.body.contains("<option value=\"A\" selected>A</option>"), "{}", p.body);
    assert!(p.body.contains("reznicek.cz\nzelezarstvi-reznicek.cz</textarea>"), "{}", p.body);

    // Bad values of every type are refused with 422, each beside its
    // field, and what was typed stays.
    let bad = [
        ("csrf", csrf.as_str()),
        ("name", "Řezníček nový"),
        ("ico", "12345678"),
        ("status", "client"),
        ("budget", "-5"),
        ("domains", "gmail.com"),
        ("emails", "info@zelezarstvi-reznicek.cz"),
        ("field.segment", "Z"),
        ("field.since", "brzy"),
        ("field.zamestnanci", "hodně"),
    ];
    let p = b.post(&edit_url, &bad);
    assert_eq!(p.status, 422, "{}", p.body);
    for want in ["check digit", "non-negative", "free-mail", "not one of A, B", "is not a date", "is not a number"] {
        assert!(p.body.contains(want), "{want}: {}", p.body);
    }
    assert!(p.body.contains("id=\"f-field-since-error\"") && p.body.contains("id=\"f-domains-error\""));
    assert_eq!(input_value(&p, "name").as_deref(), Some("Řezníček nový"));
    assert_eq!(input_value(&p, "field.since").as_deref(), Some("brzy"));
    assert_eq!(input_value(&p, "field.zamestnanci").as_deref(), Some("hodně"));
    assert_eq!(input_value(&p, "ico").as_deref(), Some("12345678"));
    assert!(p.body.contains("<option value=\"Z\" selected>Z</option>"), "the typed choice stays: {}", p.body);
    assert!(p.body.contains(">gmail.com</textarea>"));
    let j = env.json(&["client", "show", "29458170"]);
    assert_eq!(j["name"], "Železářství Řezníček, v.o.s. v likvidaci", "nothing changed");
    assert_eq!(j["custom"]["since"], "2024-03-01");

    // Good values: dates as Czechs write them, a removed choice, lists replaced.
    let good = [
        ("csrf", csrf.as_str()),
        ("name", "Řezníček nový"),
        ("ico", "29458170"),
        ("dic", "cz 29458170"),
        ("address", "Dolní Lhota 47, 539 01 Horní Ždánice"),
        ("legal_form", "v.o.s."),
        ("billing", ""),
        ("status", "client"),
        ("budget", ""),
        ("domains", "reznicek.cz, zelezo-reznicek.cz"),
        ("emails", ""),
        ("field.obor", "železářství"),
        ("field.segment", ""),
        ("field.since", "1. 2. 2025"),
        ("field.zamestnanci", "12,5"),
    ];
    assert_eq!(b.post(&edit_url, &good[1..]).status, 403, "no token");
    let p = b.post(&edit_url, &good);
    assert_redirect_to(&p, &format!("/clients/{id}"));
    let j = env.json(&["client", "show", "29458170"]);
    assert_eq!(j["name"], "Řezníček nový");
    assert_eq!(j["dic"], "CZ29458170");
    assert_eq!(j["status"], "client");
    assert_eq!(j["billing"], serde_json::Value::Null);
    assert_eq!(j["annual_budget"], serde_json::Value::Null);
    assert_eq!(j["domains"], serde_json::json!(["reznicek.cz", "zelezo-reznicek.cz"]));
    assert_eq!(j["emails"], serde_json::json!([]));
    assert_eq!(j["custom"]["since"], "2025-02-01");
    assert_eq!(j["custom"]["zamestnanci"], 12.5);
    assert!(j["custom"].get("segment").is_none(), "{j}");
    // A form that sends only some fields changes only those.
    assert_redirect_to(&b.post(&edit_url, &[("csrf", &csrf), ("name", "Řezníček")]), &format!("/clients/{id}"));
    let k = env.json(&["client", "show", "29458170"]);
    assert_eq!(k["name"], "Řezníček");
    assert_eq!((&k["domains"], &k["custom"], &k["dic"]), (&j["domains"], &j["custom"], &j["dic"]));
    assert_eq!(b.get(&server.url("/clients/99999/edit")).status, 404);

    // Czech words on the form.
    b.lang = "cs";
    let p = b.get(&edit_url);
    assert!(p.body.contains("Upravit klienta") && p.body.contains("Vyplnit z ARES"), "{}", p.body);
    let p = b.post(&edit_url, &bad);
    assert_eq!(p.status, 422);
    for want in [
        "IČO nemá platnou kontrolní číslici.",
        "Doména gmail.com patří freemailové službě",
        "Hodnota není datum",
        "Hodnota není číslo.",
        "Hodnota není jedna z: A, B.",
        "Opravte označená pole.",
    ] {
        assert!(p.body.contains(want), "{want}: {}", p.body);
    }
}

#[test]
fn contacts_deals_notes_and_links_from_the_web() {
    let env = example_env();
    let base = std::fs::read_to_string(env.config_path()).unwrap();
    with_config(&env, &base, NOTES);
    let server = Server::start(&env);
    let acme = client_id(&env, "acme");
    let pek = client_id(&env, "pekárna");

    // Signed out, every form and every change goes to the sign-in page.
    let mut out = Browser::new();
    for path in [
        format!("/clients/{acme}/contacts/new"),
        format!("/clients/{acme}/deals/new"),
        format!("/clients/{acme}/notes/new"),
        "/contacts/1/edit".to_string(),
        "/deals/1/edit".to_string(),
        "/items/1/link".to_string(),
    ] {
        assert_redirect_to(&out.get(&server.url(&path)), "/login");
        assert_redirect_to(&out.post(&server.url(&path), &[("csrf", "x"), ("name", "x")]), "/login");
    }
    assert_redirect_to(&out.post(&server.url("/items/1/unlink"), &[("client", "1")]), "/login");

    let (mut b, csrf) = signed_in(&server);

    // Contacts.
    let url = server.url(&format!("/clients/{acme}/contacts/new"));
    let p = b.get(&url);
    assert!(p.status == 200 && p.body.contains("Acme Stavby"), "{}", p.body);
    let new_contact = [("name", "Lucie Malá"), ("emails", "Lucie.Mala@acme-stavby.cz"), ("role", "nákupčí")];
    assert_eq!(b.post(&url, &new_contact).status, 403);
    let p = b.post(&url, &[("csrf", &csrf), ("name", "Lucie Malá"), ("emails", "lucie@")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("cannot read mail address") && p.body.contains("id=\"f-emails-error\""), "{}", p.body);
    assert_eq!(input_value(&p, "name").as_deref(), Some("Lucie Malá"));
    let p = b.post(&url, &[("csrf", &csrf), ("name", " "), ("emails", "")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("without a name"));
    let mut ok = new_contact.to_vec();
    ok.push(("csrf", &csrf));
    assert_redirect_to(&b.post(&url, &ok), &format!("/clients/{acme}"));
    let list = env.json(&["contact", "list", "acme"]);
    let lucie = list.as_array().unwrap().iter().find(|c| c["name"] == "Lucie Malá").expect("added").clone();
    // kronika had found her in mail already: the contact typed in is that
    // person, with her second firm address from mail; one Lucie.
    assert_eq!(lucie["emails"], serde_json::json!(["lucie.mala@acme-stavby.cz", "lucie.mala@mail.acme-stavby.cz"]));
    assert_eq!(list.as_array().unwrap().iter().filter(|c| c["name"] == "Lucie Malá").count(), 1);
    assert_eq!(lucie["role"], "nákupčí");
    let lucie_id = lucie["id"].as_i64().unwrap();
    let card = b.get(&server.url(&format!("/clients/{acme}")));
    assert!(card.body.contains("Lucie Malá"), "on the card at once");

    let url = server.url(&format!("/contacts/{lucie_id}/edit"));
    let p = b.get(&url);
    assert_eq!(input_value(&p, "name").as_deref(), Some("Lucie Malá"));
    assert!(p.body.contains(&format!("<option value=\"{acme}\" selected>")), "{}", p.body);
    let edit = [
        ("name", "Lucie Malá"),
        ("emails", "lucie.mala@acme-stavby.cz\nlucie.mala@seznam.cz"),
        ("phone", "+420 601 222 333"),
        ("role", ""),
        ("client", ""),
    ];
    assert_eq!(b.post(&url, &edit).status, 403);
    let mut ok = edit.to_vec();
    ok.push(("csrf", &csrf));
    ok.retain(|(k, _)| *k != "client");
    let acme_s = acme.to_string();
    ok.push(("client", &acme_s));
    assert_redirect_to(&b.post(&url, &ok), &format!("/clients/{acme}"));
    let l = env.json(&["contact", "list", "acme"]);
    let lucie = l.as_array().unwrap().iter().find(|c| c["id"] == lucie_id).unwrap().clone();
    assert_eq!(lucie["emails"], serde_json::json!(["lucie.mala@acme-stavby.cz", "lucie.mala@seznam.cz"]));
    assert_eq!(lucie["phone"], "+420 601 222 333");
    assert_eq!(lucie["role"], serde_json::Value::Null);
    // Moved to another client.
    let pek_s = pek.to_string();
    let mv = [("csrf", csrf.as_str()), ("name", "Lucie Malá"), ("emails", "lucie.mala@seznam.cz"), ("client", &pek_s)];
    assert_redirect_to(&b.post(&url, &mv), &format!("/clients/{pek}"));
    assert!(env.json(&["contact", "list", "pekárna"]).to_string().contains("Lucie Malá"));
    assert!(!env.json(&["contact", "list", "acme"]).to_string().contains("Lucie Malá"));
    assert_eq!(b.get(&server.url("/contacts/99999/edit")).status, 404);

    // Deals.
    let url = server.url(&format!("/clients/{acme}/deals/new"));
    let p = b.get(&url);
    assert!(p.status == 200 && p.body.contains("<option value=\"CZK\" selected>"), "{}", p.body);
    let deal = [("title", "Vzduchotechnika hala C"), ("value", "125 000"), ("currency", "CZK"), ("status", "open")];
    assert_eq!(b.post(&url, &deal).status, 403);
    let p = b.post(
        &url,
        &[("csrf", &csrf), ("title", "Vzduchotechnika hala C"), ("value", "-5"), ("date", "zítra"), ("status", "open")],
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("negative") && p.body.contains("cannot read date"), "{}", p.body);
    assert_eq!(input_value(&p, "title").as_deref(), Some("Vzduchotechnika hala C"));
    assert_eq!(input_value(&p, "date").as_deref(), Some("zítra"));
    let mut ok = deal.to_vec();
    ok.push(("csrf", &csrf));
    ok.push(("date", "2026-10-05"));
    ok.push(("products", "Rekuperace\nServis"));
    assert_redirect_to(&b.post(&url, &ok), &format!("/clients/{acme}"));
    let deals = env.json(&["deal", "list", "acme"]);
    let d = deals.as_array().unwrap().iter().find(|d| d["title"] == "Vzduchotechnika hala C").unwrap().clone();
    assert_eq!((d["value"].as_f64(), d["status"].as_str()), (Some(125000.0), Some("open")));
    assert_eq!(d["products"], serde_json::json!(["Rekuperace", "Servis"]));
    let deal_id = d["id"].as_i64().unwrap();
    let url = server.url(&format!("/deals/{deal_id}/edit"));
    let p = b.get(&url);
    assert_eq!(input_value(&p, "date").as_deref(), Some("2026-10-05"));
    assert!(p.body.contains("Rekuperace\nServis</textarea>"));
    let change = [
        ("title", "Vzduchotechnika hala C"),
        ("value", "130000"),
        ("currency", "EUR"),
        ("status", "won"),
        ("date", "2026-10-06"),
        ("products", "Rekuperace"),
    ];
    assert_eq!(b.post(&url, &change).status, 403);
    let p = b.post(&url, &[("csrf", &csrf), ("title", "x"), ("value", "5"), ("currency", "XYZ"), ("status", "maybe")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("currency") && p.body.contains("use open, won or lost"), "{}", p.body);
    let mut ok = change.to_vec();
    ok.push(("csrf", &csrf));
    assert_redirect_to(&b.post(&url, &ok), &format!("/clients/{acme}"));
    let deals = env.json(&["deal", "list", "acme"]);
    let d = deals.as_array().unwrap().iter().find(|d| d["id"] == deal_id).unwrap().clone();
    assert_eq!(
        (d["value"].as_f64(), d["status"].as_str(), d["currency"].as_str()),
        (Some(130000.0), Some("won"), Some("EUR"))
    );
    let card = b.get(&server.url(&format!("/clients/{acme}")));
    assert!(card.body.contains("Vzduchotechnika hala C"), "the deal is in the timeline");

    // Notes.
    let url = server.url(&format!("/clients/{acme}/notes/new"));
    let p = b.get(&url);
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Karel Horák &#60;karel.horak@acme-stavby.cz&#62;"), "{}", p.body);
    assert!(p.body.contains("type=\"datetime-local\""));
    let karel =
        env.json(&["contact", "list", "acme"]).as_array().unwrap().iter().find(|c| c["name"] == "Karel Horák").unwrap()
            ["id"]
            .as_i64()
            .unwrap()
            .to_string();
    let note = [
        ("kind", "meeting"),
        ("date", "2026-11-20T14:30"),
        ("contact", karel.as_str()),
        ("text", "Kontrola stavby na hale C\nVše v pořádku, další kontrola v prosinci."),
    ];
    assert_eq!(b.post(&url, &note).status, 403);
    let folder = env.path().join("poznamky");
    let files = || std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0);
    assert_eq!(files(), 0, "a refused form writes nothing");
    let p = b.post(&url, &[("csrf", &csrf), ("kind", "meeting"), ("date", "pozítří"), ("text", " ")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("cannot read the date") && p.body.contains("empty note"), "{}", p.body);
    assert_eq!(input_value(&p, "date").as_deref(), Some("pozítří"));
    let pek_contact = env.json(&["contact", "list", "pekárna"])[0]["id"].as_i64().unwrap().to_string();
    let p = b.post(&url, &[("csrf", &csrf), ("contact", &pek_contact), ("text", "Hovor")]);
    assert_eq!(p.status, 422, "another client's contact: {}", p.body);
    assert_eq!(files(), 0);
    let mut ok = note.to_vec();
    ok.push(("csrf", &csrf));
    assert_redirect_to(&b.post(&url, &ok), &format!("/clients/{acme}"));
    let card = b.get(&server.url(&format!("/clients/{acme}")));
    assert!(card.body.contains("Kontrola stavby na hale C"), "on the card right after the redirect: {}", card.body);
    let written: Vec<_> = std::fs::read_dir(&folder).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].ends_with("2026-11-20-acme-stavby-s-r-o-meeting.md"), "{written:?}");
    let text = std::fs::read_to_string(&written[0]).unwrap();
    assert!(text.starts_with("---\nclient: \"Acme Stavby s.r.o.\"\ndate: 2026-11-20 14:30\nkind: meeting\n"), "{text}");
    assert!(text.contains("contact: \"karel.horak@acme-stavby.cz\""), "{text}");
    let h = env.json(&["history", "acme"]);
    let item = h.as_array().unwrap().iter().find(|i| i["subject"] == "Kontrola stavby na hale C").unwrap().clone();
    assert_eq!(item["kind"], "meeting");
    // The CLI writes the same file for the same note.
    let cli = env.ok(&[
        "note",
        "add",
        "acme",
        "--kind",
        "meeting",
        "--date",
        "2026-11-20 14:30",
        "--contact",
        "karel",
        note[3].1,
    ]);
    let cli_text = std::fs::read_to_string(cli.trim()).unwrap();
    assert_eq!(cli_text, text, "web and CLI write the same note");

    // Links: an Acme mail linked to Pekárna by hand, surviving a re-match.
    let mail = h.as_array().unwrap().iter().find(|i| i["kind"] == "email").unwrap()["id"].as_i64().unwrap();
    let url = server.url(&format!("/items/{mail}/link"));
    let p = b.get(&url);
    assert_eq!(p.status, 200);
    assert!(p.body.contains(&format!("<option value=\"{pek}\">Pekárna Novák s.r.o.</option>")), "{}", p.body);
    assert_eq!(b.post(&url, &[("client", &pek_s)]).status, 403);
    let p = b.post(&url, &[("csrf", &csrf), ("client", "99999")]);
    assert_eq!(p.status, 422, "{}", p.body);
    let p = b.post(&url, &[("csrf", &csrf), ("client", &pek_s), ("contact", &karel)]);
    assert_eq!(p.status, 422, "Karel is not at Pekárna: {}", p.body);
    assert!(p.body.contains("is not a contact of client"), "{}", p.body);
    assert_redirect_to(
        &b.post(&url, &[("csrf", &csrf), ("client", &pek_s), ("contact", "")]),
        &format!("/clients/{pek}"),
    );
    let linked = |env: &Env| env.json(&["history", "pekárna"]).as_array().unwrap().iter().any(|i| i["id"] == mail);
    assert!(linked(&env));
    env.ok(&["rematch"]);
    assert!(linked(&env), "a manual link survives a re-match");
    let p = b.get(&url);
    assert!(p.body.contains("by hand") && p.body.contains(&format!("action=\"/items/{mail}/unlink\"")), "{}", p.body);
    let unlink = server.url(&format!("/items/{mail}/unlink"));
    assert_eq!(b.post(&unlink, &[("client", &pek_s)]).status, 403);
    assert!(linked(&env));
    assert_redirect_to(&b.post(&unlink, &[("csrf", &csrf), ("client", &pek_s)]), &format!("/clients/{pek}"));
    assert!(!linked(&env));
    assert!(env.json(&["history", "acme"]).as_array().unwrap().iter().any(|i| i["id"] == mail), "Acme keeps its mail");
    let p = b.post(&unlink, &[("csrf", &csrf), ("client", &pek_s)]);
    assert_eq!(p.status, 409, "no manual link left: {}", p.body);
    assert_eq!(b.post(&server.url("/items/99999/link"), &[("csrf", &csrf), ("client", &pek_s)]).status, 404);
}

/// Under `kronika run` the daemon's watcher files a note written from the
/// web, once; the web waits a moment for it before the redirect.
#[test]
fn a_note_from_the_web_under_the_daemon() {
    let env = example_env();
    let port = dead_port();
    let base = std::fs::read_to_string(env.config_path()).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    with_config(&env, &base, NOTES);
    std::fs::create_dir_all(env.path().join("poznamky")).unwrap();
    let acme = client_id(&env, "acme");
    let _daemon = env.spawn(&["run"]);
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let mut b = Browser::new();
    let mut ready = false;
    for _ in 0..400 {
        if let Ok(r) = b.agent.get(&url("/login")).call()
            && r.status() == 200
        {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(ready, "the daemon serves the web interface");
    let login = b.get(&url("/login"));
    let token = Browser::csrf(&login);
    let p = b.post(&url("/login"), &[("user", "jana"), ("password", "tajne-heslo-1"), ("csrf", &token)]);
    assert_eq!(p.status, 303);
    let csrf = Browser::csrf(&b.get(&url("/clients")));
    let p = b.post(
        &url(&format!("/clients/{acme}/notes/new")),
        &[("csrf", &csrf), ("kind", "call"), ("date", "2026-11-21T09:15"), ("text", "Telefonát o termínu montáže")],
    );
    assert_redirect_to(&p, &format!("/clients/{acme}"));
    // The web waits (a little) for the watcher; on a busy machine it may
    // come a moment later, so the card is asked until it shows the note.
    let mut shown = false;
    for _ in 0..300 {
        if b.get(&url(&format!("/clients/{acme}"))).body.contains("Telefonát o termínu montáže") {
            shown = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(shown, "the daemon's watcher files the note written from the web");
    let h = env.json(&["history", "acme"]);
    let n = h.as_array().unwrap().iter().filter(|i| i["subject"] == "Telefonát o termínu montáže").count();
    assert_eq!(n, 1, "filed once: {h}");
    assert!(env.path().join("poznamky/2026-11-21-acme-stavby-s-r-o-call.md").exists());
}
