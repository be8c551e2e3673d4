#!/bin/sh
# Runs every check kronika has: formatting, lints, unit and integration tests.
# This is the README's test command and what CI runs (.ci/run).
# It installs what the tests need on a fresh Debian machine first.
set -eu
cd "$(dirname "$0")/.."

# System packages the integration tests use, installed only when missing.
need=""
# A private Dovecot for the IMAP tests (tests/common/dovecot.rs starts it).
command -v dovecot >/dev/null 2>&1 || need="$need dovecot-imapd"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v pgrep >/dev/null 2>&1 || need="$need procps"
# A private PostgreSQL cluster for the PostgreSQL store tests
# (tests/it/common/postgres.rs makes it with initdb and starts it).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
# Headless Chromium and its WebDriver for the browser tests (tests/it/web_browser.rs).
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v chromedriver >/dev/null 2>&1 || need="$need chromium-driver"
# The package test (tests/it/package.rs): dpkg-deb and systemd-analyze.
command -v dpkg-deb >/dev/null 2>&1 || need="$need dpkg"
command -v systemd-analyze >/dev/null 2>&1 || need="$need systemd"
if [ -n "$need" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
fi

# Radicale, a CalDAV server, for the calendar-account tests
# (tests/it/common/radicale.rs starts it): from PyPI, else Debian's package.
if ! python3 -c 'import radicale' >/dev/null 2>&1; then
    python3 -m pip install --quiet 'radicale==3.9.0' 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages 'radicale==3.9.0' 2>/dev/null \
        || { SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
             $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq radicale; }
fi

# cargo-deb builds the Debian package (the package test and releases).
command -v cargo-deb >/dev/null 2>&1 || cargo install --locked cargo-deb@3.8.0

cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
