//! Charts drawn on the server as SVG with plotters' SVG backend.
//!
//! The drawing is plotters' (axes, ticks, bars, lines; it escapes every
//! text it writes and uses presentation attributes only, never `style`, so
//! it passes the portal's Content-Security-Policy). The page wraps it in an
//! `<svg role="img">` with a `<title>` and points it at the chart's text
//! summary, so a screen reader meets one image with a name and a
//! description instead of a hundred loose labels; the numbers themselves
//! are in the table under each chart.
//!
//! Charts are drawn [`WIDTH`] units wide and scale with their card (CSS
//! `width: 100%`; three cards a row on a desktop, one on a phone): a unit
//! is about 0.85 px either way, so labels read at about 12 px.

mod bars;
mod columns;

use std::ops::Range;

use plotters::{
    coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged},
    prelude::*,
};

/// Width of every chart, in SVG units.
pub const WIDTH: u32 = 360;
/// Text size given to plotters; it writes `font-size` at this over 1.24.
const TEXT_SIZE: f64 = 18.0;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x1f, 0x1e, 0x24);
const GRID: RGBColor = RGBColor(0xd6, 0xd5, 0xdb);
const TARGET: RGBColor = RGBColor(0x8a, 0x53, 0x00);
/// The target line's words, smaller than the axes' labels.
const LABEL_SCALE: f64 = 0.85;

/// Colours of series, each at least 3:1 against white (WCAG 1.4.11), and
/// blue against orange where two series compare (red and green are the
/// pair colour-blind readers confuse).
pub mod colour {
    use plotters::style::RGBColor;
    pub const PURPLE: RGBColor = RGBColor(0x5a, 0x32, 0xc4);
    pub const BLUE: RGBColor = RGBColor(0x1f, 0x6f, 0xbf);
    pub const ORANGE: RGBColor = RGBColor(0xc2, 0x4e, 0x00);
    pub const GREEN: RGBColor = RGBColor(0x1b, 0x6e, 0x3b);
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Bar,
    Line,
    DashedLine,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub colour: RGBColor,
    pub mark: Mark,
    /// One value per category; `None` where there is nothing to show (a
    /// month without decisions has no median).
    pub values: Vec<Option<f64>>,
}

impl Series {
    pub fn new(
        name: impl Into<String>,
        colour: RGBColor,
        mark: Mark,
        values: Vec<Option<f64>>,
    ) -> Self {
        Self {
            name: name.into(),
            colour,
            mark,
            values,
        }
    }

    /// A series of counts, every category with a value.
    pub fn counts(name: impl Into<String>, colour: RGBColor, mark: Mark, values: &[i64]) -> Self {
        Self::new(
            name,
            colour,
            mark,
            values.iter().map(|v| Some(*v as f64)).collect(),
        )
    }
}

/// What the vertical axis counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Whole numbers.
    Count,
    /// Business days, with one decimal where the steps need it.
    Days,
}

/// One plot area: the series sharing a vertical axis.
#[derive(Debug, Clone)]
pub struct Panel {
    pub y_label: String,
    pub series: Vec<Series>,
    /// Bars of one category on top of each other, instead of side by side.
    pub stacked: bool,
    pub scale: Scale,
    /// A horizontal line and its words ("5-day target").
    pub target: Option<(f64, String)>,
    pub height: u32,
}

impl Panel {
    pub fn new(y_label: impl Into<String>, series: Vec<Series>) -> Self {
        Self {
            y_label: y_label.into(),
            series,
            stacked: false,
            scale: Scale::Count,
            target: None,
            height: 220,
        }
    }
}

/// Categories along the horizontal axis (months, weeks, days), one or
/// more panels above them.
#[derive(Debug, Clone)]
pub struct Columns {
    /// Short tick labels, one per category; as many are shown as fit.
    pub ticks: Vec<String>,
    /// Thin the labels out from the last category (months, weeks) rather
    /// than the first (the days ahead).
    pub from_last: bool,
    pub x_label: String,
    pub panels: Vec<Panel>,
}

/// Categories down the vertical axis (stages), bars growing to the right;
/// the series are stacked segments of each bar.
#[derive(Debug, Clone)]
pub struct Bars {
    pub categories: Vec<String>,
    pub x_label: String,
    pub series: Vec<Series>,
}

/// A drawn chart: the SVG plotters wrote and its size, for the page's
/// accessible wrapper.
#[derive(Debug, Clone)]
pub struct Drawing {
    pub svg: String,
    pub width: u32,
    pub height: u32,
}

impl Drawing {
    /// Draws `height` pixels of chart with `draw` into an SVG string and
    /// tidies it. Plotters writes into a String, so a failure is a bug:
    /// logged, and the chart comes out as far as it got.
    fn render(height: u32, draw: impl FnOnce(&mut String, u32) -> DrawResult) -> Drawing {
        let mut svg = String::new();
        if let Err(e) = draw(&mut svg, height) {
            tracing::error!(error = %e, "a chart could not be drawn");
        }
        Drawing {
            svg: tidy(&svg),
            width: WIDTH,
            height,
        }
    }
}

/// Width plotters' size estimate gives `text` (what it uses to lay out
/// axes without font files): 0.7 em a character.
fn text_width(text: &str) -> f64 {
    TEXT_SIZE / 1.24 / 1.24 * 0.7 * text.chars().count() as f64
}

/// A step of 1, 2 or 5 times a power of ten that cuts `max` into about
/// `parts` pieces; whole numbers for counts.
pub fn nice_step(max: f64, parts: f64, scale: Scale) -> f64 {
    let raw = (max / parts).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    match scale {
        Scale::Count => step.max(1.0).round(),
        Scale::Days => step.max(0.5),
    }
}

/// The ticks of an axis from zero past `max`, at a nice step.
pub fn axis_ticks(max: f64, scale: Scale) -> Vec<f64> {
    let step = nice_step(max.max(1.0), 4.0, scale);
    let top = (max.max(1.0) / step).ceil().max(1.0) * step;
    let n = (top / step).round() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// "1,234" for counts, "2.5" for days.
pub fn tick_label(value: f64, scale: Scale) -> String {
    match scale {
        Scale::Count => super::numbers::thousands(value.round() as i64),
        Scale::Days if value.fract().abs() < 1e-9 => format!("{value:.0}"),
        Scale::Days => format!("{value:.1}"),
    }
}

/// Which categories get a label: every `k`-th, `k` the smallest that lets
/// the labels fit side by side in `plot_width`, counted from the last
/// category when `from_last` (the current month is the one to name).
pub fn labelled(ticks: &[String], plot_width: f64, from_last: bool) -> Vec<usize> {
    let widest = ticks.iter().map(|t| text_width(t)).fold(0.0, f64::max) + 6.0;
    let fit = ((plot_width / widest).floor() as usize).max(1);
    let every = ticks.len().div_ceil(fit).max(1);
    let mut shown: Vec<usize> = (0..ticks.len()).step_by(every).collect();
    if from_last {
        let shift = ticks.len().saturating_sub(1) - shown.last().copied().unwrap_or(0);
        shown.iter_mut().for_each(|i| *i += shift);
    }
    shown
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Plotters' SVG without what changes nothing: `opacity="1"` on every
/// element, font sizes to 16 decimals, and the line breaks around each
/// text (which a browser would draw as spaces, pulling centred labels off
/// centre). A third smaller, so the pages are smaller to send and compress.
pub(crate) fn tidy(svg: &str) -> String {
    let mut out = svg.replace(" opacity=\"1\"", "");
    for size in [TEXT_SIZE, TEXT_SIZE * LABEL_SCALE] {
        out = out.replace(
            &format!("font-size=\"{}\"", size / 1.24),
            &format!("font-size=\"{:.1}\"", size / 1.24),
        );
    }
    out.replace(">\n", ">").replace("\n</text>", "</text>")
}

/// A linear axis over `range` with ticks exactly at `ticks` (plotters'
/// own choice of ticks cannot be told "one per labelled month").
#[derive(Debug, Clone)]
struct Axis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Axis {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self { range, ticks }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let t = if span > 0.0 {
            (value - self.range.start) / span
        } else {
            0.5
        };
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn months() -> Vec<String> {
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(100.0, 4.0, Scale::Count), 50.0);
        assert_eq!(nice_step(7.0, 4.0, Scale::Count), 2.0);
        assert_eq!(nice_step(1.0, 4.0, Scale::Count), 1.0);
        assert_eq!(nice_step(12_345.0, 4.0, Scale::Count), 5_000.0);
        assert_eq!(nice_step(3.0, 4.0, Scale::Days), 1.0);
        assert_eq!(nice_step(1.2, 4.0, Scale::Days), 0.5);
    }

    #[test]
    fn an_axis_starts_at_zero_and_ends_past_the_largest_value() {
        assert_eq!(axis_ticks(7.0, Scale::Count), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(axis_ticks(0.0, Scale::Count), vec![0.0, 1.0]);
        assert_eq!(axis_ticks(100.0, Scale::Count), vec![0.0, 50.0, 100.0]);
        assert_eq!(tick_label(12_000.0, Scale::Count), "12,000");
        assert_eq!(tick_label(2.5, Scale::Days), "2.5");
        assert_eq!(tick_label(5.0, Scale::Days), "5");
    }

    #[test]
    fn labels_thin_out_until_they_fit() {
        let ticks = months();
        assert_eq!(labelled(&ticks, 450.0, false).len(), 12);
        assert_eq!(labelled(&ticks, 200.0, false), vec![0, 2, 4, 6, 8, 10]);
        assert_eq!(labelled(&ticks, 200.0, true), vec![1, 3, 5, 7, 9, 11]);
        let weeks: Vec<String> = (0..53).map(|i| format!("{} Mar", i % 28 + 1)).collect();
        let shown = labelled(&weeks, 300.0, true);
        assert!(shown.len() <= 7, "{shown:?}");
        assert_eq!(*shown.last().unwrap(), 52);
    }
}
