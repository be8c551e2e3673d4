use std::path::Path;

use kronika::chart::{ChartError, QuarterSales, draw_sales, fill_quarters, trend};

/// The trend colour drawn by `draw_sales` (SVG writes it as stroke="#DD6E14").
const TREND_STROKE: &str = "stroke=\"#DD6E14\"";

fn q(year: i32, quarter: u32, value: f64) -> QuarterSales {
    QuarterSales { year, quarter, value }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// PNG text needs a system font; these paths are the ones chart.rs searches first.
fn png_font_available() -> bool {
    ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"]
        .iter()
        .any(|p| Path::new(p).exists())
        || std::env::var_os("KRONIKA_CHART_FONT").is_some()
}

/// plotters writes each text on its own line: `<text ...>\n2026 Q1\n</text>`.
fn has_text(svg: &str, text: &str) -> bool {
    svg.contains(&format!(">\n{text}\n</text>"))
}

fn sample() -> Vec<QuarterSales> {
    vec![
        q(2024, 1, 12_000.0),
        q(2024, 2, 15_500.0),
        q(2024, 3, 14_200.0),
        q(2024, 4, 19_800.0),
        q(2025, 1, 17_400.0),
        q(2025, 2, 21_000.0),
        // 2025 Q3 missing: counts as 0
        q(2025, 4, 24_300.0),
        q(2026, 1, 26_100.0),
    ]
}

#[test]
fn a_perfect_line_projects_exactly() {
    let series: Vec<_> = (0..6).map(|i| q(2024 + i / 4, (i % 4) as u32 + 1, 1000.0 + 250.0 * f64::from(i))).collect();
    let out = trend(&series, 4, 3);
    assert_eq!(out.len(), 3);
    assert_eq!((out[0].year, out[0].quarter), (2025, 3));
    assert_eq!((out[1].year, out[1].quarter), (2025, 4));
    assert_eq!((out[2].year, out[2].quarter), (2026, 1));
    for (k, p) in out.iter().enumerate() {
        assert!(close(p.value, 1000.0 + 250.0 * (6 + k) as f64), "{p:?}");
    }
}

#[test]
fn trend_uses_only_the_last_n_quarters() {
    // Flat at 100 for the last 3 quarters, a spike before that.
    let series = vec![q(2023, 1, 9999.0), q(2023, 2, 100.0), q(2023, 3, 100.0), q(2023, 4, 100.0)];
    let out = trend(&series, 3, 2);
    assert_eq!(out, vec![q(2024, 1, 100.0), q(2024, 2, 100.0)]);
}

#[test]
fn a_falling_trend_is_clamped_at_zero() {
    let series = vec![q(2025, 1, 3000.0), q(2025, 2, 2000.0), q(2025, 3, 1000.0)];
    let out = trend(&series, 8, 4);
    let values: Vec<f64> = out.iter().map(|p| p.value).collect();
    assert!(close(values[0], 0.0), "{values:?}");
    assert!(values.iter().all(|&v| v == 0.0), "{values:?}");
    assert_eq!((out[3].year, out[3].quarter), (2026, 3));
}

#[test]
fn fewer_than_two_points_give_no_trend() {
    assert!(trend(&[], 4, 4).is_empty());
    assert!(trend(&[q(2025, 1, 10.0)], 4, 4).is_empty());
    assert!(trend(&[q(2025, 1, 10.0), q(2025, 2, 20.0)], 1, 4).is_empty());
    assert!(trend(&[q(2025, 1, 10.0), q(2025, 2, 20.0)], 4, 0).is_empty());
}

#[test]
fn gaps_count_as_zero_in_the_trend() {
    // 2025 Q2 missing: the fit sees 100, 0, 100 -> flat at 66.67
    let out = trend(&[q(2025, 1, 100.0), q(2025, 3, 100.0)], 4, 1);
    assert_eq!(out.len(), 1);
    assert!(close(out[0].value, 200.0 / 3.0), "{out:?}");
}

#[test]
fn fill_quarters_fills_gaps_sorts_and_sums() {
    let filled = fill_quarters(&[q(2025, 2, 5.0), q(2024, 3, 1.0), q(2025, 2, 2.0), q(2024, 1, 9.0), q(2024, 7, 3.0)]);
    assert_eq!(
        filled,
        vec![q(2024, 1, 9.0), q(2024, 2, 0.0), q(2024, 3, 1.0), q(2024, 4, 0.0), q(2025, 1, 0.0), q(2025, 2, 7.0)],
        "bad quarter 7 dropped? {filled:?}"
    );
    assert!(fill_quarters(&[]).is_empty());
    assert_eq!(fill_quarters(&[q(2026, 4, 1.5)]), vec![q(2026, 4, 1.5)]);
}

#[test]
fn quarter_labels() {
    assert_eq!(q(2026, 1, 0.0).label(), "2026 Q1");
}

#[test]
fn svg_has_title_quarters_and_a_dashed_trend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.svg");
    let series = sample();
    let projected = trend(&series, 8, 4);
    draw_sales(&path, "Acme & Söhne GmbH", "EUR", &series, &projected).unwrap();
    if let Some(out) = std::env::var_os("CHART_TEST_OUT") {
        std::fs::copy(&path, Path::new(&out).join("acme.svg")).unwrap();
    }
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
    assert!(svg.contains("Acme &amp; Söhne GmbH"), "title missing");
    assert!(svg.contains("(EUR)"), "currency missing");
    for label in ["2024 Q1", "2025 Q3", "2026 Q1", "2027 Q1"] {
        assert!(has_text(&svg, label), "label {label} missing");
    }
    // thousands separators on the y axis
    assert!(has_text(&svg, "10,000") || has_text(&svg, "20,000"), "no formatted y label");
    // plotters draws a dashed path as one short polyline per dash
    let dashes = svg.lines().filter(|l| l.contains("<polyline") && l.contains(TREND_STROKE)).count();
    assert!(dashes >= 10, "expected a dashed trend line, found {dashes} trend segments");
    assert!(svg.contains("Trend (projected)"));
}

#[test]
fn svg_without_projection_has_no_trend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.SVG");
    draw_sales(&path, "Beta", "USD", &sample(), &[]).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(!svg.contains(TREND_STROKE));
    assert!(has_text(&svg, "2026 Q1"));
}

#[test]
fn many_quarters_get_fewer_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.svg");
    let series: Vec<_> = (0..40).map(|i| q(2016 + i / 4, (i % 4) as u32 + 1, 1000.0 * f64::from(i))).collect();
    draw_sales(&path, "Gamma", "CHF", &series, &trend(&series, 8, 4)).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(has_text(&svg, "2016 Q1") && has_text(&svg, "2024 Q1"));
    assert!(!has_text(&svg, "2016 Q2"), "labels should thin out");
}

#[test]
fn png_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.png");
    let series = sample();
    let result = draw_sales(&path, "Acme GmbH", "EUR", &series, &trend(&series, 8, 4));
    if !png_font_available() {
        // Without a font PNG refuses with a message that says what to do.
        if let Err(e) = result {
            let msg = e.to_string();
            assert!(msg.contains("fonts-dejavu-core") && msg.contains(".svg"), "{msg}");
            return;
        }
    } else {
        result.unwrap();
    }
    if let Some(out) = std::env::var_os("CHART_TEST_OUT") {
        std::fs::copy(&path, Path::new(&out).join("acme.png")).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(bytes.len() > 10_000, "PNG suspiciously small: {} bytes", bytes.len());
}

#[test]
fn a_bad_extension_is_a_format_error() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["chart.jpg", "chart", "chart.svg.txt"] {
        let path = dir.path().join(name);
        let err = draw_sales(&path, "Acme", "EUR", &sample(), &[]).unwrap_err();
        assert!(matches!(err, ChartError::Format(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(name) && msg.contains(".svg or .png"), "{msg}");
        assert!(!path.exists());
    }
}

#[test]
fn an_unwritable_path_is_a_draw_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("chart.svg");
    let err = draw_sales(&path, "Acme", "EUR", &sample(), &[]).unwrap_err();
    assert!(matches!(err, ChartError::Draw { .. }), "{err:?}");
    assert!(err.to_string().starts_with("cannot draw "), "{err}");
}

#[test]
fn an_empty_series_says_no_sales_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.svg");
    draw_sales(&path, "Newco", "EUR", &[], &[]).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("no sales yet"));
    assert!(svg.contains("Newco"));

    let png = dir.path().join("empty.png");
    match draw_sales(&png, "Newco", "EUR", &[], &[]) {
        Ok(()) => assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG")),
        Err(e) => assert!(!png_font_available() && e.to_string().contains("fonts-dejavu-core"), "{e}"),
    }
}
