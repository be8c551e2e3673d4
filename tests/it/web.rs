//! The web interface over HTTP, against a real server on 127.0.0.1:0
//! started in-process with `web::serve_listener` (what `kronika serve`
//! runs): sign-in, throttling, CSRF, the clients list and search, the
//! client card of the example data, hostile mail, security headers.

use std::time::Duration;

use crate::common::Env;
use crate::common::web::{Browser, Server, example_env, no_active_markup, urlencode};

#[test]
fn users_are_listed_and_passwords_checked() {
    let env = example_env();
    let list = env.ok(&["user", "list"]);
    assert!(list.contains("jana") && list.contains("admin") && list.contains("eva"), "{list}");
    env.cmd(&["user", "add", "jana", "--email", "x@y.cz", "--password-stdin"])
        .write_stdin("dlouhe-heslo\n")
        .assert()
        .failure();
    env.cmd(&["user", "add", "kratke", "--email", "x@y.cz", "--password-stdin"])
        .write_stdin("abc\n")
        .assert()
        .failure();
    let json = env.json(&["user", "list"]);
    assert!(json.to_string().contains("\"admin\":true"), "{json}");
    assert!(!json.to_string().contains("argon2"), "no hash in the list: {json}");
}

#[test]
fn the_web_interface_end_to_end() {
    let env = example_env();
    let server = Server::start(&env);
    let mut b = Browser::new();

    // Signed out, every page goes to the sign-in page.
    for path in ["/", "/clients", "/clients/1", "/clients/1/timeline"] {
        let p = b.get(&server.url(path));
        assert!(p.status == 303 || p.status == 302, "{path}: {}", p.status);
        let to = p.header("location");
        assert!(to == "/login" || to == "/today", "{path} → {to}");
    }
    let p = b.get(&server.url("/clients"));
    assert_eq!(p.header("location"), "/login");
    assert!(!p.body.contains("Acme"));
    let p = b.htmx_get(&server.url("/clients?q=acme"));
    assert_eq!(p.header("hx-redirect"), "/login");
    assert!(!p.body.contains("Acme"));

    // Security headers on every response, the sign-in page included.
    let login = b.get(&server.url("/login"));
    assert_eq!(login.status, 200);
    let csp = login.header("content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("img-src 'self' data:"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(login.header("x-content-type-options"), "nosniff");
    assert!(login.body.contains("/assets/htmx.min.js") && !login.body.contains("https://"), "no CDN");
    let js = b.get(&server.url("/assets/htmx.min.js"));
    assert_eq!(js.status, 200);
    assert!(js.header("content-type").starts_with("text/javascript") && js.body.contains("htmx"));
    assert!(b.get(&server.url("/assets/kronika.css")).header("content-type").starts_with("text/css"));

    // The sign-in form refuses a POST without its CSRF token.
    let p = b.post(&server.url("/login"), &[("user", "jana"), ("password", "tajne-heslo-1")]);
    assert_eq!(p.status, 403);
    assert!(!b.cookies.contains_key("kronika_session"));

    // A wrong password is refused; the right one signs in.
    let p = b.sign_in(&server, "jana", "spatne-heslo");
    assert_eq!(p.status, 401);
    assert!(p.body.contains("Wrong user name or password"), "{}", p.body);
    assert!(!b.cookies.contains_key("kronika_session"));
    let p = b.sign_in(&server, "nikdo", "spatne-heslo");
    assert_eq!(p.status, 401, "an unknown name looks like a wrong password");
    let p = b.sign_in(&server, "jana", "tajne-heslo-1");
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.header("location"), "/today");
    let session = b.set_cookies.iter().find(|c| c.starts_with("kronika_session=")).expect("a session cookie").clone();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP: not Secure ({session})");
    assert_eq!(b.cookies["kronika_session"].len(), 64);

    // The clients list, and search as you type (htmx fragment), accents ignored.
    let list = b.get(&server.url("/clients"));
    assert_eq!(list.status, 200);
    for name in ["Acme Stavby", "Pekárna Novák", "Brightwell"] {
        assert!(list.body.contains(name), "{name} in the list");
    }
    assert!(list.body.contains("hx-get=\"/clients\""), "search as you type");
    let csrf = Browser::csrf(&list);
    assert!(list.body.contains(&format!("\"X-CSRF-Token\": \"{csrf}\"")), "htmx sends the token");
    for q in ["pekarna", "Pekárna", "PEKARNA nov", "05831296", "pekarna-novak.cz", "tomas@pekarna"] {
        let p = b.htmx_get(&server.url(&format!("/clients?q={}", urlencode(q))));
        assert_eq!(p.status, 200);
        assert!(p.body.contains("Pekárna Novák"), "{q} finds Pekárna");
        assert!(!p.body.contains("Acme") && !p.body.contains("<html"), "{q}: only the rows");
    }
    let p = b.htmx_get(&server.url(&format!("/clients?q={}", urlencode("karel horak"))));
    assert!(p.body.contains("Acme Stavby") && !p.body.contains("Pekárna"), "a contact's name finds the client");
    let p = b.get(&server.url("/clients?q=zzzz"));
    assert!(p.body.contains("No client matches"), "{}", p.body);

    // The client card of the example client.
    let acme = list
        .body
        .split("href=\"/clients/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .find(|id| id.bytes().all(|b| b.is_ascii_digit()))
        .expect("a card link");
    let card = b.get(&server.url(&format!("/clients/{acme}")));
    assert_eq!(card.status, 200);
    for want in [
        "Acme Stavby s.r.o.",
        "27468135",
        "CZ27468135",
        "Průmyslová 1472/8",
        "acme-stavby.cz",
        "1 200 000",
        "stavebnictví",
        "Karel Horák",
        "stavbyvedoucí",
        "Last contact",
        "Kontrolní den na stavbě",
        "Lifetime value",
        "average purchase",
        "Rekuperace hala B",
    ] {
        assert!(card.body.contains(want), "the card shows {want:?}");
    }
    assert!(card.body.contains("class=\"entry email\""), "mail in the timeline");
    assert!(card.body.contains("class=\"entry deal\""), "deals in the timeline");
    assert!(card.body.contains("class=\"entry event\""), "events in the timeline");
    // Hostile mail is text: escaped, never markup.
    assert!(
        card.body.contains("&#60;script&#62;alert(1)&#60;/script&#62; Faktura"),
        "the subject, escaped: {}",
        card.body.lines().filter(|l| l.contains("Faktura") || l.contains("alert")).collect::<Vec<_>>().join("\n")
    );
    assert!(card.body.contains("&#60;img src=http:"), "the body, escaped");
    no_active_markup(&card.body).unwrap_or_else(|tag| panic!("active markup reached the page: {tag}"));
    assert_eq!(card.body.matches("<script").count(), 1, "only htmx");
    // In Czech by Accept-Language, or by the lang cookie.
    b.lang = "cs-CZ,cs;q=0.9";
    let cs = b.get(&server.url(&format!("/clients/{acme}")));
    assert!(cs.body.contains("Kontaktní osoby") && cs.body.contains("Poslední kontakt"));
    b.lang = "en";
    let p = b.post(&server.url("/lang"), &[("lang", "cs"), ("back", "/clients"), ("csrf", &csrf)]);
    assert_eq!(p.status, 303);
    assert_eq!(b.cookies.get("lang").map(String::as_str), Some("cs"));
    assert!(b.get(&server.url("/clients")).body.contains("Klienti"));
    b.cookies.remove("lang");
    let p = b.post(&server.url("/lang"), &[("lang", "cs"), ("back", "https://evil.example/"), ("csrf", &csrf)]);
    assert_eq!(p.header("location"), "/clients", "no open redirect");
    b.cookies.remove("lang");

    // The timeline loads more by htmx, page after page, with nothing twice.
    let mut seen: Vec<String> = Vec::new();
    let more = |body: &str| {
        body.split("<li class=\"more\"><a href=\"").nth(1).map(|s| s.split('"').next().unwrap().to_string())
    };
    let mut next = more(&card.body);
    assert!(next.is_some(), "the first page has a load-more link (a year of weekly calls)");
    let history = card.body.split("class=\"history\"").nth(1).unwrap();
    for li in history.split("<li class=\"entry ").skip(1) {
        seen.push(li.split("</li>").next().unwrap().to_string());
    }
    assert!(seen.len() >= 30, "a page of 30 items and the deals among them: {}", seen.len());
    let mut pages = 0;
    while let Some(url) = next.take() {
        let p = b.htmx_get(&server.url(&url.replace("&amp;", "&")));
        assert_eq!(p.status, 200);
        assert!(!p.body.contains("<html"));
        for li in p.body.split("<li class=\"entry ").skip(1) {
            seen.push(li.split("</li>").next().unwrap().to_string());
        }
        next = more(&p.body);
        pages += 1;
        assert!(pages < 20);
    }
    assert!(pages >= 1 && seen.len() > 30);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "nothing twice across pages");
    let timeline = b.get(&server.url("/clients/999999"));
    assert_eq!(timeline.status, 404);

    // A POST without the session's token is refused; with it, sign-out works.
    let p = b.post(&server.url("/logout"), &[]);
    assert_eq!(p.status, 403);
    assert!(b.get(&server.url("/clients")).status == 200, "still signed in");
    let p = b.post(&server.url("/logout"), &[("csrf", "0".repeat(64).as_str())]);
    assert_eq!(p.status, 403);
    let p = b.post(&server.url("/logout"), &[("csrf", &csrf)]);
    assert_eq!(p.status, 303);
    assert_eq!(b.get(&server.url("/clients")).header("location"), "/login");
}

#[test]
fn failed_sign_ins_are_throttled_per_user() {
    let env = example_env();
    let server = Server::start(&env);
    let mut b = Browser::new();
    for _ in 0..5 {
        assert_eq!(b.sign_in(&server, "eva", "hadam-heslo").status, 401);
    }
    // Locked: even the right password waits.
    let p = b.sign_in(&server, "eva", "evino-heslo-2");
    assert_eq!(p.status, 429);
    assert!(p.body.contains("Too many failed attempts"));
    assert!(!b.cookies.contains_key("kronika_session"));
    // Another user from the same address is not locked out.
    let mut other = Browser::new();
    assert_eq!(other.sign_in(&server, "jana", "tajne-heslo-1").status, 303);
    // A session survives a server restart (it lives in the store); a new password ends it.
    drop(server);
    let server = Server::start(&env);
    assert_eq!(other.get(&server.url("/clients")).status, 200);
    env.cmd(&["user", "passwd", "jana", "--password-stdin"]).write_stdin("nove-heslo-3\n").assert().success();
    assert_eq!(other.get(&server.url("/clients")).header("location"), "/login");
    // Over TLS (a proxy says so) the session cookie is Secure.
    let login = other.get(&server.url("/login"));
    let csrf = Browser::csrf(&login);
    let r = other
        .agent
        .post(&server.url("/login"))
        .header("Cookie", other.cookie_header())
        .header("X-Forwarded-Proto", "https")
        .send_form([("user", "jana"), ("password", "nove-heslo-3"), ("csrf", csrf.as_str())]);
    let p = other.take(r);
    assert_eq!(p.status, 303);
    assert!(other.set_cookies.iter().any(|c| c.starts_with("kronika_session=") && c.contains("; Secure")));
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until `url` answers; its status.
fn wait_for(url: &str) -> u16 {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut b = Browser::new();
        if let Ok(r) = b.agent.get(url).call() {
            return b.take(Ok(r)).status;
        }
        assert!(std::time::Instant::now() < deadline, "{url} never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_and_run_serve_the_configured_address_and_stop_on_sigterm() {
    let port = free_port();
    let env = Env::with_config(&format!("data_dir = \"data\"\n[web]\nlisten = \"{port}\"\n"));
    for cmd in ["serve", "run"] {
        let mut child = env.spawn(&[cmd]);
        assert_eq!(wait_for(&format!("http://127.0.0.1:{port}/clients")), 303, "{cmd}: signed out goes to /login");
        // SAFETY: signalling the child this test started.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            assert!(std::time::Instant::now() < deadline, "{cmd} stops on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Without [web] and --listen, serve says what to add.
    let bare = Env::with_config("data_dir = \"data\"\n");
    let err = bare.fails(&["serve"]);
    assert!(err.contains("[web]") && err.contains("--listen"), "{err}");
}
