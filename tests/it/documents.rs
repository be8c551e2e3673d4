//! Documents: offers and invoices kept from client mail (stored by content
//! hash, PDF text extracted and searchable), added by hand, damaged PDFs kept
//! without text.

use crate::common::{Env, fixtures};

fn env() -> Env {
    let env = Env::with_config(&format!(
        "data_dir = \"data\"\nown_domains = [\"modrykamen.cz\"]\n[[maildir]]\nname = \"mail\"\npath = {:?}\n",
        fixtures().join("maildir").display().to_string()
    ));
    env.ok(&["client", "import", fixtures().join("clients.csv").to_str().unwrap()]);
    env
}

#[test]
fn attachments_that_are_documents_are_kept_and_searchable() {
    let env = env();
    env.ok(&["sync"]);
    let docs = env.json(&["documents", "pekárna"]);
    let invoice = docs.as_array().unwrap().iter().find(|d| d["kind"] == "invoice").expect("the invoice PDF");
    assert_eq!(invoice["name"], "faktura-2026-118.pdf");
    assert_eq!(invoice["text_indexed"], true);
    let path = invoice["path"].as_str().unwrap();
    // Stored by content hash, never by the attachment's name.
    assert!(path.ends_with(invoice["content_hash"].as_str().unwrap()), "{path}");
    assert!(std::fs::read(path).unwrap().starts_with(b"%PDF"));
    let hits = env.json(&["search", "odsavani", "--kind", "document"]);
    assert_eq!(hits.as_array().unwrap().len(), 1, "the PDF's text is searchable: {hits}");
    assert!(env.json(&["history", "pekárna"]).as_array().unwrap().iter().any(|i| i["kind"] == "document"));
    let offers = env.json(&["documents", "acme", "--kind", "offer"]);
    assert_eq!(offers[0]["name"], "nabídka.csv", "{offers}");
    let shown = env.ok(&["document", "show", &invoice["id"].to_string()]);
    assert!(shown.starts_with(path), "{shown}");
    // Syncing again keeps one copy.
    env.ok(&["sync"]);
    assert_eq!(env.json(&["documents", "pekárna"]).as_array().unwrap().len(), docs.as_array().unwrap().len());
}

#[test]
fn documents_added_by_hand_and_damaged_pdfs() {
    let env = env();
    let dir = env.path();
    std::fs::write(dir.join("smlouva.txt"), "Smlouva o dílo č. 7/2026 mezi Modrý Kámen a Acme Stavby").unwrap();
    let out = env.ok(&["document", "add", "acme", dir.join("smlouva.txt").to_str().unwrap()]);
    assert!(out.contains("(contract)"), "{out}");
    std::fs::write(dir.join("scan.pdf"), b"%PDF-1.4 this is not really a pdf").unwrap();
    let out = env
        .cmd(&["document", "add", "acme", dir.join("scan.pdf").to_str().unwrap(), "--kind", "invoice"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("its text is not indexed"));
    let docs = env.json(&["documents", "acme"]);
    let scan = docs.as_array().unwrap().iter().find(|d| d["name"] == "scan.pdf").unwrap();
    assert_eq!(scan["kind"], "invoice");
    assert_eq!(scan["text_indexed"], false);
    assert!(!env.json(&["search", "\"smlouva o dílo\"", "--kind", "document"]).as_array().unwrap().is_empty());
    assert!(env.fails(&["document", "add", "acme", "/nonexistent.pdf"]).contains("cannot read"));
    assert!(
        env.fails(&["document", "add", "acme", dir.join("smlouva.txt").to_str().unwrap(), "--kind", "memo"])
            .contains("document kind")
    );
}
