//! Client CSV bytes → `kronika::csvio::read_clients`, then every row
//! through `kronika::directory::client_input` (what `client import`
//! does): never a panic, errors start with "cannot".
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use kronika::config::Config;
use kronika::csvio::read_clients;
use kronika::directory::client_input;
use libfuzzer_sys::fuzz_target;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::parse(
            Path::new("/fuzz/kronika.toml"),
            "own_domains = [\"modrykamen.cz\"]\n\
             [[custom_fields]]\nname = \"obor\"\ntype = \"text\"\n\
             [[custom_fields]]\nname = \"since\"\ntype = \"date\"\n\
             [[custom_fields]]\nname = \"budget2\"\ntype = \"number\"\n\
             [[custom_fields]]\nname = \"segment\"\ntype = \"choice\"\nchoices = [\"A\", \"B\"]\n",
        )
        .expect("the fuzz config is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let fields: Vec<String> = config().custom_fields.iter().map(|f| f.name.clone()).collect();
    let (rows, errors, _warnings) = read_clients(data, &fields);
    for e in &errors {
        assert!(e.message.starts_with("cannot "), "{e:?}");
    }
    for row in &rows {
        match client_input(&row.client, config()) {
            Ok(input) => {
                assert!(!input.name.trim().is_empty());
                assert!(input.annual_budget.is_none_or(|b| b.is_finite() && b >= 0.0));
            }
            Err(e) => assert!(e.starts_with("cannot "), "{e}"),
        }
    }
});
