//! Small text helpers shared by the directory and the index. Pure.

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

/// Shortens text to at most `max` characters on a char boundary, adding `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
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
    }
}
