//! Call and meeting notes on real files in temporary folders: matching,
//! edits in place, renames, deletions, bad files, `note add`, and the
//! daemon watching the folder through editors' atomic saves.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::Env;
use serde_json::Value;

fn env() -> Env {
    let env = Env::with_config(
        r#"
data_dir = "data"
own_addresses = ["jana.svobodova@modrykamen.cz"]
own_domains = ["modrykamen.cz"]

[[notes]]
name = "poznamky"
path = "notes"
kind = "call"
max_size_kb = 1
"#,
    );
    std::fs::create_dir_all(env.path().join("notes")).unwrap();
    env.ok(&["client", "add", "Acme Stavby s.r.o.", "--ico", "27468135", "--domain", "acme-stavby.cz"]);
    env.ok(&["client", "add", "Pekárna Novák s.r.o.", "--ico", "05831296"]);
    env.ok(&["contact", "add", "acme", "Karel Horák", "--email", "karel.horak@acme-stavby.cz"]);
    env
}

fn write(env: &Env, rel: &str, content: &[u8]) {
    let path = env.path().join("notes").join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    // Older than the settle time, as if written a moment ago.
    let old = std::time::SystemTime::now() - Duration::from_secs(2);
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(old).unwrap();
}

/// (subject, kind, reason) of a client's history.
fn history(env: &Env, client: &str, extra: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["history", client];
    args.extend_from_slice(extra);
    env.json(&args)
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["subject"].as_str().unwrap().to_string(),
                i["kind"].as_str().unwrap().to_string(),
                i["links"][0]["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

#[test]
fn notes_land_in_the_right_history_and_say_why() {
    let env = env();
    write(
        &env,
        "2026-11-20-acme.md",
        "---\nclient: Acme Stavby\ncontact: Karel Horák\nkind: meeting\ndate: 2026-11-20 14:30\n---\n# Kontrolní den na hale\nProbrali jsme harmonogram.\n".as_bytes(),
    );
    write(&env, "Pekárna Novák s.r.o./2026-11-21-hovor.md", "Hovor o servisu pece\nChtějí termín.\n".as_bytes());
    write(&env, "misc/ico.txt", "Reklamace faktury\nZákazník IČO 27468135 volal kvůli faktuře.\n".as_bytes());
    write(&env, "misc/address.md", "Telefonát\nkarel.horak@acme-stavby.cz chce nabídku.\n".as_bytes());
    write(&env, "misc/name.md", "Poznámka\nFirma Pekárna Novák chce novou pec.\n".as_bytes());
    let (cp1250, _, _) =
        encoding_rs::WINDOWS_1250.encode("Schůzka s Acme Stavby – příští týden\nŘešili jsme přílohu.\n");
    write(&env, "misc/cp1250.txt", &cp1250);
    write(&env, "misc/unknown.md", b"---\nclient: Nikdo s.r.o.\n---\nNeznamy klient\n");
    write(&env, "misc/empty.md", b"");
    write(&env, "misc/binary.md", &[0u8, 1, 2, 3, 255, 0, 7]);
    write(&env, "misc/big.md", &vec![b'x'; 4096]);
    write(&env, "misc/bad-front.md", b"---\n: : :\n---\nRozbita hlavicka\n");
    write(&env, "misc/ignored.pdf", b"%PDF");
    let out = env.ok(&["sync"]);
    assert!(out.contains("3 skipped"), "{out}");

    let acme = history(&env, "acme", &[]);
    let acme_subjects: Vec<&str> = acme.iter().map(|(s, _, _)| s.as_str()).collect();
    assert!(acme.contains(&("Kontrolní den na hale".into(), "meeting".into(), "manual".into())), "{acme:?}");
    assert!(acme.contains(&("Reklamace faktury".into(), "call".into(), "ico".into())), "{acme:?}");
    assert!(acme.contains(&("Telefonát".into(), "call".into(), "address".into())), "{acme:?}");
    assert!(acme_subjects.contains(&"Schůzka s Acme Stavby – příští týden"), "windows-1250 decoded: {acme:?}");
    let pek = history(&env, "pekárna", &[]);
    assert!(pek.contains(&("Hovor o servisu pece".into(), "call".into(), "folder".into())), "{pek:?}");
    assert!(pek.contains(&("Poznámka".into(), "call".into(), "name".into())), "{pek:?}");
    // The contact from front matter is linked too.
    let meeting = env.json(&["history", "acme"]);
    let m = meeting.as_array().unwrap().iter().find(|i| i["kind"] == "meeting").unwrap();
    assert_eq!(m["links"][0]["contact"], "Karel Horák", "{m}");
    // Notes are searchable like mail.
    assert!(!env.json(&["search", "harmonogram", "--kind", "meeting"]).as_array().unwrap().is_empty());
    // Bad input is named in status.
    let status = env.ok(&["status"]);
    for want in ["Nikdo s.r.o.", "misc/bad-front.md", "misc/binary.md", "misc/big.md", "misc/empty.md"] {
        assert!(status.contains(want), "{want} in {status}");
    }
    // The note with an unknown client and the one with bad front matter are kept.
    assert!(!env.json(&["search", "neznamy"]).as_array().unwrap().is_empty());
    assert!(!env.json(&["search", "rozbita"]).as_array().unwrap().is_empty());
}

#[test]
fn edits_renames_and_deletes_are_reflected_without_duplicates() {
    let env = env();
    write(&env, "acme.md", b"---\nclient: acme\n---\nPrvni verze\n");
    env.ok(&["sync"]);
    let first = ids(&env.json(&["history", "acme"]));
    assert_eq!(first.len(), 1);

    // Changed while kronika was not running: found by the next pass, same id.
    write(&env, "acme.md", b"---\nclient: acme\n---\nDruha verze\n");
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 updated"), "{out}");
    let h = env.json(&["history", "acme"]);
    assert_eq!(ids(&h), first);
    assert_eq!(h[0]["subject"], "Druha verze");
    assert!(env.json(&["search", "prvni"]).as_array().unwrap().is_empty(), "the index follows the edit");

    // Renamed: the same item.
    std::fs::rename(env.path().join("notes/acme.md"), env.path().join("notes/2026-11-27-acme.md")).unwrap();
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 renamed"), "{out}");
    assert_eq!(ids(&env.json(&["history", "acme"])), first);

    // Moved to another client by editing its front matter.
    write(&env, "2026-11-27-acme.md", b"---\nclient: pekarna\n---\nDruha verze\n");
    env.ok(&["sync"]);
    assert!(ids(&env.json(&["history", "acme"])).is_empty());
    assert_eq!(ids(&env.json(&["history", "pekarna"])), first);

    // Deleted: out of the history, listed with --deleted.
    std::fs::remove_file(env.path().join("notes/2026-11-27-acme.md")).unwrap();
    let out = env.ok(&["sync"]);
    assert!(out.contains("1 deleted"), "{out}");
    assert!(ids(&env.json(&["history", "pekarna"])).is_empty());
    assert_eq!(ids(&env.json(&["history", "pekarna", "--deleted"])), first);
    assert!(env.json(&["search", "druha"]).as_array().unwrap().is_empty());

    // Restored from the trash: back, same id.
    write(&env, "2026-11-27-acme.md", b"---\nclient: pekarna\n---\nDruha verze\n");
    env.ok(&["sync"]);
    assert_eq!(ids(&env.json(&["history", "pekarna"])), first);
    assert_eq!(env.json(&["stats"])["items"], 1);
}

#[test]
fn a_disappearing_folder_deletes_nothing() {
    let env = env();
    write(&env, "a.md", b"---\nclient: acme\n---\nHovor\n");
    env.ok(&["sync"]);
    std::fs::rename(env.path().join("notes"), env.path().join("notes-away")).unwrap();
    let out = env.cmd(&["sync"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("poznamky") && err.contains("notes"), "{err}");
    assert_eq!(ids(&env.json(&["history", "acme"])).len(), 1, "nothing deleted");
    std::fs::rename(env.path().join("notes-away"), env.path().join("notes")).unwrap();
    env.ok(&["sync"]);
    assert_eq!(ids(&env.json(&["history", "acme"])).len(), 1);
}

#[test]
fn note_add_writes_a_file_that_becomes_history() {
    let env = env();
    let out = env.ok(&[
        "note",
        "add",
        "acme",
        "--kind",
        "meeting",
        "--contact",
        "karel",
        "--date",
        "2026-11-27 10:00",
        "Schůzka: cenová nabídka na halu\nDomluveno: pošleme do pátku.",
    ]);
    let path = out.trim();
    assert!(path.ends_with("2026-11-27-acme-stavby-s-r-o-meeting.md"), "{path}");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("---\nclient: \"Acme Stavby s.r.o.\""), "{text}");
    assert!(text.contains("contact: \"karel.horak@acme-stavby.cz\""), "{text}");
    let h = env.json(&["history", "acme"]);
    assert_eq!(h[0]["kind"], "meeting", "{h}");
    assert_eq!(h[0]["subject"], "Schůzka: cenová nabídka na halu");
    assert!(h[0]["date"].as_str().unwrap().starts_with("2026-11-27"));
    // A second note the same day gets its own file.
    let out2 = env.ok(&["note", "add", "acme", "--date", "2026-11-27", "Druhý hovor"]);
    assert_ne!(out2.trim(), path);
    assert_eq!(env.json(&["history", "acme"]).as_array().unwrap().len(), 2);
    assert!(env.fails(&["note", "add", "nikdo", "x"]).contains("cannot find client"));
}

fn atomic_save(dir: &Path, name: &str, content: &str) {
    // As editors do: write a temporary file, then rename it over the note.
    let tmp = dir.join(format!(".{name}.swp"));
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[test]
fn the_daemon_follows_editors_saves() {
    let env = env();
    let config = kronika::config::Config::load(&env.config_path()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = rt.spawn(async move {
        kronika::daemon::run(&config, async {
            let _ = stop_rx.await;
        })
        .await
    });
    let dir = env.path().join("notes");
    let wait_for = |check: &dyn Fn(&Value) -> bool| {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            let h = env.json(&["history", "acme"]);
            if check(&h) {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the history did not follow: {}", env.json(&["history", "acme"]));
    };
    std::thread::sleep(Duration::from_millis(300));
    atomic_save(&dir, "hovor.md", "---\nclient: acme\n---\nPrvni zapis\n");
    let took = wait_for(&|h| h.as_array().unwrap().len() == 1);
    eprintln!("new note in the history after {took:?}");
    let id = env.json(&["history", "acme"])[0]["id"].as_i64().unwrap();
    // A burst of saves ends as one updated item.
    for n in 0..5 {
        atomic_save(&dir, "hovor.md", &format!("---\nclient: acme\n---\nZapis verze {n}\n"));
    }
    wait_for(&|h| h[0]["subject"] == "Zapis verze 4");
    assert_eq!(ids(&env.json(&["history", "acme"])), vec![id]);
    std::fs::remove_file(dir.join("hovor.md")).unwrap();
    wait_for(&|h| h.as_array().unwrap().is_empty());
    let _ = stop_tx.send(());
    rt.block_on(daemon).unwrap().unwrap();
    assert_eq!(ids(&env.json(&["history", "acme", "--deleted"])), vec![id]);
}

#[test]
fn notes_follow_the_directory_and_survive_rematching() {
    let env = env();
    write(&env, "misc/dub.md", "Hovor\nVolali z firmy Truhlářství Dub kvůli nabídce.\n".as_bytes());
    write(&env, "Pekárna Novák s.r.o./pec.md", "Pec\nServis domluven.\n".as_bytes());
    write(&env, "misc/ico.md", "Faktura\nIČO 27468135, uhrazeno.\n".as_bytes());
    env.ok(&["sync"]);
    assert!(ids(&env.json(&["history", "acme"])).len() == 1);
    // A client added after the note: the note joins its history, by name.
    env.ok(&["client", "add", "Truhlářství Dub s.r.o."]);
    let dub = history(&env, "truhlarstvi", &[]);
    assert_eq!(dub, vec![("Hovor".to_string(), "call".to_string(), "name".to_string())]);
    // Re-matching everything keeps the folder and IČO links of notes.
    env.ok(&["rematch"]);
    assert_eq!(history(&env, "pekárna", &[])[0].2, "folder");
    assert_eq!(history(&env, "acme", &[])[0].2, "ico");
    assert_eq!(history(&env, "truhlarstvi", &[]).len(), 1);
}
