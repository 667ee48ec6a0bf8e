//! Categories along the horizontal axis: bars side by side or stacked,
//! lines with gaps where a value is missing, a target line; one or more
//! panels sharing the axis.

use plotters::{prelude::*, style::text_anchor};

use super::{
    Axis, Columns, DrawResult, Drawing, FONT, GRID, INK, LABEL_SCALE, Mark, Panel, Series, TARGET,
    TEXT_SIZE, WIDTH, axis_ticks, labelled, text_width, tick_label,
};

fn panel_max(panel: &Panel) -> f64 {
    let n = panel
        .series
        .iter()
        .map(|s| s.values.len())
        .max()
        .unwrap_or(0);
    let value = |s: &Series, i: usize| s.values.get(i).copied().flatten().unwrap_or(0.0);
    let mut max: f64 = 0.0;
    for i in 0..n {
        if panel.stacked {
            let bars: f64 = panel
                .series
                .iter()
                .filter(|s| s.mark == Mark::Bar)
                .map(|s| value(s, i))
                .sum();
            max = max.max(bars);
        }
        for s in &panel.series {
            if !(panel.stacked && s.mark == Mark::Bar) {
                max = max.max(value(s, i));
            }
        }
    }
    if let Some((target, _)) = &panel.target {
        max = max.max(*target * 1.15);
    }
    max
}

/// Room right of the plot, so a label under the last category ("30 Nov")
/// is not cut off.
const RIGHT_MARGIN: u32 = 24;

impl Columns {
    pub fn draw(&self) -> Drawing {
        let height = self.panels.iter().map(|p| p.height).sum::<u32>() + 44;
        Drawing::render(height, |svg, height| self.draw_into(svg, height))
    }

    fn draw_into(&self, svg: &mut String, height: u32) -> DrawResult {
        let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
        let n = self.ticks.len().max(1);
        let mut rest = root.clone();
        for (index, panel) in self.panels.iter().enumerate() {
            let last = index + 1 == self.panels.len();
            let (area, below) = if last {
                (rest.clone(), rest.clone())
            } else {
                rest.split_vertically(panel.height)
            };
            rest = below;
            let ticks = axis_ticks(panel_max(panel), panel.scale);
            let top = *ticks.last().unwrap_or(&1.0);
            let y_area = ticks
                .iter()
                .map(|t| text_width(&tick_label(*t, panel.scale)))
                .fold(0.0, f64::max)
                + 30.0;
            let plot_width = f64::from(WIDTH) - y_area - f64::from(RIGHT_MARGIN);
            let shown = labelled(&self.ticks, plot_width, self.from_last);
            let key_points: Vec<f64> = shown.iter().map(|i| *i as f64 + 0.5).collect();
            let mut chart = ChartBuilder::on(&area)
                .margin_top(10)
                // Room between panels for the top label of the next one.
                .margin_bottom(if last { 0 } else { 14 })
                .margin_right(RIGHT_MARGIN)
                .x_label_area_size(if last { 44 } else { 0 })
                .y_label_area_size(y_area as u32)
                .build_cartesian_2d(
                    Axis::new(0.0..n as f64, key_points),
                    Axis::new(0.0..top, ticks.clone()),
                )?;
            let ticks_text = &self.ticks;
            let scale = panel.scale;
            let x_format = |x: &f64| {
                ticks_text
                    .get(x.floor() as usize)
                    .cloned()
                    .unwrap_or_default()
            };
            let y_format = |y: &f64| tick_label(*y, scale);
            let mut mesh = chart.configure_mesh();
            mesh.disable_x_mesh()
                .bold_line_style(GRID.stroke_width(1))
                .light_line_style(TRANSPARENT)
                .axis_style(INK.stroke_width(1))
                .label_style((FONT, TEXT_SIZE).into_font().color(&INK))
                .axis_desc_style((FONT, TEXT_SIZE).into_font().color(&INK))
                .x_label_formatter(&x_format)
                .y_label_formatter(&y_format)
                .y_desc(panel.y_label.as_str());
            if last {
                mesh.x_desc(self.x_label.as_str());
            } else {
                mesh.x_labels(0);
            }
            mesh.draw()?;
            draw_bars(&mut chart, panel, n)?;
            draw_lines(&mut chart, panel, n)?;
            if let Some((value, words)) = &panel.target {
                chart.draw_series(DashedLineSeries::new(
                    [(0.0, *value), (n as f64, *value)],
                    6,
                    4,
                    TARGET.stroke_width(2),
                ))?;
                let style = TextStyle::from((FONT, TEXT_SIZE * LABEL_SCALE).into_font())
                    .color(&TARGET)
                    .pos(text_anchor::Pos::new(
                        text_anchor::HPos::Right,
                        text_anchor::VPos::Bottom,
                    ));
                chart.draw_series(std::iter::once(Text::new(
                    words.clone(),
                    (n as f64, *value),
                    style,
                )))?;
            }
        }
        root.present()?;
        Ok(())
    }
}

type Cartesian<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<Axis, Axis>>;

fn draw_bars(chart: &mut Cartesian<'_>, panel: &Panel, n: usize) -> DrawResult {
    let bars: Vec<&Series> = panel
        .series
        .iter()
        .filter(|s| s.mark == Mark::Bar)
        .collect();
    if bars.is_empty() {
        return Ok(());
    }
    let slots = if panel.stacked { 1 } else { bars.len() };
    let group = if n > 40 { 0.9 } else { 0.8 };
    let width = group / slots as f64;
    let mut rects = Vec::new();
    for i in 0..n {
        let mut base = 0.0;
        for (j, s) in bars.iter().enumerate() {
            let Some(v) = s.values.get(i).copied().flatten() else {
                continue;
            };
            if v <= 0.0 {
                continue;
            }
            let slot = if panel.stacked { 0 } else { j };
            let x0 = i as f64 + (1.0 - group) / 2.0 + slot as f64 * width;
            let (y0, y1) = if panel.stacked {
                (base, base + v)
            } else {
                (0.0, v)
            };
            base = y1;
            rects.push(Rectangle::new(
                [(x0, y0), (x0 + width, y1)],
                s.colour.filled(),
            ));
        }
    }
    chart.draw_series(rects)?;
    Ok(())
}

fn draw_lines(chart: &mut Cartesian<'_>, panel: &Panel, n: usize) -> DrawResult {
    for s in panel.series.iter().filter(|s| s.mark != Mark::Bar) {
        // A gap where a value is missing: the line stops and starts again.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for i in 0..n {
            match s.values.get(i).copied().flatten() {
                Some(v) => runs.last_mut().expect("one run").push((i as f64 + 0.5, v)),
                None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                None => {}
            }
        }
        let style = s.colour.stroke_width(2);
        for run in runs.iter().filter(|r| !r.is_empty()) {
            match s.mark {
                Mark::DashedLine => {
                    chart.draw_series(DashedLineSeries::new(run.clone(), 6, 4, style))?;
                }
                _ => {
                    chart.draw_series(LineSeries::new(run.clone(), style))?;
                }
            }
            // Points where there are few of them, or where one stands alone
            // (a line of one point would not show).
            if n <= 24 || run.len() == 1 {
                match s.mark {
                    Mark::DashedLine => chart.draw_series(
                        run.iter()
                            .map(|p| TriangleMarker::new(*p, 4, s.colour.filled())),
                    )?,
                    _ => chart
                        .draw_series(run.iter().map(|p| Circle::new(*p, 3, s.colour.filled())))?,
                };
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{colour, tests::months};
    use super::*;

    #[test]
    fn every_text_is_escaped_and_nothing_is_styled_inline() {
        let chart = Columns {
            from_last: true,
            ticks: vec!["<b>Jan</b>".into(), "Feb & Mar".into()],
            x_label: "Month \"quoted\"".into(),
            panels: vec![Panel::new(
                "<script>alert(1)</script>",
                vec![Series::counts("met", colour::BLUE, Mark::Bar, &[3, 4])],
            )],
        }
        .draw();
        assert!(
            chart.svg.contains("&lt;b&gt;Jan&lt;/b&gt;"),
            "{}",
            chart.svg
        );
        assert!(chart.svg.contains("Feb &amp; Mar"));
        assert!(chart.svg.contains("&lt;script&gt;"));
        assert!(!chart.svg.contains("<script"));
        assert!(!chart.svg.contains("<b>"));
        assert!(
            !chart.svg.contains("style="),
            "the CSP refuses inline styles"
        );
        assert!(chart.svg.starts_with("<svg"));
    }

    #[test]
    fn a_missing_value_breaks_the_line_and_a_lone_point_still_shows() {
        let chart = Columns {
            from_last: true,
            ticks: months(),
            x_label: "Month".into(),
            panels: vec![Panel::new(
                "Days",
                vec![Series::new(
                    "median",
                    colour::BLUE,
                    Mark::Line,
                    vec![
                        Some(1.0),
                        Some(2.0),
                        None,
                        Some(3.0),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    ],
                )],
            )],
        }
        .draw();
        let line = "stroke=\"#1F6FBF\" stroke-width=\"2\" points=";
        assert_eq!(chart.svg.matches(line).count(), 2, "{}", chart.svg);
        assert_eq!(chart.svg.matches("<circle").count(), 3);
    }
}
