//! Deals, figures, lifetime value and reports through the CLI.

use crate::common::Env;

fn env() -> Env {
    let env = Env::new();
    env.ok(&["client", "add", "Acme Stavby", "--ico", "27468135", "--budget", "1 000 000"]);
    env.ok(&["client", "add", "Pekárna Novák", "--ico", "05831296"]);
    env
}

#[test]
fn deals_by_hand_and_their_figures() {
    let env = env();
    let year = chrono::Local::now().format("%Y").to_string().parse::<i32>().unwrap();
    let last = year - 1;
    let two = year - 2;
    env.ok(&[
        "deal",
        "add",
        "acme",
        "--title",
        "VZT hala A",
        "--value",
        "100 000",
        "--status",
        "won",
        "--date",
        &format!("{two}-12-01"),
        "--product",
        "VZT",
    ]);
    env.ok(&[
        "deal",
        "add",
        "acme",
        "--title",
        "Servis",
        "--value",
        "200000",
        "--status",
        "won",
        "--date",
        &format!("{last}-06-01"),
        "--product",
        "servis",
    ]);
    env.ok(&[
        "deal",
        "add",
        "acme",
        "--title",
        "Rekuperace",
        "--value",
        "50000",
        "--status",
        "lost",
        "--date",
        &format!("{year}-01-10"),
    ]);
    env.ok(&["deal", "add", "acme", "--title", "Hala C", "--value", "70000", "--date", &format!("{year}-02-01")]);
    env.ok(&[
        "deal",
        "add",
        "pekárna",
        "--title",
        "Pec",
        "--value",
        "300000",
        "--status",
        "won",
        "--date",
        &format!("{last}-03-01"),
    ]);
    env.ok(&["deal", "edit", "4", "--title", "Hala C (dodatek)"]);

    let j = env.json(&["client", "show", "acme"]);
    let s = &j["stats"];
    assert_eq!(s["total_sold"]["CZK"], 300_000.0, "{s}");
    assert_eq!(s["sold_last_year"]["CZK"], 200_000.0, "{s}");
    assert_eq!(s["rejected_offers"]["count"], 1, "{s}");
    assert_eq!(s["open_value"]["CZK"], 70_000.0, "{s}");
    assert!((s["share_of_revenue"]["CZK"].as_f64().unwrap() - 0.5).abs() < 1e-9, "{s}");
    assert_eq!(s["annual_budget"], 1_000_000.0);
    assert_eq!(s["top_products"][0]["product"], "servis", "{s}");
    let ltv = &s["ltv"]["CZK"];
    // average purchase × purchases per year × relationship years, recomputed by hand.
    let by_hand = ltv["average_purchase"].as_f64().unwrap()
        * ltv["purchases_per_year"].as_f64().unwrap()
        * ltv["relationship_years"].as_f64().unwrap();
    assert!((ltv["value"].as_f64().unwrap() - by_hand).abs() < 1e-6, "{ltv}");
    assert_eq!(ltv["average_purchase"], 150_000.0);
    let text = env.ok(&["client", "show", "acme"]);
    assert!(text.contains("Lifetime value") && text.contains("average purchase 150 000"), "{text}");

    let deals = env.json(&["deal", "list", "acme"]);
    assert_eq!(deals.as_array().unwrap().len(), 4);
    assert!(deals.as_array().unwrap().iter().any(|d| d["title"] == "Hala C (dodatek)"));

    for (args, want) in [
        (vec!["deal", "add", "acme", "--title", "x", "--value", "-5"], "negative"),
        (vec!["deal", "add", "acme", "--title", "x", "--value", "abc"], "not a number"),
        (vec!["deal", "add", "acme", "--title", "x", "--value", "5", "--currency", "XYZ"], "currency"),
        (vec!["deal", "add", "acme", "--title", "x", "--value", "5", "--status", "maybe"], "status"),
    ] {
        let err = env.fails(&args);
        assert!(err.contains(want), "{args:?}: {err}");
    }

    // Deals are in the client's history and in search.
    let hits = env.json(&["search", "dodatek", "--kind", "deal"]);
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["clients"][0], "Acme Stavby");
    assert!(env.json(&["history", "acme"]).as_array().unwrap().iter().filter(|i| i["kind"] == "deal").count() == 4);

    let ranked = env.json(&["report", "--clients"]);
    assert_eq!(ranked[0]["name"], "Pekárna Novák", "{ranked}");
    let csv = env.ok(&["report", "--clients", "--csv"]);
    assert!(csv.starts_with("rank,id,name,currency,ltv"), "{csv}");
    let brief = env.json(&["brief", "acme"]);
    assert_eq!(brief["figures"]["deals"]["total_sold"]["CZK"], 300_000.0, "{brief}");
}

#[test]
fn deal_import_reports_bad_rows_and_adds_nothing_twice() {
    let env = env();
    let file = env.path().join("faktury.csv");
    std::fs::write(
        &file,
        "\u{feff}Číslo dokladu;Odběratel;IČO;Datum;Částka;Měna;Stav;Položka\n\
         FV-2026-001;Acme Stavby;27468135;15.1.2026;120 000,50;CZK;zaplaceno;VZT\n\
         FV-2026-002;;05831296;2026-02-01;80000;CZK;won;servis, filtry\n\
         FV-2026-003;Nikdo s.r.o.;;2026-02-02;1000;CZK;won;\n\
         FV-2026-004;Acme Stavby;;2026-02-03;-5;CZK;won;\n\
         FV-2026-005;Acme Stavby;;2026-02-04;abc;CZK;won;\n\
         FV-2026-006;Acme Stavby;;2026-02-05;500;XYZ;won;\n\
         FV-2026-007;Acme Stavby;;2026-03-01;2 000;EUR;won;servis\n",
    )
    .unwrap();
    let out = env.cmd(&["deal", "import", file.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for line in [":4:", ":5:", ":6:", ":7:"] {
        assert!(err.contains(line), "{line} in {err}");
    }
    assert!(
        err.contains("Nikdo") && err.contains("negative") && err.contains("not a number") && err.contains("XYZ"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("3 deals added"), "{stdout}");
    let again = env.cmd(&["deal", "import", file.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 deals added, 3 already there"));
    let s = env.json(&["client", "show", "acme"])["stats"].clone();
    assert_eq!(s["total_sold"]["CZK"], 120_000.5, "{s}");
    assert_eq!(s["total_sold"]["EUR"], 2_000.0, "amounts keep their currency: {s}");
    assert_eq!(env.json(&["search", "FV-2026-002"]).as_array().unwrap().len(), 1, "imported deals are searchable");
}
