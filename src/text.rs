//! Small text helpers shared by the directory and the index. Pure.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases and strips diacritics: `Pekárna NOVÁK` → `pekarna novak`,
/// so that people can type names and words without accents.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ł' => 'l',
            'đ' => 'd',
            'ø' => 'o',
            'ß' => 's',
            other => other,
        })
        .collect()
}

/// Text as Czech offices write it: UTF-8 (a BOM dropped), else
/// windows-1250, the encoding of older Czech Excel and editors.
pub fn decode_bytes(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1250.decode(bytes).0.into_owned(),
    }
}

/// Shortens text to at most `max` characters on a char boundary, adding `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `1200000.0` → `1 200 000`, `12.5` → `12.50`, rounded to cents
/// (`12.999` → `13`). Any f64 is fine: no overflow, `inf` and `NaN` as
/// Rust writes them.
pub fn format_amount(v: f64) -> String {
    let cents = (v.abs() * 100.0).round();
    if !cents.is_finite() {
        return v.to_string();
    }
    let digits = format!("{:.0}", (cents / 100.0).trunc());
    // Beyond 2^53 cents an f64 has no cents to show.
    let frac = if cents < 9_007_199_254_740_992.0 { cents % 100.0 } else { 0.0 };
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(ch);
    }
    let sign = if v < 0.0 && cents > 0.0 { "-" } else { "" };
    if frac == 0.0 { format!("{sign}{grouped}") } else { format!("{sign}{grouped}.{frac:02.0}") }
}

/// The message of a caught panic.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// SHA-256 of bytes, hex; the identity key for content without a better one.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_czech() {
        assert_eq!(fold("Příliš žluťoučký kůň ÚPĚL ďábelské ódy"), "prilis zlutoucky kun upel dabelske ody");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("ab", 4), "ab");
        assert_eq!(format_amount(1_200_000.0), "1 200 000");
        assert_eq!(format_amount(12.5), "12.50");
        assert_eq!(format_amount(-1000.0), "-1 000");
        assert_eq!(format_amount(12.999), "13");
        assert_eq!(format_amount(0.05), "0.05");
        assert_eq!(format_amount(-0.001), "0");
        assert_eq!(format_amount(1e20), "100 000 000 000 000 000 000");
        let huge = format_amount(-1e300);
        assert!(huge.starts_with("-1 000 000 000 000 000 052") && !huge.contains('.'), "{huge}");
        assert_eq!(format_amount(f64::INFINITY), "inf");
        assert_eq!(format_amount(f64::NAN), "NaN");
        assert_eq!(format_amount(f64::MAX / 10.0).chars().next(), Some('1'));
    }
}
