//! Categories down the vertical axis, bars growing to the right in
//! stacked segments.

use plotters::prelude::*;

use super::{
    Axis, Bars, DrawResult, Drawing, FONT, GRID, INK, Scale, TEXT_SIZE, WIDTH, axis_ticks,
    text_width, tick_label,
};

impl Bars {
    pub fn draw(&self) -> Drawing {
        let height = 28 * self.categories.len().max(1) as u32 + 60;
        Drawing::render(height, |svg, height| self.draw_into(svg, height))
    }

    fn draw_into(&self, svg: &mut String, height: u32) -> DrawResult {
        let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
        let n = self.categories.len().max(1);
        let totals: Vec<f64> = (0..n)
            .map(|i| {
                self.series
                    .iter()
                    .filter_map(|s| s.values.get(i).copied().flatten())
                    .sum()
            })
            .collect();
        let ticks = axis_ticks(totals.iter().copied().fold(0.0, f64::max), Scale::Count);
        let top = *ticks.last().unwrap_or(&1.0);
        let y_area = self
            .categories
            .iter()
            .map(|c| text_width(c))
            .fold(0.0, f64::max)
            + 14.0;
        let plot_width = f64::from(WIDTH) - y_area - 20.0;
        // As many value ticks as fit under the bars.
        let widest = ticks
            .iter()
            .map(|t| text_width(&tick_label(*t, Scale::Count)))
            .fold(0.0, f64::max)
            + 12.0;
        let every = ticks
            .len()
            .div_ceil(((plot_width / widest) as usize).max(2));
        let shown: Vec<f64> = ticks.iter().copied().step_by(every.max(1)).collect();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(8)
            .margin_right(20)
            .x_label_area_size(44)
            .y_label_area_size(y_area as u32)
            .build_cartesian_2d(
                Axis::new(0.0..top, shown),
                Axis::new(0.0..n as f64, (0..n).map(|i| i as f64 + 0.5).collect()),
            )?;
        let categories = &self.categories;
        // The first category at the top, as a list reads.
        let y_format = |y: &f64| {
            categories
                .get(n - 1 - y.floor() as usize)
                .cloned()
                .unwrap_or_default()
        };
        let x_format = |x: &f64| tick_label(*x, Scale::Count);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(INK.stroke_width(1))
            .label_style((FONT, TEXT_SIZE).into_font().color(&INK))
            .axis_desc_style((FONT, TEXT_SIZE).into_font().color(&INK))
            .x_label_formatter(&x_format)
            .y_label_formatter(&y_format)
            .x_desc(self.x_label.as_str())
            .draw()?;
        let mut rects = Vec::new();
        for i in 0..n {
            let row = (n - 1 - i) as f64;
            let mut base = 0.0;
            for s in &self.series {
                let Some(v) = s.values.get(i).copied().flatten() else {
                    continue;
                };
                if v <= 0.0 {
                    continue;
                }
                rects.push(Rectangle::new(
                    [(base, row + 0.2), (base + v, row + 0.8)],
                    s.colour.filled(),
                ));
                base += v;
            }
        }
        chart.draw_series(rects)?;
        root.present()?;
        Ok(())
    }
}
