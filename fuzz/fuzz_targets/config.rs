//! Config text → `kronika::config::Config::parse`: never a panic; errors
//! say what is wrong.
#![no_main]

use std::path::Path;

use kronika::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = Config::parse(Path::new("/fuzz/kronika.toml"), text) {
        assert!(!e.to_string().is_empty());
    }
});
