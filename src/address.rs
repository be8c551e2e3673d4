//! Mail addresses and domains, normalised so that they compare as people
//! mean them: domains lower-cased and in punycode (IDN), local parts
//! compared case-insensitively, registrable domains taken from the public
//! suffix list. Pure functions, no I/O.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

/// Normalises an address: trims it, strips angle brackets and a `mailto:`
/// prefix, lower-cases it, and turns an IDN domain into punycode.
/// Returns `None` when it is not an address (`local@domain` with a dot-less
/// or empty part is still accepted for intranet hosts, but not an empty one).
pub fn normalize(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    s = s.strip_prefix('<').unwrap_or(s);
    s = s.strip_suffix('>').unwrap_or(s);
    if let Some((scheme, rest)) = s.split_at_checked(7)
        && scheme.eq_ignore_ascii_case("mailto:")
    {
        s = rest;
    }
    let s = s.trim();
    let (local, domain) = s.rsplit_once('@')?;
    if local.is_empty() || local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let domain = normalize_domain(domain)?;
    Some(format!("{}@{}", local.to_lowercase(), domain))
}

/// Normalises a domain as a user or a header writes it: lower case,
/// punycode, no trailing dot. Also accepts a URL or `www.` prefix
/// (`https://www.acme.cz/kontakt` becomes `acme.cz`), as spreadsheets hold them.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    if let Some(rest) = s.split_once("://").map(|(_, r)| r) {
        s = rest;
    }
    s = s.split(['/', '?', '#']).next().unwrap_or("");
    // A port or user info has no place in a mail domain.
    if let Some((_, host)) = s.rsplit_once('@') {
        s = host;
    }
    s = s.split(':').next().unwrap_or("");
    let s = s.trim_end_matches('.').trim_start_matches('@');
    if s.is_empty() || s.starts_with('.') || s.contains("..") {
        return None;
    }
    let ascii = idna::domain_to_ascii(s).ok()?;
    if ascii.is_empty() || ascii.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    let ascii = ascii.strip_prefix("www.").map(str::to_string).unwrap_or(ascii);
    Some(ascii)
}

/// The domain part of a normalised address.
pub fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, d)| d)
}

/// The registrable domain (`mail.acme.co.uk` → `acme.co.uk`) by the public
/// suffix list; `None` for a bare public suffix (`co.uk`, `github.io`) or a
/// name with no known suffix.
pub fn registrable(domain: &str) -> Option<&str> {
    let d = psl::domain_str(domain)?;
    // A registrable domain always has a dot; psl answers with a suffix of
    // the input, so slice the input to keep the caller's lifetime.
    if d.contains('.') { domain.len().checked_sub(d.len()).and_then(|start| domain.get(start..)) } else { None }
}

/// True when the domain is itself a public suffix (`co.uk`, `cz`,
/// `github.io`), so that it can never be a client's domain.
pub fn is_public_suffix(domain: &str) -> bool {
    registrable(domain).is_none()
}

/// The domain and its parents down to (and including) its registrable
/// domain: `a.mail.acme.cz` → `a.mail.acme.cz`, `mail.acme.cz`, `acme.cz`.
/// Empty when the domain has no registrable part.
pub fn domain_chain(domain: &str) -> Vec<&str> {
    let Some(reg) = registrable(domain) else {
        return Vec::new();
    };
    let mut out = vec![domain];
    let mut rest = domain;
    while rest.len() > reg.len() {
        match rest.split_once('.') {
            Some((_, parent)) => {
                rest = parent;
                out.push(rest);
            }
            None => break,
        }
    }
    out
}

/// True when `domain` is `parent` or one of its subdomains.
pub fn within(domain: &str, parent: &str) -> bool {
    domain == parent || domain.strip_suffix(parent).is_some_and(|head| head.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_addresses() {
        let cases = [
            ("Karel.Horak@ACME.cz", Some("karel.horak@acme.cz")),
            ("<info@acme.cz>", Some("info@acme.cz")),
            ("mailto:info@acme.cz", Some("info@acme.cz")),
            ("jan@pekařství.cz", Some("jan@xn--pekastv-eza28g.cz")),
            ("jan@Pekařství.CZ.", Some("jan@xn--pekastv-eza28g.cz")),
            ("no-at-sign", None),
            ("@acme.cz", None),
            ("a b@acme.cz", None),
            ("x@", None),
            ("jiří@kávovary.cz", Some("jiří@xn--kvovary-hwa.cz")),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn normalizes_domains_from_urls() {
        assert_eq!(normalize_domain("https://www.Acme.cz/kontakt").as_deref(), Some("acme.cz"));
        assert_eq!(normalize_domain("@acme.cz").as_deref(), Some("acme.cz"));
        assert_eq!(normalize_domain("acme..cz"), None);
        assert_eq!(normalize_domain(""), None);
    }

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        let cases = [
            ("mail.acme.cz", Some("acme.cz")),
            ("acme.cz", Some("acme.cz")),
            ("x.brightwell.co.uk", Some("brightwell.co.uk")),
            ("co.uk", None),
            ("cz", None),
            ("github.io", None),
            ("acme.github.io", Some("acme.github.io")),
        ];
        for (input, want) in cases {
            assert_eq!(registrable(input), want, "{input}");
        }
        assert_eq!(domain_chain("a.mail.acme.cz"), vec!["a.mail.acme.cz", "mail.acme.cz", "acme.cz"]);
        assert!(domain_chain("co.uk").is_empty());
        assert!(within("mail.acme.cz", "acme.cz"));
        assert!(!within("notacme.cz", "acme.cz"));
        assert!(!within("acme.cz", "mail.acme.cz"));
        assert!(!within("žacme.cz", "acme.cz"));
    }

    #[test]
    fn multi_byte_input_never_panics() {
        for s in ["mailtož@x.cz", "mailto", "ž", "žžžž@", "@ž", "<ž>", "mailto:", "x@ž.cz", "ž@x.ž", "ščř@ý"]
        {
            let _ = normalize(s);
            let _ = normalize_domain(s);
            let _ = registrable(s);
            let _ = domain_chain(s);
        }
        assert_eq!(normalize("mailtož@x.cz").as_deref(), Some("mailtož@x.cz"));
    }
}
