//! What comes by itself (issue 13), through the `kronika` binary on the
//! example Maildir: contacts found in mail with their titles, phones and
//! positions from signatures (a typed value never overwritten), a known
//! person at a free-mail address proposed as a merge, invoices with ISDOC
//! as won deals (a credit note lowering the total, the same invoice seen
//! twice one deal), a PDF invoice as a proposal confirmed in the CLI, and
//! the `auto_contacts` policy.

use serde_json::Value;

use crate::common::{Env, copy_dir, fixtures};

const CONFIG: &str = r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz", "petr.dvorak@modrykamen.cz"]
own_domains = ["modrykamen.cz"]
blocklist = ["mama.svobodova@gmail.com"]
AUTO

[[maildir]]
name = "mail"
path = "maildir"
"#;

/// The example's clients and Maildir, with an `auto_contacts` line (or none).
fn example(auto: &str) -> Env {
    let env = Env::with_config(&CONFIG.replace("AUTO", auto));
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env
}

fn contacts(env: &Env, client: &str) -> Vec<Value> {
    env.json(&["contact", "list", client]).as_array().cloned().unwrap_or_default()
}

fn contact<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no contact {name:?} in {list:?}"))
}

/// Writes a message into the env's Maildir (`new/`).
fn deliver(env: &Env, name: &str, message: &[u8]) {
    std::fs::write(env.path().join("maildir/new").join(name), message).unwrap();
}

/// A message from our side with one attachment (base64).
fn with_attachment(from: &str, to: &str, subject: &str, id: &str, file: &str, mime: &str, bytes: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Mon, 30 Nov 2026 10:00:00 +0100\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n\
         V příloze.\n--b\nContent-Type: {mime}; name=\"{file}\"\nContent-Disposition: attachment; filename=\"{file}\"\n\
         Content-Transfer-Encoding: base64\n\n{}\n--b--\n",
        lines.join("\n")
    )
    .into_bytes()
}

#[test]
fn the_example_card_lists_its_people_with_their_phones() {
    let env = example("");
    env.ok(&["sync"]);
    let acme = contacts(&env, "acme");
    let karel = contact(&acme, "Karel Horák");
    assert_eq!(karel["phone"], "+420 602 318 440", "{karel}");
    assert_eq!(karel["role"], "jednatel", "{karel}");
    let lucie = contact(&acme, "Lucie Malá");
    assert_eq!(lucie["phone"], "+420 312 000 456", "{lucie}");
    assert_eq!(lucie["role"], "nákup", "{lucie}");
    // Both of her firm addresses are hers (acme-stavby.cz and its mail. subdomain).
    let emails: Vec<&str> = lucie["emails"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(emails.contains(&"lucie.mala@acme-stavby.cz") && emails.contains(&"lucie.mala@mail.acme-stavby.cz"));
    // The card shows them with their titles and where the phone came from.
    let card = env.ok(&["client", "show", "acme"]);
    assert!(card.contains("Ing. Karel Horák, jednatel"), "{card}");
    assert!(card.contains("+420 602 318 440"), "{card}");
    assert!(!card.contains("Contacts\n  none"), "{card}");
    // A free-mail address is never made a contact by itself, and the
    // private address is not silently merged: it is proposed.
    for c in &acme {
        assert!(!c["emails"].as_array().unwrap().iter().any(|e| e == "karel.horak@seznam.cz"), "merged silently: {c}");
    }
    let proposals = env.json(&["contact", "proposals"]);
    let merge = proposals
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == "address" && p["value"] == "karel.horak@seznam.cz")
        .unwrap_or_else(|| panic!("no merge proposed: {proposals}"));
    let listed = env.ok(&["contact", "merge"]);
    assert!(listed.contains("karel.horak@seznam.cz"), "{listed}");
    let id = merge["id"].as_i64().unwrap().to_string();
    env.ok(&["contact", "merge", &id]);
    let karel = contacts(&env, "acme").into_iter().find(|c| c["name"] == "Karel Horák").unwrap();
    assert!(karel["emails"].as_array().unwrap().iter().any(|e| e == "karel.horak@seznam.cz"), "{karel}");
    // Other clients' people too; a role address never becomes a person.
    let sarah = contacts(&env, "brightwell");
    assert!(sarah.iter().any(|c| c["name"] == "Sarah Jones"), "{sarah:?}");
    assert!(!sarah.iter().any(|c| c["name"].as_str().unwrap_or("").contains("Procurement")), "{sarah:?}");
    assert!(contacts(&env, "pekarna").iter().any(|c| c["name"] == "Tomáš Novák"));
    // Syncing again adds nobody.
    let before = contacts(&env, "acme").len();
    env.ok(&["sync"]);
    assert_eq!(contacts(&env, "acme").len(), before);
}

#[test]
fn a_typed_value_is_never_overwritten_by_a_signature() {
    let env = example("");
    env.ok(&[
        "contact",
        "add",
        "acme",
        "Karel Horák",
        "--email",
        "karel.horak@acme-stavby.cz",
        "--phone",
        "+420 111 222 333",
    ]);
    env.ok(&["sync"]);
    let karel = contacts(&env, "acme").into_iter().find(|c| c["name"] == "Karel Horák").unwrap();
    assert_eq!(karel["phone"], "+420 111 222 333", "{karel}");
    // The position was empty: the signature fills it.
    assert_eq!(karel["role"], "jednatel", "{karel}");
    let proposals = env.json(&["contact", "proposals", "acme"]);
    let phone = proposals
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == "phone" && p["contact"] == "Karel Horák")
        .unwrap_or_else(|| panic!("the mail's phone is not proposed: {proposals}"));
    assert_eq!(phone["value"], "+420 602 318 440");
    assert_eq!(phone["current"], "+420 111 222 333");
    assert!(phone["item_id"].as_i64().is_some(), "the proposal names its message: {phone}");
    env.ok(&["contact", "accept", &phone["id"].to_string()]);
    let karel = contacts(&env, "acme").into_iter().find(|c| c["name"] == "Karel Horák").unwrap();
    assert_eq!(karel["phone"], "+420 602 318 440", "{karel}");
}

#[test]
fn the_policy_decides_who_becomes_a_contact() {
    // `sent`: only people we wrote to. Pavel Kříž only wrote to us.
    let env = example("auto_contacts = \"sent\"");
    env.ok(&["sync"]);
    let acme = contacts(&env, "acme");
    assert!(acme.iter().any(|c| c["name"] == "Lucie Malá"), "{acme:?}");
    assert!(!acme.iter().any(|c| c["name"] == "Pavel Kříž"), "{acme:?}");
    // `none`: nobody.
    let env = example("auto_contacts = \"none\"");
    env.ok(&["sync"]);
    assert!(contacts(&env, "acme").is_empty());
    // A wrong value is refused, naming the key and the choices.
    let env = Env::with_config(&CONFIG.replace("AUTO", "auto_contacts = \"always\""));
    let err = env.fails(&["config", "check"]);
    assert!(err.contains("auto_contacts") && err.contains("sent_and_received"), "{err}");
}

#[test]
fn contacts_appear_when_their_client_is_added_later() {
    let env = Env::with_config(&CONFIG.replace("AUTO", ""));
    copy_dir(&fixtures().join("maildir"), &env.path().join("maildir"));
    env.ok(&["sync"]);
    env.ok(&["client", "add", "Pekárna Novák s.r.o.", "--domain", "pekarna-novak.cz", "--no-ares"]);
    let list = contacts(&env, "pekarna");
    assert!(list.iter().any(|c| c["name"] == "Tomáš Novák"), "{list:?}");
}

#[test]
fn an_isdoc_invoice_becomes_a_won_deal_once() {
    let env = example("");
    env.ok(&["sync"]);
    let deals = env.json(&["deal", "list", "acme"]);
    let found: Vec<&Value> = deals.as_array().unwrap().iter().filter(|d| d["number"] == "FV-2026-151").collect();
    assert_eq!(found.len(), 1, "{deals}");
    let d = found[0];
    assert_eq!(d["status"], "won");
    assert_eq!(d["value"], 757_400.0);
    assert_eq!(d["origin"], "isdoc");
    assert_eq!(d["side"], "sale");
    assert_eq!(d["products"].as_array().unwrap().len(), 3, "{d}");
    let card = env.json(&["client", "show", "acme"]);
    let sold = card["stats"]["total_sold"]["CZK"].as_f64().unwrap();
    let top = card["stats"]["top_products"].to_string();
    assert!(top.contains("Rekuperační jednotka VZT"), "{top}");
    // Its PDF, beside the ISDOC, proposes nothing.
    let proposals = env.json(&["deal", "proposals"]);
    assert!(!proposals.to_string().contains("FV-2026-151"), "{proposals}");

    // The same invoice again, from another mailbox copy: still one deal.
    let isdoc = std::fs::read(fixtures().join("isdoc/faktura-2026-118.isdoc")).unwrap();
    let msg = with_attachment(
        "Jana Svobodová <jana.svobodova@modrykamen.cz>",
        "Lucie Malá <lucie.mala@acme-stavby.cz>",
        "Faktura 2026-118",
        "isdoc-118@modrykamen.cz",
        "faktura-2026-118.isdoc",
        "application/octet-stream",
        &isdoc,
    );
    deliver(&env, "100.isdoc.host", &msg);
    deliver(&env, "101.isdoc-again.host", &msg.replace_message_id("isdoc-118-again@modrykamen.cz"));
    env.ok(&["sync"]);
    let deals = env.json(&["deal", "list", "acme"]);
    let n = deals.as_array().unwrap().iter().filter(|d| d["number"] == "2026-118").count();
    assert_eq!(n, 1, "{deals}");
    let after_invoice = env.json(&["client", "show", "acme"])["stats"]["total_sold"]["CZK"].as_f64().unwrap();
    assert_eq!(after_invoice, sold + 77_300.0);

    // A credit note lowers the total.
    let credit = std::fs::read(fixtures().join("isdoc/dobropis-2026-007.isdoc")).unwrap();
    let msg = with_attachment(
        "Jana Svobodová <jana.svobodova@modrykamen.cz>",
        "Lucie Malá <lucie.mala@acme-stavby.cz>",
        "Dobropis 2026-007",
        "dobropis-007@modrykamen.cz",
        "dobropis-2026-007.isdoc",
        "application/octet-stream",
        &credit,
    );
    deliver(&env, "102.dobropis.host", &msg);
    env.ok(&["sync"]);
    let deals = env.json(&["deal", "list", "acme"]);
    let note = deals.as_array().unwrap().iter().find(|d| d["number"] == "2026-007").expect("the credit note's deal");
    let value = note["value"].as_f64().unwrap();
    assert!(value < 0.0, "{note}");
    let total = env.json(&["client", "show", "acme"])["stats"]["total_sold"]["CZK"].as_f64().unwrap();
    assert!((total - (after_invoice + value)).abs() < 0.01, "{total} vs {after_invoice} + {value}");
}

#[test]
fn a_pdf_invoice_is_proposed_and_confirmed_in_the_cli() {
    let env = example("");
    env.ok(&["sync"]);
    let proposals = env.json(&["deal", "proposals"]);
    let p = proposals
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["number"] == "2026-118")
        .unwrap_or_else(|| panic!("the PDF invoice is not proposed: {proposals}"))
        .clone();
    assert_eq!(p["client"], "Pekárna Novák s.r.o.");
    assert_eq!(p["value"], 8954.0);
    assert_eq!(p["status"], "pending");
    let before = env.json(&["deal", "list", "pekarna"]).as_array().unwrap().len();
    let out = env.ok(&["deal", "confirm", &p["id"].to_string(), "--value", "7 400"]);
    assert!(out.contains("confirmed"), "{out}");
    let deals = env.json(&["deal", "list", "pekarna"]);
    assert_eq!(deals.as_array().unwrap().len(), before + 1);
    let d = deals.as_array().unwrap().iter().find(|d| d["origin"] == "proposal").expect("the confirmed deal");
    assert_eq!(d["value"], 7400.0);
    assert_eq!(d["status"], "won");
    assert!(env.json(&["deal", "proposals"]).as_array().unwrap().is_empty());
    // Confirming twice is refused, naming why.
    let err = env.fails(&["deal", "confirm", &p["id"].to_string()]);
    assert!(err.contains("already confirmed"), "{err}");
}

/// A message's Message-ID replaced (the same content under another id).
trait ReplaceId {
    fn replace_message_id(&self, id: &str) -> Vec<u8>;
}

impl ReplaceId for Vec<u8> {
    fn replace_message_id(&self, id: &str) -> Vec<u8> {
        let s = String::from_utf8(self.clone()).unwrap();
        let start = s.find("Message-ID: <").unwrap() + "Message-ID: <".len();
        let end = start + s[start..].find('>').unwrap();
        format!("{}{id}{}", &s[..start], &s[end..]).into_bytes()
    }
}

#[test]
fn packages_foreign_currencies_and_purchases() {
    let env = example("");
    let jana = "Jana Svobodová <jana.svobodova@modrykamen.cz>";
    let read = |name: &str| std::fs::read(fixtures().join("isdoc").join(name)).unwrap();
    // An ISDOCX package to Pekárna.
    let msg = with_attachment(
        jana,
        "Tomáš Novák <tomas@pekarna-novak.cz>",
        "Faktura 2026-131",
        "isdocx-131@modrykamen.cz",
        "faktura-2026-131.isdocx",
        "application/octet-stream",
        &read("faktura-2026-131.isdocx"),
    );
    deliver(&env, "110.isdocx.host", &msg);
    // A foreign-currency invoice to a client without IČO: found by the mail's client.
    let msg = with_attachment(
        jana,
        "Sarah Jones <sarah.jones@brightwell.co.uk>",
        "Invoice 2026-E-004",
        "isdoc-eur@modrykamen.cz",
        "faktura-eur.isdoc",
        "application/xml",
        &read("faktura-eur.isdoc"),
    );
    deliver(&env, "111.eur.host", &msg);
    // An invoice Acme sent us (Acme the supplier): a purchase, not a sale.
    let bought = String::from_utf8(read("faktura-2026-118.isdoc"))
        .unwrap()
        .replace("27082440", "XXXXXXXX")
        .replace("27468135", "27082440")
        .replace("XXXXXXXX", "27468135")
        .replace("<ID>2026-118</ID>", "<ID>ACME-2026-55</ID>");
    let msg = with_attachment(
        "Lucie Malá <lucie.mala@acme-stavby.cz>",
        jana,
        "Faktura ACME-2026-55",
        "isdoc-acme-55@acme-stavby.cz",
        "ACME-2026-55.isdoc",
        "application/x-isdoc",
        bought.as_bytes(),
    );
    deliver(&env, "112.bought.host", &msg);
    env.ok(&["sync"]);

    let pekarna = env.json(&["deal", "list", "pekarna"]);
    let d = pekarna.as_array().unwrap().iter().find(|d| d["number"] == "2026-131").expect("the package's deal");
    assert_eq!((d["value"].as_f64(), d["status"].as_str()), (Some(18_000.0), Some("won")), "{d}");
    assert_eq!(d["products"].as_array().unwrap().len(), 2, "{d}");
    let brightwell = env.json(&["deal", "list", "brightwell"]);
    let d = brightwell.as_array().unwrap().iter().find(|d| d["number"] == "2026-E-004").expect("the EUR deal");
    assert_eq!((d["value"].as_f64(), d["currency"].as_str()), (Some(1350.5), Some("EUR")), "{d}");
    let acme = env.json(&["deal", "list", "acme"]);
    let d = acme.as_array().unwrap().iter().find(|d| d["number"] == "ACME-2026-55").expect("the purchase");
    assert_eq!(d["side"], "purchase", "{d}");
    let list = env.ok(&["deal", "list", "acme"]);
    assert!(list.contains("(purchase)"), "{list}");
    // Figures leave the purchase out: Acme's sales are its CSV-less sales only.
    let sold = env.json(&["client", "show", "acme"])["stats"]["total_sold"]["CZK"].as_f64().unwrap_or(0.0);
    assert_eq!(sold, 757_400.0, "only FV-2026-151 is a sale");
}

#[test]
fn office_documents_are_searchable_documents() {
    let env = example("");
    let docx = std::fs::read(fixtures().join("documents/nabidka.docx")).unwrap();
    let msg = with_attachment(
        "Jana Svobodová <jana.svobodova@modrykamen.cz>",
        "Tomáš Novák <tomas@pekarna-novak.cz>",
        "Nabídka N-2026-014",
        "docx-offer@modrykamen.cz",
        "nabidka.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &docx,
    );
    deliver(&env, "120.docx.host", &msg);
    let odt = std::fs::read(fixtures().join("documents/smlouva.odt")).unwrap();
    let msg = with_attachment(
        "Jana Svobodová <jana.svobodova@modrykamen.cz>",
        "Tomáš Novák <tomas@pekarna-novak.cz>",
        "Smlouva",
        "odt-contract@modrykamen.cz",
        "smlouva.odt",
        "application/octet-stream",
        &odt,
    );
    deliver(&env, "121.odt.host", &msg);
    env.ok(&["sync"]);
    let docs = env.json(&["documents", "pekarna"]);
    let text = docs.to_string();
    assert!(text.contains("nabidka.docx") && text.contains("smlouva.odt"), "{docs}");
    let kinds: Vec<(String, String)> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap_or(d["subject"].as_str().unwrap_or("")).to_string(), d.to_string()))
        .collect();
    assert!(kinds.iter().any(|(n, d)| n.contains("nabidka.docx") && d.contains("offer")), "{kinds:?}");
    assert!(kinds.iter().any(|(n, d)| n.contains("smlouva.odt") && d.contains("contract")), "{kinds:?}");
    // Their text is in the index: a word only the DOCX holds finds it.
    let hits = env.json(&["search", "odběratel", "--kind", "document"]);
    assert!(hits.to_string().contains("nabidka.docx"), "{hits}");
}
