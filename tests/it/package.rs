//! Issue 15: the Debian package. `cargo deb` packs the binary, the systemd
//! unit, the config and the docs; the unit passes `systemd-analyze verify`
//! and the packaged binary runs. (The test packs the debug binary the
//! tests already built; a release is `cargo deb`, see the README.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The cargo target folder the tests' `kronika` was built in.
fn target_dir() -> PathBuf {
    let bin = assert_cmd::cargo::cargo_bin("kronika");
    bin.parent().and_then(Path::parent).expect("target/debug/kronika").to_path_buf()
}

#[test]
fn the_debian_package_holds_a_verified_unit_a_config_and_a_binary_that_runs() {
    let has = |p: &str| {
        Command::new("sh").args(["-c", &format!("command -v {p}")]).output().is_ok_and(|o| o.status.success())
    };
    assert!(has("cargo-deb"), "cargo-deb is missing: tests/run.sh installs it (cargo install cargo-deb --locked)");
    let work = tempfile::tempdir().unwrap();
    let deb = work.path().join("kronika.deb");
    run(Command::new("cargo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", target_dir())
        .args(["deb", "--no-build", "--profile", "dev", "--fast", "-o"])
        .arg(&deb));
    let root = work.path().join("root");
    let control = work.path().join("control");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));

    // What it installs.
    for f in [
        "usr/bin/kronika",
        "etc/kronika/config.toml",
        "usr/lib/systemd/system/kronika.service",
        "usr/share/doc/kronika/README.md",
        "usr/share/doc/kronika/kronika.example.toml",
    ] {
        assert!(root.join(f).is_file(), "the package has /{f}");
    }
    let info = run(Command::new("dpkg-deb").arg("-I").arg(&deb));
    assert!(info.contains("Package: kronika") && info.contains("adduser"), "{info}");
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert!(conffiles.contains("/etc/kronika/config.toml"), "{conffiles}");
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system") && postinst.contains("deb-systemd-helper enable"), "{postinst}");
    assert!(postinst.contains("kronika.service"), "the service is enabled and started at install: {postinst}");

    // The unit: a notify service with a watchdog, restarted on failure, sandboxed.
    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/kronika.service")).unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "User=kronika",
        "ProtectSystem=strict",
        "ProtectHome=",
        "PrivateTmp=true",
        "NoNewPrivileges=true",
        "ExecReload=",
        "WantedBy=multi-user.target",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(line)), "the unit has {line}");
    }
    // systemd-analyze verify, in the package's root with what a system
    // has beside it (the targets and /bin/kill).
    let units = root.join("usr/lib/systemd/system");
    for e in std::fs::read_dir("/usr/lib/systemd/system").unwrap().flatten() {
        if e.file_name().to_string_lossy().ends_with(".target") && !units.join(e.file_name()).exists() {
            std::fs::copy(e.path(), units.join(e.file_name())).unwrap();
        }
    }
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/kill", root.join("bin/kill")).unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg("/usr/lib/systemd/system/kronika.service")
        .output()
        .expect("systemd-analyze (Debian package systemd; tests/run.sh installs it)");
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // The packaged binary runs, and the packaged config is valid.
    let version = run(Command::new(root.join("usr/bin/kronika")).arg("--version"));
    assert_eq!(version.trim(), format!("kronika {}", env!("CARGO_PKG_VERSION")));
    let check = run(Command::new(root.join("usr/bin/kronika"))
        .arg("--config")
        .arg(root.join("etc/kronika/config.toml"))
        .args(["config", "check"]));
    assert!(check.contains("data_dir           /var/lib/kronika"), "{check}");
}
