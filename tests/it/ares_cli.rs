//! ARES through the CLI: `client add --ico` fills the registered data,
//! `client refresh` updates it, `kronika ares` looks up; a local server
//! serves recorded-shape answers (fixtures/ares), and ARES being down
//! never blocks adding a client by hand.

use std::io::{Read, Write};
use std::net::TcpListener;

use crate::common::{Env, fixtures};

/// Serves `fixtures/ares/{ico}.json` for GET /ekonomicke-subjekty/{ico}
/// and `search-stavby.json` for any search; 404 otherwise.
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
            let body = if req.starts_with("POST") {
                std::fs::read(fixtures().join("ares/search-stavby.json")).ok()
            } else {
                let ico = path.rsplit('/').next().unwrap_or("");
                std::fs::read(fixtures().join(format!("ares/{ico}.json"))).ok()
            };
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", br#"{"kod":"NENALEZENO","popis":"Ekonomicky subjekt nenalezen."}"#.to_vec()),
            };
            let _ = s.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                    .as_bytes(),
            );
            let _ = s.write_all(&body);
        }
    });
    port
}

fn env(port: u16) -> Env {
    Env::with_config(&format!(
        "data_dir = \"data\"\n[ares]\nbase_url = \"http://127.0.0.1:{port}\"\ntimeout = \"2s\"\n"
    ))
}

#[test]
fn client_add_by_ico_fills_the_register_data() {
    let env = env(ares_server());
    let out = env.ok(&["client", "add", "--ico", "27468135", "--domain", "acme-stavby.cz"]);
    assert!(out.contains("from ARES"), "{out}");
    let j = env.json(&["client", "show", "27468135"]);
    assert_eq!(j["name"], "Acme Stavby s.r.o.");
    assert_eq!(j["dic"], "CZ27468135");
    assert!(j["address"].as_str().unwrap().contains("Kladno"), "{j}");
    assert!(
        j["legal_form"].as_str().unwrap().contains("s.r.o") || j["legal_form"].as_str().unwrap().contains("Společnost"),
        "{j}"
    );
    // Refresh after the user renamed it.
    env.ok(&["client", "edit", "acme", "--name", "Acme"]);
    env.ok(&["client", "refresh", "acme"]);
    assert_eq!(env.json(&["client", "show", "27468135"])["name"], "Acme Stavby s.r.o.");
    // Look-ups that save nothing.
    let found = env.json(&["ares", "05831296"]);
    assert_eq!(found[0]["name"], "Pekárna Novák s.r.o.");
    assert!(!env.json(&["ares", "--name", "stavby"]).as_array().unwrap().is_empty());
    assert_eq!(env.json(&["client", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn register_problems_are_clear_and_never_block_adding_by_hand() {
    let env = env(ares_server());
    // Unknown IČO (valid check digit): with a name, the client is added by hand.
    let out = env.cmd(&["client", "add", "Nová firma", "--ico", "26168685"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ARES does not know it"));
    // Without a name it cannot be added.
    let err = env.fails(&["client", "add", "--ico", "45274649"]);
    assert!(err.contains("ARES does not know it") && err.contains("give the name"), "{err}");
    // A bad check digit is refused before any request.
    assert!(env.fails(&["client", "add", "--ico", "12345678"]).contains("check digit"));
    // ARES down: adding by hand works; refresh says what is wrong and changes nothing.
    let down = Env::with_config("data_dir = \"data\"\n[ares]\nbase_url = \"http://127.0.0.1:9\"\ntimeout = \"1s\"\n");
    down.ok(&["client", "add", "Acme Stavby s.r.o.", "--ico", "27468135"]);
    let err = down.fails(&["client", "refresh", "acme"]);
    assert!(err.contains("cannot reach ARES") && err.contains("stays as it was"), "{err}");
    assert_eq!(down.json(&["client", "show", "acme"])["name"], "Acme Stavby s.r.o.");
}
