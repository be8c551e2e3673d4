//! Call and meeting notes: Markdown or plain text, with optional front
//! matter (YAML between `---` lines, or TOML between `+++`), turned into
//! items. Pure: bytes and what the caller knows about the file in, item out.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::matcher::NoteHints;
use crate::model::{ItemKind, Participant, Role};
use crate::store::{DateSource, NewItem};

/// What the caller knows about the note file.
#[derive(Debug, Clone)]
pub struct NoteFile<'a> {
    /// The path relative to the notes folder (`Acme s.r.o./2026-11-27-call.md`).
    pub relative: &'a str,
    pub modified: Option<DateTime<Utc>>,
    /// The folder's default kind (`call` or `meeting`).
    pub default_kind: ItemKind,
}

/// Why a note cannot become an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note is empty")]
    Empty,
    #[error("the file is not text (binary content)")]
    Binary,
}

/// A parsed note: the item, and warnings to show (bad front matter).
#[derive(Debug, Clone)]
pub struct Note {
    pub item: NewItem,
    pub warnings: Vec<String>,
}

/// Front matter keys kronika reads.
#[derive(Debug, Clone, Default, PartialEq)]
struct Front {
    client: Option<String>,
    contact: Option<String>,
    date: Option<String>,
    kind: Option<String>,
    attendees: Vec<String>,
    subject: Option<String>,
}

/// Decodes note bytes: UTF-8 (BOM stripped), else windows-1250 (common in
/// Czech offices). Binary content is refused.
pub fn decode(bytes: &[u8]) -> Result<String, NoteError> {
    if bytes.contains(&0) {
        return Err(NoteError::Binary);
    }
    let text = crate::text::decode_bytes(bytes);
    let control = text.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c')).count();
    if control * 20 > text.chars().count().max(1) {
        return Err(NoteError::Binary);
    }
    Ok(text.replace("\r\n", "\n"))
}

/// Parses a note.
pub fn parse(bytes: &[u8], file: &NoteFile<'_>) -> Result<Note, NoteError> {
    let text = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(NoteError::Empty);
    }
    let mut warnings = Vec::new();
    let (front, body) = match split_front_matter(&text) {
        Some((kind, raw, body)) => match parse_front(kind, raw) {
            Ok(f) => (f, body.to_string()),
            Err(e) => {
                warnings.push(format!("cannot read the front matter ({e}); the note is kept without it"));
                (Front::default(), body.to_string())
            }
        },
        None => (Front::default(), text.clone()),
    };
    let body = body.trim().to_string();
    let subject = front
        .subject
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| first_line(&body).unwrap_or_else(|| file_stem(file.relative)));
    let kind = match front.kind.as_deref().map(|k| k.trim().to_lowercase()) {
        Some(k) if k == "call" || k == "hovor" || k == "telefon" => ItemKind::Call,
        Some(k) if k == "meeting" || k == "schůzka" || k == "schuzka" || k == "jednání" => ItemKind::Meeting,
        Some(other) => {
            warnings.push(format!("kind {other:?} is not call or meeting; using {}", file.default_kind));
            file.default_kind
        }
        None => file.default_kind,
    };
    let (date, date_source) = match front.date.as_deref().and_then(parse_when) {
        Some(d) => (d, DateSource::Header),
        None => {
            if let Some(raw) = &front.date {
                warnings.push(format!("date {raw:?} is not a date; using the file name or time"));
            }
            match date_in_name(file.relative) {
                Some(d) => (d, DateSource::File),
                None => (file.modified.unwrap_or_else(Utc::now), DateSource::File),
            }
        }
    };
    let mut participants = Vec::new();
    let mut push = |role: Role, raw: &str| {
        if let Some(address) = crate::address::normalize(raw)
            && !participants.iter().any(|p: &Participant| p.address == address)
        {
            participants.push(Participant { role, name: None, address });
        }
    };
    if let Some(c) = &front.contact {
        push(Role::Attendee, c);
    }
    for a in &front.attendees {
        push(Role::Attendee, a);
    }
    for word in body.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '<' | '>' | '[' | ']')) {
        if word.contains('@') {
            push(Role::Mentioned, word.trim_matches(|c: char| !c.is_alphanumeric()));
        }
    }
    let folders: Vec<String> = {
        let mut parts: Vec<&str> = file.relative.split(['/', '\\']).collect();
        parts.pop();
        parts.into_iter().rev().filter(|p| !p.is_empty()).map(str::to_string).collect()
    };
    let content_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    let hints = NoteHints { client: front.client.clone(), contact: front.contact.clone(), folders };
    let item = NewItem {
        kind,
        date,
        date_source,
        subject: crate::text::ellipsize(subject.trim(), 200),
        body: body.clone(),
        participants,
        content_hash,
        size: bytes.len() as u64,
        // The hints are kept so that re-matching decides as ingestion did.
        extra: serde_json::json!({ "path": file.relative, "note": hints }),
        note: Some(hints),
        ..NewItem::default()
    };
    Ok(Note { item, warnings })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrontKind {
    Yaml,
    Toml,
}

/// `---\n…\n---\n` or `+++\n…\n+++\n` at the very start.
fn split_front_matter(text: &str) -> Option<(FrontKind, &str, &str)> {
    for (fence, kind) in [("---", FrontKind::Yaml), ("+++", FrontKind::Toml)] {
        let Some(rest) = text.strip_prefix(fence) else { continue };
        let Some(rest) = rest.strip_prefix('\n') else { continue };
        let mut offset = 0;
        for line in rest.split_inclusive('\n') {
            if line.trim_end() == fence {
                let (front, after) = rest.split_at_checked(offset)?;
                return Some((kind, front, after.get(line.len()..).unwrap_or("")));
            }
            offset += line.len();
        }
        return None;
    }
    None
}

fn parse_front(kind: FrontKind, raw: &str) -> Result<Front, String> {
    match kind {
        FrontKind::Toml => {
            let v: toml::Table = toml::from_str(raw).map_err(|e| e.message().to_string())?;
            let text = |k: &str| {
                v.get(k).map(|x| match x {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let attendees = match v.get("attendees") {
                Some(toml::Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
                Some(toml::Value::String(s)) => split_list(s),
                _ => Vec::new(),
            };
            Ok(Front {
                client: text("client"),
                contact: text("contact"),
                date: text("date"),
                kind: text("kind"),
                subject: text("subject").or_else(|| text("title")),
                attendees,
            })
        }
        FrontKind::Yaml => parse_yaml_subset(raw),
    }
}

/// The YAML that front matter uses: `key: value` lines (quoted or not),
/// lists as `[a, b]` or as `- item` lines under the key, `#` comments.
fn parse_yaml_subset(raw: &str) -> Result<Front, String> {
    let mut f = Front::default();
    let mut list_key: Option<String> = None;
    for (n, line) in raw.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(item) = trimmed.strip_prefix("- ") {
            match list_key.as_deref() {
                Some("attendees") => f.attendees.push(unquote(item)),
                Some(_) => {}
                None => return Err(format!("line {}: a list item without a key", n + 1)),
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            return Err(format!("line {}: expected `key: value`", n + 1));
        };
        let key = key.trim().to_lowercase();
        if key.is_empty() || key.contains(' ') && !key.starts_with("účast") {
            return Err(format!("line {}: {trimmed:?} is not `key: value`", n + 1));
        }
        let value = value.trim();
        list_key = None;
        if value.is_empty() {
            list_key = Some(key);
            continue;
        }
        let value = strip_comment(value);
        match key.as_str() {
            "client" | "klient" => f.client = Some(unquote(value)),
            "contact" | "kontakt" => f.contact = Some(unquote(value)),
            "date" | "datum" => f.date = Some(unquote(value)),
            "kind" | "typ" => f.kind = Some(unquote(value)),
            "subject" | "title" | "předmět" => f.subject = Some(unquote(value)),
            "attendees" | "účastníci" => {
                let inner = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')).unwrap_or(value);
                f.attendees.extend(split_list(inner));
            }
            _ => {}
        }
    }
    Ok(f)
}

fn strip_comment(v: &str) -> &str {
    if v.starts_with('"') || v.starts_with('\'') {
        return v;
    }
    v.split(" #").next().unwrap_or(v).trim()
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        // YAML double quotes: backslash escapes (what `note_text` writes).
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        }
        return out;
    }
    if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    v.to_string()
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(unquote).filter(|x| !x.is_empty()).collect()
}

/// The first heading or non-empty line, without Markdown markers.
fn first_line(body: &str) -> Option<String> {
    body.lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .find(|l| !l.is_empty())
        .map(|l| crate::text::ellipsize(l, 200))
}

fn file_stem(relative: &str) -> String {
    let name = relative.rsplit(['/', '\\']).next().unwrap_or(relative);
    name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name).to_string()
}

/// A note as `kronika note add` and the web write it: YAML front matter
/// (client, date, kind, subject, contact) and the text. [`parse`] reads it
/// back to the same client, date, kind and contact.
pub fn note_text(client: &str, when: DateTime<Local>, kind: ItemKind, contact: Option<&str>, text: &str) -> String {
    let subject =
        text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").trim_start_matches('#').trim().to_string();
    let mut front = format!(
        "---\nclient: {}\ndate: {}\nkind: {}\nsubject: {}\n",
        yaml(client),
        when.format("%Y-%m-%d %H:%M"),
        kind,
        yaml(&crate::text::ellipsize(&subject, 120))
    );
    if let Some(p) = contact {
        front.push_str(&format!("contact: {}\n", yaml(p)));
    }
    front.push_str("---\n");
    format!("{front}\n{}\n", text.trim_end())
}

/// The file name of a note without its extension:
/// `2026-11-27-pekarna-novak-s-r-o-call`.
pub fn note_file_base(client: &str, when: DateTime<Local>, kind: ItemKind) -> String {
    format!("{}-{}-{}", when.format("%Y-%m-%d"), slug(client), kind)
}

/// `Pekárna Novák s.r.o.` → `pekarna-novak-s-r-o` (at most 40 characters).
pub fn slug(s: &str) -> String {
    let folded = crate::text::fold(s);
    let mut out = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(40).collect()
}

/// A YAML double-quoted string on one line (control characters become spaces).
fn yaml(s: &str) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("\"{}\"", flat.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A date or date-time as people write it; local time when no zone is given.
pub fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%d.%m.%Y %H:%M",
        "%d. %m. %Y %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return local(naive);
        }
    }
    crate::model::parse_date(s).and_then(|d| local(d.and_hms_opt(0, 0, 0)?))
}

fn local(naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    Local.from_local_datetime(&naive).earliest().map(|d| d.with_timezone(&Utc))
}

/// A `YYYY-MM-DD` date in the file name (`2026-11-27-acme.md`).
fn date_in_name(relative: &str) -> Option<DateTime<Utc>> {
    let name = relative.rsplit(['/', '\\']).next().unwrap_or(relative);
    for i in 0..name.len().saturating_sub(9) {
        // A window that starts or ends inside a multi-byte char is no date.
        let Some(candidate) = name.get(i..i + 10) else { continue };
        if let Ok(d) = NaiveDate::parse_from_str(candidate, "%Y-%m-%d") {
            return local(d.and_hms_opt(0, 0, 0)?);
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    fn file(rel: &str) -> NoteFile<'_> {
        NoteFile {
            relative: rel,
            modified: Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
            default_kind: ItemKind::Call,
        }
    }

    #[test]
    fn yaml_front_matter() {
        let n = parse(
            b"---\nclient: \"Acme Stavby\"\ncontact: karel.horak@acme-stavby.cz\ndate: 2026-11-20 14:30\nkind: meeting\nattendees:\n  - lucie.mala@acme-stavby.cz\nsubject: Kontrolni den\n---\n# Heading\nText.\n",
            &file("x.md"),
        )
        .unwrap();
        assert_eq!(n.item.kind, ItemKind::Meeting);
        assert_eq!(n.item.subject, "Kontrolni den");
        assert_eq!(n.item.date_source, DateSource::Header);
        assert_eq!(n.item.participants.len(), 2);
        let hints = n.item.note.unwrap();
        assert_eq!(hints.client.as_deref(), Some("Acme Stavby"));
        assert!(n.warnings.is_empty());
        assert_eq!(n.item.body, "# Heading\nText.");
    }

    #[test]
    fn toml_front_matter_and_bad_front_matter() {
        let n = parse(
            b"+++\nclient = \"Pekarna\"\nattendees = [\"a@b.cz\"]\nkind = \"call\"\n+++\nHovor.\n",
            &file("y.txt"),
        )
        .unwrap();
        assert_eq!(n.item.note.unwrap().client.as_deref(), Some("Pekarna"));
        assert_eq!(n.item.participants[0].address, "a@b.cz");
        let bad = parse(b"+++\nclient = \n+++\nHovor.\n", &file("y.txt")).unwrap();
        assert_eq!(bad.warnings.len(), 1);
        assert_eq!(bad.item.subject, "Hovor.");
    }

    #[test]
    fn without_front_matter() {
        let n = parse(b"\n\n## Call with Karel\nkarel@acme.cz asked for a quote.\n", &file("Acme/2026-11-27-acme.md"))
            .unwrap();
        assert_eq!(n.item.subject, "Call with Karel");
        assert_eq!(n.item.date_source, DateSource::File);
        assert_eq!(n.item.date.with_timezone(&Local).date_naive(), NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        assert_eq!(n.item.participants[0].address, "karel@acme.cz");
        assert_eq!(n.item.note.unwrap().folders, vec!["Acme"]);
        let m = parse(b"text", &file("undated.md")).unwrap();
        assert_eq!(m.item.date, Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
    }

    #[test]
    fn encodings_and_bad_files() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1250.encode("Schůzka s panem Horákem – příští týden");
        let n = parse(&bytes, &file("a.txt")).unwrap();
        assert_eq!(n.item.subject, "Schůzka s panem Horákem – příští týden");
        assert_eq!(parse(b"  \n\n", &file("a.md")).unwrap_err(), NoteError::Empty);
        assert_eq!(parse(b"\x00\x01\x02PNG", &file("a.md")).unwrap_err(), NoteError::Binary);
        assert_eq!(parse(b"\xEF\xBB\xBFAhoj", &file("a.md")).unwrap().item.subject, "Ahoj");
    }

    #[test]
    fn multi_byte_text_never_panics() {
        // A date after a multi-byte char in the file name is still found.
        let n = parse(b"text", &file("Pekárna/ž2026-11-27-hovor.md")).unwrap();
        assert_eq!(n.item.date.with_timezone(&Local).date_naive(), NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        for raw in [
            "---\nclient: \"\nkind: '\nattendees: [\"ž, 'ž]\n---\nž",
            "---\n- ž\n---\n",
            "---\nžž\n---\nx",
            "+++\nclient = 'ž\n+++\nx",
            "---\ndate: 9999-12-31 23:59\n---\nx",
            "---\ndate: +262143-12-31T23:59:59-23:59\n---\nx",
            "---\ndate: 0000-01-01\n---\nx",
            "---\n",
            "---\n---",
            "+++",
            "ž",
        ] {
            let _ = parse(raw.as_bytes(), &file("ž.md"));
            let _ = parse(raw.as_bytes(), &file("2026-1ž-27.md"));
        }
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("'ž'"), "ž");
    }

    #[test]
    fn written_notes_read_back() {
        let when = Local.with_ymd_and_hms(2026, 11, 27, 10, 30, 0).unwrap();
        let name = "Acme \"Nej\" \\ s.r.o.\nkind: call";
        let text = note_text(name, when, ItemKind::Meeting, Some("karel@acme.cz"), "# Schůzka\nText.\n\n");
        assert_eq!(text.lines().filter(|l| l.starts_with("kind:")).count(), 1, "{text}");
        let n = parse(text.as_bytes(), &file("a.md")).unwrap();
        assert_eq!(n.item.kind, ItemKind::Meeting);
        assert_eq!(n.item.subject, "Schůzka");
        assert_eq!(n.item.note.as_ref().unwrap().client.as_deref(), Some("Acme \"Nej\" \\ s.r.o. kind: call"));
        assert_eq!(n.item.date, when.with_timezone(&Utc));
        assert_eq!(note_file_base("Pekárna Novák s.r.o.", when, ItemKind::Call), "2026-11-27-pekarna-novak-s-r-o-call");
        assert_eq!(slug("Pekárna Novák s.r.o."), "pekarna-novak-s-r-o");
        assert_eq!(yaml("a \"b\""), "\"a \\\"b\\\"\"");
        assert_eq!(unquote("'it''s'"), "it's");
    }

    #[test]
    fn dates_people_write() {
        assert!(parse_when("2026-11-27").is_some());
        assert!(parse_when("27.11.2026").is_some());
        assert!(parse_when("2026-11-27T10:00:00+01:00").is_some());
        assert!(parse_when("27.11.2026 14:30").is_some());
        assert!(parse_when("tomorrow").is_none());
    }
}
