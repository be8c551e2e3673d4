//! `kronika::ares` against a tiny local HTTP server that plays ARES with
//! the fictional companies of `fixtures/ares/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use kronika::ares::{Ares, AresError, Company};

/// IČOs (valid check digits) on which the server misbehaves.
const ICO_500: &str = "90000005";
const ICO_HTML: &str = "90000013";
const ICO_SILENT: &str = "90000021";
const ICO_400: &str = "90000030";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    body: String,
}

struct Server {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                thread::spawn(move || serve(stream, &log));
            }
        });
        Server { base_url, seen }
    }

    fn ares(&self) -> Ares {
        Ares::new(&self.base_url, Duration::from_secs(1))
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ares")
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let path = words.next().unwrap_or_default().to_string();
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    log.lock().unwrap().push(Seen { method: method.clone(), path: path.clone(), body: body.clone() });

    let not_found =
        r#"{"kod":"NENALEZENO","popis":"Ekonomický subjekt nebyl nalezen.","subKod":"VYSTUP_SUBJEKT_NENALEZEN"}"#;
    let (status, content_type, answer) = match (method.as_str(), path.strip_prefix("/ekonomicke-subjekty/")) {
        ("GET", Some(ICO_500)) => {
            (500, "application/json", r#"{"kod":"CHYBA_SERVERU","popis":"Interní chyba."}"#.into())
        }
        ("GET", Some(ICO_HTML)) => (200, "text/html", "<!DOCTYPE html><html><body>Údržba systému</body></html>".into()),
        ("GET", Some(ICO_400)) => {
            (400, "application/json", r#"{"kod":"CHYBA_VSTUPU","popis":"Chybný vstup.","subKod":"NEPLATNY"}"#.into())
        }
        ("GET", Some(ICO_SILENT)) => {
            thread::sleep(Duration::from_secs(3));
            return;
        }
        ("GET", Some(ico)) => match std::fs::read_to_string(fixtures().join(format!("{ico}.json"))) {
            Ok(json) if ico.bytes().all(|b| b.is_ascii_digit()) => (200, "application/json", json),
            _ => (404, "application/json", not_found.to_string()),
        },
        ("POST", Some("vyhledat")) => {
            let request: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let name = request["obchodniJmeno"].as_str().unwrap_or_default().to_lowercase();
            let hit = std::fs::read_dir(fixtures()).unwrap().flatten().map(|e| e.path()).find(|p| {
                let stem = p.file_stem().unwrap().to_string_lossy();
                stem.strip_prefix("search-").is_some_and(|key| name.contains(key))
            });
            match hit {
                Some(file) => (200, "application/json", std::fs::read_to_string(file).unwrap()),
                None => (200, "application/json", r#"{"pocetCelkem":0,"ekonomickeSubjekty":[]}"#.to_string()),
            }
        }
        _ => (404, "text/html", "<html>no such page</html>".to_string()),
    };
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(answer.as_bytes()));
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn found_with_every_field() {
    let server = Server::start();
    let company = server.ares().by_ico("274 68 135").unwrap();
    assert_eq!(
        company,
        Company {
            ico: "27468135".into(),
            name: "Acme Stavby s.r.o.".into(),
            dic: Some("CZ27468135".into()),
            address: Some("Průmyslová 1472/8, Kročehlavy, 27201 Kladno".into()),
            legal_form: Some("s.r.o.".into()),
            legal_form_code: Some("112".into()),
            founded: date(2004, 3, 15),
            dissolved: None,
        }
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("GET", "/ekonomicke-subjekty/27468135"));
}

#[test]
fn address_built_from_parts_and_psc_as_string() {
    let server = Server::start();
    let company = server.ares().by_ico("5831296").unwrap();
    assert_eq!(company.ico, "05831296");
    assert_eq!(company.name, "Pekárna Novák s.r.o.");
    assert_eq!(company.address.as_deref(), Some("Husova 1240/31, 370 01 České Budějovice"));
    assert_eq!(server.seen()[0].path, "/ekonomicke-subjekty/05831296", "the IČO is zero-padded");
}

#[test]
fn dissolved_company_without_street_or_dic() {
    let server = Server::start();
    let company = server.ares().by_ico("29458170").unwrap();
    assert_eq!(company.name, "Železářství Řezníček, v.o.s. v likvidaci");
    assert_eq!(company.dic, None);
    assert_eq!(company.address.as_deref(), Some("Dolní Lhota 47, 539 01 Horní Ždánice"));
    assert_eq!((company.legal_form.as_deref(), company.legal_form_code.as_deref()), (Some("v.o.s."), Some("111")));
    assert_eq!((company.founded, company.dissolved), (date(2011, 9, 1), date(2023, 6, 30)));
}

#[test]
fn unknown_ico_is_not_found() {
    let server = Server::start();
    let err = server.ares().by_ico("45274649").unwrap_err();
    assert!(matches!(&err, AresError::NotFound(ico) if ico == "45274649"), "{err:?}");
    assert_eq!(err.to_string(), "cannot look up IČO 45274649: ARES does not know it");
}

#[test]
fn bad_check_digit_sends_nothing() {
    let server = Server::start();
    for bad in ["27468136", "12345678", "abc", "", "123456789"] {
        let err = server.ares().by_ico(bad).unwrap_err();
        assert!(matches!(err, AresError::InvalidIco(_)), "{bad:?}: {err:?}");
    }
    let err = server.ares().by_ico("27468136").unwrap_err();
    assert!(err.to_string().contains("check digit"), "{err}");
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}

#[test]
fn server_error_is_unreachable() {
    let server = Server::start();
    let err = server.ares().by_ico(ICO_500).unwrap_err();
    let AresError::Unreachable { url, reason } = &err else { panic!("{err:?}") };
    assert_eq!(url, &format!("{}/ekonomicke-subjekty/{ICO_500}", server.base_url));
    assert!(reason.contains("500"), "{reason}");
    assert!(err.to_string().contains("base_url"), "{err}");
}

#[test]
fn html_page_is_malformed() {
    let server = Server::start();
    let err = server.ares().by_ico(ICO_HTML).unwrap_err();
    assert!(matches!(&err, AresError::Malformed(m) if m.contains("not JSON")), "{err:?}");
}

#[test]
fn client_error_is_refused_with_the_reason() {
    let server = Server::start();
    let err = server.ares().by_ico(ICO_400).unwrap_err();
    assert!(matches!(&err, AresError::Refused(m) if m.contains("Chybný vstup.") && m.contains("400")), "{err:?}");
}

#[test]
fn silent_server_times_out() {
    let server = Server::start();
    let started = Instant::now();
    let err = server.ares().by_ico(ICO_SILENT).unwrap_err();
    assert!(matches!(err, AresError::Unreachable { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(2500), "took {:?}", started.elapsed());
}

#[test]
fn server_down_is_unreachable() {
    // Bind and drop: nothing listens on that port any more.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ares = Ares::new(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(1));
    let err = ares.by_ico("27468135").unwrap_err();
    let AresError::Unreachable { url, .. } = &err else { panic!("{err:?}") };
    assert_eq!(url, &format!("http://127.0.0.1:{port}/ekonomicke-subjekty/27468135"));
    let err = ares.by_name("stavby", 5).unwrap_err();
    assert!(matches!(err, AresError::Unreachable { .. }), "{err:?}");
}

#[test]
fn wrong_base_url_is_not_taken_for_an_unknown_ico() {
    let server = Server::start();
    let ares = Ares::new(&format!("{}/wrong", server.base_url), Duration::from_secs(1));
    let err = ares.by_ico("27468135").unwrap_err();
    assert!(matches!(&err, AresError::Unreachable { reason, .. } if reason.contains("404")), "{err:?}");
}

#[test]
fn search_by_name_returns_two_companies() {
    let server = Server::start();
    let found = server.ares().by_name("Stavby", 10).unwrap();
    let names: Vec<(&str, &str)> = found.iter().map(|c| (c.ico.as_str(), c.name.as_str())).collect();
    assert_eq!(names, [("27468135", "Acme Stavby s.r.o."), ("07613245", "Pozemní stavby Vrba a.s.")]);
    assert_eq!(found[1].address.as_deref(), Some("Na Pankráci 1618/30b, 140 00 Praha 4"));
    assert_eq!(found[1].legal_form.as_deref(), Some("a.s."));

    let seen = server.seen();
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/ekonomicke-subjekty/vyhledat"));
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"obchodniJmeno": "Stavby", "pocet": 10, "start": 0}));
}

#[test]
fn search_without_hits_is_empty() {
    let server = Server::start();
    assert!(server.ares().by_name("Neexistující", 10).unwrap().is_empty());
    assert!(server.ares().by_name("Stavby", 0).unwrap().is_empty());
    assert_eq!(server.seen().len(), 1, "a limit of 0 asks nothing");
}
