//! axe-core's findings, and the rule the journeys hold pages to: no
//! violation of serious or critical impact.

use std::{io::Write, path::Path};

use serde::Deserialize;
use serde_json::Value;

/// Runs axe on the whole document and hands back its violations, trimmed to
/// what a report needs. WebDriver's async script protocol: the callback is
/// the last argument.
pub const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] })
  .then((results) => done({ violations: results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target })),
  })) }))
  .catch((error) => done({ error: String(error) }));
"#;

/// What [`RUN_AXE`] hands back.
#[derive(Debug, Deserialize)]
pub struct Outcome {
    #[serde(default)]
    pub violations: Vec<Violation>,
    pub error: Option<String>,
}

/// One rule broken on the page, with the elements that break it.
#[derive(Debug, Clone, Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    /// CSS selectors, one per frame or shadow root on the way to the element.
    pub target: Vec<Value>,
}

impl Violation {
    /// Serious and critical violations fail a journey.
    pub fn is_blocking(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }
}

impl Node {
    fn selector(&self) -> String {
        let parts: Vec<String> = self
            .target
            .iter()
            .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned))
            .collect();
        parts.join(" >> ")
    }
}

/// A message listing every blocking violation on `page`, or `None`.
pub fn blocking_report(page: &str, violations: &[Violation]) -> Option<String> {
    let blocking: Vec<&Violation> = violations.iter().filter(|v| v.is_blocking()).collect();
    if blocking.is_empty() {
        return None;
    }
    let mut report = format!(
        "{} serious or critical accessibility violation(s) on the {page} page:",
        blocking.len()
    );
    for v in blocking {
        let impact = v.impact.as_deref().unwrap_or("unknown");
        report.push_str(&format!(
            "\n- {} ({impact}): {} <{}>",
            v.id, v.help, v.help_url
        ));
        for node in &v.nodes {
            report.push_str(&format!("\n    at {}", node.selector()));
        }
    }
    Some(report)
}

/// Counts of `violations` by impact, as `serious/critical moderate minor`,
/// and the rules broken (`rule:impact`, comma-separated).
pub fn summary(violations: &[Violation]) -> (usize, usize, usize, String) {
    let count = |impacts: &[&str]| {
        violations
            .iter()
            .filter(|v| impacts.contains(&v.impact.as_deref().unwrap_or("minor")))
            .count()
    };
    let rules: Vec<String> = violations
        .iter()
        .map(|v| format!("{}:{}", v.id, v.impact.as_deref().unwrap_or("unknown")))
        .collect();
    (
        count(&["serious", "critical"]),
        count(&["moderate"]),
        count(&["minor"]),
        rules.join(","),
    )
}

/// Appends one line per checked page to `dir/axe.tsv`: path, page, and the
/// counts of serious/critical, moderate and minor findings, then the rules.
/// Journeys run in parallel; each line is one small append.
pub fn log(dir: &Path, path: &str, page: &str, violations: &[Violation]) {
    let (blocking, moderate, minor, rules) = summary(violations);
    let line = format!("{path}\t{page}\t{blocking}\t{moderate}\t{minor}\t{rules}\n");
    let file = dir.join("axe.tsv");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!("cannot append to {}: {e}", file.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(id: &str, impact: Option<&str>, targets: Value) -> Violation {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "impact": impact,
            "help": format!("help for {id}"),
            "helpUrl": format!("https://example.test/{id}"),
            "nodes": [{ "target": targets }],
        }))
        .unwrap()
    }

    #[test]
    fn only_serious_and_critical_violations_block() {
        let cases = [
            (Some("critical"), true),
            (Some("serious"), true),
            (Some("moderate"), false),
            (Some("minor"), false),
            (None, false),
        ];
        for (impact, blocking) in cases {
            let v = violation("rule", impact, serde_json::json!(["a"]));
            assert_eq!(v.is_blocking(), blocking, "{impact:?}");
        }
    }

    #[test]
    fn the_report_names_each_blocking_rule_its_help_and_its_elements() {
        let violations = [
            violation(
                "color-contrast",
                Some("serious"),
                serde_json::json!([".lead"]),
            ),
            violation("region", Some("moderate"), serde_json::json!(["footer"])),
            violation(
                "button-name",
                Some("critical"),
                serde_json::json!(["iframe", ["#host", "button"]]),
            ),
        ];
        let report = blocking_report("landing", &violations).unwrap();
        assert_eq!(
            report,
            "2 serious or critical accessibility violation(s) on the landing page:\n\
             - color-contrast (serious): help for color-contrast <https://example.test/color-contrast>\n    \
             at .lead\n\
             - button-name (critical): help for button-name <https://example.test/button-name>\n    \
             at iframe >> [\"#host\",\"button\"]"
        );
    }

    #[test]
    fn the_summary_counts_findings_by_impact() {
        let violations = [
            violation("color-contrast", Some("serious"), serde_json::json!(["a"])),
            violation("region", Some("moderate"), serde_json::json!(["b"])),
            violation(
                "landmark-unique",
                Some("moderate"),
                serde_json::json!(["c"]),
            ),
            violation("meta-viewport", Some("minor"), serde_json::json!(["d"])),
        ];
        assert_eq!(
            summary(&violations),
            (
                1,
                2,
                1,
                "color-contrast:serious,region:moderate,landmark-unique:moderate,meta-viewport:minor"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_page_with_only_minor_findings_passes() {
        let violations = [violation(
            "region",
            Some("moderate"),
            serde_json::json!(["p"]),
        )];
        assert_eq!(blocking_report("landing", &violations), None);
    }
}
