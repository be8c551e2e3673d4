//! A PostgreSQL password file and store URL → `kronika::store::pg::{pgpass_lookup,
//! redacted}`: never a panic; a redacted URL never holds the password its
//! `user:password@` or `password=` gave.
#![no_main]

use kronika::store::pg::{pgpass_lookup, redacted};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = pgpass_lookup(&text, "db.firma.cz", "5432", "kronika", "kronika");
    let _ = pgpass_lookup(&text, "*", "*", "*", "*");
    let secret = "H3sl0-t4jn3";
    for line in text.lines() {
        let shown = redacted(line);
        // The password of `postgres://user:password@host`.
        let Some(rest) = line.strip_prefix("postgres://") else { continue };
        let authority = rest.get(..rest.find(['/', '?']).unwrap_or(rest.len())).unwrap_or_default();
        if authority.contains(&format!(":{secret}@")) && !authority.rsplit('@').next().unwrap_or("").contains(secret) {
            // The same text may stand in the path or query (not a password).
            let pattern = format!(":{secret}@");
            assert!(shown.matches(&pattern).count() < line.matches(&pattern).count(), "{line} -> {shown}");
        }
    }
});
