//! A deterministic, realistic corpus for kronika benchmarks: a client list
//! (`clients.csv`), a Maildir++ tree of B2B mail between our company
//! (Modrý Kámen s.r.o., `modrykamen.cz`) and its clients, and search queries
//! that make sense on it (`queries.txt`).
//!
//! Include it from a benchmark with `#[path = "corpus/mod.rs"] mod corpus;`
//! and call [`generate`]. The same [`CorpusSpec`] always gives the same bytes;
//! the client list depends only on `clients` and `seed`.
//!
//! What the mail looks like with [`Shape::Standard`] (shares are of all
//! messages, measured at 100k): about 60 % INBOX, 30 % `.Sent`, 10 %
//! `.Archiv.2025`; ~70 % Czech; ~40 % replies in threads of 2–8 with
//! Message-ID / In-Reply-To / References (72 % of client conversations are a
//! single message); ~1 % without Message-ID; utf-8 QP / utf-8 base64 /
//! windows-1250 QP / iso-8859-2 base64 / us-ascii bodies with RFC 2047
//! headers (16 % in windows-1250 or iso-8859-2); ~10 %
//! multipart/alternative, ~2 % HTML-only; ~8 % with a 20–200 KB PDF-like or
//! xlsx-like attachment (RFC 2231 names when not ASCII); newsletters,
//! free-mail senders and internal mail at a few percent each. Sizes: mean
//! 12.2 KB, median 2.8 KB, p99 207 KB. Every message is 7-bit clean.
//!
//! [`Shape::Varied`] has other proportions, so that import figures are not
//! tuned to one shape of mail; it is modelled on a user's report of another
//! generator of Czech business mail (200,000 messages ≈ 1.8 GB, 28 % in
//! windows-1250 or iso-8859-2, 8 % with attachments). The same clients,
//! people, topics and phrases, and at 100k (seed 42):
//! - charsets: 28 % windows-1250 or iso-8859-2 (each as quoted-printable
//!   and raw `8bit`, iso-8859-2 also base64; RFC 2047 headers in the same
//!   charset), 25 % of all messages with a raw 8-bit body (utf-8 8bit too),
//!   ~2 % us-ascii; the header stays 7-bit;
//! - attachments: 8 % of messages, 1.2 files each: mostly small ones — the
//!   topic's PDF or xlsx at 6–32 KB, docx, PNG screenshots and inline
//!   signature pictures (`image001.png`), one or two phone photos (JPEG
//!   20–100 KB) — a few scans (60–200 KB) and rarely (12 messages at
//!   100k) a 1–3 MB drawing or catalogue;
//! - threads: 86 % of client conversations are a single message; 12 % have
//!   2–8, 1.5 % 9–29 and 0.4 % 30–80 messages (a tenth of all mail), with
//!   full quoted history up to 16,000 characters deep; about one client
//!   thread in five of 3+ messages is forwarded to a colleague with its
//!   history (`Fwd:` / `FW:`);
//! - sizes: mean 9.2 KB, median 3.2 KB, p90 22 KB, p99 74 KB, max ~4 MB:
//!   ~16 % multipart/alternative and ~5 % HTML-only client mail, 6 %
//!   newsletters of which 40 % are e-shop mailings with 8–40 product cards
//!   in heavy table markup (up to ~90 KB).
//!
//! Messages are written one by one; only the current thread is kept in memory.
//! All names and companies are invented; IP addresses come from the
//! documentation ranges (RFC 5737).
//!
//! Includers should put `#[allow(dead_code)]` on the `mod corpus;` line: a
//! benchmark rarely uses every helper here.

mod encode;
mod phrases;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use encode::Encoding;
use phrases::{self as ph, Bank, Topic};

/// What to generate.
pub struct CorpusSpec {
    pub messages: usize,
    pub clients: usize,
    pub seed: u64,
    pub shape: Shape,
}

/// The proportions of a corpus: the standard one the README's figures come
/// from, or a second one with other charsets, attachments, thread lengths
/// and sizes, so that import figures are not tuned to one shape of mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Standard,
    Varied,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Standard => "standard",
            Shape::Varied => "varied",
        }
    }

    /// `standard` or `varied`, in any case.
    pub fn parse(name: &str) -> Option<Shape> {
        [Shape::Standard, Shape::Varied].into_iter().find(|s| s.name().eq_ignore_ascii_case(name))
    }

    fn profile(self) -> &'static Profile {
        match self {
            Shape::Standard => &STANDARD,
            Shape::Varied => &VARIED,
        }
    }
}

/// Everything in which the shapes differ. Standard's values are the ones the
/// generator always had, drawn in the same order, so its output does not
/// change; what Standard does not use is off there (`0.0`, `None`, empty)
/// and then draws nothing from the random stream.
struct Profile {
    /// Shares of conversations that are a newsletter and internal mail.
    newsletter_p: f64,
    internal_p: f64,
    /// The chance that a client conversation gets replies, and its length
    /// buckets `((shortest, longest), weight)`, uniform within a bucket.
    thread_p: f64,
    thread_lengths: &'static [((usize, usize), u32)],
    /// Quoted history kept in a reply or a forward (characters).
    max_quoted: usize,
    /// Body encodings of Czech and English client mail and of Czech newsletters.
    cs_encodings: &'static [(Encoding, u32)],
    en_encodings: &'static [(Encoding, u32)],
    cs_news_encodings: &'static [(Encoding, u32)],
    /// HTML in client mail, per mille: multipart/alternative below `.0`, HTML-only below `.1`.
    html: (usize, usize),
    /// Attachment chance per message by topic; `None`: `Topic::WEIGHTS`'.
    attach_p: Option<&'static [(Topic, f64)]>,
    /// The mix of attachment kinds; `None`: one of the topic's PDF or xlsx
    /// names, 20–200 KB.
    attachments: Option<&'static [(AttachmentMix, u32)]>,
    /// The chance that a finished client thread of 3+ messages is forwarded
    /// to a colleague, with its whole history.
    forward_p: f64,
    /// Newsletter articles (inclusive range), and the chance of an e-shop
    /// newsletter with this many product cards besides.
    news_items: (i64, i64),
    news_cards_p: f64,
    news_cards: (i64, i64),
}

/// One kind of attachment in a mix: file names (Czech, English; `None` for
/// the topic's own), decoded size range in bytes (log-uniform), and at most
/// how many files of it one message carries.
#[derive(Clone, Copy)]
struct AttachmentMix {
    names: Names,
    size: (f64, f64),
    most: usize,
}

type Names = Option<(&'static [&'static str], &'static [&'static str])>;

const fn files(names: Names, smallest: f64, largest: f64, most: usize) -> AttachmentMix {
    AttachmentMix { names, size: (smallest, largest), most }
}

const STANDARD: Profile = Profile {
    newsletter_p: 0.085,
    internal_p: 0.04,
    thread_p: 0.285,
    thread_lengths: &[((2, 2), 30), ((3, 3), 25), ((4, 4), 17), ((5, 5), 11), ((6, 6), 8), ((7, 7), 5), ((8, 8), 4)],
    max_quoted: 40_000,
    cs_encodings: &[
        (Encoding::Utf8Qp, 60),
        (Encoding::Utf8Base64, 15),
        (Encoding::Win1250Qp, 16),
        (Encoding::Latin2Base64, 9),
    ],
    en_encodings: &[(Encoding::Ascii7bit, 70), (Encoding::Utf8Qp, 25), (Encoding::Utf8Base64, 5)],
    cs_news_encodings: &[(Encoding::Utf8Qp, 60), (Encoding::Utf8Base64, 40)],
    html: (70, 76),
    attach_p: None,
    attachments: None,
    forward_p: 0.0,
    news_items: (3, 5),
    news_cards_p: 0.0,
    news_cards: (0, 0),
};

const VARIED: Profile = Profile {
    newsletter_p: 0.11,
    internal_p: 0.035,
    thread_p: 0.14,
    thread_lengths: &[((2, 3), 57), ((4, 8), 30), ((9, 29), 10), ((30, 80), 3)],
    max_quoted: 16_000,
    cs_encodings: &[
        (Encoding::Utf8Qp, 34),
        (Encoding::Utf8Base64, 8),
        (Encoding::Utf8_8bit, 14),
        (Encoding::Win1250Qp, 12),
        (Encoding::Win1250_8bit, 10),
        (Encoding::Latin2Qp, 8),
        (Encoding::Latin2_8bit, 7),
        (Encoding::Latin2Base64, 5),
    ],
    en_encodings: &[
        (Encoding::Ascii7bit, 45),
        (Encoding::Utf8Qp, 20),
        (Encoding::Utf8_8bit, 25),
        (Encoding::Utf8Base64, 10),
    ],
    cs_news_encodings: &[
        (Encoding::Utf8Qp, 35),
        (Encoding::Utf8Base64, 25),
        (Encoding::Win1250Qp, 25),
        (Encoding::Latin2Qp, 15),
    ],
    html: (130, 160),
    attach_p: Some(&[
        (Topic::Offer, 0.085),
        (Topic::Invoice, 0.125),
        (Topic::Order, 0.05),
        (Topic::Contract, 0.09),
        (Topic::Service, 0.10),
        (Topic::Meeting, 0.035),
        (Topic::Complaint, 0.19),
        (Topic::Delivery, 0.09),
    ]),
    // Mostly small documents and pictures, a few scans, rarely a large file.
    attachments: Some(&[
        (files(None, 6_000.0, 32_000.0, 1), 480),
        (files(Some((ph::CS_DOCX_NAMES, ph::EN_DOCX_NAMES)), 10_000.0, 45_000.0, 1), 50),
        (files(Some((ph::CS_PNG_NAMES, ph::EN_PNG_NAMES)), 2_000.0, 30_000.0, 2), 250),
        (files(Some((ph::CS_PHOTO_NAMES, ph::EN_PHOTO_NAMES)), 20_000.0, 100_000.0, 2), 100),
        (files(Some((ph::CS_SCAN_NAMES, ph::EN_SCAN_NAMES)), 60_000.0, 200_000.0, 1), 25),
        (files(Some((ph::CS_LARGE_NAMES, ph::EN_LARGE_NAMES)), 1_000_000.0, 3_000_000.0, 1), 2),
    ]),
    forward_p: 0.2,
    news_items: (4, 10),
    news_cards_p: 0.4,
    news_cards: (8, 40),
};

/// What [`generate`] wrote.
pub struct Corpus {
    /// The Maildir++ root (INBOX at top, `.Sent`, `.Archiv.2025`).
    pub maildir: PathBuf,
    pub clients_csv: PathBuf,
    pub queries: Vec<String>,
    /// Total size of the message files.
    pub bytes: u64,
    pub messages: usize,
}

impl Corpus {
    /// A corpus generated earlier into `dir` (`--keep`): its Maildir, its
    /// clients and its queries; `bytes` is the size of its message files.
    pub fn read(dir: &Path, messages: usize, bytes: u64) -> io::Result<Corpus> {
        let queries = fs::read_to_string(dir.join("queries.txt"))?;
        Ok(Corpus {
            maildir: dir.join("maildir"),
            clients_csv: dir.join("clients.csv"),
            queries: queries.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect(),
            bytes,
            messages,
        })
    }
}

/// Counts describing a generated corpus (also written to `corpus.json`).
#[derive(Debug, Default, Clone)]
pub struct CorpusStats {
    pub messages: usize,
    pub bytes: u64,
    pub clients: usize,
    pub inbox: usize,
    pub sent: usize,
    pub archive: usize,
    /// Conversations with two or more messages, and the messages in them.
    pub threads: usize,
    pub thread_messages: usize,
    pub replies: usize,
    pub without_message_id: usize,
    pub czech: usize,
    pub english: usize,
    pub encodings: BTreeMap<&'static str, usize>,
    pub crlf: usize,
    pub encoded_subjects: usize,
    pub alternative: usize,
    pub html_only: usize,
    pub attachments: usize,
    pub attachment_bytes: u64,
    pub non_ascii_attachment_names: usize,
    pub client_mail: usize,
    pub free_mail: usize,
    pub newsletters: usize,
    pub internal: usize,
    /// The shape the corpus was generated with.
    pub shape: Shape,
    /// Attachment files (a message may carry several; `attachments` counts messages).
    pub attachment_files: usize,
    /// Messages whose body is raw 8-bit (`Content-Transfer-Encoding: 8bit`).
    pub eight_bit: usize,
    /// Client threads forwarded to a colleague (counted in `internal` too).
    pub forwards: usize,
    /// Client conversations by number of messages (singles included).
    pub conversation_lengths: BTreeMap<usize, usize>,
    sizes: Vec<u32>,
}

impl CorpusStats {
    /// Message size at percentile `p` (0–100).
    pub fn size_percentile(&self, p: f64) -> u32 {
        let mut s = self.sizes.clone();
        s.sort_unstable();
        if s.is_empty() {
            return 0;
        }
        let i = ((s.len() - 1) as f64 * p / 100.0).round() as usize;
        s[i]
    }

    /// Number of messages whose size lies in `lo..hi` bytes.
    pub fn sizes_between(&self, lo: u32, hi: u32) -> usize {
        self.sizes.iter().filter(|&&s| s >= lo && s < hi).count()
    }

    /// Client conversations of `lo..=hi` messages, and the messages in them.
    pub fn conversations_between(&self, lo: usize, hi: usize) -> (usize, usize) {
        self.conversation_lengths.range(lo..=hi).fold((0, 0), |(c, m), (&len, &n)| (c + n, m + len * n))
    }

    /// Messages in windows-1250 or iso-8859-2, whatever the transfer encoding.
    pub fn legacy_charsets(&self) -> usize {
        self.encodings
            .iter()
            .filter(|(k, _)| k.starts_with("windows-1250") || k.starts_with("iso-8859-2"))
            .map(|(_, v)| v)
            .sum()
    }

    /// Buckets of client conversation lengths: `[lo, hi, conversations, messages]`.
    fn length_buckets(&self) -> Vec<[usize; 4]> {
        [(1, 1), (2, 8), (9, 29), (30, usize::MAX)]
            .iter()
            .map(|&(lo, hi)| {
                let (c, m) = self.conversations_between(lo, hi);
                [lo, hi, c, m]
            })
            .collect()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "messages": self.messages,
            "bytes": self.bytes,
            "clients": self.clients,
            "folders": { "INBOX": self.inbox, ".Sent": self.sent, ".Archiv.2025": self.archive },
            "threads": self.threads,
            "thread_messages": self.thread_messages,
            "replies": self.replies,
            "without_message_id": self.without_message_id,
            "language": { "cs": self.czech, "en": self.english },
            "encodings": self.encodings,
            "crlf": self.crlf,
            "encoded_subjects": self.encoded_subjects,
            "multipart_alternative": self.alternative,
            "html_only": self.html_only,
            "attachments": self.attachments,
            "attachment_bytes": self.attachment_bytes,
            "non_ascii_attachment_names": self.non_ascii_attachment_names,
            "kinds": {
                "client": self.client_mail,
                "free_mail": self.free_mail,
                "newsletter_or_unknown": self.newsletters,
                "internal": self.internal,
            },
            "size_bytes": {
                "median": self.size_percentile(50.0),
                "p90": self.size_percentile(90.0),
                "p99": self.size_percentile(99.0),
                "max": self.size_percentile(100.0),
                "20k_to_50k": self.sizes_between(20_000, 50_000),
            },
        })
        .as_object()
        .cloned()
        .map(|mut v| {
            // Standard's corpus.json keeps exactly the keys it always had
            // (its corpus must stay byte-identical); other shapes say more.
            if self.shape != Shape::Standard {
                let lengths: serde_json::Map<String, serde_json::Value> = self
                    .length_buckets()
                    .iter()
                    .map(|&[lo, hi, c, m]| {
                        let key = match hi {
                            usize::MAX => format!("{lo}+"),
                            _ if lo == hi => lo.to_string(),
                            _ => format!("{lo}-{hi}"),
                        };
                        (key, serde_json::json!({ "conversations": c, "messages": m }))
                    })
                    .collect();
                v.insert("shape".into(), self.shape.name().into());
                v.insert("client_conversation_lengths".into(), lengths.into());
                v.insert(
                    "longest_conversation".into(),
                    self.conversation_lengths.keys().next_back().copied().unwrap_or(0).into(),
                );
                v.insert("legacy_charsets".into(), self.legacy_charsets().into());
                v.insert("eight_bit".into(), self.eight_bit.into());
                v.insert("attachment_files".into(), self.attachment_files.into());
                v.insert("forwards".into(), self.forwards.into());
                v.insert("mean_size".into(), (self.bytes / self.messages.max(1) as u64).into());
            }
            serde_json::Value::Object(v)
        })
        .unwrap_or_default()
    }

    /// A human-readable multi-line summary.
    pub fn summary(&self) -> String {
        let n = self.messages.max(1) as f64;
        let pct = |x: usize| 100.0 * x as f64 / n;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "folders: INBOX {} ({:.1} %), .Sent {} ({:.1} %), .Archiv.2025 {} ({:.1} %)",
            self.inbox,
            pct(self.inbox),
            self.sent,
            pct(self.sent),
            self.archive,
            pct(self.archive)
        );
        let _ = writeln!(
            s,
            "threads: {} with {} messages; replies {} ({:.1} %); without Message-ID {} ({:.2} %)",
            self.threads,
            self.thread_messages,
            self.replies,
            pct(self.replies),
            self.without_message_id,
            pct(self.without_message_id)
        );
        let _ = writeln!(s, "language: cs {} ({:.1} %), en {}", self.czech, pct(self.czech), self.english);
        let _ = write!(s, "encodings:");
        for (k, v) in &self.encodings {
            let _ = write!(s, " {k} {v} ({:.1} %);", pct(*v));
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "charsets: windows-1250 or iso-8859-2 {} ({:.1} %), 8bit bodies {} ({:.1} %)",
            self.legacy_charsets(),
            pct(self.legacy_charsets()),
            self.eight_bit,
            pct(self.eight_bit)
        );
        let conversations: usize = self.conversation_lengths.values().sum();
        let _ = write!(s, "client conversations by length ({conversations}):");
        for [lo, hi, c, m] in self.length_buckets() {
            let range = match hi {
                usize::MAX => format!("{lo}+"),
                _ if lo == hi => lo.to_string(),
                _ => format!("{lo}–{hi}"),
            };
            let _ = write!(
                s,
                " {range}: {c} ({:.1} %) with {m} messages ({:.1} %);",
                100.0 * c as f64 / conversations.max(1) as f64,
                pct(m)
            );
        }
        let _ = writeln!(s, " longest {}", self.conversation_lengths.keys().next_back().copied().unwrap_or(0));
        let _ = writeln!(
            s,
            "mime: alternative {} ({:.1} %), html-only {} ({:.1} %), crlf {}, encoded subjects {}",
            self.alternative,
            pct(self.alternative),
            self.html_only,
            pct(self.html_only),
            self.crlf,
            self.encoded_subjects
        );
        let _ = writeln!(
            s,
            "attachments: {} ({:.1} %), {} files, {:.1} MB decoded, {} with non-ASCII names",
            self.attachments,
            pct(self.attachments),
            self.attachment_files,
            self.attachment_bytes as f64 / 1e6,
            self.non_ascii_attachment_names
        );
        let _ = writeln!(
            s,
            "kinds: client {} ({:.1} %), free-mail {} ({:.1} %), newsletter/unknown {} ({:.1} %), internal {} ({:.1} %, {} forwarded threads)",
            self.client_mail,
            pct(self.client_mail),
            self.free_mail,
            pct(self.free_mail),
            self.newsletters,
            pct(self.newsletters),
            self.internal,
            pct(self.internal),
            self.forwards
        );
        let _ = write!(
            s,
            "sizes: mean {} B, median {} B, p90 {} B, p99 {} B, max {} B, 20–50 KB: {}, over 1 MB: {}",
            self.bytes / self.messages.max(1) as u64,
            self.size_percentile(50.0),
            self.size_percentile(90.0),
            self.size_percentile(99.0),
            self.size_percentile(100.0),
            self.sizes_between(20_000, 50_000),
            self.sizes_between(1_000_000, u32::MAX)
        );
        s
    }
}

/// Our company.
pub const OUR_DOMAIN: &str = "modrykamen.cz";
pub const OUR_COMPANY: &str = "Modrý Kámen s.r.o.";
pub const FREE_MAIL: &[&str] = &["seznam.cz", "gmail.com", "email.cz"];
const OUR_FOOTER_CS: &str = "Modrý Kámen s.r.o., IČO 27195821, zapsaná v obchodním rejstříku vedeném Krajským soudem v Plzni, oddíl C, vložka 24817. Informace o zpracování osobních údajů najdete na www.modrykamen.cz/gdpr. Před vytištěním tohoto e-mailu prosím zvažte dopad na životní prostředí.";
const OUR_FOOTER_EN: &str = "Modrý Kámen s.r.o., company ID 27195821, registered with the Regional Court in Pilsen, section C, file 24817. Our privacy notice: www.modrykamen.cz/gdpr.";
/// Our salespeople: (first, first vocative, last, female).
const OUR_PEOPLE: &[(&str, &str, &str, bool)] = &[
    ("Jana", "Jano", "Svobodová", true),
    ("Petr", "Petře", "Dvořák", false),
    ("Kateřina", "Kateřino", "Němcová", true),
    ("Martin", "Martine", "Kučera", false),
    ("Ondřej", "Ondřeji", "Beneš", false),
];
const FOLDERS: [&str; 3] = ["", ".Sent", ".Archiv.2025"];
const INBOX: usize = 0;
const SENT: usize = 1;
const ARCHIVE: usize = 2;

/// Generates the corpus into `out_dir` (created if missing). A previous
/// corpus there (recognised by its `corpus.json`) is replaced; any other
/// existing `maildir/` is an error.
pub fn generate(spec: &CorpusSpec, out_dir: &Path) -> io::Result<Corpus> {
    generate_with_stats(spec, out_dir).map(|(corpus, _)| corpus)
}

/// [`generate`], also returning the corpus statistics.
pub fn generate_with_stats(spec: &CorpusSpec, out_dir: &Path) -> io::Result<(Corpus, CorpusStats)> {
    let maildir = out_dir.join("maildir");
    let marker = out_dir.join("corpus.json");
    fs::create_dir_all(out_dir)?;
    if maildir.exists() {
        if !marker.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and was not written by the corpus generator; refusing to replace it",
                    maildir.display()
                ),
            ));
        }
        fs::remove_dir_all(&maildir)?;
    }
    fs::write(&marker, "{\"complete\": false}\n")?;
    let mut dirs = Vec::new();
    for folder in FOLDERS {
        let root = maildir.join(folder);
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(root.join(sub))?;
        }
        if !folder.is_empty() {
            fs::write(root.join("maildirfolder"), "")?;
        }
        dirs.push(root.join("cur"));
    }

    let world = World::new(spec.clients.max(1), spec.seed);
    let clients_csv = out_dir.join("clients.csv");
    world.write_csv(&clients_csv)?;

    let mut g = Gen::new(&world, spec, dirs);
    while g.written < spec.messages {
        g.conversation()?;
    }
    let queries = g.queries();
    let mut q = String::new();
    for line in &queries {
        q.push_str(line);
        q.push('\n');
    }
    fs::write(out_dir.join("queries.txt"), q)?;

    let mut stats = std::mem::take(&mut g.stats);
    stats.messages = g.written;
    stats.bytes = g.bytes;
    stats.clients = world.clients.len();
    let json = serde_json::json!({
        "complete": true,
        "spec": spec_json(spec),
        "stats": stats.to_json(),
        "queries": queries,
    });
    fs::write(&marker, serde_json::to_string_pretty(&json).map_err(io::Error::other)? + "\n")?;
    let corpus = Corpus { maildir, clients_csv, queries, bytes: g.bytes, messages: g.written };
    Ok((corpus, stats))
}

/// The spec as `corpus.json` records it; the shape only when it is not
/// Standard, whose `corpus.json` stays as it always was.
fn spec_json(spec: &CorpusSpec) -> serde_json::Value {
    let mut v = serde_json::json!({ "messages": spec.messages, "clients": spec.clients, "seed": spec.seed });
    if spec.shape != Shape::Standard {
        v["shape"] = spec.shape.name().into();
    }
    v
}

// ---------------------------------------------------------------------------
// Randomness

/// SplitMix64: small, fast and good enough for synthetic data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut r = Rng(seed ^ 0x6A09_E667_F3BC_C908);
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|i| i.1).sum();
        let mut x = self.below(total as usize) as u32;
        for &(item, w) in items {
            if x < w {
                return item;
            }
            x -= w;
        }
        items[items.len() - 1].0
    }

    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }

    pub fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(digits);
        s
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u64().to_le_bytes();
        let n = rest.len();
        rest.copy_from_slice(&last[..n]);
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------
// Text helpers

/// Czech and Slovak letters without their diacritics.
fn fold_char(c: char) -> char {
    match c {
        'á' | 'ä' => 'a',
        'č' => 'c',
        'ď' => 'd',
        'é' | 'ě' => 'e',
        'í' => 'i',
        'ĺ' | 'ľ' => 'l',
        'ň' => 'n',
        'ó' | 'ô' => 'o',
        'ř' | 'ŕ' => 'r',
        'š' => 's',
        'ť' => 't',
        'ú' | 'ů' => 'u',
        'ý' => 'y',
        'ž' => 'z',
        'Á' | 'Ä' => 'A',
        'Č' => 'C',
        'Ď' => 'D',
        'É' | 'Ě' => 'E',
        'Í' => 'I',
        'Ĺ' | 'Ľ' => 'L',
        'Ň' => 'N',
        'Ó' | 'Ô' => 'O',
        'Ř' | 'Ŕ' => 'R',
        'Š' => 'S',
        'Ť' => 'T',
        'Ú' | 'Ů' => 'U',
        'Ý' => 'Y',
        'Ž' => 'Z',
        c => c,
    }
}

/// Lower-case ASCII words joined by `sep` ("Pekárna U Mlýna" → "pekarna-u-mlyna").
fn slug(s: &str, sep: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for c in s.chars().map(fold_char) {
        if c.is_ascii_alphanumeric() {
            if pending && !out.is_empty() {
                out.push_str(sep);
            }
            pending = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending = true;
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Wraps each line at `width` columns, keeping `>` quote prefixes.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 60);
    for line in text.split('\n') {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let body_start = line.find(|c: char| c != '>' && c != ' ').unwrap_or(line.len());
        let prefix = &line[..body_start];
        let mut col = 0;
        out.push_str(prefix);
        col += prefix.len();
        let mut first = true;
        for word in line[body_start..].split(' ') {
            let wl = word.chars().count();
            if !first && col + 1 + wl > width {
                out.push('\n');
                out.push_str(prefix);
                col = prefix.len();
            } else if !first {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += wl;
            first = false;
        }
        out.push('\n');
    }
    out.pop();
    out
}

fn czk(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out + " Kč"
}

fn thousands(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ico_check(first7: &[u8; 7]) -> u8 {
    let sum: u32 = first7.iter().zip([8u32, 7, 6, 5, 4, 3, 2]).map(|(&d, w)| u32::from(d) * w).sum();
    match sum % 11 {
        0 => 1,
        1 => 0,
        r => (11 - r) as u8,
    }
}

// ---------------------------------------------------------------------------
// Time: Europe/Prague and Europe/London offsets without a tz database.

/// Start and end (unix seconds) of EU summer time in `year`: last Sunday of
/// March and of October, 01:00 UTC.
fn summer_time(year: i32) -> (i64, i64) {
    let last_sunday = |month: u32| -> i64 {
        let mut d = NaiveDate::from_ymd_opt(year, month, 31).expect("valid date");
        while d.weekday() != chrono::Weekday::Sun {
            d = d.pred_opt().expect("valid date");
        }
        d.and_hms_opt(1, 0, 0).expect("valid time").and_utc().timestamp()
    };
    (last_sunday(3), last_sunday(10))
}

/// Seconds east of UTC in Prague at `ts`.
fn prague_offset(ts: i64) -> i32 {
    let year = DateTime::from_timestamp(ts, 0).map(|d| d.year()).unwrap_or(2025);
    let (a, b) = summer_time(year);
    if ts >= a && ts < b { 7200 } else { 3600 }
}

fn local(ts: i64, offset: i32) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(offset).expect("valid offset");
    DateTime::from_timestamp(ts, 0).expect("valid time").with_timezone(&tz)
}

fn ts_of(y: i32, m: u32, d: u32) -> i64 {
    let naive = NaiveDate::from_ymd_opt(y, m, d).expect("valid date").and_hms_opt(0, 0, 0).expect("valid time");
    naive.and_utc().timestamp() - i64::from(prague_offset(naive.and_utc().timestamp()))
}

// ---------------------------------------------------------------------------
// People and clients

#[derive(Clone)]
struct Person {
    first: String,
    last: String,
    /// Display name, possibly with a title ("Ing. Karel Horák").
    display: String,
    email: String,
    freemail: String,
    female: bool,
    /// "pane Horáku" / "paní Horáková" / "Mr Jones".
    formal: String,
    /// Vocative first name ("Karle") or English first name.
    informal: String,
    role: String,
    phone: String,
}

struct Client {
    name: String,
    ico: Option<String>,
    domains: Vec<String>,
    /// `mail.<domain>`, used by some senders, never listed in the CSV.
    mail_host: Option<String>,
    english: bool,
    status: &'static str,
    contacts: Vec<Person>,
    listed_emails: Vec<String>,
    owner: usize,
    disclaimer: bool,
}

/// Clients of one language, sampled with Zipf-like weights (a few big clients, a long tail).
struct Pool {
    members: Vec<usize>,
    cumulative: Vec<f64>,
}

impl Pool {
    fn new(members: Vec<usize>) -> Pool {
        let mut total = 0.0;
        let cumulative = (0..members.len())
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(0.85);
                total
            })
            .collect();
        Pool { members, cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().expect("non-empty pool");
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c <= x).min(self.members.len() - 1);
        self.members[i]
    }
}

struct World {
    clients: Vec<Client>,
    cs: Pool,
    en: Pool,
    ours: Vec<Person>,
}

fn phone_cz(rng: &mut Rng) -> String {
    let prefix = rng.pick(&[602, 603, 604, 605, 608, 702, 720, 724, 731, 736, 739, 775, 777]);
    format!("+420 {prefix} {:03} {:03}", rng.below(1000), rng.below(1000))
}

fn phone_uk(rng: &mut Rng) -> String {
    // Ofcom's range for fiction.
    format!("+44 7700 900{:03}", rng.below(1000))
}

impl World {
    fn new(n: usize, seed: u64) -> World {
        let mut rng = Rng::new(seed ^ 0xC1_1E_47);
        let mut used_names = HashSet::new();
        let mut used_domains: HashSet<String> = HashSet::new();
        used_domains.insert(OUR_DOMAIN.to_string());
        for d in FREE_MAIL {
            used_domains.insert((*d).to_string());
        }
        for (_, addr, _) in ph::NEWSLETTERS {
            used_domains.insert(addr.split('@').nth(1).unwrap_or_default().to_string());
        }
        let mut used_freemail = HashSet::new();
        let mut used_ico = HashSet::new();

        let n_en = if n >= 4 { ((n as f64) * 0.22).round() as usize } else { 0 };
        let mut english: Vec<bool> = (0..n).map(|i| i < n_en).collect();
        rng.shuffle(&mut english);

        let mut clients = Vec::with_capacity(n);
        for &en in &english {
            let mut tries = 0;
            let (name, slug_a, slug_b) = loop {
                let (mut base, legal, mut a, mut b) = if en { en_company(&mut rng) } else { cz_company(&mut rng) };
                tries += 1;
                if tries > 20 {
                    // The name space is getting full: add a town, then a number.
                    let town = if en { rng.pick(ph::EN_PLACES) } else { rng.pick(ph::PLACES).0 };
                    base = if tries > 40 { format!("{base} {town} {tries}") } else { format!("{base} {town}") };
                    a = format!("{a}-{}", slug(&base, "-").rsplit('-').next().unwrap_or_default());
                    b = slug(&base, "");
                }
                let name = format!("{base}{legal}");
                if used_names.insert(name.clone()) {
                    break (name, a, b);
                }
            };

            let tld = if en {
                if rng.chance(0.7) { "co.uk" } else { "com" }
            } else {
                rng.weighted(&[("cz", 80), ("sk", 8), ("com", 8), ("eu", 4)])
            };
            let mut domains = Vec::new();
            for candidate in [format!("{slug_a}.{tld}"), format!("{slug_b}.{tld}")] {
                if !used_domains.contains(&candidate) {
                    domains.push(candidate);
                    break;
                }
            }
            if domains.is_empty() {
                let mut k = 2;
                while used_domains.contains(&format!("{slug_a}{k}.{tld}")) {
                    k += 1;
                }
                domains.push(format!("{slug_a}{k}.{tld}"));
            }
            used_domains.insert(domains[0].clone());
            if rng.chance(0.3) {
                let other_tld = if en { "com" } else { rng.pick(&["cz", "com", "sk", "eu"]) };
                for candidate in [format!("{slug_b}.{tld}"), format!("{slug_a}.{other_tld}")] {
                    if !used_domains.contains(&candidate) {
                        used_domains.insert(candidate.clone());
                        domains.push(candidate);
                        break;
                    }
                }
            }
            let mail_host = rng.chance(0.2).then(|| format!("mail.{}", domains[0]));

            let ico = (!en).then(|| {
                loop {
                    let mut d = [0u8; 7];
                    d[0] = rng.below(9) as u8;
                    for x in d.iter_mut().skip(1) {
                        *x = rng.below(10) as u8;
                    }
                    let s: String =
                        d.iter().map(|x| char::from(b'0' + x)).chain([char::from(b'0' + ico_check(&d))]).collect();
                    if used_ico.insert(s.clone()) {
                        break s;
                    }
                }
            });

            let style = rng.below(5);
            let n_contacts = rng.weighted(&[(1usize, 30), (2, 35), (3, 20), (4, 15)]);
            let mut contacts: Vec<Person> = Vec::new();
            for _ in 0..n_contacts {
                let mut p = if en { en_person(&mut rng) } else { cz_person(&mut rng) };
                let local = local_part(style, &p.first, &p.last);
                let mut email = format!("{local}@{}", domains[0]);
                let mut k = 2;
                while contacts.iter().any(|c| c.email == email) {
                    email = format!("{local}{k}@{}", domains[0]);
                    k += 1;
                }
                p.email = email;
                let provider = rng.pick(FREE_MAIL);
                let (f, l) = (slug(&p.first, ""), slug(&p.last, ""));
                let base = match rng.below(3) {
                    0 => format!("{f}.{l}"),
                    1 => format!("{l}.{f}"),
                    _ => format!("{f}{l}{}", rng.range(60, 99)),
                };
                let mut fm = format!("{base}@{provider}");
                let mut k = 2;
                while !used_freemail.insert(fm.clone()) {
                    fm = format!("{base}{k}@{provider}");
                    k += 1;
                }
                p.freemail = fm;
                contacts.push(p);
            }
            let mut listed_emails: Vec<String> =
                contacts.iter().take(1 + rng.below(contacts.len())).map(|c| c.email.clone()).collect();
            if rng.chance(0.1) {
                listed_emails.push(contacts[0].freemail.clone());
            }
            clients.push(Client {
                name,
                ico,
                domains,
                mail_host,
                english: en,
                status: if rng.chance(0.75) { "client" } else { "lead" },
                contacts,
                listed_emails,
                owner: rng.below(OUR_PEOPLE.len()),
                disclaimer: rng.chance(0.3),
            });
        }
        let cs = Pool::new((0..n).filter(|&i| !clients[i].english).collect());
        let en = Pool::new((0..n).filter(|&i| clients[i].english).collect());

        let roles = ["obchodní zástupce", "obchodní zástupkyně", "vedoucí obchodu", "technicko-obchodní specialista"];
        let ours = OUR_PEOPLE
            .iter()
            .enumerate()
            .map(|(i, &(first, voc, last, female))| Person {
                first: first.into(),
                last: last.into(),
                display: format!("{first} {last}"),
                email: format!("{}.{}@{OUR_DOMAIN}", slug(first, ""), slug(last, "")),
                freemail: String::new(),
                female,
                formal: format!("{} {last}", if female { "paní" } else { "pane" }),
                informal: voc.into(),
                role: match i {
                    0 => roles[2].into(),
                    4 => roles[3].into(),
                    _ if female => roles[1].into(),
                    _ => roles[0].into(),
                },
                phone: format!("+420 777 {:03} {:03}", 100 + i * 111, 200 + i * 37),
            })
            .collect();
        World { clients, cs, en, ours }
    }

    fn write_csv(&self, path: &Path) -> io::Result<()> {
        let mut w = csv::WriterBuilder::new().delimiter(b';').from_path(path)?;
        w.write_record(["name", "ico", "domains", "emails", "status"])?;
        for c in &self.clients {
            w.write_record([
                c.name.as_str(),
                c.ico.as_deref().unwrap_or(""),
                &c.domains.join(", "),
                &c.listed_emails.join(", "),
                c.status,
            ])?;
        }
        w.flush()
    }
}

/// (name without legal form, legal form, domain slug, alternative slug).
fn cz_company(rng: &mut Rng) -> (String, &'static str, String, String) {
    let (s, _, _) = rng.pick(ph::CZ_SURNAMES);
    let (base, a, b, sole) = match rng.below(100) {
        0..=29 => {
            let t = rng.pick(ph::CZ_TRADES);
            (format!("{t} {s}"), slug(&format!("{t} {s}"), "-"), slug(&format!("{s} {t}"), "-"), false)
        }
        30..=44 => {
            let t = rng.pick(ph::CZ_TRADES_U);
            let u = rng.pick(ph::CZ_U_PLACES);
            let name = format!("{t} {u}");
            (name.clone(), slug(&name, "-"), slug(&name, ""), false)
        }
        45..=64 => {
            let stem = rng.pick(ph::CZ_ADJ_STEMS);
            let (noun, g) = rng.pick(ph::CZ_ADJ_NOUNS);
            let ending = match g {
                'm' => "ý",
                'f' => "á",
                _ => "é",
            };
            let name = capitalize(&format!("{stem}{ending} {noun}"));
            (name.clone(), slug(&name, "-"), slug(&name, ""), false)
        }
        65..=84 => {
            let word = format!("{}{}", rng.pick(ph::CZ_SYLL_A), rng.pick(ph::CZ_SYLL_B));
            let (town, _, _) = rng.pick(ph::PLACES);
            if rng.chance(0.4) {
                let name = format!("{word} {town}");
                (name.clone(), slug(&name, "-"), slug(&word, ""), false)
            } else {
                (word.clone(), slug(&word, ""), slug(&format!("{word} cz"), "-"), false)
            }
        }
        85..=94 => {
            let tail = rng.pick(&["a syn", "& partneři", "a spol."]);
            let name = format!("{s} {tail}");
            (name, slug(&format!("{s} {tail}"), "-"), slug(s, ""), false)
        }
        _ => {
            let t = rng.pick(&["Truhlářství", "Instalatérství", "Elektroinstalace", "Klempířství", "Zednictví"]);
            let (first, _) = rng.pick(ph::CZ_MALE);
            let name = format!("{t} {first} {s}");
            (name, slug(&format!("{t} {s}"), "-"), slug(&format!("{s} {t}"), ""), true)
        }
    };
    let legal = if sole { "" } else { rng.weighted(ph::CZ_LEGAL) };
    (base, legal, a, b)
}

fn en_company(rng: &mut Rng) -> (String, &'static str, String, String) {
    let w = rng.pick(ph::EN_WORDS);
    let ind = rng.pick(ph::EN_INDUSTRIES);
    let legal = rng.weighted(ph::EN_LEGAL);
    let base = format!("{w} {ind}");
    let (a, b) = if rng.chance(0.4) { (slug(w, ""), slug(&base, "-")) } else { (slug(&base, "-"), slug(&base, "")) };
    (base, legal, a, b)
}

fn cz_person(rng: &mut Rng) -> Person {
    let female = rng.chance(0.4);
    let (male, voc, fem) = rng.pick(ph::CZ_SURNAMES);
    let (first, first_voc) = if female { rng.pick(ph::CZ_FEMALE) } else { rng.pick(ph::CZ_MALE) };
    let last = if female { fem } else { male };
    let title = if rng.chance(0.15) { "Ing. " } else { "" };
    Person {
        first: first.into(),
        last: last.into(),
        display: format!("{title}{first} {last}"),
        email: String::new(),
        freemail: String::new(),
        female,
        formal: if female { format!("paní {fem}") } else { format!("pane {voc}") },
        informal: first_voc.into(),
        role: (rng.pick(if female { ph::CZ_ROLES_F } else { ph::CZ_ROLES_M })).into(),
        phone: phone_cz(rng),
    }
}

fn en_person(rng: &mut Rng) -> Person {
    let female = rng.chance(0.45);
    let first = rng.pick(if female { ph::EN_FEMALE } else { ph::EN_MALE });
    let last = rng.pick(ph::EN_SURNAMES);
    Person {
        first: first.into(),
        last: last.into(),
        display: format!("{first} {last}"),
        email: String::new(),
        freemail: String::new(),
        female,
        formal: format!("{} {last}", if female { "Ms" } else { "Mr" }),
        informal: first.into(),
        role: (rng.pick(ph::EN_ROLES)).into(),
        phone: phone_uk(rng),
    }
}

fn local_part(style: usize, first: &str, last: &str) -> String {
    let f = slug(first, "");
    let l = slug(last, "");
    let initial = &f[..1];
    match style {
        0 => format!("{f}.{l}"),
        1 => l,
        2 => format!("{initial}.{l}"),
        3 => f,
        _ => format!("{l}{initial}"),
    }
}

// ---------------------------------------------------------------------------
// Slots: the values a conversation's templates are filled with.

struct Slots {
    english: bool,
    uk: bool,
    client: String,
    client_domain: String,
    ico: String,
    product: usize,
    place: usize,
    place_en: &'static str,
    project: String,
    offer_no: String,
    invoice_no: String,
    order_no: String,
    dl_no: String,
    contract_no: String,
    claim_no: String,
    vs: String,
    amount: String,
    qty: u32,
    days: u32,
    weeks: u32,
    overdue: u32,
    err: u32,
    n: u32,
    year: i32,
    area: u32,
    /// A date a week or more after the conversation starts.
    day: DateTime<FixedOffset>,
    weekday: usize,
    time: &'static str,
    month: usize,
    technician: &'static str,
    colleague: String,
    phone: String,
    surname: String,
    /// The writer of the text being filled.
    female_writer: bool,
}

impl Slots {
    fn new(rng: &mut Rng, start: i64, english: bool, client: Option<&Client>, world: &World) -> Slots {
        let start_local = local(start, prague_offset(start));
        let year = start_local.year();
        let day_ts = start + rng.range(5, 40) * 86_400;
        let day = local(day_ts, prague_offset(day_ts));
        let mut project = if english {
            (rng.pick(ph::EN_PROJECTS)).to_string()
        } else {
            let t = rng.pick(ph::CZ_PROJECTS);
            t.replace("{street}", rng.pick(ph::STREETS)).replace("{town}", rng.pick(ph::PLACES).0)
        };
        if project.is_empty() {
            project.push_str("hala");
        }
        let amount = (rng.log_uniform(8_000.0, 2_500_000.0) as u64) / 10 * 10;
        let uk = client.is_some_and(|c| c.english);
        let amount = if english {
            if rng.chance(0.5) {
                format!("£{}", thousands(amount / 25))
            } else {
                format!("GBP {}", thousands(amount / 25))
            }
        } else {
            czk(amount)
        };
        let domain = client.map(|c| c.domains[0].clone()).unwrap_or_else(|| OUR_DOMAIN.into());
        Slots {
            english,
            uk,
            client: client.map(|c| c.name.clone()).unwrap_or_default(),
            client_domain: domain,
            ico: client.and_then(|c| c.ico.clone()).unwrap_or_default(),
            product: rng.below(ph::PRODUCTS.len()),
            place: rng.below(ph::PLACES.len()),
            place_en: rng.pick(ph::EN_PLACES),
            project,
            offer_no: format!("NAB-{year}-{:04}", rng.range(1, 2400)),
            invoice_no: format!("{year}-{:04}", rng.range(1, 3000)),
            order_no: if english {
                format!("PO-{}", rng.range(10_000, 99_999))
            } else {
                format!("OBJ-{year}-{:03}", rng.range(1, 999))
            },
            dl_no: format!("DL-{year}-{:04}", rng.range(1, 4000)),
            contract_no: format!("SOD-{year}-{:03}", rng.range(1, 300)),
            claim_no: format!("REK-{year}-{:03}", rng.range(1, 400)),
            vs: format!("{year}{:04}", rng.range(1, 3000)),
            amount,
            qty: rng.pick(&[1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 20, 24, 40]),
            days: rng.pick(&[14, 14, 14, 21, 30, 30, 60]),
            weeks: rng.range(2, 10) as u32,
            overdue: rng.range(5, 45) as u32,
            err: rng.range(1, 19) as u32,
            n: rng.range(1, 4) as u32,
            year,
            area: rng.range(8, 120) as u32 * 10,
            day,
            weekday: rng.below(5),
            time: rng.pick(ph::TIMES),
            month: (start_local.month0() as usize + rng.below(3)) % 12,
            technician: rng.pick(ph::TECHNICIANS),
            colleague: world.ours[rng.below(world.ours.len())].display.clone(),
            phone: if english { phone_uk(rng) } else { phone_cz(rng) },
            surname: client.map(|c| c.contacts[0].last.clone()).unwrap_or_default(),
            female_writer: false,
        }
    }

    fn date(&self) -> String {
        if self.english {
            format!("{} {} {}", self.day.day(), ph::EN_MONTHS[self.day.month0() as usize], self.day.year())
        } else {
            format!("{}. {}. {}", self.day.day(), self.day.month(), self.day.year())
        }
    }

    fn fill(&self, template: &str, out: &mut String) {
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let j = i + rest[i..].find('}').expect("template slot is closed");
            self.slot(&rest[i + 1..j], out);
            rest = &rest[j + 1..];
        }
        out.push_str(rest);
    }

    fn filled(&self, template: &str) -> String {
        let mut s = String::new();
        self.fill(template, &mut s);
        s
    }

    fn slot(&self, key: &str, out: &mut String) {
        let (product, product_gen, product_en) = ph::PRODUCTS[self.product];
        let (place, place_gen, place_loc) = ph::PLACES[self.place];
        match key {
            "client" => out.push_str(&self.client),
            "client_domain" => out.push_str(&self.client_domain),
            "ico" => out.push_str(&self.ico),
            "product" if self.english => out.push_str(product_en),
            "product" => out.push_str(product),
            "product_gen" => out.push_str(product_gen),
            "place" => out.push_str(place),
            "place_gen" => out.push_str(place_gen),
            "place_loc" => out.push_str(place_loc),
            "place_en" => out.push_str(self.place_en),
            "project" => out.push_str(&self.project),
            "project_slug" => out.push_str(&slug(&self.project, "-")),
            "offer_no" => out.push_str(&self.offer_no),
            "invoice_no" => out.push_str(&self.invoice_no),
            "order_no" => out.push_str(&self.order_no),
            "dl_no" => out.push_str(&self.dl_no),
            "contract_no" => out.push_str(&self.contract_no),
            "claim_no" => out.push_str(&self.claim_no),
            "vs" => out.push_str(&self.vs),
            "amount" => out.push_str(&self.amount),
            "qty" => out.push_str(&self.qty.to_string()),
            "days" => out.push_str(&self.days.to_string()),
            "weeks" => out.push_str(&self.weeks.to_string()),
            "overdue" => out.push_str(&self.overdue.to_string()),
            "err" => out.push_str(&self.err.to_string()),
            "n" => out.push_str(&self.n.to_string()),
            "year" => out.push_str(&self.year.to_string()),
            "area" => out.push_str(&self.area.to_string()),
            "date" => out.push_str(&self.date()),
            "date_compact" => out.push_str(&self.day.format("%Y-%m-%d").to_string()),
            "weekday" => out.push_str(ph::CZ_WEEKDAYS[self.weekday]),
            "weekday_cap" => out.push_str(ph::CZ_WEEKDAYS_CAP[self.weekday]),
            "weekday_en" => out.push_str(ph::EN_WEEKDAYS[self.weekday]),
            "time" => out.push_str(self.time),
            "month" => out.push_str(ph::CZ_MONTHS_LOC[self.month]),
            "month_name" if self.english => out.push_str(ph::EN_MONTHS[self.month]),
            "month_name" => out.push_str(ph::CZ_MONTHS_NOM[self.month]),
            "technician" => out.push_str(self.technician),
            "colleague" => out.push_str(&self.colleague),
            "phone" => out.push_str(&self.phone),
            "surname" => out.push_str(&self.surname),
            "a" => out.push_str(if self.female_writer { "a" } else { "" }),
            "rad" => out.push_str(if self.female_writer { "ráda" } else { "rád" }),
            _ => panic!("unknown template slot {{{key}}}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Messages

#[derive(Clone, Debug)]
struct Addr {
    name: String,
    email: String,
}

impl Addr {
    fn of(p: &Person, email: &str) -> Addr {
        Addr { name: p.display.clone(), email: email.to_string() }
    }

    fn domain(&self) -> &str {
        self.email.split('@').nth(1).unwrap_or("")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mailer {
    Outlook,
    Thunderbird,
    AppleMail,
    Seznam,
    Gmail,
    TheBat,
    Plain,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Html {
    No,
    Alternative,
    Only,
}

struct Mail {
    ts: i64,
    offset: i32,
    from: Addr,
    to: Vec<Addr>,
    cc: Vec<Addr>,
    reply_to: Option<Addr>,
    subject: String,
    message_id: Option<String>,
    in_reply_to: Option<String>,
    references: Vec<String>,
    text: String,
    /// Pre-built HTML (newsletters); otherwise made from `text`.
    html_body: Option<String>,
    html: Html,
    encoding: Encoding,
    mailer: Mailer,
    attachments: Vec<Attachment>,
    incoming: bool,
    folder: usize,
    list: Option<(String, String)>,
    english: bool,
    crlf: bool,
}

/// A client thread to forward: its last message, our salesperson, the client.
struct Forward {
    prev: Prev,
    ours: usize,
    client: usize,
}

/// An attached file: its name (the extension says what it is) and its
/// decoded size, or `None` to draw Standard's 20–200 KB when it is written.
struct Attachment {
    name: String,
    size: Option<usize>,
}

/// What the next message of a thread quotes and refers to.
struct Prev {
    from: Addr,
    to: Vec<Addr>,
    ts: i64,
    offset: i32,
    subject: String,
    text: String,
    ids: Vec<String>,
    had_id: bool,
}

struct Gen<'w> {
    rng: Rng,
    p: &'static Profile,
    world: &'w World,
    dirs: Vec<PathBuf>,
    pid: u64,
    target: usize,
    written: usize,
    bytes: u64,
    stats: CorpusStats,
    start: i64,
    end: i64,
    buf: String,
    att: Vec<u8>,
    /// Messages per From address, for picking `from:` queries.
    from_counts: HashMap<String, u32>,
    ico_hits: HashMap<String, u32>,
    invoice_hits: HashMap<String, u32>,
    surname_of: HashMap<String, String>,
}

impl<'w> Gen<'w> {
    fn new(world: &'w World, spec: &CorpusSpec, dirs: Vec<PathBuf>) -> Gen<'w> {
        Gen {
            rng: Rng::new(spec.seed ^ 0x4D41_494C),
            p: spec.shape.profile(),
            world,
            dirs,
            pid: 1000 + spec.seed % 30_000,
            target: spec.messages,
            written: 0,
            bytes: 0,
            stats: CorpusStats { shape: spec.shape, ..CorpusStats::default() },
            start: ts_of(2023, 11, 1),
            end: ts_of(2026, 11, 1),
            buf: String::new(),
            att: Vec::new(),
            from_counts: HashMap::new(),
            ico_hits: HashMap::new(),
            invoice_hits: HashMap::new(),
            surname_of: HashMap::new(),
        }
    }

    fn conversation(&mut self) -> io::Result<()> {
        let r = self.rng.unit();
        if r < self.p.newsletter_p {
            self.newsletter()
        } else if r < self.p.newsletter_p + self.p.internal_p {
            self.internal(None)
        } else {
            self.client_conversation()
        }
    }

    /// A working-hours time on the day of `ts` (weekends mostly moved to Monday).
    fn office_time(&mut self, ts: i64) -> i64 {
        let off = i64::from(prague_offset(ts));
        let mut day = (ts + off).div_euclid(86_400);
        let dow = (day + 3).rem_euclid(7); // 0 = Monday
        if dow >= 5 && self.rng.chance(0.9) {
            day += 7 - dow;
        }
        let hour = self.rng.weighted(&[
            (6i64, 2),
            (7, 8),
            (8, 14),
            (9, 15),
            (10, 14),
            (11, 12),
            (12, 7),
            (13, 11),
            (14, 11),
            (15, 8),
            (16, 5),
            (17, 3),
            (18, 2),
            (19, 1),
            (20, 1),
            (21, 1),
        ]);
        let secs = day * 86_400 + hour * 3600 + self.rng.range(0, 3599);
        secs - i64::from(prague_offset(secs - off))
    }

    fn folder_for(&mut self, incoming: bool, archived: bool, ts: i64) -> usize {
        if archived && local(ts, prague_offset(ts)).year() == 2025 {
            ARCHIVE
        } else if incoming {
            INBOX
        } else {
            SENT
        }
    }

    fn pick_encoding(&mut self, english: bool) -> Encoding {
        self.rng.weighted(if english { self.p.en_encodings } else { self.p.cs_encodings })
    }

    fn pick_mailer(&mut self, enc: Encoding, from: &Addr) -> Mailer {
        match from.domain() {
            "gmail.com" => return Mailer::Gmail,
            "seznam.cz" | "email.cz" => return Mailer::Seznam,
            _ => {}
        }
        use Mailer::*;
        match enc {
            Encoding::Win1250Qp => self.rng.weighted(&[(Outlook, 75), (TheBat, 25)]),
            Encoding::Latin2Base64 => self.rng.weighted(&[(TheBat, 40), (Seznam, 20), (Plain, 40)]),
            Encoding::Utf8Base64 => self.rng.weighted(&[(Gmail, 40), (Plain, 40), (AppleMail, 20)]),
            Encoding::Utf8Qp => self.rng.weighted(&[(Thunderbird, 40), (Outlook, 35), (AppleMail, 15), (Plain, 10)]),
            Encoding::Ascii7bit => self.rng.weighted(&[(Outlook, 50), (Thunderbird, 20), (Plain, 30)]),
            // Varied only: Outlook Express, The Bat!, Pine and Thunderbird sending raw bytes.
            Encoding::Win1250_8bit => self.rng.weighted(&[(Outlook, 30), (TheBat, 30), (Plain, 40)]),
            Encoding::Latin2Qp => self.rng.weighted(&[(Thunderbird, 40), (TheBat, 30), (Plain, 30)]),
            Encoding::Latin2_8bit => self.rng.weighted(&[(TheBat, 40), (Plain, 60)]),
            Encoding::Utf8_8bit => self.rng.weighted(&[(Thunderbird, 50), (AppleMail, 20), (Plain, 30)]),
        }
    }

    fn message_id(&mut self, mailer: Mailer, ts: i64, from: &Addr) -> String {
        let host = from.domain().to_string();
        match mailer {
            Mailer::Outlook => format!(
                "<{:06x}01{}${}${}$@{host}>",
                self.rng.below(1 << 24),
                self.rng.hex(10),
                self.rng.hex(8),
                self.rng.hex(8)
            ),
            Mailer::Thunderbird | Mailer::AppleMail => {
                let h = self.rng.hex(32);
                format!("<{}-{}-{}-{}-{}@{host}>", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
            }
            Mailer::Gmail => {
                let mut s = String::from("<CA");
                let mut raw = [0u8; 36];
                self.rng.fill(&mut raw);
                encode::base64_raw(&raw, &mut s);
                s.push_str("@mail.gmail.com>");
                s.replace('/', "_")
            }
            Mailer::Seznam => format!("<{}.{}@email.seznam.cz>", self.rng.range(1000, 99_999), self.rng.hex(16)),
            Mailer::TheBat | Mailer::Plain => {
                let d = local(ts, 0);
                format!("<{}.{}@{host}>", d.format("%Y%m%d%H%M%S"), self.rng.hex(12))
            }
        }
    }

    fn newsletter(&mut self) -> io::Result<()> {
        let (name, address, czech) = self.rng.pick(ph::NEWSLETTERS);
        let english = !czech;
        let day = self.rng.range(self.start, self.end - 86_400);
        let ts = self.office_time(day);
        let slots = Slots::new(&mut self.rng, ts, english, None, self.world);
        let domain = address.split('@').nth(1).unwrap_or_default().to_string();
        let subject = slots.filled(self.rng.pick(if english { ph::EN_NEWS_SUBJECTS } else { ph::CS_NEWS_SUBJECTS }));
        let items = if english { ph::EN_NEWS_ITEMS } else { ph::CS_NEWS_ITEMS };
        let mut chosen: Vec<usize> = (0..items.len()).collect();
        self.rng.shuffle(&mut chosen);
        chosen.truncate(self.rng.range(self.p.news_items.0, self.p.news_items.1) as usize);
        let mut text = String::new();
        let mut html = String::from(
            "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title></title>\n<style>body{font-family:Arial,sans-serif;color:#222}td{padding:8px 12px}a{color:#0a5ca8}</style>\n</head>\n<body>\n<table width=\"600\" align=\"center\" cellpadding=\"0\" cellspacing=\"0\">\n",
        );
        let _ = writeln!(html, "<tr><td><h1>{}</h1></td></tr>", subject.replace('&', "&amp;"));
        let _ = writeln!(text, "{name}\n{}\n", "=".repeat(name.chars().count()));
        for (k, &i) in chosen.iter().enumerate() {
            let item = slots.filled(items[i]);
            let url = format!("https://www.{domain}/clanek/{}?utm_source=newsletter&utm_medium=email", 100 + k * 7);
            let _ = writeln!(text, "* {item}\n  {url}\n");
            html.push_str("<tr><td><p>");
            encode::html_escape(&item, &mut html);
            let _ = writeln!(
                html,
                "</p><p><a href=\"{}\">{}</a></p></td></tr>",
                url.replace('&', "&amp;"),
                if english { "Read more" } else { "Číst dál" }
            );
        }
        if self.p.news_cards_p > 0.0 && self.rng.chance(self.p.news_cards_p) {
            let cards = self.rng.range(self.p.news_cards.0, self.p.news_cards.1) as usize;
            self.product_cards(&domain, english, cards, &mut text, &mut html);
        }
        let unsubscribe = format!("https://www.{domain}/odhlasit?u={}", self.rng.hex(20));
        let footer = if english {
            format!("You are receiving this email because you subscribed at {domain}. Unsubscribe: {unsubscribe}")
        } else {
            format!(
                "Tento e-mail jste obdrželi, protože jste přihlášeni k odběru novinek. Odhlásit se můžete zde: {unsubscribe}"
            )
        };
        let _ = writeln!(text, "--\n{footer}");
        html.push_str("<tr><td style=\"font-size:11px;color:#888\">");
        encode::html_escape(&footer, &mut html);
        html.push_str("</td></tr>\n</table>\n</body>\n</html>\n");

        let from = Addr { name: name.into(), email: address.into() };
        let world = self.world;
        let person = &world.ours[self.rng.below(world.ours.len())];
        let to = vec![Addr { name: String::new(), email: person.email.clone() }];
        let encoding = if english { Encoding::Utf8Qp } else { self.rng.weighted(self.p.cs_news_encodings) };
        let html_mode = if self.rng.chance(0.7) { Html::Alternative } else { Html::Only };
        let mid = format!("<{}.{}@mailer.{domain}>", self.rng.hex(20), self.rng.range(1, 999_999));
        let archived = self.rng.chance(0.3);
        let mail = Mail {
            ts,
            offset: prague_offset(ts),
            from,
            to,
            cc: Vec::new(),
            reply_to: None,
            subject,
            message_id: (!self.rng.chance(0.01)).then_some(mid),
            in_reply_to: None,
            references: Vec::new(),
            text,
            html_body: Some(html),
            html: html_mode,
            encoding,
            mailer: Mailer::Plain,
            attachments: Vec::new(),
            incoming: true,
            folder: self.folder_for(true, archived, ts),
            list: Some((format!("<news.{domain}>"), format!("<{unsubscribe}>, <mailto:unsubscribe@{domain}>"))),
            english,
            crlf: false,
        };
        self.stats.newsletters += 1;
        self.write(&mail)
    }

    /// An e-shop block of a newsletter: `cards` products with pictures,
    /// prices and buttons, in the heavy table markup such mailers send.
    fn product_cards(&mut self, domain: &str, english: bool, cards: usize, text: &mut String, html: &mut String) {
        let _ = writeln!(text, "{}\n", if english { "This week's offers" } else { "Akční nabídka týdne" });
        for k in 0..cards {
            let (cs, _, en) = self.rng.pick(ph::PRODUCTS);
            let name = if english { en.to_string() } else { capitalize(cs) };
            let note = self.rng.pick(if english { ph::EN_CARD_NOTES } else { ph::CS_CARD_NOTES });
            let old = (self.rng.log_uniform(400.0, 90_000.0) as u64) / 10 * 10 + 9;
            let new = old - old * self.rng.range(5, 40) as u64 / 100 / 10 * 10;
            let (old, new) = if english {
                (format!("£{}", thousands(old / 25)), format!("£{}", thousands(new / 25)))
            } else {
                (czk(old), czk(new))
            };
            let id = 1000 + self.rng.below(9000);
            let url = format!(
                "https://www.{domain}/p/{id}-{}?utm_source=newsletter&amp;utm_medium=email&amp;utm_content=card{k}",
                slug(&name, "-")
            );
            let _ = writeln!(text, "* {name} – {new} ({old})\n  {note}\n  {}\n", url.replace("&amp;", "&"));
            let _ = write!(
                html,
                "<tr>\n<td style=\"padding:12px 16px;border-bottom:1px solid #e5e5e5\">\n<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" role=\"presentation\"><tr>\n<td width=\"140\" valign=\"top\" style=\"padding:0 12px 0 0\"><a href=\"{url}\" target=\"_blank\"><img src=\"https://cdn.{domain}/img/p/{id}-120x120.jpg\" width=\"120\" height=\"120\" alt=\""
            );
            encode::html_escape(&name, html);
            let _ = write!(
                html,
                "\" style=\"display:block;border:0;outline:none;text-decoration:none\"></a></td>\n<td valign=\"top\" style=\"font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:20px;color:#333333\">\n<h3 style=\"margin:0 0 6px 0;font-size:16px;line-height:22px;color:#0a5ca8\">"
            );
            encode::html_escape(&name, html);
            html.push_str("</h3>\n<p style=\"margin:0 0 8px 0\">");
            encode::html_escape(note, html);
            let _ = writeln!(
                html,
                "</p>\n<p style=\"margin:0\"><s style=\"color:#999999\">{old}</s>&nbsp;&nbsp;<strong style=\"color:#c00000;font-size:18px\">{new}</strong></p>\n<a href=\"{url}\" target=\"_blank\" style=\"display:inline-block;margin-top:8px;padding:8px 16px;background-color:#0a5ca8;color:#ffffff;font-weight:bold;text-decoration:none;border-radius:3px\">{}</a>\n</td></tr></table>\n</td>\n</tr>",
                if english { "Add to basket" } else { "Do košíku" }
            );
        }
        let _ = writeln!(
            html,
            "<tr><td><img src=\"https://click.{domain}/open/{}.gif\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block\"></td></tr>",
            self.rng.hex(24)
        );
    }

    /// Internal mail between two of our people: a note, or (`fwd`) a client
    /// thread forwarded with its history; sometimes answered once.
    fn internal(&mut self, fwd: Option<Forward>) -> io::Result<()> {
        let world = self.world;
        let n = world.ours.len();
        let a = match &fwd {
            Some(f) => f.ours,
            None => self.rng.below(n),
        };
        let b = (a + 1 + self.rng.below(n - 1)) % n;
        let client = match &fwd {
            Some(f) => &world.clients[f.client],
            None => &world.clients[self.rng.below(world.clients.len())],
        };
        let ts = match &fwd {
            Some(f) => f.prev.ts + self.rng.range(300, 2 * 86_400),
            None => {
                let day = self.rng.range(self.start, self.end - 3 * 86_400);
                self.office_time(day)
            }
        };
        let mut slots = Slots::new(&mut self.rng, ts, false, Some(client), world);
        slots.colleague = world.ours[(b + 1) % n].display.clone();
        let (subject, sentences) = match &fwd {
            Some(f) => (f.prev.subject.clone(), ph::FORWARD_NOTES),
            None => (slots.filled(self.rng.pick(ph::INTERNAL_SUBJECTS)), ph::INTERNAL_SENTENCES),
        };
        let len = if self.rng.chance(0.3) { 2 } else { 1 };
        let archived = self.rng.chance(0.3);
        let mut prev: Option<Prev> = None;
        let mut ts = ts;
        for k in 0..len {
            if self.written >= self.target {
                break;
            }
            let (w, r) = if k == 0 { (a, b) } else { (b, a) };
            let writer = &world.ours[w];
            let reader = &world.ours[r];
            if k > 0 {
                ts += self.rng.range(300, 6 * 3600);
            }
            slots.female_writer = writer.female;
            let mut text = String::new();
            let _ = writeln!(
                text,
                "{},\n",
                if self.rng.chance(0.5) { format!("Ahoj {}", reader.informal) } else { "Ahoj".into() }
            );
            let mut idx: Vec<usize> = (0..sentences.len()).collect();
            self.rng.shuffle(&mut idx);
            for (j, &i) in idx.iter().take(1 + self.rng.below(3)).enumerate() {
                let s = slots.filled(sentences[i]);
                text.push_str(&if j == 0 { s } else { capitalize(&s) });
                text.push_str(if j % 2 == 1 { "\n\n" } else { " " });
            }
            let _ = write!(text, "\n\n{}\n{}", if self.rng.chance(0.5) { "Díky" } else { "Zdravím" }, writer.first);
            let from = Addr::of(writer, &writer.email);
            let to = vec![Addr::of(reader, &reader.email)];
            let incoming = self.rng.chance(0.5);
            let encoding = Encoding::Utf8Qp;
            let mailer = self.pick_mailer(encoding, &from);
            let (subject, text) = match (&prev, &fwd) {
                (Some(p), _) => (format!("Re: {}", p.subject), self.quote(text, p, mailer, false, false)),
                (None, Some(f)) => {
                    let prefix = if mailer == Mailer::Outlook { "FW: " } else { "Fwd: " };
                    (format!("{prefix}{subject}"), self.quote(text, &f.prev, mailer, false, true))
                }
                (None, None) => (subject.clone(), text),
            };
            let mid = (!self.rng.chance(0.01)).then(|| self.message_id(mailer, ts, &from));
            let (in_reply_to, references) = match &prev {
                Some(p) => (p.had_id.then(|| p.ids.last().cloned()).flatten(), p.ids.clone()),
                None => (None, Vec::new()),
            };
            let offset = prague_offset(ts);
            let mail = Mail {
                ts,
                offset,
                from: from.clone(),
                to: to.clone(),
                cc: Vec::new(),
                reply_to: None,
                subject: subject.clone(),
                message_id: mid.clone(),
                in_reply_to,
                references,
                text: text.clone(),
                html_body: None,
                html: Html::No,
                encoding,
                mailer,
                attachments: Vec::new(),
                incoming,
                folder: self.folder_for(incoming, archived, ts),
                list: None,
                english: false,
                crlf: false,
            };
            self.stats.internal += 1;
            if k > 0 {
                self.stats.replies += 1;
            }
            self.write(&mail)?;
            let mut ids = prev.map(|p| p.ids).unwrap_or_default();
            if let Some(id) = &mid {
                ids.push(id.clone());
            }
            prev = Some(Prev { from, to, ts, offset, subject, text, ids, had_id: mid.is_some() });
        }
        if len == 2 {
            self.stats.threads += 1;
            self.stats.thread_messages += 2;
        }
        if fwd.is_some() {
            self.stats.forwards += 1;
        }
        Ok(())
    }

    fn client_conversation(&mut self) -> io::Result<()> {
        let world = self.world;
        let english = if world.en.members.is_empty() {
            false
        } else if world.cs.members.is_empty() {
            true
        } else {
            self.rng.chance(0.28)
        };
        let ci = if english { world.en.sample(&mut self.rng) } else { world.cs.sample(&mut self.rng) };
        let client = &world.clients[ci];
        let topic = {
            let total: u32 = Topic::WEIGHTS.iter().map(|t| t.1).sum();
            let mut x = self.rng.below(total as usize) as u32;
            let mut chosen = Topic::WEIGHTS[0];
            for t in Topic::WEIGHTS {
                if x < t.1 {
                    chosen = *t;
                    break;
                }
                x -= t.1;
            }
            chosen
        };
        let (topic, _, attach_p) = topic;
        let bank = topic.bank(english);
        let attach_p = self.p.attach_p.and_then(|t| t.iter().find(|t| t.0 == topic)).map_or(attach_p, |t| t.1);
        let planned = if self.rng.chance(self.p.thread_p) {
            let (lo, hi) = self.rng.weighted(self.p.thread_lengths);
            if hi > lo { self.rng.range(lo as i64, hi as i64) as usize } else { lo }
        } else {
            1
        };
        let len = planned.min(self.target - self.written);
        let sp = if self.rng.chance(0.85) { client.owner } else { self.rng.below(world.ours.len()) };
        let ours = &world.ours[sp];
        let main_contact = if self.rng.chance(0.5) { 0 } else { self.rng.below(client.contacts.len()) };
        let freemail = self.rng.chance(0.075);
        let archived = self.rng.chance(0.3);
        let day = self.rng.range(self.start, self.end - 2 * 86_400);
        let start = self.office_time(day);
        let mut slots = Slots::new(&mut self.rng, start, english, Some(client), world);
        slots.surname = client.contacts[main_contact].last.clone();
        let subject_base = slots.filled(self.rng.pick(bank.subjects));
        let mut incoming = self.rng.chance(0.68);
        let mut ts = start;
        let mut prev: Option<Prev> = None;
        let mut count = 0;
        for k in 0..len {
            if k > 0 {
                let gap = self.rng.log_uniform(600.0, 4.0 * 86_400.0) as i64;
                ts = if gap > 8 * 3600 { self.office_time(ts + gap) } else { ts + gap };
                let last = prev.as_ref().map(|p| p.ts).unwrap_or(ts);
                if ts <= last {
                    ts = last + self.rng.range(120, 3600);
                }
                if ts > self.end {
                    break;
                }
                incoming = if incoming { self.rng.chance(0.4) } else { self.rng.chance(0.85) };
            }
            // The client-side person of this message.
            let contact_i = if client.contacts.len() > 1 && self.rng.chance(0.15) {
                self.rng.below(client.contacts.len())
            } else {
                main_contact
            };
            let contact = &client.contacts[contact_i];
            let contact_email = if freemail && self.rng.chance(0.75) {
                contact.freemail.clone()
            } else if let Some(host) = client.mail_host.as_ref().filter(|_| self.rng.chance(0.6) && incoming) {
                format!("{}@{host}", contact.email.split('@').next().unwrap_or_default())
            } else {
                contact.email.clone()
            };
            let them = Addr::of(contact, &contact_email);
            let us = Addr::of(ours, &ours.email);
            let (from, mut to) = if incoming {
                let to_us = if k == 0 && self.rng.chance(0.1) {
                    Addr {
                        name: String::new(),
                        email: format!("{}@{OUR_DOMAIN}", if self.rng.chance(0.5) { "obchod" } else { "info" }),
                    }
                } else {
                    us.clone()
                };
                (them.clone(), vec![to_us])
            } else {
                (us.clone(), vec![them.clone()])
            };
            let mut cc = Vec::new();
            if self.rng.chance(0.2) && client.contacts.len() > 1 {
                let other = &client.contacts[(contact_i + 1) % client.contacts.len()];
                cc.push(Addr::of(other, &other.email));
            }
            if self.rng.chance(0.1) {
                let col = &world.ours[(sp + 1 + self.rng.below(world.ours.len() - 1)) % world.ours.len()];
                cc.push(Addr::of(col, &col.email));
            }
            if incoming && self.rng.chance(0.05) {
                // Sent to two of our people.
                let col = &world.ours[(sp + 2) % world.ours.len()];
                to.push(Addr::of(col, &col.email));
            }
            let (writer, reader) = if incoming { (contact, ours) } else { (ours, contact) };
            slots.female_writer = writer.female;

            let mut encoding = self.pick_encoding(english);
            if FREE_MAIL.contains(&from.domain()) {
                encoding = if self.rng.chance(0.6) { Encoding::Utf8Base64 } else { Encoding::Utf8Qp };
            }
            let mailer = self.pick_mailer(encoding, &from);
            let has_attachment = self.rng.chance(attach_p);
            let attachments = if has_attachment { self.attachments(&slots, topic, english) } else { Vec::new() };
            let long_p = if k == 0 { 0.05 } else { 0.015 };
            let long = self.rng.chance(long_p);
            let mut text = self.compose(&slots, bank, topic, !incoming, k == 0, writer, reader, client, long);
            if !attachments.is_empty() {
                let names = attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ");
                let line = match (english, attachments.len()) {
                    (true, 1) => format!("\n\nAttachment: {names}"),
                    (true, _) => format!("\n\nAttachments: {names}"),
                    (false, 1) => format!("\n\nPříloha: {names}"),
                    (false, _) => format!("\n\nPřílohy: {names}"),
                };
                // Before the signature would be nicer; at the end is what many people do.
                text.push_str(&line);
            }
            let quoted = prev.as_ref().is_some_and(|_| self.rng.chance(0.9));
            let subject = match &prev {
                None => subject_base.clone(),
                Some(p) => {
                    let prefix = match mailer {
                        Mailer::Outlook => "RE: ",
                        Mailer::Seznam | Mailer::TheBat if !english => "Odp: ",
                        _ => "Re: ",
                    };
                    if self.rng.chance(0.12) && p.subject != subject_base {
                        format!("{prefix}{}", p.subject)
                    } else {
                        format!("{prefix}{subject_base}")
                    }
                }
            };
            let text = match &prev {
                Some(p) if quoted => self.quote(text, p, mailer, english, false),
                _ => text,
            };
            if english && encoding == Encoding::Ascii7bit && !(text.is_ascii() && subject.is_ascii()) {
                encoding = Encoding::Utf8Qp;
            }
            let mid = (!self.rng.chance(0.01)).then(|| self.message_id(mailer, ts, &from));
            let (in_reply_to, references) = match &prev {
                Some(p) => (p.had_id.then(|| p.ids.last().cloned()).flatten(), p.ids.clone()),
                None => (None, Vec::new()),
            };
            let html = match self.rng.below(1000) {
                x if x < self.p.html.0 => Html::Alternative,
                x if x < self.p.html.1 => Html::Only,
                _ => Html::No,
            };
            let offset = if english && incoming { prague_offset(ts) - 3600 } else { prague_offset(ts) };
            let reply_to = (incoming && k == 0 && self.rng.chance(0.03))
                .then(|| Addr { name: String::new(), email: format!("nakup@{}", client.domains[0]) });
            let mail = Mail {
                ts,
                offset,
                from: from.clone(),
                to: to.clone(),
                cc,
                reply_to,
                subject: subject.clone(),
                message_id: mid.clone(),
                in_reply_to,
                references,
                text,
                html_body: None,
                html,
                encoding,
                mailer,
                attachments,
                incoming,
                folder: self.folder_for(incoming, archived, ts),
                list: None,
                english,
                crlf: mailer == Mailer::Outlook && self.rng.chance(0.1),
            };
            self.stats.client_mail += 1;
            if FREE_MAIL.iter().any(|d| mail.from.domain() == *d || mail.to.iter().any(|a| a.domain() == *d)) {
                self.stats.free_mail += 1;
            }
            if k > 0 {
                self.stats.replies += 1;
            }
            if let Some(ico) = client.ico.as_ref().filter(|i| mail.text.contains(i.as_str())) {
                *self.ico_hits.entry(ico.clone()).or_default() += 1;
            }
            if mail.text.contains(&slots.invoice_no) || mail.subject.contains(&slots.invoice_no) {
                *self.invoice_hits.entry(slots.invoice_no.clone()).or_default() += 1;
            }
            if incoming {
                self.surname_of.entry(from.email.clone()).or_insert_with(|| contact.last.clone());
            }
            self.write(&mail)?;
            count += 1;
            let text = mail.text;
            let mut ids = prev.map(|p| p.ids).unwrap_or_default();
            if let Some(id) = &mid {
                ids.push(id.clone());
            }
            prev = Some(Prev { from, to, ts, offset, subject, text, ids, had_id: mid.is_some() });
        }
        if count > 1 {
            self.stats.threads += 1;
            self.stats.thread_messages += count;
        }
        *self.stats.conversation_lengths.entry(count).or_default() += 1;
        if let Some(prev) = prev.filter(|_| count >= 3 && self.p.forward_p > 0.0 && self.written < self.target)
            && self.rng.chance(self.p.forward_p)
        {
            self.internal(Some(Forward { prev, ours: sp, client: ci }))?;
        }
        Ok(())
    }

    /// The files one client message carries.
    fn attachments(&mut self, slots: &Slots, topic: Topic, english: bool) -> Vec<Attachment> {
        let Some(mix) = self.p.attachments else {
            return vec![Attachment { name: slots.filled(self.rng.pick(topic.attachments(english))), size: None }];
        };
        let m = self.rng.weighted(mix);
        let names = match m.names {
            Some((cs, en)) => {
                if english {
                    en
                } else {
                    cs
                }
            }
            None => topic.attachments(english),
        };
        let n = 1 + self.rng.below(m.most);
        let name = slots.filled(self.rng.pick(names));
        (0..n)
            .map(|k| {
                let size = Some(self.rng.log_uniform(m.size.0, m.size.1) as usize);
                let name = match name.rsplit_once('.') {
                    Some((stem, ext)) if n > 1 => format!("{stem}_{}.{ext}", k + 1),
                    _ => name.clone(),
                };
                Attachment { name, size }
            })
            .collect()
    }

    /// The text of one message (without quoted history).
    #[allow(clippy::too_many_arguments)]
    fn compose(
        &mut self,
        slots: &Slots,
        bank: &Bank,
        topic: Topic,
        us: bool,
        first: bool,
        writer: &Person,
        reader: &Person,
        client: &Client,
        long: bool,
    ) -> String {
        let en = slots.english;
        let mut t = String::with_capacity(2048);
        // Greeting.
        let greeting = if en {
            let formal = if reader.email.ends_with(OUR_DOMAIN) {
                format!("{} {}", if reader.female { "Ms" } else { "Mr" }, reader.last)
            } else {
                reader.formal.clone()
            };
            match self.rng.below(100) {
                0..=39 => format!("Hi {},", reader.first),
                40..=64 => format!("Dear {formal},"),
                65..=84 => format!("Dear {},", reader.first),
                85..=94 => format!("Hello {},", reader.first),
                _ => format!("Good morning {},", reader.first),
            }
        } else {
            match self.rng.below(100) {
                0..=44 => "Dobrý den,".to_string(),
                45..=69 => format!("Dobrý den, {},", reader.formal),
                70..=74 => format!("{} {},", if reader.female { "Vážená" } else { "Vážený" }, reader.formal),
                75..=84 if !first => format!("Ahoj {},", reader.informal),
                _ => "Zdravím,".to_string(),
            }
        };
        t.push_str(&greeting);
        t.push_str("\n\n");

        let primary = match (us, first) {
            (false, true) => bank.them_first,
            (true, true) => bank.us_first,
            (false, false) => bank.them_reply,
            (true, false) => bank.us_reply,
        };
        let generic = match (en, us) {
            (false, false) => ph::CS_GENERIC_THEM,
            (false, true) => ph::CS_GENERIC_US,
            (true, false) => ph::EN_GENERIC_THEM,
            (true, true) => ph::EN_GENERIC_US,
        };
        let mut order: Vec<usize> = (0..primary.len()).collect();
        self.rng.shuffle(&mut order);
        let mut gorder: Vec<usize> = (0..generic.len()).collect();
        self.rng.shuffle(&mut gorder);
        let paragraphs = self.rng.weighted(&[(1usize, 6), (2, 24), (3, 35), (4, 25), (5, 10)]);
        let (mut pi, mut gi) = (0, 0);
        let mut sentence_no = 0;
        for p in 0..paragraphs {
            let n = 1 + self.rng.below(3);
            let mut wrote = false;
            for _ in 0..n {
                // Few sentences from the topic bank per message, so that they rarely contradict each other.
                let cap = if first { 4 } else { 2 };
                let from_primary = pi < cap && (p == 0 || self.rng.chance(0.5));
                let s = if from_primary && pi < order.len() {
                    pi += 1;
                    primary[order[pi - 1]]
                } else if gi < gorder.len() {
                    gi += 1;
                    generic[gorder[gi - 1]]
                } else {
                    continue;
                };
                if wrote {
                    t.push(' ');
                }
                let filled = slots.filled(s);
                if sentence_no == 0 && !en {
                    t.push_str(&filled)
                } else {
                    t.push_str(&capitalize(&filled))
                }
                sentence_no += 1;
                wrote = true;
            }
            if wrote {
                t.push_str("\n\n");
            }
        }
        if self.rng.chance(0.006) {
            let s = slots.filled(self.rng.pick(if en { ph::EN_RARE } else { ph::CS_RARE }));
            t.push_str(&s);
            t.push_str("\n\n");
        }
        if long {
            self.long_part(slots, topic, &mut t);
        }
        // Closing and signature.
        let closing = self.rng.pick(if en { ph::EN_CLOSINGS } else { ph::CS_CLOSINGS });
        let _ = writeln!(t, "{closing}\n");
        if self.rng.chance(0.35) {
            t.push_str("-- \n");
        }
        let _ = writeln!(t, "{}", writer.display);
        if us {
            let _ = writeln!(t, "{}", if en { "Sales, Modrý Kámen" } else { writer.role.as_str() });
            let _ = writeln!(
                t,
                "{OUR_COMPANY} | {}",
                if en { "HVAC supply and service" } else { "vzduchotechnika, klimatizace, servis" }
            );
            let _ = writeln!(t, "Technická 1812/7, 301 00 Plzeň{}", if en { ", Czech Republic" } else { "" });
            let _ = writeln!(t, "tel.: {}\nwww.{OUR_DOMAIN}", writer.phone);
            if self.rng.chance(0.8) {
                let _ = write!(t, "\n{}\n", if en { OUR_FOOTER_EN } else { OUR_FOOTER_CS });
            }
        } else {
            let _ = writeln!(t, "{}\n{}", writer.role, client.name);
            if self.rng.chance(0.5) {
                if en {
                    let _ = writeln!(
                        t,
                        "{} {}, {}",
                        1 + self.rng.below(180),
                        self.rng.pick(&["High Street", "Station Road", "Mill Lane", "Church Road", "Park Avenue"]),
                        slots.place_en
                    );
                } else {
                    let (town, _, _) = ph::PLACES[slots.place];
                    let _ = writeln!(
                        t,
                        "{} {}/{}, {town}",
                        self.rng.pick(ph::STREETS),
                        100 + self.rng.below(2900),
                        1 + self.rng.below(40)
                    );
                }
            }
            if let Some(ico) = client.ico.as_ref().filter(|_| self.rng.chance(0.3)) {
                let _ = writeln!(t, "IČO: {ico}");
            }
            let _ = writeln!(t, "tel.: {}", writer.phone);
            if client.disclaimer {
                let _ = write!(t, "\n{}\n", if en { ph::EN_DISCLAIMER } else { ph::CS_DISCLAIMER });
            }
        }
        while t.ends_with('\n') {
            t.pop();
        }
        t
    }

    /// A long block: item list, contract draft, service checklist or minutes.
    fn long_part(&mut self, slots: &Slots, topic: Topic, t: &mut String) {
        let en = slots.english;
        match topic {
            Topic::Contract => {
                let clauses = if en { ph::EN_CLAUSES } else { ph::CS_CLAUSES };
                let rounds = 1 + self.rng.below(3);
                let _ = writeln!(
                    t,
                    "{}\n",
                    if en { "Draft agreement (for comments):" } else { "Znění návrhu smlouvy pro připomínky:" }
                );
                let mut no = 1;
                for _ in 0..rounds {
                    for (title, sentences) in clauses {
                        let _ = writeln!(t, "{} {no}. {title}", if en { "Clause" } else { "Článek" });
                        for (k, s) in sentences.iter().enumerate() {
                            let _ = writeln!(t, "{no}.{} {}", k + 1, slots.filled(s));
                        }
                        t.push('\n');
                        no += 1;
                    }
                }
            }
            Topic::Service | Topic::Meeting => {
                const CHECKS: &[&str] = &[
                    "Kontrola a čištění filtrů",
                    "Kontrola tlaků chladiva",
                    "Čištění výparníku a kondenzátoru",
                    "Kontrola kondenzátního čerpadla",
                    "Měření příkonu kompresoru",
                    "Kontrola těsnosti okruhu",
                    "Kontrola řídicí jednotky a čidel",
                    "Kontrola ložisek ventilátoru",
                ];
                const CHECKS_EN: &[&str] = &[
                    "Filters inspected and cleaned",
                    "Refrigerant pressures checked",
                    "Evaporator and condenser cleaned",
                    "Condensate pump tested",
                    "Compressor current measured",
                    "Leak check of the refrigerant circuit",
                    "Controller and sensors checked",
                ];
                let units = 2 + self.rng.below(30);
                for u in 1..=units {
                    let _ = writeln!(
                        t,
                        "{} {u} ({}):",
                        if en { "Unit" } else { "Jednotka" },
                        if en { ph::PRODUCTS[slots.product].2 } else { ph::PRODUCTS[slots.product].0 }
                    );
                    for c in if en { CHECKS_EN } else { CHECKS } {
                        let result = self.rng.weighted(if en {
                            &[("OK", 85), ("replaced", 10), ("fault, see notes", 5)]
                        } else {
                            &[("OK", 85), ("vyměněno", 10), ("závada, viz poznámka", 5)]
                        });
                        let _ = writeln!(t, "  - {c}: {result}");
                    }
                    t.push('\n');
                }
            }
            _ => {
                let lines = (self.rng.log_uniform(15.0, 400.0)) as usize;
                let _ = writeln!(t, "{}\n", if en { "Item list:" } else { "Položkový rozpis:" });
                for i in 1..=lines {
                    let (cs, _, enp) = self.rng.pick(ph::PRODUCTS);
                    let qty = 1 + self.rng.below(24);
                    let price = (self.rng.log_uniform(150.0, 180_000.0) as u64) / 10 * 10;
                    if en {
                        let _ = writeln!(
                            t,
                            "{i}. {enp} - {qty} pcs @ GBP {} = GBP {}",
                            thousands(price / 25),
                            thousands(price / 25 * qty as u64)
                        );
                    } else {
                        let _ = writeln!(t, "{i}. {cs} – {qty} ks × {} = {}", czk(price), czk(price * qty as u64));
                    }
                }
                t.push('\n');
            }
        }
    }

    /// `text` followed by the quoted previous message, in the writer's mailer
    /// style; `forward`: as a forwarded message (Outlook and Seznam write
    /// the same header either way, the others leave the old text unquoted).
    fn quote(&mut self, mut text: String, p: &Prev, mailer: Mailer, en: bool, forward: bool) -> String {
        let mut old = p.text.as_str();
        if old.len() > self.p.max_quoted {
            let mut cut = self.p.max_quoted;
            while !old.is_char_boundary(cut) {
                cut -= 1;
            }
            let cut = old[..cut].rfind('\n').unwrap_or(cut);
            old = &old[..cut];
        }
        let d = local(p.ts, p.offset);
        let to_list = p.to.iter().map(|a| a.name.clone()).filter(|n| !n.is_empty()).collect::<Vec<_>>().join("; ");
        text.push_str("\n\n");
        match mailer {
            Mailer::Outlook => {
                if en {
                    let _ = write!(
                        text,
                        "-----Original Message-----\nFrom: {} <{}>\nSent: {}, {} {} {} {}\nTo: {}\nSubject: {}\n\n",
                        p.from.name,
                        p.from.email,
                        ph::EN_DAYS_FULL[d.weekday().num_days_from_monday() as usize],
                        d.day(),
                        ph::EN_MONTHS[d.month0() as usize],
                        d.year(),
                        d.format("%H:%M"),
                        to_list,
                        p.subject
                    );
                } else {
                    let _ = write!(
                        text,
                        "-----Původní zpráva-----\nOd: {} <{}>\nOdesláno: {} {}. {} {} {}\nKomu: {}\nPředmět: {}\n\n",
                        p.from.name,
                        p.from.email,
                        ph::CZ_DAYS_FULL[d.weekday().num_days_from_monday() as usize],
                        d.day(),
                        ph::CZ_MONTHS_GEN[d.month0() as usize],
                        d.year(),
                        d.format("%-H:%M"),
                        to_list,
                        p.subject
                    );
                }
                text.push_str(old);
            }
            Mailer::Seznam => {
                let _ = write!(
                    text,
                    "---------- Původní e-mail ----------\nOd: {} <{}>\nKomu: {}\nDatum: {}. {}. {} {}\nPředmět: {}\n",
                    p.from.name,
                    p.from.email,
                    to_list,
                    d.day(),
                    d.month(),
                    d.year(),
                    d.format("%-H:%M:%S"),
                    p.subject
                );
                text.push_str(old);
            }
            _ if forward => {
                let _ = write!(
                    text,
                    "{}\n{}: {}\n{}: {}\n{}: {} <{}>\n{}: {}\n\n",
                    if en { "-------- Forwarded Message --------" } else { "-------- Přeposlaná zpráva --------" },
                    if en { "Subject" } else { "Předmět" },
                    p.subject,
                    if en { "Date" } else { "Datum" },
                    d.format("%a, %-d %b %Y %H:%M:%S %z"),
                    if en { "From" } else { "Od" },
                    p.from.name,
                    p.from.email,
                    if en { "To" } else { "Komu" },
                    to_list
                );
                text.push_str(old);
            }
            _ => {
                if en {
                    let _ = writeln!(text, "On {}, {} wrote:", d.format("%d/%m/%Y %H:%M"), p.from.name);
                } else if mailer == Mailer::Gmail {
                    let _ = writeln!(
                        text,
                        "{}. {}. {} v {} odesílatel {} <{}> napsal:",
                        d.day(),
                        d.month(),
                        d.year(),
                        d.format("%-H:%M"),
                        p.from.name,
                        p.from.email
                    );
                } else {
                    let _ = writeln!(
                        text,
                        "Dne {}. {}. {} v {} {} napsal(a):",
                        d.day(),
                        d.month(),
                        d.year(),
                        d.format("%-H:%M"),
                        p.from.name
                    );
                }
                for line in old.split('\n') {
                    if line.starts_with('>') {
                        text.push('>');
                    } else {
                        text.push_str("> ");
                    }
                    text.push_str(line);
                    text.push('\n');
                }
                text.pop();
            }
        }
        text
    }

    // -----------------------------------------------------------------------
    // Rendering

    fn write(&mut self, m: &Mail) -> io::Result<()> {
        let mut out = std::mem::take(&mut self.buf);
        out.clear();
        self.render(m, &mut out);
        let n = self.written + 1;
        // Delivery a few seconds after the Date for received mail.
        let delivered = if m.incoming { m.ts + self.rng.range(1, 40) } else { m.ts };
        let name = format!("{delivered}.M{n}P{}Q{n}.bench:2,S", self.pid);
        let path = self.dirs[m.folder].join(name);
        let text: std::borrow::Cow<'_, str> = if m.crlf { out.replace('\n', "\r\n").into() } else { (&out).into() };
        // An 8bit body was rendered one char per byte (see `body`); all else is ASCII.
        let bytes: std::borrow::Cow<'_, [u8]> = if m.encoding.eight_bit() {
            text.chars().map(|c| u8::try_from(c).expect("one byte per char")).collect::<Vec<u8>>().into()
        } else {
            match text {
                std::borrow::Cow::Borrowed(t) => t.as_bytes().into(),
                std::borrow::Cow::Owned(t) => t.into_bytes().into(),
            }
        };
        let mut f = fs::File::create(&path)?;
        f.write_all(&bytes)?;
        // Maildir readers may look at the mtime; some file systems refuse to set it, which is fine.
        let _ = f.set_modified(UNIX_EPOCH + Duration::from_secs(delivered.max(0) as u64));
        let size = bytes.len() as u64;
        drop(f);
        self.buf = out;

        self.written += 1;
        self.bytes += size;
        let st = &mut self.stats;
        st.sizes.push(size.min(u64::from(u32::MAX)) as u32);
        match m.folder {
            INBOX => st.inbox += 1,
            SENT => st.sent += 1,
            _ => st.archive += 1,
        }
        if m.english {
            st.english += 1;
        } else {
            st.czech += 1;
        }
        if m.message_id.is_none() {
            st.without_message_id += 1;
        }
        *st.encodings.entry(m.encoding.label()).or_default() += 1;
        if m.crlf {
            st.crlf += 1;
        }
        if m.encoding.eight_bit() {
            st.eight_bit += 1;
        }
        if !m.subject.is_ascii() {
            st.encoded_subjects += 1;
        }
        match m.html {
            Html::Alternative => st.alternative += 1,
            Html::Only => st.html_only += 1,
            Html::No => {}
        }
        *self.from_counts.entry(m.from.email.clone()).or_default() += 1;
        Ok(())
    }

    fn render(&mut self, m: &Mail, out: &mut String) {
        let enc = m.encoding;
        let b = enc.b_words();
        let date_fmt = if self.rng.chance(0.2) { "%a, %d %b %Y %H:%M:%S %z" } else { "%a, %-d %b %Y %H:%M:%S %z" };
        let date = local(m.ts, m.offset).format(date_fmt).to_string();
        let our_rcpt = m.to.iter().find(|a| a.domain() == OUR_DOMAIN).map(|a| a.email.clone());

        // Trace headers.
        if m.incoming || self.rng.chance(0.4) {
            let _ = writeln!(out, "Return-Path: <{}>", m.from.email);
        }
        if m.incoming {
            let hops = 1 + usize::from(self.rng.chance(0.5));
            let rcpt = our_rcpt.clone().unwrap_or_else(|| m.to[0].email.clone());
            let sender_host = match m.from.domain() {
                "gmail.com" => format!("mail-wr1-f{}.google.com", self.rng.range(41, 99)),
                "seznam.cz" | "email.cz" => format!("mxout{}.seznam.cz", self.rng.range(1, 9)),
                d => format!("{}.{d}", if d.starts_with("mail.") { "smtp" } else { "mail" }),
            };
            let ip = format!("{}.{}", self.rng.pick(&["192.0.2", "198.51.100", "203.0.113"]), self.rng.range(2, 254));
            let tz = if prague_offset(m.ts) == 7200 { "CEST" } else { "CET" };
            let rx_date = local(m.ts + 2, prague_offset(m.ts)).format("%a, %-d %b %Y %H:%M:%S %z");
            let _ = writeln!(
                out,
                "Received: from {sender_host} ({sender_host} [{ip}])\n\tby mx1.{OUR_DOMAIN} (Postfix) with ESMTPS id {}\n\tfor <{rcpt}>; {rx_date} ({tz})",
                self.rng.hex(10).to_uppercase()
            );
            let dkim_domain = match m.from.domain() {
                "gmail.com" => Some("gmail.com".to_string()),
                "seznam.cz" | "email.cz" => Some(m.from.domain().to_string()),
                d if self.rng.chance(0.5) => Some(d.trim_start_matches("mail.").to_string()),
                _ => None,
            };
            let _ = writeln!(
                out,
                "Authentication-Results: mx1.{OUR_DOMAIN};\n\tdkim={} header.d={};\n\tspf=pass (mx1.{OUR_DOMAIN}: domain of {} designates {ip} as permitted sender) smtp.mailfrom={};\n\tdmarc=pass (p=NONE) header.from={}",
                if dkim_domain.is_some() { "pass" } else { "none" },
                dkim_domain.as_deref().unwrap_or(m.from.domain()),
                m.from.email,
                m.from.email,
                m.from.domain()
            );
            let _ = writeln!(
                out,
                "X-Spam-Status: No, score={}.{} required=5.0 tests=BAYES_00,DKIM_SIGNED,SPF_PASS",
                self.rng.range(-3, 2),
                self.rng.below(10)
            );
            if let Some(d) = &dkim_domain {
                let mut sig = [0u8; 256];
                self.rng.fill(&mut sig);
                let mut b64 = String::new();
                encode::base64_raw(&sig, &mut b64);
                let mut bh = String::new();
                encode::base64_raw(&sig[..32], &mut bh);
                let _ = write!(
                    out,
                    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s={};\n\tt={}; h=from:to:subject:date:message-id:mime-version;\n\tbh={bh};\n\tb=",
                    if d == "gmail.com" { "20230601" } else { "default" },
                    m.ts
                );
                for (i, chunk) in b64.as_bytes().chunks(64).enumerate() {
                    if i > 0 {
                        out.push_str("\n\t  ");
                    }
                    out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                }
                out.push('\n');
            }
            if hops == 2 {
                let client_ip = format!("198.51.100.{}", self.rng.range(2, 254));
                let _ = writeln!(
                    out,
                    "Received: from [{client_ip}] (unknown [{client_ip}])\n\tby {sender_host} (Postfix) with ESMTPSA id {}\n\tfor <{rcpt}>; {}",
                    self.rng.hex(9).to_uppercase(),
                    local(m.ts, m.offset).format("%a, %-d %b %Y %H:%M:%S %z")
                );
            }
        } else if self.rng.chance(0.5) {
            let ip = format!("192.0.2.{}", self.rng.range(10, 60));
            let _ = writeln!(
                out,
                "Received: from [{ip}] (unknown [{ip}])\n\tby smtp.{OUR_DOMAIN} (Postfix) with ESMTPSA id {}\n\t(Authenticated sender: {}); {date}",
                self.rng.hex(10).to_uppercase(),
                m.from.email
            );
        }

        let from = format!("From: {}", address(&m.from, enc, b));
        let to = address_list("To", &m.to, enc, b);
        let cc = (!m.cc.is_empty()).then(|| address_list("Cc", &m.cc, enc, b));
        let subject = subject_header(&m.subject, enc, b);
        let mid = m.message_id.as_ref().map(|id| format!("Message-ID: {id}"));
        let irt = m.in_reply_to.as_ref().map(|id| format!("In-Reply-To: {id}"));
        let refs = (!m.references.is_empty()).then(|| format!("References: {}", m.references.join("\n ")));

        let boundary = |rng: &mut Rng, mailer: Mailer| match mailer {
            Mailer::Outlook => {
                format!(
                    "----=_NextPart_000_{}_{}.{}",
                    rng.hex(4).to_uppercase(),
                    rng.hex(8).to_uppercase(),
                    rng.hex(8).to_uppercase()
                )
            }
            Mailer::Thunderbird => format!("------------{}", rng.hex(24)),
            Mailer::AppleMail => format!("Apple-Mail={}", rng.hex(32).to_uppercase()),
            Mailer::Gmail => format!("000000000000{}", rng.hex(16)),
            _ => format!("=_{}", rng.hex(20)),
        };

        let mut head = Vec::new();
        match m.mailer {
            Mailer::Thunderbird => {
                head.extend(mid.clone());
                head.push(format!("Date: {date}"));
                head.push("MIME-Version: 1.0".into());
                head.push("User-Agent: Mozilla Thunderbird".into());
                head.push(format!("Content-Language: {}", if m.english { "en-GB" } else { "cs" }));
                head.extend(refs.clone());
                head.extend(irt.clone());
                head.push(to.clone());
                head.extend(cc.clone());
                head.push(from.clone());
                head.push(subject.clone());
            }
            _ => {
                head.push(from.clone());
                head.push(to.clone());
                head.extend(cc.clone());
                head.push(subject.clone());
                head.push(format!("Date: {date}"));
                head.extend(mid.clone());
                head.extend(refs.clone());
                head.extend(irt.clone());
                head.push("MIME-Version: 1.0".into());
                match m.mailer {
                    Mailer::Outlook => {
                        head.push("X-Mailer: Microsoft Outlook 16.0".into());
                        let mut ti = String::from("Thread-Index: ");
                        let mut raw = [0u8; 22];
                        self.rng.fill(&mut raw);
                        encode::base64_raw(&raw, &mut ti);
                        head.push(ti);
                        head.push(format!("Content-Language: {}", if m.english { "en-gb" } else { "cs" }));
                    }
                    Mailer::AppleMail => head.push("X-Mailer: Apple Mail (2.3826.500.181.1.5)".into()),
                    Mailer::Seznam => head.push("X-Mailer: Email.cz".into()),
                    Mailer::TheBat => head.push("X-Mailer: The Bat! (v10.4.0.5) Professional".into()),
                    _ => {}
                }
            }
        }
        if let Some(r) = &m.reply_to {
            head.push(format!("Reply-To: {}", address(r, enc, b)));
        }
        if let Some((id, unsub)) = &m.list {
            head.push(format!("List-Id: {id}"));
            head.push(format!("List-Unsubscribe: {unsub}"));
            head.push("List-Unsubscribe-Post: List-Unsubscribe=One-Click".into());
            head.push("Precedence: bulk".into());
        }
        for h in head {
            out.push_str(&h);
            out.push('\n');
        }

        // Body parts.
        let text_bytes = enc.encode_text(&m.text);
        let flowed = m.mailer == Mailer::Thunderbird && enc == Encoding::Utf8Qp;
        let html_bytes = if m.html == Html::No {
            Vec::new()
        } else {
            let html = match &m.html_body {
                Some(h) => h.replace("charset=\"utf-8\"", &format!("charset=\"{}\"", enc.charset())),
                None => html_from_text(&m.text, enc.charset(), m.english),
            };
            enc.encode_text(&html)
        };
        let write_text = |out: &mut String, subtype: &str, bytes: &[u8]| {
            let charset = enc.charset();
            if m.mailer == Mailer::Outlook {
                let _ = writeln!(out, "Content-Type: text/{subtype};\n\tcharset=\"{charset}\"");
            } else if flowed && subtype == "plain" {
                let _ = writeln!(out, "Content-Type: text/plain; charset=UTF-8; format=flowed");
            } else {
                let _ = writeln!(out, "Content-Type: text/{subtype}; charset={charset}");
            }
            let _ = writeln!(out, "Content-Transfer-Encoding: {}\n", enc.transfer());
            body(out, bytes, enc);
        };
        let alt = |out: &mut String, rng: &mut Rng, top: bool| {
            let bd = boundary(rng, m.mailer);
            let _ = writeln!(out, "Content-Type: multipart/alternative;\n\tboundary=\"{bd}\"\n");
            if top {
                out.push_str("This is a multi-part message in MIME format.\n\n");
            }
            let _ = writeln!(out, "--{bd}");
            write_text(out, "plain", &text_bytes);
            let _ = writeln!(out, "\n--{bd}");
            write_text(out, "html", &html_bytes);
            let _ = writeln!(out, "\n--{bd}--");
        };
        if m.attachments.is_empty() {
            match m.html {
                Html::No => write_text(out, "plain", &text_bytes),
                Html::Only => write_text(out, "html", &html_bytes),
                Html::Alternative => alt(out, &mut self.rng, true),
            }
        } else {
            let bd = boundary(&mut self.rng, m.mailer);
            let _ = writeln!(out, "Content-Type: multipart/mixed;\n\tboundary=\"{bd}\"\n");
            let _ = writeln!(out, "This is a multi-part message in MIME format.\n\n--{bd}");
            match m.html {
                Html::No => write_text(out, "plain", &text_bytes),
                Html::Only => write_text(out, "html", &html_bytes),
                Html::Alternative => alt(out, &mut self.rng, false),
            }
            for a in &m.attachments {
                let name = &a.name;
                let kind = FileKind::of(name);
                let size = a.size.unwrap_or_else(|| self.rng.log_uniform(20_000.0, 200_000.0) as usize);
                let mut data = std::mem::take(&mut self.att);
                fake_attachment(&mut self.rng, kind, size, &mut data);
                let ctype = kind.content_type();
                let _ = writeln!(out, "\n--{bd}");
                if name.is_ascii() {
                    let _ = writeln!(out, "Content-Type: {ctype};\n\tname=\"{name}\"");
                } else {
                    let words = encode::encoded_words(name, Encoding::Utf8Base64, true, 66);
                    let _ = writeln!(out, "Content-Type: {ctype};\n\tname=\"{}\"", words.join("\n\t"));
                    self.stats.non_ascii_attachment_names += 1;
                }
                let _ = writeln!(out, "Content-Transfer-Encoding: base64");
                // Outlook's signature pictures (image001.png) go inline.
                let disposition = if name.starts_with("image0") { "inline" } else { "attachment" };
                let _ =
                    writeln!(out, "Content-Disposition: {disposition}{}\n", encode::filename_params("filename", name));
                encode::base64_lines(&data, out);
                self.stats.attachment_files += 1;
                self.stats.attachment_bytes += data.len() as u64;
                self.att = data;
            }
            let _ = writeln!(out, "\n--{bd}--");
            self.stats.attachments += 1;
        }
    }

    // -----------------------------------------------------------------------
    // Queries

    fn queries(&self) -> Vec<String> {
        let mut q: Vec<String> = [
            "faktura",
            "priloha",
            "příloha",
            "reklamace",
            "SMLOUVA",
            "nabídka",
            "nabidka",
            "objednávka",
            "servis",
            "klimatizace",
            "rekuperace",
            "invoice",
            "quotation",
            "\"cenová nabídka\"",
            "\"smlouva o dílo\"",
            "\"dodací list\"",
            "\"kontrolní den\"",
            "\"purchase order\"",
            "\"tepelné čerpadlo\"",
            "subject:faktura",
            "subject:reklamace",
            "subject:objednávka",
            "subject:schůzka",
            "subject:invoice",
            "faktura AND servis",
            "nabídka OR objednávka",
            "faktura -storno",
            "reklamace AND dobropis",
            "klimatizace AND porucha",
            "storno",
            "upomínka",
            "penále",
            "památkově",
            "\"insolvenčního řízení\"",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();

        let mut domains: BTreeMap<String, u32> = BTreeMap::new();
        for (addr, n) in &self.from_counts {
            let d = addr.split('@').nth(1).unwrap_or_default().to_string();
            *domains.entry(d).or_default() += n;
        }
        let newsletter_domains: HashSet<&str> =
            ph::NEWSLETTERS.iter().map(|(_, a, _)| a.split('@').nth(1).unwrap_or_default()).collect();
        let client_domain = |d: &str| d != OUR_DOMAIN && !FREE_MAIL.contains(&d) && !newsletter_domains.contains(d);
        let mut ranked: Vec<(&String, &u32)> = domains.iter().filter(|(d, _)| client_domain(d)).collect();
        ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let english_domain = |d: &str| {
            d.ends_with(".co.uk") || self.world.clients.iter().any(|c| c.english && c.domains.iter().any(|x| x == d))
        };
        if let Some((d, _)) = ranked.iter().find(|(d, _)| !d.starts_with("mail.") && !english_domain(d)) {
            q.push(format!("from:{d}"));
        }
        if let Some((d, _)) = ranked.iter().find(|(d, _)| english_domain(d)) {
            q.push(format!("from:{d}"));
        }
        if let Some((d, _)) = ranked.iter().find(|(d, _)| d.starts_with("mail.")) {
            q.push(format!("from:{d}"));
        }
        if let Some((d, _)) = ranked.iter().rev().find(|(d, n)| **n >= 2 && !d.starts_with("mail.")) {
            q.push(format!("from:{d}"));
        }
        let mut addrs: Vec<(&String, &u32)> =
            self.from_counts.iter().filter(|(a, _)| client_domain(a.split('@').nth(1).unwrap_or_default())).collect();
        addrs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if let Some((a, _)) = addrs.first() {
            q.push(format!("from:{a}"));
            if let Some(surname) = self.surname_of.get(*a) {
                q.push(surname.clone());
            }
        }
        if domains.get("seznam.cz").is_some_and(|&n| n > 0) {
            q.push("from:seznam.cz".into());
        }
        q.push(format!("from:{}", self.world.ours[0].email));
        let best = |m: &HashMap<String, u32>| {
            let mut v: Vec<(&String, &u32)> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            v.first().map(|(k, _)| (*k).clone())
        };
        if let Some(ico) = best(&self.ico_hits) {
            q.push(ico);
        }
        if let Some(no) = best(&self.invoice_hits) {
            q.push(format!("\"{no}\""));
        }
        q.push("modrykamen".into());
        q
    }
}

// ---------------------------------------------------------------------------
// Header and body helpers

/// `Name <addr>` with the name quoted or RFC 2047-encoded as needed.
fn address(a: &Addr, enc: Encoding, b: bool) -> String {
    if a.name.is_empty() {
        return a.email.clone();
    }
    let name = if a.name.is_ascii() {
        if a.name.chars().any(|c| "()<>[]:;@\\,.\"".contains(c)) {
            format!("\"{}\"", a.name.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            a.name.clone()
        }
    } else {
        encode::encoded_words(&a.name, enc, b, 66).join("\n ")
    };
    let last_line = name.rsplit('\n').next().unwrap_or("").len();
    if last_line + a.email.len() > 66 { format!("{name}\n <{}>", a.email) } else { format!("{name} <{}>", a.email) }
}

fn address_list(header: &str, list: &[Addr], enc: Encoding, b: bool) -> String {
    let parts: Vec<String> = list.iter().map(|a| address(a, enc, b)).collect();
    format!("{header}: {}", parts.join(",\n "))
}

fn subject_header(subject: &str, enc: Encoding, b: bool) -> String {
    if subject.is_ascii() {
        if subject.len() + 9 <= 78 {
            return format!("Subject: {subject}");
        }
        // Fold at a space.
        let mut out = String::from("Subject:");
        let mut col = 8;
        for word in subject.split(' ') {
            if col + 1 + word.len() > 76 && col > 9 {
                out.push_str("\n ");
                col = 1;
            } else {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += word.len();
        }
        return out;
    }
    format!("Subject: {}", encode::encoded_words(subject, enc, b, 66).join("\n "))
}

fn body(out: &mut String, bytes: &[u8], enc: Encoding) {
    match enc.transfer() {
        "quoted-printable" => encode::quoted_printable(bytes, out),
        "base64" => encode::base64_lines(bytes, out),
        // Raw bytes, one char each (U+0000–U+00FF); `write` turns them back into bytes.
        "8bit" => {
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            out.push_str(&wrap(&text, 76));
            out.push('\n');
        }
        _ => {
            let text = std::str::from_utf8(bytes).unwrap_or("");
            out.push_str(&wrap(text, 76));
            out.push('\n');
        }
    }
}

fn html_from_text(text: &str, charset: &str, en: bool) -> String {
    let mut h = String::with_capacity(text.len() * 2 + 600);
    let _ = write!(
        h,
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset={charset}\">\n<style><!--\np.MsoNormal, li.MsoNormal, div.MsoNormal {{margin:0cm; font-size:11.0pt; font-family:\"Calibri\",sans-serif;}}\nblockquote {{margin:0 0 0 .8ex; border-left:1px #ccc solid; padding-left:1ex;}}\n--></style>\n</head>\n<body lang=\"{}\">\n<div class=\"WordSection1\">\n",
        if en { "EN-GB" } else { "CS" }
    );
    let mut in_quote = false;
    for para in text.split("\n\n") {
        let quoted = para.starts_with('>');
        if quoted && !in_quote {
            h.push_str("<blockquote type=\"cite\">\n");
            in_quote = true;
        } else if !quoted && in_quote {
            h.push_str("</blockquote>\n");
            in_quote = false;
        }
        h.push_str("<p class=\"MsoNormal\">");
        for (i, line) in para.split('\n').enumerate() {
            if i > 0 {
                h.push_str("<br>\n");
            }
            let line = if quoted { line.trim_start_matches(['>', ' ']) } else { line };
            encode::html_escape(line, &mut h);
        }
        h.push_str("</p>\n");
    }
    if in_quote {
        h.push_str("</blockquote>\n");
    }
    h.push_str("</div>\n</body>\n</html>\n");
    h
}

/// What an attached file is, from its name's extension (PDF when unknown).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FileKind {
    Pdf,
    Xlsx,
    Docx,
    Jpeg,
    Png,
}

impl FileKind {
    fn of(name: &str) -> FileKind {
        match name.rsplit('.').next().unwrap_or_default() {
            "xlsx" => FileKind::Xlsx,
            "docx" => FileKind::Docx,
            "jpg" | "jpeg" | "JPG" => FileKind::Jpeg,
            "png" => FileKind::Png,
            _ => FileKind::Pdf,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }
}

/// Bytes that look like a PDF, an xlsx or docx (zip), a JPEG or a PNG file
/// of about `size` bytes: the right magic and structure around random
/// payload (checksums are not real).
fn fake_attachment(rng: &mut Rng, kind: FileKind, size: usize, out: &mut Vec<u8>) {
    out.clear();
    let payload = size.saturating_sub(400).max(64);
    let random = |rng: &mut Rng, out: &mut Vec<u8>, n: usize| {
        let start = out.len();
        out.resize(start + n, 0);
        rng.fill(&mut out[start..]);
    };
    let dimensions = |rng: &mut Rng| -> [u8; 4] {
        let (w, h) = (rng.range(320, 4032) as u16, rng.range(240, 3024) as u16);
        let (w, h) = (w.to_be_bytes(), h.to_be_bytes());
        [w[0], w[1], h[0], h[1]]
    };
    if let FileKind::Xlsx | FileKind::Docx = kind {
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00");
        random(rng, out, 12);
        out.extend_from_slice(b"\x13\x00\x00\x00[Content_Types].xml");
        random(rng, out, payload);
        let names = if kind == FileKind::Xlsx {
            ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml", "docProps/app.xml"]
        } else {
            ["word/document.xml", "word/styles.xml", "word/settings.xml", "docProps/app.xml"]
        };
        for name in names {
            out.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x06\x00\x08\x00\x00\x00!\x00");
            out.extend_from_slice(name.as_bytes());
        }
        out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x04\x00\x04\x00");
        out.extend_from_slice(&[0u8; 10]);
    } else if kind == FileKind::Jpeg {
        out.extend_from_slice(
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00\xFF\xDB\x00\x43\x00",
        );
        random(rng, out, 64);
        let [w0, w1, h0, h1] = dimensions(rng);
        out.extend_from_slice(&[
            0xFF, 0xC0, 0x00, 0x11, 0x08, h0, h1, w0, w1, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01,
        ]);
        out.extend_from_slice(b"\x03\x11\x01\xFF\xDA\x00\x0C\x03\x01\x00\x02\x11\x03\x11\x00\x3F\x00");
        let start = out.len();
        random(rng, out, payload);
        // No markers inside the entropy-coded data.
        for b in &mut out[start..] {
            if *b == 0xFF {
                *b = 0xFE;
            }
        }
        out.extend_from_slice(b"\xFF\xD9");
    } else if kind == FileKind::Png {
        out.extend_from_slice(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0DIHDR\x00\x00");
        let [w0, w1, h0, h1] = dimensions(rng);
        out.extend_from_slice(&[w0, w1, 0, 0, h0, h1, 8, 6, 0, 0, 0]);
        random(rng, out, 4);
        out.extend_from_slice(&(payload as u32).to_be_bytes());
        out.extend_from_slice(b"IDAT");
        random(rng, out, payload + 4);
        out.extend_from_slice(b"\x00\x00\x00\x00IEND\xAE\x42\x60\x82");
    } else {
        out.extend_from_slice(
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<</Type/Catalog/Pages 2 0 R/Lang(cs-CZ)>>\nendobj\n2 0 obj\n<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n3 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 595.32 841.92]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>\nendobj\n",
        );
        let stream_at = out.len();
        let _ = write!(VecWriter(out), "4 0 obj\n<</Filter/FlateDecode/Length {payload}>>\nstream\n");
        random(rng, out, payload);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let font_at = out.len();
        out.extend_from_slice(
            b"5 0 obj\n<</Type/Font/Subtype/TrueType/BaseFont/ABCDEE+Calibri/Encoding/WinAnsiEncoding>>\nendobj\n",
        );
        let xref = out.len();
        let _ = write!(
            VecWriter(out),
            "xref\n0 6\n0000000000 65535 f \n0000000015 00000 n \n0000000078 00000 n \n0000000131 00000 n \n{stream_at:010} 00000 n \n{font_at:010} 00000 n \ntrailer\n<</Size 6/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n"
        );
    }
}

/// `fmt::Write` into a byte vector.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
