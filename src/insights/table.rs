//! The numbers behind a chart: one table, shown under the chart and
//! downloaded as CSV, so the two cannot tell different stories.

use crate::csv::record;

use super::numbers::thousands;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A count: "1,234" on the page, `1234` in the CSV.
    Count(i64),
    /// Business days to one decimal; "—" on the page and empty in the CSV
    /// where there is nothing to measure.
    Days(Option<f64>),
    /// A share: "83 %" on the page, `83%` in the CSV (a spreadsheet reads
    /// it as 0.83); "—" and empty of nothing.
    Percent(Option<i64>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    /// As the page shows it.
    pub fn html(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => thousands(*n),
            Cell::Days(Some(d)) => format!("{d:.1}"),
            Cell::Days(None) | Cell::Percent(None) => "—".to_owned(),
            Cell::Percent(Some(p)) => format!("{p}\u{a0}%"),
        }
    }

    /// As a spreadsheet reads it.
    pub fn csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Days(Some(d)) => format!("{d:.1}"),
            Cell::Days(None) | Cell::Percent(None) => String::new(),
            Cell::Percent(Some(p)) => format!("{p}%"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub caption: String,
    /// Column headings; the first names what each row is.
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The header line and the rows, each ending in CRLF.
    pub fn csv(&self) -> String {
        let mut out = record(&self.head);
        for row in &self.rows {
            out.push_str(&record(&row.iter().map(Cell::csv).collect::<Vec<_>>()));
        }
        out
    }

    /// Rows as the page shows them, with each cell's column heading (the
    /// table turns into labelled lines on a narrow screen).
    pub fn html_rows(&self) -> Vec<Vec<(String, String)>> {
        self.rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&self.head)
                    .map(|(cell, head)| (head.clone(), cell.html()))
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_holds_the_table_with_plain_numbers() {
        let table = Table {
            caption: "Applications".into(),
            head: vec![
                "Month".into(),
                "Started".into(),
                "Median".into(),
                "Share".into(),
            ],
            rows: vec![
                vec![
                    Cell::text("March 2026"),
                    Cell::Count(1234),
                    Cell::Days(Some(1.25)),
                    Cell::Percent(Some(83)),
                ],
                vec![
                    Cell::text("April 2026"),
                    Cell::Count(0),
                    Cell::Days(None),
                    Cell::Percent(None),
                ],
            ],
        };
        assert_eq!(
            table.csv(),
            "Month,Started,Median,Share\r\nMarch 2026,1234,1.2,83%\r\nApril 2026,0,,\r\n"
        );
        assert_eq!(
            table.html_rows()[0],
            vec![
                ("Month".to_owned(), "March 2026".to_owned()),
                ("Started".to_owned(), "1,234".to_owned()),
                ("Median".to_owned(), "1.2".to_owned()),
                ("Share".to_owned(), "83\u{a0}%".to_owned()),
            ]
        );
        assert_eq!(table.html_rows()[1][2].1, "—");
        assert_eq!(table.html_rows()[1][3].1, "—");
    }
}
