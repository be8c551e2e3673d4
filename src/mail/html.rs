//! HTML → readable text, for HTML-only mail.

use std::borrow::Cow;

/// HTML → readable text: no tags, no `<style>`/`<script>`/`<title>`/
/// comments, entities decoded (`&nbsp;` as a plain space), block elements
/// on their own lines, table cells separated by tabs, list items as `- `.
pub fn html_to_text(html: &str) -> String {
    let mut out = TextOut::default();
    let bytes = html.as_bytes();
    // Every offset below sits on an ASCII byte (`<`, `>`) or at the end,
    // so it is a char boundary; `get` keeps that from being a promise.
    let mut i = 0;
    let mut text_start = 0;
    let mut pre_depth = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b != b'<' {
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied();
        let is_markup = matches!(next, Some(c) if c.is_ascii_alphabetic() || c == b'/' || c == b'!' || c == b'?');
        if !is_markup {
            i += 1;
            continue;
        }
        out.text(html.get(text_start..i).unwrap_or(""), pre_depth > 0);
        if let Some(comment) = html.get(i..).and_then(|rest| rest.strip_prefix("<!--")) {
            i = match comment.find("-->") {
                Some(e) => i + 4 + e + 3,
                None => bytes.len(),
            };
            text_start = i;
            continue;
        }
        let end = tag_end(bytes, i + 1);
        let tag = html.get(i + 1..end).unwrap_or("");
        i = (end + 1).min(bytes.len());
        text_start = i;
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let self_closing = tag.ends_with('/');
        match name.as_str() {
            "script" | "style" | "title" | "template" | "svg" | "xml" if !closing && !self_closing => {
                // Raw content up to the matching end tag, which is skipped too.
                i = find_end_tag(html, i, &name);
                text_start = i;
            }
            "br" => out.newline(1),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table" | "ul" | "ol" | "dl" | "pre"
            | "hr" => {
                if name == "pre" {
                    pre_depth = if closing { pre_depth.saturating_sub(1) } else { pre_depth + 1 };
                }
                out.newline(2);
            }
            "div" | "tr" | "section" | "article" | "header" | "footer" | "nav" | "aside" | "main" | "dt" | "dd"
            | "address" | "center" | "form" | "fieldset" | "figure" | "figcaption" | "caption" | "tbody" | "thead"
            | "tfoot" | "body" | "html" => out.newline(1),
            "li" => {
                out.newline(1);
                if !closing {
                    out.raw("- ");
                }
            }
            "td" | "th" if !closing => out.cell(),
            _ => {}
        }
    }
    out.text(html.get(text_start..).unwrap_or(""), pre_depth > 0);
    out.finish()
}

/// Index of the `>` that ends the tag starting at `from` (quotes respected),
/// or the input's length.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return i,
            None => {}
        }
    }
    bytes.len()
}

/// Offset just past `</name ...>` at or after `from` (case-insensitive), or
/// the input's length when the element is never closed.
fn find_end_tag(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let needle_len = name.len() + 2;
    let mut i = from;
    while let Some(candidate) = bytes.get(i..i + needle_len) {
        if let Some(rest) = candidate.strip_prefix(b"</")
            && rest.eq_ignore_ascii_case(name.as_bytes())
            && !bytes.get(i + needle_len).is_some_and(u8::is_ascii_alphanumeric)
        {
            let end = tag_end(bytes, i + 1);
            return (end + 1).min(bytes.len());
        }
        i += 1;
    }
    bytes.len()
}

/// Builds the text of [`html_to_text`].
#[derive(Default)]
struct TextOut {
    out: String,
    pending_space: bool,
}

impl TextOut {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n') || self.out.ends_with('\t')
    }

    fn text(&mut self, raw: &str, pre: bool) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        for c in decoded.chars() {
            if pre {
                if c == '\n' {
                    self.newline(1);
                } else if c != '\r' {
                    self.out.push(if c == '\u{a0}' { ' ' } else { c });
                }
                continue;
            }
            if c.is_ascii_whitespace() {
                self.pending_space = true;
                continue;
            }
            if self.pending_space && !self.at_line_start() {
                self.out.push(' ');
            }
            self.pending_space = false;
            self.out.push(if c == '\u{a0}' { ' ' } else { c });
        }
    }

    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
        self.pending_space = false;
    }

    /// Ends the line; `n == 2` leaves a blank line (a paragraph).
    fn newline(&mut self, n: usize) {
        self.pending_space = false;
        let len = self.out.trim_end_matches([' ', '\t']).len();
        self.out.truncate(len);
        if self.out.is_empty() {
            return;
        }
        let have = self.out.len() - self.out.trim_end_matches('\n').len();
        for _ in have..n {
            self.out.push('\n');
        }
    }

    fn cell(&mut self) {
        self.pending_space = false;
        if !self.at_line_start() {
            self.out.push('\t');
        }
    }

    fn finish(mut self) -> String {
        let len = self.out.trim_end().len();
        self.out.truncate(len);
        self.out
    }
}

/// Decodes `&name;`, `&#123;` and `&#x1F;`; anything else stays as written.
fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after_amp)) = rest.split_once('&') {
        out.push_str(before);
        let end = after_amp
            .char_indices()
            .take(40)
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '#'))
            .filter(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        if let Some((name, after_name)) = end.and_then(|e| after_amp.split_at_checked(e))
            && let Some(c) = decode_entity(name)
        {
            out.push(c);
            rest = after_name.strip_prefix(';').unwrap_or(after_name);
            continue;
        }
        out.push('&');
        rest = after_amp;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return match code {
            0 => None,
            // Windows-1252 code points written as numbers (`&#150;`).
            0x80..=0x9f => {
                let byte = [u8::try_from(code).ok()?];
                encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte).0.chars().next()
            }
            _ => char::from_u32(code),
        };
    }
    if name.is_empty() || name.contains('#') {
        return None;
    }
    // mail-parser holds the full HTML5 entity table; ask it through its
    // token decoder, which echoes the input when it does not know a name.
    let token = format!("&{name};");
    let mut decoded = String::new();
    mail_parser::decoders::html::add_html_token(&mut decoded, token.as_bytes(), false);
    if decoded == token {
        return None;
    }
    let mut chars = decoded.chars();
    let c = chars.next()?;
    if chars.next().is_some() { None } else { Some(c) }
}

/// HTML mail made safe to show in a sandboxed frame: an allow-list of
/// tags and attributes (ammonia's defaults: no script, style, form, frame,
/// object, event handler or `style` attribute), links only to `http`,
/// `https` and `mailto` (never relative, never `javascript:`), opened
/// with `noopener noreferrer`; images only from `data:` PNG, JPEG, GIF or
/// WebP, so that no remote image (a tracking pixel) is ever loaded.
pub fn sanitize(html: &str) -> String {
    let schemes: std::collections::HashSet<&str> = ["http", "https", "mailto", "data"].into_iter().collect();
    ammonia::Builder::default()
        .url_schemes(schemes)
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(|element, attribute, value| {
            let v = value.trim_start();
            let lower = v.get(..16).unwrap_or(v).to_ascii_lowercase();
            match (element, attribute) {
                ("img", "src") => {
                    let image = ["data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp"];
                    image.iter().any(|p| lower.starts_with(p)).then(|| Cow::Owned(v.to_string()))
                }
                (_, "src" | "href" | "cite" | "longdesc") if lower.starts_with("data:") => None,
                _ => Some(Cow::Owned(value.to_string())),
            }
        })
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = "<html><head><title>T</title><style type=\"text/css\">p{color:red}</style>\
                    <script language=\"js\">if (a < b) alert(1)</script></head><body>\
                    <!-- hidden --><h1>Nab&iacute;dka &amp; servis</h1><p>Dobr&yacute;&nbsp;den,<br>pane <b>Nov&aacute;ku</b></p>\
                    <table><tr><th>A</th><th>B</th></tr><tr><td>1&nbsp;200</td><td>x &lt; y</td></tr></table>\
                    <ul><li>jedna</li><li>dv&#283;</li></ul><p>a &unknown; b &#x10C;</p></body></html>";
        let text = html_to_text(html);
        assert_eq!(
            text,
            "Nabídka & servis\n\nDobrý den,\npane Nováku\n\nA\tB\n1 200\tx < y\n\n- jedna\n- dvě\n\na &unknown; b Č"
        );
        assert_eq!(html_to_text("<style>never closed"), "");
        assert_eq!(html_to_text("a < b > c"), "a < b > c");
        assert_eq!(html_to_text("<p>x</p><pre>  keep\n  this</pre>"), "x\n\n  keep\n  this");
    }

    #[test]
    fn broken_html_never_panics() {
        for html in [
            "<",
            "<a",
            "<!--",
            "<!-- x",
            "<script>",
            "</",
            "&",
            "&#",
            "&#x;",
            "&#99999999999;",
            "&#150;",
            "<p>ž<",
            "ž&ž;",
            "<style></sty",
            "<style></style",
            "&amp",
            "<a href='>",
            "<ščí>",
        ] {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("&#150;"), "–");
        assert_eq!(html_to_text("ž&ž;"), "ž&ž;");
    }

    #[test]
    fn sanitised_html_keeps_text_and_safe_links_and_nothing_active() {
        let cases = [
            ("<p onclick=\"x()\">Dobrý den</p><script>alert(1)</script>", "<p>Dobrý den</p>"),
            (
                "<a href=\"https://acme.cz/\">web</a>",
                "<a href=\"https://acme.cz/\" rel=\"noopener noreferrer\">web</a>",
            ),
            ("<a href=\"javascript:alert(1)\">x</a>", "<a rel=\"noopener noreferrer\">x</a>"),
            ("<a href=\"/logout\">x</a>", "<a rel=\"noopener noreferrer\">x</a>"),
            ("<a href=\"data:text/html,x\">x</a>", "<a rel=\"noopener noreferrer\">x</a>"),
            ("<img src=\"http://t.example/p.gif\" alt=\"p\">", "<img alt=\"p\">"),
            ("<img src=\"data:image/png;base64,iVBO\">", "<img src=\"data:image/png;base64,iVBO\">"),
            ("<img src=\"data:image/svg+xml,<svg/>\">", "<img>"),
            ("<div style=\"background:url(http://t.example/)\">x</div>", "<div>x</div>"),
            ("<style>body{}</style><form action=x><input></form>ok", "ok"),
        ];
        for (html, want) in cases {
            assert_eq!(sanitize(html), want, "{html}");
        }
    }
}
