//! ARES, the Czech register of economic subjects: looks a company up by
//! IČO or by name over its public REST API (no key needed).
//!
//! Parsing is tolerant: unknown fields are ignored, optional fields may be
//! missing, numbers may come as strings and the other way round. Only a
//! missing `ico` or `obchodniJmeno` makes an answer unusable.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::model::Ico;

/// Largest answer read from ARES (a search for 1000 subjects is a few MB).
const MAX_ANSWER_BYTES: u64 = 32 << 20;

/// Registered data of a company.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Company {
    /// Eight digits, zero-padded.
    pub ico: String,
    pub name: String,
    /// VAT id (`CZ` + digits), when the company has one.
    pub dic: Option<String>,
    /// Registered office on one line: `textovaAdresa` when ARES gives it,
    /// else built from the parts, e.g. "Ulice 12/3, 110 00 Praha 1".
    pub address: Option<String>,
    /// Human name of the legal form ("s.r.o.", "a.s.", …), or "kód NNN".
    pub legal_form: Option<String>,
    /// The `pravniForma` code as ARES gives it, e.g. "112".
    pub legal_form_code: Option<String>,
    pub founded: Option<NaiveDate>,
    pub dissolved: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AresError {
    #[error("cannot look up IČO {0}: ARES does not know it")]
    NotFound(String),
    /// The message of [`Ico::parse`]; no request was sent.
    #[error("{0}")]
    InvalidIco(String),
    /// Timeouts, refused connections, 5xx answers.
    #[error("cannot reach ARES at {url}: {reason}; check the network or [ares] base_url, or add the client by hand")]
    Unreachable { url: String, reason: String },
    /// Not JSON, an HTML page, or JSON without `ico`/`obchodniJmeno`.
    #[error("cannot read the answer of ARES: {0}")]
    Malformed(String),
    /// A 4xx answer other than 404, with ARES's own reason when it gave one.
    #[error("ARES refused the request: {0}")]
    Refused(String),
}

/// A client of the ARES REST API.
#[derive(Debug, Clone)]
pub struct Ares {
    base_url: String,
    timeout: Duration,
}

impl Ares {
    pub const DEFAULT_URL: &str = "https://ares.gov.cz/ekonomicke-subjekty-v-be/rest";

    /// `base_url` is the REST root (see [`Ares::DEFAULT_URL`]); `timeout`
    /// bounds each whole request, answer included.
    pub fn new(base_url: &str, timeout: Duration) -> Ares {
        Ares { base_url: base_url.trim().trim_end_matches('/').to_string(), timeout }
    }

    /// GET {base}/ekonomicke-subjekty/{ico}. The IČO is checked (and
    /// zero-padded) before anything is sent.
    pub fn by_ico(&self, ico: &str) -> Result<Company, AresError> {
        let ico = Ico::parse(ico).map_err(AresError::InvalidIco)?;
        let url = format!("{}/ekonomicke-subjekty/{}", self.base_url, ico.as_str());
        let result = self.agent().get(&url).header("Accept", "application/json").call();
        let (status, body) = self.answer(&url, result)?;
        match status {
            200..=299 => {
                let value = parse_json(&url, status, &body)?;
                let company = company(&value).map_err(|e| AresError::Malformed(format!("{url}: {e}")))?;
                if company.ico != ico.as_str() {
                    return Err(AresError::Malformed(format!(
                        "{url}: asked for IČO {ico}, but the answer is about IČO {}",
                        company.ico
                    )));
                }
                Ok(company)
            }
            404 if ares_error(&body).is_some() => Err(AresError::NotFound(ico.as_str().to_string())),
            _ => Err(failure(&url, status, &body)),
        }
    }

    /// POST {base}/ekonomicke-subjekty/vyhledat with
    /// `{"obchodniJmeno": text, "pocet": limit, "start": 0}`. No match gives
    /// an empty list. Entries without an IČO or a name are skipped.
    pub fn by_name(&self, text: &str, limit: usize) -> Result<Vec<Company>, AresError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let url = format!("{}/ekonomicke-subjekty/vyhledat", self.base_url);
        let request = serde_json::json!({ "obchodniJmeno": text, "pocet": limit, "start": 0 }).to_string();
        let result = self
            .agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(request.as_str());
        let (status, body) = self.answer(&url, result)?;
        match status {
            200..=299 => {
                let value = parse_json(&url, status, &body)?;
                search_hits(&value).map_err(|e| AresError::Malformed(format!("{url}: {e}")))
            }
            // ARES may say "nothing found" as an error rather than an empty list.
            404 if ares_error(&body).is_some() => Ok(Vec::new()),
            _ => Err(failure(&url, status, &body)),
        }
    }

    fn agent(&self) -> ureq::Agent {
        crate::http::agent(self.timeout, 5)
    }

    /// The status and the body (lossy UTF-8) of a finished request.
    fn answer(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, String), AresError> {
        let unreachable = |e: ureq::Error| AresError::Unreachable { url: url.to_string(), reason: self.reason(&e) };
        let mut response = result.map_err(unreachable)?;
        let status = response.status().as_u16();
        let bytes = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                AresError::Malformed(format!("{url}: the answer is larger than {} MB", MAX_ANSWER_BYTES >> 20))
            }
            e => unreachable(e),
        })?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn reason(&self, e: &ureq::Error) -> String {
        match e {
            ureq::Error::Timeout(_) => format!("no answer within {:?}", self.timeout),
            ureq::Error::ConnectionFailed => "the connection failed".to_string(),
            ureq::Error::HostNotFound => "the host is not found".to_string(),
            e => e.to_string(),
        }
    }
}

/// The error for an answer that is neither a success nor a known 404.
fn failure(url: &str, status: u16, body: &str) -> AresError {
    let said = ares_error(body);
    match status {
        // A 404 that is not ARES's own "not found" comes from a wrong path.
        404 => AresError::Unreachable {
            url: url.to_string(),
            reason: "it answered HTTP 404 and not as ARES does (is the path right?)".to_string(),
        },
        400..=499 => AresError::Refused(match said {
            Some(said) => format!("{said} (HTTP {status})"),
            None => format!("HTTP {status} from {url}"),
        }),
        _ => {
            let reason = match said {
                Some(said) => format!("it answered HTTP {status} ({said})"),
                None => format!("it answered HTTP {status}"),
            };
            AresError::Unreachable { url: url.to_string(), reason }
        }
    }
}

/// "popis (kod)" from an ARES error answer `{"kod": …, "popis": …}`.
fn ares_error(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let obj = value.as_object()?;
    let kod = text(obj.get("kod"));
    let popis = text(obj.get("popis"));
    match (popis, kod) {
        (Some(p), Some(k)) => Some(format!("{p} ({k})")),
        (Some(p), None) => Some(p),
        (None, Some(k)) => Some(k),
        (None, None) => None,
    }
}

fn parse_json(url: &str, status: u16, body: &str) -> Result<Value, AresError> {
    serde_json::from_str(body).map_err(|e| {
        let start: String = body.trim_start().chars().take(60).collect();
        AresError::Malformed(format!("{url} answered HTTP {status} with something that is not JSON ({e}): {start:?}"))
    })
}

/// The companies of a search answer `{"pocetCelkem": n, "ekonomickeSubjekty": [...]}`.
fn search_hits(value: &Value) -> Result<Vec<Company>, String> {
    let obj = value.as_object().ok_or("the search answer is not a JSON object")?;
    let hits = match obj.get("ekonomickeSubjekty") {
        Some(Value::Array(hits)) => hits,
        None | Some(Value::Null) if number(obj.get("pocetCelkem")) == Some(0) => return Ok(Vec::new()),
        _ => return Err("the search answer has no list ekonomickeSubjekty".to_string()),
    };
    Ok(hits.iter().filter_map(|hit| company(hit).ok()).collect())
}

/// One `EkonomickySubjekt`.
fn company(value: &Value) -> Result<Company, String> {
    let obj = value.as_object().ok_or("the answer is not a JSON object")?;
    let ico = text(obj.get("ico")).ok_or("the answer has no ico")?;
    let ico = if !ico.is_empty() && ico.len() < 8 && ico.bytes().all(|b| b.is_ascii_digit()) {
        format!("{ico:0>8}")
    } else {
        ico
    };
    let name = text(obj.get("obchodniJmeno")).ok_or("the answer has no obchodniJmeno")?;
    let legal_form_code = text(obj.get("pravniForma")).map(|code| {
        if !code.is_empty() && code.len() < 3 && code.bytes().all(|b| b.is_ascii_digit()) {
            format!("{code:0>3}")
        } else {
            code
        }
    });
    Ok(Company {
        ico,
        name,
        // A DIČ kronika cannot read is left out, so that adding the client
        // from ARES still works (the user can set it by hand).
        dic: text(obj.get("dic")).and_then(|d| crate::directory::dic(&d).ok()),
        address: address(obj),
        legal_form: legal_form_code.as_deref().map(legal_form_name),
        legal_form_code,
        founded: date(obj.get("datumVzniku")),
        dissolved: date(obj.get("datumZaniku")),
    })
}

/// Human name of a `pravniForma` code.
pub fn legal_form_name(code: &str) -> String {
    let name = match code {
        "101" => "fyzická osoba podnikající",
        "111" => "v.o.s.",
        "112" => "s.r.o.",
        "113" => "k.s.",
        "121" => "a.s.",
        "141" => "o.p.s.",
        "205" => "družstvo",
        "301" => "státní podnik",
        "325" => "organizační složka státu",
        "331" => "příspěvková organizace",
        "706" => "spolek",
        "801" => "obec",
        other => return format!("kód {other}"),
    };
    name.to_string()
}

/// The registered office on one line.
fn address(obj: &Map<String, Value>) -> Option<String> {
    let sidlo = obj.get("sidlo").and_then(Value::as_object);
    if let Some(sidlo) = sidlo {
        if let Some(line) = text(sidlo.get("textovaAdresa")) {
            return Some(line);
        }
        if let Some(line) = address_from_parts(sidlo) {
            return Some(line);
        }
    }
    // Last resort: the delivery address, already in lines.
    let delivery = obj.get("adresaDorucovaci").and_then(Value::as_object)?;
    let lines: Vec<String> =
        ["radekAdresy1", "radekAdresy2", "radekAdresy3"].iter().filter_map(|k| text(delivery.get(*k))).collect();
    (!lines.is_empty()).then(|| lines.join(", "))
}

/// "Ulice 12/3a, 110 00 Praha 1"; without a street the part of the
/// municipality takes its place ("Lhota 47, 539 01 Horní Ves").
fn address_from_parts(sidlo: &Map<String, Value>) -> Option<String> {
    let obec = text(sidlo.get("nazevObce"));
    let cast = text(sidlo.get("nazevCastiObce"));
    let domovni = text(sidlo.get("cisloDomovni"));
    let orientacni = text(sidlo.get("cisloOrientacni"))
        .map(|o| format!("{o}{}", text(sidlo.get("cisloOrientacniPismeno")).unwrap_or_default()));
    let number = match (domovni, orientacni) {
        (Some(d), Some(o)) => Some(format!("{d}/{o}")),
        (d, o) => d.or(o),
    };
    let place = text(sidlo.get("nazevUlice")).or(cast).or_else(|| obec.clone().filter(|_| number.is_some()));
    let first = [place, number].into_iter().flatten().collect::<Vec<_>>().join(" ");

    // Prague's districts are part of the postal name ("Praha 5").
    let city = match (obec, text(sidlo.get("nazevMestskehoObvodu"))) {
        (Some(o), Some(m)) if o == "Praha" && m.starts_with("Praha ") => Some(m),
        (o, _) => o,
    };
    let psc = text(sidlo.get("psc")).or_else(|| text(sidlo.get("pscTxt"))).map(|p| {
        let digits: String = p.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 5 && digits.bytes().all(|b| b.is_ascii_digit()) {
            match digits.split_at_checked(3) {
                Some((head, tail)) => format!("{head} {tail}"),
                None => p,
            }
        } else {
            p
        }
    });
    let second = [psc, city].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let mut parts: Vec<String> = [first, second].into_iter().filter(|s| !s.is_empty()).collect();
    if let Some(stat) = text(sidlo.get("kodStatu"))
        && stat != "CZ"
        && let Some(name) = text(sidlo.get("nazevStatu")).or(Some(stat))
    {
        parts.push(name);
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A non-empty string, or a number written out; anything else is `None`.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// "2004-03-15", also with a time after it ("2004-03-15T00:00:00").
fn date(value: Option<&Value>) -> Option<NaiveDate> {
    let s = text(value)?;
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), "%Y-%m-%d").ok()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Issue 10: a DIČ with a multi-byte char (`CŽ…`) from ARES made
    /// `client add --ico` panic in the DIČ check; it is left out now, and
    /// odd values in other fields are taken as text.
    #[test]
    fn odd_text_from_ares_never_panics() {
        let v = json!({"ico": "27468135", "obchodniJmeno": "Test s.r.o.", "dic": "CŽ12345678",
            "pravniForma": "Ž", "datumVzniku": "ž2004-03-15", "datumZaniku": "2004-03-1ž",
            "sidlo": {"psc": "1ž345", "nazevObce": "Ž", "cisloDomovni": "ž", "kodStatu": "ŽŽ"}});
        let c = company(&v).unwrap();
        assert_eq!(c.dic, None);
        assert_eq!((c.founded, c.dissolved), (None, None));
        assert_eq!(c.legal_form_code.as_deref(), Some("Ž"));
        let v = json!({"ico": "ž", "obchodniJmeno": "X", "dic": " cz 27468135 ", "sidlo": {"psc": "27201"}});
        let c = company(&v).unwrap();
        assert_eq!(c.dic.as_deref(), Some("CZ27468135"));
        assert_eq!(c.address.as_deref(), Some("272 01"));
    }

    #[test]
    fn tolerant_parsing() {
        let v = json!({
            "ico": 6947, "obchodniJmeno": "  Obec Nová Lhota ", "pravniForma": 801, "unknown": [1, 2],
            "sidlo": {"nazevObce": "Nová Lhota", "cisloDomovni": 1, "psc": "539 01", "kodStatu": "CZ"},
            "datumVzniku": "1990-11-24T00:00:00", "datumZaniku": "bad", "dic": ""
        });
        let c = company(&v).unwrap();
        assert_eq!(c.ico, "00006947");
        assert_eq!(c.name, "Obec Nová Lhota");
        assert_eq!(c.legal_form.as_deref(), Some("obec"));
        assert_eq!(c.address.as_deref(), Some("Nová Lhota 1, 539 01 Nová Lhota"));
        assert_eq!(c.founded, NaiveDate::from_ymd_opt(1990, 11, 24));
        assert_eq!((c.dissolved, c.dic), (None, None));
        assert_eq!(legal_form_name("999"), "kód 999");
    }

    #[test]
    fn address_from_prague_parts_and_abroad() {
        let v = json!({"ico": "1", "obchodniJmeno": "X", "sidlo": {
            "nazevObce": "Praha", "nazevMestskehoObvodu": "Praha 1", "nazevUlice": "Ulice",
            "cisloDomovni": 12, "cisloOrientacni": 3, "cisloOrientacniPismeno": "a", "psc": 11000}});
        assert_eq!(company(&v).unwrap().address.as_deref(), Some("Ulice 12/3a, 110 00 Praha 1"));
        let v = json!({"ico": "1", "obchodniJmeno": "X",
            "sidlo": {"kodStatu": "SK", "nazevStatu": "Slovensko", "nazevObce": "Bratislava"}});
        assert_eq!(company(&v).unwrap().address.as_deref(), Some("Bratislava, Slovensko"));
        let v = json!({"ico": "1", "obchodniJmeno": "X", "sidlo": null, "adresaDorucovaci": {"radekAdresy1": "A"}});
        assert_eq!(company(&v).unwrap().address.as_deref(), Some("A"));
    }

    #[test]
    fn unusable_answers() {
        for v in [json!([]), json!({"ico": "12"}), json!({"obchodniJmeno": "X"}), json!({"ico": null})] {
            assert!(company(&v).is_err(), "{v}");
        }
        assert!(search_hits(&json!({"pocetCelkem": 0})).unwrap().is_empty());
        assert!(search_hits(&json!({"pocetCelkem": 3})).is_err());
    }
}
