//! Deal CSV bytes → `kronika::csvio::read_deals` (what `deal import`
//! reads before it looks clients up): never a panic; every deal it
//! returns has a finite value in range, a known currency and status.
#![no_main]

use kronika::csvio::{MAX_AMOUNT, read_deals};
use kronika::figures::CURRENCIES;
use kronika::store::DEAL_STATUSES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((rows, errors)) = read_deals(data) else { return };
    for e in &errors {
        assert!(e.message.starts_with("cannot "), "{e:?}");
    }
    for r in &rows {
        let d = &r.deal;
        assert!(d.value.is_finite() && (0.0..=MAX_AMOUNT).contains(&d.value), "{d:?}");
        assert!(CURRENCIES.contains(&d.currency.as_str()), "{d:?}");
        assert!(DEAL_STATUSES.contains(&d.status.as_str()), "{d:?}");
        assert!(!r.client.trim().is_empty());
    }
});
