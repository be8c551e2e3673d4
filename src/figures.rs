//! What a client is worth: sales, offers turned down, open deals, top
//! products, share of revenue and lifetime value, from its deals. Pure.
//!
//! Amounts keep their currency (one total per currency) unless the config
//! gives a base currency with conversion rates.
//!
//! Lifetime value = average purchase × purchases per year × expected
//! relationship years, where purchases per year = won deals ÷ years since
//! the first won deal (at least one year). With the default of one
//! relationship year, the LTV is the client's yearly value.
#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::store::Deal;

/// How figures are computed (the `[figures]` config section).
#[derive(Debug, Clone, PartialEq)]
pub struct FiguresConfig {
    pub relationship_years: f64,
    /// Convert every amount to this currency with `rates` (units of the base per unit).
    pub base_currency: Option<String>,
    pub rates: BTreeMap<String, f64>,
}

impl Default for FiguresConfig {
    fn default() -> Self {
        FiguresConfig { relationship_years: 1.0, base_currency: None, rates: BTreeMap::new() }
    }
}

/// Amounts by currency.
pub type Money = BTreeMap<String, f64>;

/// The lifetime value in one currency, with the inputs that make it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Ltv {
    pub average_purchase: f64,
    pub purchases: usize,
    pub years_observed: f64,
    pub purchases_per_year: f64,
    pub relationship_years: f64,
    pub value: f64,
}

/// A product's place among a client's sales.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductFigure {
    pub product: String,
    pub deals: usize,
    pub value: Money,
}

/// Offers the client turned down.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Rejected {
    pub count: usize,
    pub value: Money,
}

/// A client's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Figures {
    pub total_sold: Money,
    pub sold_last_year: Money,
    pub rejected_offers: Rejected,
    pub top_products: Vec<ProductFigure>,
    pub open_value: Money,
    /// This client's part of all won value, 0..1, per currency.
    pub share_of_revenue: BTreeMap<String, f64>,
    pub annual_budget: Option<f64>,
    pub ltv: BTreeMap<String, Ltv>,
}

/// A deal's value in the currency figures use.
fn amount(d: &Deal, cfg: &FiguresConfig) -> (String, f64) {
    convert(&d.currency, d.value, cfg)
}

/// A value in `currency` in the currency figures use.
fn convert(currency: &str, value: f64, cfg: &FiguresConfig) -> (String, f64) {
    if let Some(base) = &cfg.base_currency {
        if currency == base {
            return (base.clone(), value);
        }
        if let Some(rate) = cfg.rates.get(currency) {
            return (base.clone(), value * rate);
        }
    }
    (currency.to_string(), value)
}

/// Part of a deal's value (an invoice line) in the currency figures use.
fn amount_of(d: &Deal, part: f64, cfg: &FiguresConfig) -> f64 {
    if d.value == 0.0 {
        return part;
    }
    amount(d, cfg).1 * part / d.value
}

fn add(m: &mut Money, currency: &str, v: f64) {
    *m.entry(currency.to_string()).or_default() += v;
}

/// Computes a client's figures from its deals and everybody's (for the share).
pub fn figures(deals: &[Deal], all: &[Deal], budget: Option<f64>, today: NaiveDate, cfg: &FiguresConfig) -> Figures {
    let mut sums = Money::new();
    for d in all.iter().filter(|d| d.status == "won" && d.side != "purchase") {
        add(&mut sums, &d.currency, d.value);
    }
    figures_given(deals, &sums, budget, today, cfg)
}

/// [`figures`] with everybody's won sales given as sums by their own
/// currency (`Store::won_sales_by_currency`), so that one client's
/// figures need not load every deal.
pub fn figures_given(
    deals: &[Deal],
    won_sales: &Money,
    budget: Option<f64>,
    today: NaiveDate,
    cfg: &FiguresConfig,
) -> Figures {
    let mut f = Figures { annual_budget: budget, ..Figures::default() };
    let mut products: BTreeMap<String, ProductFigure> = BTreeMap::new();
    let mut won_by_currency: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
    // Purchases (invoices a client sent us) are not what the client is worth.
    for d in deals.iter().filter(|d| d.side != "purchase") {
        let (cur, v) = amount(d, cfg);
        match d.status.as_str() {
            "won" => {
                add(&mut f.total_sold, &cur, v);
                if d.date.year() == today.year() - 1 {
                    add(&mut f.sold_last_year, &cur, v);
                }
                won_by_currency.entry(cur.clone()).or_default().push((d.date, v));
                // An invoice knows each line's amount; otherwise a product
                // stands for the whole deal.
                let own = (d.product_values.len() == d.products.len()).then_some(&d.product_values);
                for (i, p) in d.products.iter().enumerate() {
                    let v = own.and_then(|vals| vals.get(i)).map(|x| amount_of(d, *x, cfg)).unwrap_or(v);
                    let e = products.entry(p.clone()).or_insert_with(|| ProductFigure {
                        product: p.clone(),
                        deals: 0,
                        value: Money::new(),
                    });
                    if v > 0.0 {
                        e.deals += 1;
                    }
                    add(&mut e.value, &cur, v);
                }
            }
            "lost" => {
                f.rejected_offers.count += 1;
                add(&mut f.rejected_offers.value, &cur, v);
            }
            _ => add(&mut f.open_value, &cur, v),
        }
    }
    let mut top: Vec<ProductFigure> = products.into_values().collect();
    top.sort_by(|a, b| {
        let va: f64 = a.value.values().sum();
        let vb: f64 = b.value.values().sum();
        vb.total_cmp(&va).then(b.deals.cmp(&a.deals)).then(a.product.cmp(&b.product))
    });
    top.truncate(5);
    f.top_products = top;
    let mut everybody = Money::new();
    for (currency, sum) in won_sales {
        let (cur, v) = convert(currency, *sum, cfg);
        add(&mut everybody, &cur, v);
    }
    for (cur, v) in &f.total_sold {
        if let Some(total) = everybody.get(cur).filter(|t| **t > 0.0) {
            f.share_of_revenue.insert(cur.clone(), v / total);
        }
    }
    for (cur, won) in won_by_currency {
        // A credit note (negative) lowers the total but is no purchase.
        let purchases = won.iter().filter(|(_, v)| *v > 0.0).count().max(1);
        let total: f64 = won.iter().map(|(_, v)| v).sum();
        let first = won.iter().map(|(d, _)| *d).min().unwrap_or(today);
        let years_observed = ((today - first).num_days() as f64 / 365.25).max(1.0);
        let average_purchase = total / purchases as f64;
        let purchases_per_year = purchases as f64 / years_observed;
        f.ltv.insert(
            cur,
            Ltv {
                average_purchase,
                purchases,
                years_observed,
                purchases_per_year,
                relationship_years: cfg.relationship_years,
                value: average_purchase * purchases_per_year * cfg.relationship_years,
            },
        );
    }
    f
}

/// Quarterly won sales in one currency: `(year, quarter, value)`, oldest first.
pub fn quarterly(deals: &[Deal], currency: &str, cfg: &FiguresConfig) -> Vec<(i32, u32, f64)> {
    let mut q: BTreeMap<(i32, u32), f64> = BTreeMap::new();
    for d in deals.iter().filter(|d| d.status == "won" && d.side != "purchase") {
        let (cur, v) = amount(d, cfg);
        if cur == currency {
            *q.entry((d.date.year(), (d.date.month() - 1) / 3 + 1)).or_default() += v;
        }
    }
    q.into_iter().map(|((y, qq), v)| (y, qq, v)).collect()
}

/// The LTV formula with its inputs, as `client show` prints it.
pub fn ltv_formula(currency: &str, l: &Ltv) -> String {
    format!(
        "{} {currency} = average purchase {} × purchases per year {:.2} ({} won in {:.2} years) × relationship years {}",
        crate::text::format_amount(l.value),
        crate::text::format_amount(l.average_purchase),
        l.purchases_per_year,
        l.purchases,
        l.years_observed,
        l.relationship_years
    )
}

/// Currencies kronika accepts (ISO 4217 codes common in Czech trade).
pub const CURRENCIES: &[&str] =
    &["CZK", "EUR", "USD", "GBP", "PLN", "HUF", "CHF", "SEK", "NOK", "DKK", "JPY", "CNY", "CAD", "AUD", "RON", "BGN"];

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    fn deal(client: i64, value: f64, cur: &str, status: &str, date: &str, products: &[&str]) -> Deal {
        Deal {
            id: 0,
            client_id: client,
            client: String::new(),
            title: "x".into(),
            value,
            currency: cur.into(),
            status: status.into(),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            products: products.iter().map(|p| p.to_string()).collect(),
            number: None,
            side: "sale".into(),
            origin: "manual".into(),
            item_id: None,
            product_values: Vec::new(),
        }
    }

    #[test]
    fn figures_by_hand() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mine = vec![
            deal(1, 100_000.0, "CZK", "won", "2024-11-27", &["VZT"]),
            deal(1, 200_000.0, "CZK", "won", "2025-05-01", &["VZT", "servis"]),
            deal(1, 300_000.0, "CZK", "won", "2026-02-01", &["servis"]),
            deal(1, 50_000.0, "CZK", "lost", "2026-03-01", &[]),
            deal(1, 70_000.0, "CZK", "open", "2026-10-01", &[]),
            deal(1, 1_000.0, "EUR", "won", "2026-06-01", &[]),
        ];
        let mut all = mine.clone();
        all.push(deal(2, 400_000.0, "CZK", "won", "2026-01-01", &[]));
        let f = figures(&mine, &all, Some(1_000_000.0), today, &FiguresConfig::default());
        assert_eq!(f.total_sold["CZK"], 600_000.0);
        assert_eq!(f.total_sold["EUR"], 1_000.0);
        assert_eq!(f.sold_last_year["CZK"], 200_000.0);
        assert_eq!(f.rejected_offers.count, 1);
        assert_eq!(f.open_value["CZK"], 70_000.0);
        assert!((f.share_of_revenue["CZK"] - 0.6).abs() < 1e-9);
        assert_eq!(f.top_products[0].product, "servis");
        // 3 purchases over 2 years, average 200 000: 300 000 a year.
        let l = &f.ltv["CZK"];
        assert!((l.years_observed - 2.0).abs() < 0.01, "{l:?}");
        assert!((l.value - 200_000.0 * 3.0 / l.years_observed).abs() < 1e-6);
        // One purchase in less than a year counts as a year.
        assert_eq!(f.ltv["EUR"].years_observed, 1.0);
        assert!(ltv_formula("CZK", l).contains("average purchase 200 000"));
    }

    #[test]
    fn conversion_to_a_base_currency() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let d = vec![deal(1, 100.0, "EUR", "won", "2026-01-01", &[]), deal(1, 500.0, "CZK", "won", "2026-02-01", &[])];
        let cfg = FiguresConfig {
            base_currency: Some("CZK".into()),
            rates: BTreeMap::from([("EUR".to_string(), 25.0)]),
            ..FiguresConfig::default()
        };
        let f = figures(&d, &d, None, today, &cfg);
        assert_eq!(f.total_sold.len(), 1);
        assert_eq!(f.total_sold["CZK"], 3_000.0);
        // Everybody's sums in their own currencies give the same share.
        let mut all = d.clone();
        all.push(deal(2, 60.0, "EUR", "won", "2026-03-01", &[]));
        all.push(deal(2, 9_999.0, "CZK", "lost", "2026-03-01", &[]));
        let sums = Money::from([("EUR".to_string(), 160.0), ("CZK".to_string(), 500.0)]);
        let by_sums = figures_given(&d, &sums, None, today, &cfg);
        assert_eq!(by_sums, figures(&d, &all, None, today, &cfg));
        assert!((by_sums.share_of_revenue["CZK"] - 3_000.0 / 4_500.0).abs() < 1e-9);
        assert_eq!(quarterly(&d, "CZK", &cfg), vec![(2026, 1, 3_000.0)]);
    }
}
