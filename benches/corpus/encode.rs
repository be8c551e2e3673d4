//! MIME encoders for the corpus generator: base64, quoted-printable, RFC 2047
//! encoded words, RFC 2231 parameters and the legacy Czech charsets.
//!
//! Everything writes plain ASCII with `\n` line ends; the caller turns them
//! into CRLF where a message wants that. The one exception is the body of an
//! `8bit` encoding, which the caller writes itself (see [`Encoding::eight_bit`]).

use std::fmt::Write as _;

/// A body charset together with its content transfer encoding. The `*8bit`
/// ones (raw bytes in the body, as old Outlook Express, The Bat! and Pine
/// sent them) are used by `Shape::Varied` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    Utf8Qp,
    Utf8Base64,
    Win1250Qp,
    Latin2Base64,
    Ascii7bit,
    Utf8_8bit,
    Win1250_8bit,
    Latin2Qp,
    Latin2_8bit,
}

impl Encoding {
    pub const ALL: [Encoding; 9] = [
        Encoding::Utf8Qp,
        Encoding::Utf8Base64,
        Encoding::Win1250Qp,
        Encoding::Latin2Base64,
        Encoding::Ascii7bit,
        Encoding::Utf8_8bit,
        Encoding::Win1250_8bit,
        Encoding::Latin2Qp,
        Encoding::Latin2_8bit,
    ];

    pub fn charset(self) -> &'static str {
        match self {
            Encoding::Utf8Qp | Encoding::Utf8Base64 | Encoding::Utf8_8bit => "utf-8",
            Encoding::Win1250Qp | Encoding::Win1250_8bit => "windows-1250",
            Encoding::Latin2Base64 | Encoding::Latin2Qp | Encoding::Latin2_8bit => "iso-8859-2",
            Encoding::Ascii7bit => "us-ascii",
        }
    }

    pub fn transfer(self) -> &'static str {
        match self {
            Encoding::Utf8Qp | Encoding::Win1250Qp | Encoding::Latin2Qp => "quoted-printable",
            Encoding::Utf8Base64 | Encoding::Latin2Base64 => "base64",
            Encoding::Ascii7bit => "7bit",
            Encoding::Utf8_8bit | Encoding::Win1250_8bit | Encoding::Latin2_8bit => "8bit",
        }
    }

    /// True when the body goes out as raw 8-bit bytes: the message is then
    /// not 7-bit clean (its header still is).
    pub fn eight_bit(self) -> bool {
        self.transfer() == "8bit"
    }

    /// True for the legacy Czech charsets (windows-1250, iso-8859-2).
    pub fn legacy(self) -> bool {
        matches!(self.charset(), "windows-1250" | "iso-8859-2")
    }

    /// Label used in statistics.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8Qp => "utf-8 quoted-printable",
            Encoding::Utf8Base64 => "utf-8 base64",
            Encoding::Win1250Qp => "windows-1250 quoted-printable",
            Encoding::Latin2Base64 => "iso-8859-2 base64",
            Encoding::Ascii7bit => "us-ascii 7bit",
            Encoding::Utf8_8bit => "utf-8 8bit",
            Encoding::Win1250_8bit => "windows-1250 8bit",
            Encoding::Latin2Qp => "iso-8859-2 quoted-printable",
            Encoding::Latin2_8bit => "iso-8859-2 8bit",
        }
    }

    /// True for encodings whose header words are B-encoded (the mailers that
    /// send base64 bodies tend to B-encode headers as well).
    pub fn b_words(self) -> bool {
        matches!(self, Encoding::Utf8Base64 | Encoding::Latin2Base64)
    }

    /// The text in this charset. Characters the legacy charsets lack are
    /// replaced by ASCII look-alikes first, so nothing turns into `&#NNNN;`.
    pub fn encode_text(self, text: &str) -> Vec<u8> {
        match self.charset() {
            "utf-8" => text.as_bytes().to_vec(),
            "windows-1250" => legacy(encoding_rs::WINDOWS_1250, text),
            "iso-8859-2" => legacy(encoding_rs::ISO_8859_2, text),
            _ => fold_for(text, |c| c.is_ascii()).into_bytes(),
        }
    }
}

fn legacy(enc: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = enc.encode(text);
    if !unmappable {
        return bytes.into_owned();
    }
    let folded = fold_for(text, |c| {
        let mut buf = [0u8; 4];
        !enc.encode(c.encode_utf8(&mut buf)).2
    });
    enc.encode(&folded).0.into_owned()
}

/// Replaces characters that `keep` rejects by ASCII look-alikes.
fn fold_for(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if keep(c) {
            out.push(c);
            continue;
        }
        match c {
            '–' | '—' => out.push('-'),
            '„' | '“' | '”' => out.push('"'),
            '‚' | '‘' | '’' => out.push('\''),
            '…' => out.push_str("..."),
            '€' => out.push_str("EUR"),
            '£' => out.push_str("GBP"),
            '×' => out.push('x'),
            '\u{a0}' => out.push(' '),
            _ => {
                let f = super::fold_char(c);
                if f.is_ascii() { out.push(f) } else { out.push('?') }
            }
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends base64 of `data` without line breaks.
pub fn base64_raw(data: &[u8], out: &mut String) {
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(B64[((n >> shift) & 63) as usize] as char);
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let b1 = rest.get(1).copied().unwrap_or(0);
        let n = (u32::from(rest[0]) << 16) | (u32::from(b1) << 8);
        out.push(B64[((n >> 18) & 63) as usize] as char);
        out.push(B64[((n >> 12) & 63) as usize] as char);
        out.push(if rest.len() == 2 { B64[((n >> 6) & 63) as usize] as char } else { '=' });
        out.push('=');
    }
}

/// Appends base64 of `data` in lines of 76 characters, each ended by `\n`.
pub fn base64_lines(data: &[u8], out: &mut String) {
    out.reserve(data.len() / 57 * 78 + 80);
    for line in data.chunks(57) {
        base64_raw(line, out);
        out.push('\n');
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex(out: &mut String, b: u8) {
    out.push('=');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

/// Appends `data` (text with `\n` line ends) quoted-printable encoded:
/// lines of at most 76 characters, soft breaks as `=`, trailing white space
/// and `From ` at line start escaped.
pub fn quoted_printable(data: &[u8], out: &mut String) {
    out.reserve(data.len() + data.len() / 4);
    let mut lines = data.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal = match b {
                b'=' => false,
                b' ' | b'\t' => !last,
                b'F' if i == 0 => !line.starts_with(b"From "),
                33..=126 => true,
                _ => false,
            };
            let width = if literal { 1 } else { 3 };
            // Keep room for the soft break `=` unless this is the line's last char.
            let limit = if last { 76 } else { 75 };
            if col + width > limit {
                out.push_str("=\n");
                col = 0;
            }
            if literal {
                out.push(b as char);
            } else {
                push_hex(out, b);
            }
            col += width;
        }
        if lines.peek().is_some() {
            out.push('\n');
        }
    }
    if !data.ends_with(b"\n") {
        // A QP body ends with a line break like any other body.
        out.push('\n');
    }
}

/// RFC 2047 encoded words for `text` (header text or a display name), each
/// at most `max_len` characters long, never splitting a character.
pub fn encoded_words(text: &str, enc: Encoding, b_encoding: bool, max_len: usize) -> Vec<String> {
    let charset = match enc {
        Encoding::Ascii7bit => "utf-8",
        other => other.charset(),
    };
    let bytes_of = |s: &str| -> Vec<u8> { if enc.legacy() { enc.encode_text(s) } else { s.as_bytes().to_vec() } };
    // Mailers write `UTF-8` but `windows-1250` / `iso-8859-2` in lower case.
    let charset = if charset == "utf-8" { "UTF-8" } else { charset };
    let prefix = format!("=?{}?{}?", charset, if b_encoding { 'B' } else { 'Q' });
    let budget = max_len.saturating_sub(prefix.len() + 2).max(8);
    let mut words = Vec::new();
    let mut pending = String::new();
    let mut pending_len = 0;
    let mut pending_bytes = 0;
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let cb = bytes_of(c.encode_utf8(&mut buf));
        let add = if b_encoding {
            // Encoded length of (pending_bytes + cb.len()) bytes.
            (pending_bytes + cb.len()).div_ceil(3) * 4 - pending_len
        } else {
            cb.iter().map(|&b| if q_literal(b) { 1 } else { 3 }).sum()
        };
        if pending_len + add > budget && !pending.is_empty() {
            words.push(finish_word(&prefix, &pending, &bytes_of, b_encoding));
            pending.clear();
            pending_len = 0;
            pending_bytes = 0;
        }
        pending.push(c);
        pending_bytes += cb.len();
        pending_len = if b_encoding {
            pending_bytes.div_ceil(3) * 4
        } else {
            pending_len + cb.iter().map(|&b| if q_literal(b) { 1 } else { 3 }).sum::<usize>()
        };
    }
    if !pending.is_empty() {
        words.push(finish_word(&prefix, &pending, &bytes_of, b_encoding));
    }
    words
}

/// Characters allowed unencoded in a Q-encoded word in any header position (RFC 2047 5(3)).
fn q_literal(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'!' | b'*' | b'+' | b'-' | b'/' | b' ')
}

fn finish_word(prefix: &str, text: &str, bytes_of: &dyn Fn(&str) -> Vec<u8>, b_encoding: bool) -> String {
    let bytes = bytes_of(text);
    let mut w = String::with_capacity(prefix.len() + bytes.len() * 3 + 2);
    w.push_str(prefix);
    if b_encoding {
        base64_raw(&bytes, &mut w);
    } else {
        for b in bytes {
            match b {
                b' ' => w.push('_'),
                b if q_literal(b) => w.push(b as char),
                b => push_hex(&mut w, b),
            }
        }
    }
    w.push_str("?=");
    w
}

/// Percent-encoding for RFC 2231 extended values (attr-char stays literal).
pub fn percent(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
        {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

/// The `; filename=...` parameter(s) of a Content-Disposition, each on its
/// own folded line. Non-ASCII names use RFC 2231 (`filename*=utf-8''...`),
/// split into `filename*0*`, `filename*1*` ... continuations when long.
pub fn filename_params(param: &str, name: &str) -> String {
    if name.is_ascii() {
        return format!(";\n\t{param}=\"{name}\"");
    }
    let value = percent(name.as_bytes());
    if value.len() <= 40 {
        return format!(";\n\t{param}*=utf-8''{value}");
    }
    // Split between percent escapes, about 36 characters a section.
    let mut out = String::new();
    let mut section = String::new();
    let mut index = 0;
    let mut rest = value.as_str();
    while !rest.is_empty() {
        let take = if rest.starts_with('%') { 3 } else { 1 };
        section.push_str(&rest[..take]);
        rest = &rest[take..];
        if section.len() >= 36 || rest.is_empty() {
            let lead = if index == 0 { "utf-8''" } else { "" };
            let _ = write!(out, ";\n\t{param}*{index}*={lead}{section}");
            section.clear();
            index += 1;
        }
    }
    out
}

/// Escapes text for HTML.
pub fn html_escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            '–' => out.push_str("&ndash;"),
            c => out.push(c),
        }
    }
}
