//! The client directory and config, end to end through the `kronika` binary.

use crate::common::{Env, fixtures};

#[test]
fn config_check_summarises_a_valid_config() {
    let env = Env::new();
    let out = env.ok(&["config", "check"]);
    assert!(out.contains("is valid"), "{out}");
    assert!(out.contains("modrykamen.cz"), "{out}");
    let j = env.json(&["config", "check"]);
    assert_eq!(j["custom_fields"][1]["choices"][0], "A");
    assert!(j["free_mail_domains"].as_u64().unwrap() > 40);
}

#[test]
fn config_errors_name_file_line_and_key() {
    let env = Env::with_config("data_dir = \"data\"\n\nown_adresses = [\"x@y.cz\"]\n");
    let err = env.fails(&["config", "check"]);
    assert!(err.contains("kronika.toml"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("own_adresses"), "{err}");

    let env = Env::with_config("data_dir = \"data\"\nblocklist = [\"not an address\"]\n");
    let err = env.fails(&["config", "check"]);
    assert!(err.contains("line 2") && err.contains("blocklist"), "{err}");
}

#[test]
fn config_is_found_through_the_environment() {
    let env = Env::new();
    let mut c = assert_cmd::Command::cargo_bin("kronika").unwrap();
    let out = c.env("KRONIKA_CONFIG", env.config_path()).args(["config", "check"]).output().unwrap();
    assert!(out.status.success());
    let mut c = assert_cmd::Command::cargo_bin("kronika").unwrap();
    let out = c.env("KRONIKA_CONFIG", env.path().join("missing.toml")).args(["client", "list"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cannot read config") && err.contains("missing.toml"), "{err}");
}

#[test]
fn client_add_show_edit_remove() {
    let env = Env::new();
    env.ok(&[
        "client",
        "add",
        "Acme Stavby s.r.o.",
        "--ico",
        "27468135",
        "--dic",
        "CZ27468135",
        "--domain",
        "acme-stavby.cz",
        "--domain",
        "https://www.acme-group.cz/",
        "--email",
        "Info@Acme-Stavby.cz",
        "--status",
        "client",
        "--field",
        "obor=stavebnictví",
        "--field",
        "segment=a",
        "--budget",
        "1 200 000",
    ]);
    env.ok(&["contact", "add", "acme", "Karel Horák", "--email", "karel.horak@acme-stavby.cz", "--role", "jednatel"]);

    let j = env.json(&["client", "show", "27468135"]);
    assert_eq!(j["name"], "Acme Stavby s.r.o.");
    assert_eq!(j["ico"], "27468135");
    assert_eq!(j["domains"], serde_json::json!(["acme-group.cz", "acme-stavby.cz"]));
    assert_eq!(j["contacts"][0]["name"], "Karel Horák");
    assert_eq!(j["contacts"][0]["emails"][0], "karel.horak@acme-stavby.cz");
    assert_eq!(j["custom"]["obor"], "stavebnictví");
    assert_eq!(j["custom"]["segment"], "A");
    assert_eq!(j["stats"]["email"], 0);
    assert_eq!(j["annual_budget"], 1_200_000.0);

    env.ok(&["client", "edit", "acme", "--remove-domain", "acme-group.cz", "--field", "segment=", "--status", "lead"]);
    let j = env.json(&["client", "show", "Acme Stavby s.r.o."]);
    assert_eq!(j["domains"], serde_json::json!(["acme-stavby.cz"]));
    assert!(j["custom"].get("segment").is_none());
    assert_eq!(j["status"], "lead");

    let err = env.fails(&["client", "remove", "acme"]);
    assert!(err.contains("--yes"), "{err}");
    env.ok(&["client", "remove", "acme", "--yes"]);
    assert_eq!(env.json(&["client", "list"]), serde_json::json!([]));
}

#[test]
fn bad_client_input_is_refused_and_changes_nothing() {
    let env = Env::new();
    env.ok(&["client", "add", "Acme", "--ico", "27468135"]);
    let cases: &[(&[&str], &str)] = &[
        (&["client", "add", "Beta", "--ico", "27468136"], "check digit"),
        (&["client", "add", "acme"], "already exists"),
        (&["client", "add", "Gamma", "--ico", "27468135"], "already belongs"),
        (&["client", "add", "Beta", "--field", "colour=red"], "colour"),
        (&["client", "add", "Beta", "--field", "segment=Z"], "not one of"),
        (&["client", "add", "Beta", "--domain", "co.uk"], "public suffix"),
        (&["client", "add", "Beta", "--domain", "seznam.cz"], "free-mail"),
        (&["client", "add", "Beta", "--status", "vip"], "vip"),
        (&["client", "show", "Nobody"], "cannot find client"),
        (&["contact", "add", "Acme", "Karel", "--email", "not-an-address"], "mail address"),
    ];
    for (args, want) in cases {
        let err = env.fails(args);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(err.contains("cannot "), "{args:?}: {err}");
    }
    let list = env.json(&["client", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

#[test]
fn client_references_resolve_or_list_candidates() {
    let env = Env::new();
    env.ok(&["client", "add", "Pekárna Novák", "--ico", "05831296"]);
    env.ok(&["client", "add", "Pekárna Dvořák"]);
    env.ok(&["client", "add", "Acme"]);
    assert_eq!(env.json(&["client", "show", "5831296"])["name"], "Pekárna Novák");
    assert_eq!(env.json(&["client", "show", "pekarna nov"])["name"], "Pekárna Novák");
    assert_eq!(env.json(&["client", "show", "3"])["name"], "Acme");
    let err = env.fails(&["client", "show", "Pekárna"]);
    assert!(err.contains("Pekárna Novák") && err.contains("Pekárna Dvořák"), "{err}");
}

#[test]
fn csv_import_reports_bad_rows_and_imports_good_ones() {
    let env = Env::new();
    let out = env.cmd(&["client", "import", fixtures().join("bad-clients.csv").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "partial import exits 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-clients.csv:4:") && err.contains("check digit"), "{err}");
    assert!(err.contains("bad-clients.csv:5:") && err.contains("name"), "{err}");
    assert!(err.contains("bad-clients.csv:6:") && err.contains("vip"), "{err}");
    let names: Vec<String> = env
        .json(&["client", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["Truhlářství Dub s.r.o.", "Zahradnictví Lípa s.r.o."]);
    let dub = env.json(&["client", "show", "Truhlářství"]);
    assert_eq!(dub["domains"], serde_json::json!(["dub-nabytek.cz", "truhlarstvi-dub.cz"]));
}

#[test]
fn csv_import_of_excel_export_is_idempotent_and_round_trips() {
    let env = Env::new();
    let file = fixtures().join("clients.csv");
    let out = env.ok(&["client", "import", file.to_str().unwrap()]);
    assert!(out.contains("3 added"), "{out}");
    let out = env.ok(&["client", "import", file.to_str().unwrap()]);
    assert!(out.contains("0 added, 3 updated"), "{out}");
    let before = env.json(&["client", "list"]);
    assert_eq!(before.as_array().unwrap().len(), 3);
    assert_eq!(env.json(&["client", "show", "acme"])["custom"]["obor"], "stavebnictví");

    let exported = env.path().join("export.csv");
    env.ok(&["client", "export", "--separator", ";", "--output", exported.to_str().unwrap()]);
    let other = Env::new();
    other.ok(&["client", "import", exported.to_str().unwrap()]);
    let after = other.json(&["client", "list"]);
    for (a, b) in before.as_array().unwrap().iter().zip(after.as_array().unwrap()) {
        for key in ["name", "ico", "dic", "address", "status", "annual_budget", "domains", "emails", "custom"] {
            assert_eq!(a[key], b[key], "{key} survives export and import");
        }
    }
}

#[test]
fn contacts_add_edit_move_remove() {
    let env = Env::new();
    env.ok(&["client", "add", "Acme", "--domain", "acme.cz"]);
    env.ok(&["client", "add", "Beta", "--domain", "beta.cz"]);
    env.ok(&["contact", "add", "Acme", "Karel Horák", "--email", "karel@acme.cz", "--phone", "+420 601 000 000"]);
    env.ok(&["contact", "edit", "karel@acme.cz", "--email", "karel@seznam.cz", "--role", "jednatel"]);
    let list = env.json(&["contact", "list", "Acme"]);
    assert_eq!(list[0]["emails"], serde_json::json!(["karel@acme.cz", "karel@seznam.cz"]));
    assert_eq!(list[0]["role"], "jednatel");
    env.ok(&["contact", "edit", "Karel", "--move-to", "Beta"]);
    assert_eq!(env.json(&["contact", "list", "Beta"])[0]["name"], "Karel Horák");
    env.ok(&["contact", "remove", "Karel", "--client", "Beta"]);
    assert_eq!(env.json(&["contact", "list", "Beta"]), serde_json::json!([]));
}
