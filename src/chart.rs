//! Sales charts: a client's sales per quarter with a linear trend projected
//! forward, drawn to SVG or PNG with plotters.
//!
//! Fonts: SVG text is written as `<text font-family="sans-serif">` and is
//! rendered by whatever views the file, so SVG always works. When a system
//! TrueType font is found it is also used to measure labels; without one a
//! tiny stand-in font built in memory (0.55 em per character) measures them. PNG text has to be rasterised here, so a
//! PNG needs a TrueType font on disk: `KRONIKA_CHART_FONT` (a .ttf path) when
//! set, else DejaVu Sans, Liberation Sans, Noto Sans or Arial from the usual
//! system places (Debian: package `fonts-dejavu-core`). Without any, drawing a
//! PNG fails with [`ChartError::Draw`] telling to install `fonts-dejavu-core`
//! or to use a .svg file name: a PNG without its title and axis labels would
//! be unreadable, so we do not write one.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Sales of one quarter.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarterSales {
    pub year: i32,
    /// 1..=4
    pub quarter: u32,
    pub value: f64,
}

impl QuarterSales {
    /// The axis label of the quarter: "2026 Q1".
    pub fn label(&self) -> String {
        format!("{} Q{}", self.year, self.quarter)
    }

    /// Quarters counted from year 0 (Q1 of a year is a multiple of 4).
    fn index(&self) -> i64 {
        i64::from(self.year) * 4 + i64::from(self.quarter) - 1
    }

    fn at(index: i64, value: f64) -> Self {
        QuarterSales { year: index.div_euclid(4) as i32, quarter: index.rem_euclid(4) as u32 + 1, value }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw {path}: {reason}")]
    Draw { path: String, reason: String },
    #[error("cannot draw {0}: use a .svg or .png file name")]
    Format(String),
}

/// The series sorted by quarter, one entry per quarter from the first to the
/// last: quarters without sales are filled in with 0 and several entries for
/// the same quarter are added up. Entries whose quarter is not 1..=4 are
/// ignored; a non-finite value counts as 0.
pub fn fill_quarters(series: &[QuarterSales]) -> Vec<QuarterSales> {
    let mut valid: Vec<(i64, f64)> = series
        .iter()
        .filter(|q| (1..=4).contains(&q.quarter))
        .map(|q| (q.index(), if q.value.is_finite() { q.value } else { 0.0 }))
        .collect();
    valid.sort_by_key(|&(i, _)| i);
    let (Some(&(first, _)), Some(&(last, _))) = (valid.first(), valid.last()) else {
        return Vec::new();
    };
    let mut out: Vec<QuarterSales> = (first..=last).map(|i| QuarterSales::at(i, 0.0)).collect();
    for (i, v) in valid {
        out[(i - first) as usize].value += v;
    }
    out
}

/// A linear trend fitted to the last `last_n` quarters (least squares over the
/// quarter index, after [`fill_quarters`]) and projected `ahead` quarters past
/// the last one. Projected values are clamped at >= 0. Empty when the window
/// holds fewer than 2 points.
pub fn trend(series: &[QuarterSales], last_n: usize, ahead: usize) -> Vec<QuarterSales> {
    let filled = fill_quarters(series);
    let window = &filled[filled.len() - last_n.min(filled.len())..];
    if window.len() < 2 || ahead == 0 {
        return Vec::new();
    }
    let n = window.len() as f64;
    // x relative to the window's first quarter keeps the sums small.
    let x0 = window[0].index();
    let xs: Vec<f64> = window.iter().map(|q| (q.index() - x0) as f64).collect();
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = window.iter().map(|q| q.value).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, q) in xs.iter().zip(window) {
        sxy += (x - mean_x) * (q.value - mean_y);
        sxx += (x - mean_x) * (x - mean_x);
    }
    let slope = sxy / sxx; // sxx > 0: at least two distinct quarters
    let intercept = mean_y - slope * mean_x;
    let last = window[window.len() - 1].index();
    (1..=ahead as i64)
        .map(|k| {
            let x = (last + k - x0) as f64;
            QuarterSales::at(last + k, (intercept + slope * x).max(0.0))
        })
        .collect()
}

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 560;
const FONT: &str = "sans-serif";
const TEXT: RGBColor = RGBColor(38, 38, 38);
const MUTED: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(228, 228, 228);
const AXIS: RGBColor = RGBColor(160, 160, 160);
const BAR: RGBColor = RGBColor(46, 104, 168);
const TREND: RGBColor = RGBColor(221, 110, 20);
const BAND: RGBColor = RGBColor(246, 246, 248);

/// Draws the client's sales per quarter (bars) with the trend projected forward
/// (dashed line with markers, in orange), quarter labels ("2026 Q1") on the x
/// axis, a title with the client name and currency and the y axis formatted
/// with thousands separators. The format follows the extension of `path`
/// (.svg or .png, any case). An empty series gives a chart saying "no sales
/// yet". See the module documentation for fonts.
pub fn draw_sales(
    path: &Path,
    title: &str,
    currency: &str,
    series: &[QuarterSales],
    projected: &[QuarterSales],
) -> Result<(), ChartError> {
    let shown = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let fonts = load_fonts();
    let draw_err = |reason: String| ChartError::Draw { path: shown.clone(), reason };
    let data = ChartData::new(title, currency, series, projected);
    match ext.as_deref() {
        Some("svg") => {
            let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            render(&root, &data).and_then(|_| root.present()).map_err(|e| draw_err(e.to_string()))
        }
        Some("png") => {
            if fonts == Fonts::StandIn {
                return Err(draw_err(format!(
                    "no TrueType font found for PNG text (set KRONIKA_CHART_FONT to a .ttf file, \
                     install the fonts-dejavu-core package, or use a .svg file name); looked for {}",
                    FONT_CANDIDATES.iter().map(|(r, _)| *r).collect::<Vec<_>>().join(", ")
                )));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                return Err(draw_err(format!("no such directory {}", dir.display())));
            }
            let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            render(&root, &data).and_then(|_| root.present()).map_err(|e| draw_err(e.to_string()))
        }
        _ => Err(ChartError::Format(shown.clone())),
    }
}

/// The same chart as [`draw_sales`], as an SVG document in memory (the
/// web card shows it inline as an image).
pub fn sales_svg(
    title: &str,
    currency: &str,
    series: &[QuarterSales],
    projected: &[QuarterSales],
) -> Result<String, ChartError> {
    load_fonts();
    let data = ChartData::new(title, currency, series, projected);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        render(&root, &data)
            .and_then(|_| root.present())
            .map_err(|e| ChartError::Draw { path: "an SVG in memory".into(), reason: e.to_string() })?;
    }
    Ok(out)
}

/// What one chart shows, in chart coordinates (quarter 0 is the first drawn).
struct ChartData {
    heading: String,
    currency: String,
    first: i64,
    /// Number of quarters on the x axis.
    span: i64,
    /// (quarter offset, value), gaps filled.
    actual: Vec<(i64, f64)>,
    projected: Vec<(i64, f64)>,
}

impl ChartData {
    fn new(title: &str, currency: &str, series: &[QuarterSales], projected: &[QuarterSales]) -> Self {
        let heading = format!("{title} \u{2014} sales per quarter ({currency})");
        let actual = fill_quarters(series);
        let mut proj: Vec<(i64, f64)> = projected
            .iter()
            .filter(|q| (1..=4).contains(&q.quarter))
            .map(|q| (q.index(), if q.value.is_finite() { q.value.max(0.0) } else { 0.0 }))
            .collect();
        proj.sort_by_key(|&(i, _)| i);
        proj.dedup_by_key(|&mut (i, _)| i);
        let indices = actual.iter().map(QuarterSales::index).chain(proj.iter().map(|&(i, _)| i));
        let first = indices.clone().min().unwrap_or(0);
        let last = indices.max().unwrap_or(-1);
        ChartData {
            heading,
            currency: currency.to_string(),
            first,
            span: last - first + 1,
            actual: actual.iter().map(|q| (q.index() - first, q.value)).collect(),
            projected: proj.into_iter().map(|(i, v)| (i - first, v)).collect(),
        }
    }

    fn label(&self, offset: i64) -> String {
        QuarterSales::at(self.first + offset, 0.0).label()
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn render<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let title_style = TextStyle::from((FONT, 22, FontStyle::Bold).into_font()).color(&TEXT);
    root.draw(&Text::new(data.heading.clone(), (24, 18), title_style))?;
    if data.span <= 0 {
        return render_empty(root);
    }
    draw_legend(root, !data.projected.is_empty())?;

    let max = data.actual.iter().chain(&data.projected).map(|&(_, v)| v).fold(0.0, f64::max);
    let y_max = nice_ceiling(max * 1.08);
    let decimals = if y_max >= 10.0 { 0 } else { 2 };
    let span = data.span as i32;
    let label_step = [1, 2, 4, 8, 12, 20, 40, 80, 200, 400].into_iter().find(|s| data.span / s <= 12).unwrap_or(1000);

    let mut chart = ChartBuilder::on(root)
        .margin_top(64)
        .margin_left(20)
        .margin_right(28)
        .margin_bottom(16)
        .x_label_area_size(52)
        .y_label_area_size(84)
        .build_cartesian_2d((0..span).into_segmented(), 0.0..y_max)?;

    let label_font = (FONT, 14).into_font().color(&MUTED);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1))
        .x_labels(data.span as usize + 1)
        .y_labels(8)
        .x_label_style(label_font.clone())
        .y_label_style(label_font)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if (data.first + i64::from(*i)).rem_euclid(label_step) == 0 => {
                data.label(i64::from(*i))
            }
            _ => String::new(),
        })
        .y_label_formatter(&|v| thousands(*v, decimals))
        .x_desc("Quarter")
        .y_desc(format!("Sales ({})", data.currency))
        .axis_desc_style((FONT, 15).into_font().color(&MUTED))
        .draw()?;

    // Light band behind the projected quarters.
    if let Some(&(first_proj, _)) = data.projected.first() {
        let band =
            Rectangle::new([(SegmentValue::Exact(first_proj as i32), 0.0), (SegmentValue::Last, y_max)], BAND.filled());
        chart.draw_series(std::iter::once(band))?;
        let note = EmptyElement::at((SegmentValue::Exact(first_proj as i32), y_max))
            + Text::new("projection", (8, 8), (FONT, 13).into_font().color(&MUTED));
        chart.draw_series(std::iter::once(note))?;
    }

    let (plot_w, _) = chart.plotting_area().dim_in_pixel();
    let margin = ((f64::from(plot_w) / data.span as f64) * 0.16).round() as u32;
    chart.draw_series(data.actual.iter().map(|&(i, v)| {
        let mut bar = Rectangle::new(
            [(SegmentValue::Exact(i as i32), 0.0), (SegmentValue::Exact(i as i32 + 1), v)],
            BAR.filled(),
        );
        bar.set_margin(0, 0, margin, margin);
        bar
    }))?;

    if !data.projected.is_empty() {
        let points: Vec<(SegmentValue<i32>, f64)> =
            data.projected.iter().map(|&(i, v)| (SegmentValue::CenterOf(i as i32), v)).collect();
        chart.draw_series(std::iter::once(DashedPathElement::new(points, 9, 6, TREND.stroke_width(3))))?;
        chart.draw_series(
            data.projected.iter().map(|&(i, v)| Circle::new((SegmentValue::CenterOf(i as i32), v), 5, WHITE.filled())),
        )?;
        chart.draw_series(
            data.projected
                .iter()
                .map(|&(i, v)| Circle::new((SegmentValue::CenterOf(i as i32), v), 5, TREND.stroke_width(2))),
        )?;
    }
    Ok(())
}

fn render_empty<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    root.draw(&Rectangle::new([(24, 64), (w - 24, h - 24)], GRID.stroke_width(1)))?;
    let style = (FONT, 20).into_font().color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw(&Text::new("no sales yet", (w / 2, (h + 40) / 2), style))
}

fn draw_legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, with_trend: bool) -> DrawResult<DB> {
    let style = TextStyle::from((FONT, 14).into_font()).color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let mut items: Vec<(&str, bool)> = vec![("Sales", false)];
    if with_trend {
        items.push(("Trend (projected)", true));
    }
    let (w, _) = root.dim_in_pixel();
    let y = 30;
    let widths: Vec<i32> =
        items.iter().map(|(t, _)| root.estimate_text_size(t, &style).map(|s| s.0 as i32)).collect::<Result<_, _>>()?;
    let total: i32 = widths.iter().map(|tw| 30 + tw).sum::<i32>() + 20 * (widths.len() as i32 - 1);
    let mut x = w as i32 - 28 - total;
    for ((text, dashed), tw) in items.into_iter().zip(widths) {
        if dashed {
            root.draw(&DashedPathElement::new([(x, y), (x + 22, y)], 7, 4, TREND.stroke_width(3)))?;
        } else {
            root.draw(&Rectangle::new([(x + 2, y - 7), (x + 20, y + 7)], BAR.filled()))?;
        }
        root.draw(&Text::new(text, (x + 30, y), style.clone()))?;
        x += 30 + tw + 20;
    }
    Ok(())
}

/// The smallest 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k at or above `v` (1 for v <= 0).
fn nice_ceiling(v: f64) -> f64 {
    if v.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !v.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&c| c >= v * (1.0 - 1e-9))
        .unwrap_or(v)
}

/// `v` with `decimals` decimals and a comma every three digits: "1,234,567".
pub(crate) fn thousands(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    if v < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (n, c) in int.chars().enumerate() {
        if n > 0 && (int.len() - n) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Regular and bold faces tried in order after `KRONIKA_CHART_FONT`.
const FONT_CANDIDATES: &[(&str, &str)] = &[
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf", "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
        "/usr/share/fonts/liberation-sans/LiberationSans-Bold.ttf",
    ),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/System/Library/Fonts/Supplemental/Arial.ttf", "/System/Library/Fonts/Supplemental/Arial Bold.ttf"),
    ("/Library/Fonts/Arial.ttf", "/Library/Fonts/Arial Bold.ttf"),
    ("C:\\Windows\\Fonts\\arial.ttf", "C:\\Windows\\Fonts\\arialbd.ttf"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fonts {
    /// A system TrueType font is registered: text can be measured and drawn.
    System,
    /// Only [`stand_in_font`] is registered: text can be measured (enough for
    /// SVG, whose viewer renders the text) but PNG text would be invisible.
    StandIn,
}

/// Registers a TrueType font as plotters' "sans-serif" once per process.
fn load_fonts() -> Fonts {
    static LOADED: OnceLock<Fonts> = OnceLock::new();
    *LOADED.get_or_init(|| {
        let custom = std::env::var("KRONIKA_CHART_FONT").ok().filter(|p| !p.is_empty());
        let custom = custom.as_deref().map(|p| (p, p));
        let found = custom.into_iter().chain(FONT_CANDIDATES.iter().copied()).any(|(regular, bold)| {
            let Some(bytes) = read_font(regular) else { return false };
            if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_err() {
                return false;
            }
            let bold = read_font(bold).unwrap_or(bytes);
            let _ = plotters::style::register_font(FONT, FontStyle::Bold, bold);
            true
        });
        if found {
            Fonts::System
        } else {
            let _ = plotters::style::register_font(FONT, FontStyle::Normal, stand_in_font());
            Fonts::StandIn
        }
    })
}

/// A minimal TrueType font built in memory: no outlines and no character map,
/// so every character is glyph 0 with an advance of 0.55 em. plotters with
/// `ab_glyph` measures text through a registered font, even for SVG; this lets
/// SVG charts lay out their labels on machines without any font installed.
fn stand_in_font() -> &'static [u8] {
    static FONT_BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    FONT_BYTES.get_or_init(|| {
        const UNITS_PER_EM: u16 = 1000;
        let mut head = vec![0u8; 54];
        head[0..4].copy_from_slice(&0x0001_0000u32.to_be_bytes()); // version
        head[12..16].copy_from_slice(&0x5F0F_3CF5u32.to_be_bytes()); // magic
        head[18..20].copy_from_slice(&UNITS_PER_EM.to_be_bytes());
        head[46..48].copy_from_slice(&8u16.to_be_bytes()); // lowestRecPPEM
        head[48..50].copy_from_slice(&2i16.to_be_bytes()); // fontDirectionHint
        let mut hhea = vec![0u8; 36];
        hhea[0..4].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        hhea[4..6].copy_from_slice(&800i16.to_be_bytes()); // ascender
        hhea[6..8].copy_from_slice(&(-200i16).to_be_bytes()); // descender
        hhea[10..12].copy_from_slice(&550u16.to_be_bytes()); // advanceWidthMax
        hhea[34..36].copy_from_slice(&1u16.to_be_bytes()); // numberOfHMetrics
        let mut maxp = 0x0000_5000u32.to_be_bytes().to_vec(); // version 0.5
        maxp.extend_from_slice(&1u16.to_be_bytes()); // numGlyphs
        let mut hmtx = 550u16.to_be_bytes().to_vec();
        hmtx.extend_from_slice(&0i16.to_be_bytes());
        let tables: [(&[u8; 4], Vec<u8>); 4] = [(b"head", head), (b"hhea", hhea), (b"hmtx", hmtx), (b"maxp", maxp)];
        let mut font = 0x0001_0000u32.to_be_bytes().to_vec();
        font.extend_from_slice(&(tables.len() as u16).to_be_bytes());
        font.extend_from_slice(&[0, 64, 0, 2, 0, 0]); // searchRange, entrySelector, rangeShift
        let mut offset = 12 + 16 * tables.len();
        let mut body = Vec::new();
        for (tag, data) in &tables {
            font.extend_from_slice(*tag);
            font.extend_from_slice(&0u32.to_be_bytes()); // checksum (not checked by readers we use)
            font.extend_from_slice(&(offset as u32).to_be_bytes());
            font.extend_from_slice(&(data.len() as u32).to_be_bytes());
            body.extend_from_slice(data);
            while body.len() % 4 != 0 {
                body.push(0);
            }
            offset = 12 + 16 * tables.len() + body.len();
        }
        font.extend_from_slice(&body);
        font
    })
}

/// The font file's bytes, kept for the rest of the process (plotters wants
/// `'static` font data; this happens at most twice per process).
fn read_font(path: &str) -> Option<&'static [u8]> {
    let bytes = std::fs::read(path).ok()?;
    Some(Box::leak(bytes.into_boxed_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0, 0), "0");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(1000.0, 0), "1,000");
        assert_eq!(thousands(1234567.0, 0), "1,234,567");
        assert_eq!(thousands(-12345.678, 2), "-12,345.68");
        assert_eq!(thousands(-0.001, 0), "0");
        assert_eq!(thousands(2.5, 2), "2.50");
    }

    #[test]
    fn nice_ceilings() {
        for (v, want) in
            [(0.0, 1.0), (108.0, 120.0), (2300.0, 2500.0), (4100.0, 5000.0), (28188.0, 30000.0), (1e4, 1e4)]
        {
            assert!((nice_ceiling(v) - want).abs() < 1e-6 * want, "{v} -> {}", nice_ceiling(v));
        }
    }

    #[test]
    fn the_stand_in_font_measures_text() {
        plotters::style::register_font("stand-in-test", FontStyle::Normal, stand_in_font())
            .unwrap_or_else(|_| panic!("stand-in font rejected"));
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (300, 200)).into_drawing_area();
            let style = TextStyle::from(("stand-in-test", 20).into_font());
            let (w, h) = root.estimate_text_size("2026 Q1", &style).unwrap();
            assert!((60..=100).contains(&w) && (10..=25).contains(&h), "{w}x{h}");
            let mut chart = ChartBuilder::on(&root)
                .caption("title", ("stand-in-test", 14))
                .x_label_area_size(20)
                .y_label_area_size(30)
                .build_cartesian_2d(0..4, 0..4)
                .unwrap();
            chart.configure_mesh().label_style(("stand-in-test", 12)).draw().unwrap();
            root.present().unwrap();
        }
        assert!(svg.contains(">\ntitle\n</text>"), "{svg}");
    }
}
