//! `/admin/insights` as a page: staff only, a period chooser that refuses
//! what it does not offer, every chart an image with a name and a
//! description, safe to inline under the CSP, and each table under a
//! chart the same as that chart's CSV.

use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use super::support::*;
use crate::{fixtures, helpers::spawn_app};

/// The table under the chart `id` on a page, as its CSV reads: numbers
/// without thousands separators, an empty cell where the page shows "—".
pub fn table(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("aria-labelledby=\"{id}-heading\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let figure = &html[start..start + html[start..].find("</figure>").unwrap()];
    let table = &figure[figure.find("<table").unwrap()..figure.find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let mut cells = Vec::new();
            let mut rest = row;
            while let Some(open) = rest.find("<t") {
                let after = &rest[open..];
                if !(after.starts_with("<th") || after.starts_with("<td")) {
                    rest = &after[2..];
                    continue;
                }
                let content = &after[after.find('>').unwrap() + 1..];
                let close = content.find("</t").unwrap();
                cells.push(normalise(&content[..close]));
                rest = &content[close..];
            }
            cells
        })
        .collect()
}

fn normalise(cell: &str) -> String {
    let text = cell
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    if text == "—" {
        String::new()
    } else if let Some(share) = text.strip_suffix("\u{a0}%") {
        format!("{share}%")
    } else if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == ',') {
        text.replace(',', "")
    } else {
        text
    }
}

const CHARTS: [&str; 7] = [
    "applications",
    "decisions",
    "deadlines",
    "issues",
    "licenses",
    "partner-types",
    "partner-stages",
];

#[tokio::test]
async fn every_table_under_a_chart_is_that_charts_csv() {
    let p = super::deadlines::program().await;
    // Some of everything: a license, an approved partner's application
    // already there, decisions below.
    let page = p.staff.get("/admin/insights?months=6").await;
    assert_eq!(page.status, StatusCode::OK);
    for id in CHARTS {
        let href = format!("/admin/insights/{id}.csv?months=6");
        assert!(
            page.body.contains(&format!("href=\"{href}\"")),
            "{id} links its CSV"
        );
        let csv = csv(&p.staff, &href).await;
        assert!(csv.len() > 1, "{id}: {csv:?}");
        assert_eq!(
            table(&page.body, id),
            csv,
            "{id}: the page's table is its CSV"
        );
    }
    let deadlines = table(&page.body, "deadlines");
    assert_eq!(
        by_severity(&deadlines, &month_name(month(p.now, 3))),
        [0, 0, 0, 0, 1, 0, 1, 0]
    );
}

#[tokio::test]
async fn every_chart_is_one_image_named_and_described_with_nothing_inline_to_refuse() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let page = staff.get("/admin/insights").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(body.contains("Program insights"));
    assert!(
        body.contains("the last 12 months"),
        "twelve months unless chosen otherwise"
    );
    assert!(body.contains("<option value=\"12\" selected>"));
    for id in CHARTS {
        assert!(
            body.contains(&format!(
                "role=\"img\" focusable=\"false\"\n       aria-labelledby=\"{id}-image\" aria-describedby=\"{id}-summary\""
            )),
            "{id} is one image with a name and a description"
        );
        assert!(body.contains(&format!("<title id=\"{id}-image\">")));
        assert!(body.contains(&format!(
            "<p class=\"insight-summary\" id=\"{id}-summary\">"
        )));
    }
    // The page's own policy refuses inline styles and scripts: the charts
    // use neither.
    let csp = page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("style-src 'self';") && csp.contains("script-src 'self';"));
    assert!(
        !body.contains("style="),
        "an inline style the CSP would refuse"
    );
    assert_eq!(
        body.matches("<script").count(),
        body.matches("<script src=\"/static/").count(),
        "an inline script"
    );
}

#[tokio::test]
async fn only_staff_see_the_insights() {
    let app = spawn_app().await;
    let (partner, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    for path in ["/admin/insights", "/admin/insights/applications.csv"] {
        // As every /admin page answers a partner: it does not exist.
        let other = partner.get("/admin/issues").await.status;
        assert_eq!(other, StatusCode::NOT_FOUND);
        let res = partner.get(path).await;
        assert_eq!(res.status, other, "{path} for a partner");
        assert!(!res.body.contains("Applications, month by month"));
        // Signed out: sent to sign in, as from /admin/issues.
        let visitor = app.agent();
        let res = visitor.get(path).await;
        assert_eq!(
            res.status,
            visitor.get("/admin/issues").await.status,
            "{path} signed out"
        );
        assert!(!res.body.contains("Applications, month by month"));
    }
    let reviewer = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    assert_eq!(reviewer.get("/admin/insights").await.status, StatusCode::OK);
    assert!(
        reviewer
            .get("/admin")
            .await
            .body
            .contains("href=\"/admin/insights\"")
    );
}

#[tokio::test]
async fn a_period_not_offered_is_refused_next_to_the_chooser() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let page = staff.get("/admin/insights?months=7").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("<p class=\"field-error\" id=\"months-error\">Choose one of the periods in the list: 3, 6, 12 or 24 months.</p>"),
        "{}",
        page.snippet()
    );
    assert!(
        page.body
            .contains("aria-invalid=\"true\" aria-describedby=\"months-error\"")
    );
    assert!(
        page.body.contains("the last 12 months"),
        "the default period instead"
    );
    for months in ["3", "6", "24"] {
        let page = staff.get(&format!("/admin/insights?months={months}")).await;
        assert!(page.body.contains(&format!("the last {months} months")));
        assert!(
            page.body
                .contains(&format!("<option value=\"{months}\" selected>"))
        );
        assert!(!page.body.contains("field-error"));
    }
    let csv = staff.get("/admin/insights/deadlines.csv?months=7").await;
    assert_eq!(csv.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        staff.get("/admin/insights/secrets.csv").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        staff.get("/admin/insights/deadlines.txt").await.status,
        StatusCode::NOT_FOUND
    );
    let rows = super::support::csv(&staff, "/admin/insights/issues.csv?months=3").await;
    assert_eq!(rows[0], ["Week starting", "Opened", "Closed"]);
}
