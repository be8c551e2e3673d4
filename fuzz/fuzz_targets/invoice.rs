//! Raw bytes → `kronika::invoice`: `parse_isdoc`, `parse_isdocx`,
//! `from_attachment` and `from_text` (on the bytes as lossy UTF-8) never
//! panic, and what they return keeps the module's promises (finite,
//! bounded amounts, upper-case ISO currencies, valid IČOs, errors that say
//! "cannot …", the same answer for the same bytes).
#![no_main]

use kronika::invoice::{Invoice, from_attachment, from_text, is_isdoc, parse_isdoc, parse_isdocx};
use kronika::model::Ico;
use libfuzzer_sys::fuzz_target;

fn amount(v: f64) {
    assert!(v.is_finite() && v.abs() < 1e12, "{v}");
}

fn ico(i: &str) {
    assert_eq!(i.len(), 8, "{i}");
    assert_eq!(Ico::parse(i).map(|x| x.as_str().to_string()).as_deref(), Ok(i));
}

fn check(inv: &Invoice) {
    assert!(!inv.number.trim().is_empty());
    assert!(inv.currency.len() == 3 && inv.currency.bytes().all(|b| b.is_ascii_uppercase()), "{}", inv.currency);
    amount(inv.without_vat);
    amount(inv.with_vat);
    inv.payable.map(amount);
    for p in [&inv.supplier, &inv.customer] {
        p.ico.as_deref().map(ico);
        assert!(p.dic.as_ref().is_none_or(|d| !d.is_empty() && !d.contains(char::is_whitespace)));
    }
    for l in &inv.lines {
        l.quantity.map(amount);
        l.without_vat.map(amount);
        l.with_vat.map(amount);
    }
}

fuzz_target!(|data: &[u8]| {
    match parse_isdoc(data) {
        Ok(inv) => {
            check(&inv);
            assert_eq!(parse_isdoc(data).ok().as_ref(), Some(&inv), "the same bytes, the same invoice");
        }
        Err(e) => assert!(e.to_string().starts_with("cannot "), "{e}"),
    }
    match parse_isdocx(data) {
        Ok(inv) => check(&inv),
        Err(e) => assert!(e.to_string().starts_with("cannot "), "{e}"),
    }
    match from_attachment("attachment.bin", "application/octet-stream", data) {
        None => assert!(!is_isdoc("attachment.bin", "application/octet-stream", data)),
        Some(Ok(inv)) => check(&inv),
        Some(Err(e)) => assert!(e.to_string().starts_with("cannot "), "{e}"),
    }
    let text = String::from_utf8_lossy(data);
    if let Some(t) = from_text(&text) {
        amount(t.total);
        assert!(!t.number.is_empty() && t.number.len() <= 40, "{:?}", t.number);
        assert!(t.currency.len() == 3, "{}", t.currency);
        for i in &t.icos {
            ico(i);
        }
        assert_eq!(from_text(&text).as_ref(), Some(&t));
    }
});
