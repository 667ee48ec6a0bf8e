//! One chart as a page shows it: its title, a summary in words (what a
//! screen reader says for the image), the drawing, a legend, the table of
//! its numbers and where to download them.

use plotters::style::RGBColor;

use super::{
    chart::{Drawing, Mark, Series},
    table::Table,
};

#[derive(Debug, Clone)]
pub struct Figure {
    /// Unique on its page: element ids and the CSV's name.
    pub id: &'static str,
    pub title: String,
    /// What the chart shows, in a sentence or three.
    pub summary: String,
    /// How the numbers are counted.
    pub note: String,
    /// "bar chart", for the image's accessible name.
    pub kind: &'static str,
    pub drawing: Drawing,
    pub legend: Vec<Legend>,
    pub table: Table,
    pub csv_href: String,
}

impl Figure {
    /// The image's accessible name: "Applications, month by month (bar chart)".
    pub fn image_name(&self) -> String {
        format!("{} ({})", self.title, self.kind)
    }
}

/// A series' name with a swatch drawn as it is in the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legend {
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    pub line: bool,
    pub dashed: bool,
}

impl Legend {
    pub fn of(series: &[Series]) -> Vec<Legend> {
        series
            .iter()
            .map(|s| Legend {
                name: s.name.clone(),
                colour: hex(s.colour),
                line: s.mark != Mark::Bar,
                dashed: s.mark == Mark::DashedLine,
            })
            .collect()
    }
}

pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::chart::colour;

    #[test]
    fn the_legend_draws_each_series_as_the_chart_does() {
        let legend = Legend::of(&[
            Series::counts("Met", colour::BLUE, Mark::Bar, &[1]),
            Series::counts("Closed", colour::GREEN, Mark::DashedLine, &[1]),
        ]);
        assert_eq!(
            legend,
            vec![
                Legend {
                    name: "Met".into(),
                    colour: "#1f6fbf".into(),
                    line: false,
                    dashed: false
                },
                Legend {
                    name: "Closed".into(),
                    colour: "#1b6e3b".into(),
                    line: true,
                    dashed: true
                },
            ]
        );
    }
}
