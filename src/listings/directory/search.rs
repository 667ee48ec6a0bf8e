//! Search, filters and pages over the in-memory directory: plain GET
//! parameters, so it all works without JavaScript.

use std::sync::Arc;

use serde::Deserialize;

use super::{
    index::{code, intersect, words},
    snapshot::{Entry, Snapshot},
};
use crate::applications::form::{PARTNER_TYPES, STAGES};

pub const PER_PAGE: usize = 24;
const MAX_QUERY_CHARS: usize = 100;

/// The query string as sent; anything unknown is ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    pub q: String,
    #[serde(rename = "type")]
    pub partner_type: String,
    pub stage: String,
    pub page: String,
}

/// What to show: a name search, a partner type, a stage, a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    pub q: String,
    /// A value of `PARTNER_TYPES`, or empty for any.
    pub partner_type: String,
    /// A value of `STAGES`, or empty for any.
    pub stage: String,
    pub page: usize,
}

impl From<Params> for DirectoryQuery {
    fn from(p: Params) -> Self {
        let known = |value: &str, choices: &[(&str, &str)]| {
            if choices.iter().any(|(v, _)| *v == value) {
                value.to_owned()
            } else {
                String::new()
            }
        };
        Self {
            q: p.q
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(MAX_QUERY_CHARS)
                .collect(),
            partner_type: known(p.partner_type.trim(), &PARTNER_TYPES),
            stage: known(p.stage.trim(), &STAGES),
            page: p.page.trim().parse().ok().filter(|&n| n >= 1).unwrap_or(1),
        }
    }
}

impl DirectoryQuery {
    pub fn is_filtered(&self) -> bool {
        !self.q.is_empty() || !self.partner_type.is_empty() || !self.stage.is_empty()
    }

    /// The query string of the search and filters (page left out), for links.
    pub fn query_string(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("type", &self.partner_type),
            ("stage", &self.stage),
        ] {
            if !v.is_empty() {
                out.append_pair(k, v);
            }
        }
        out.finish()
    }

    /// The address of page `n` of these results.
    pub fn page_href(&self, n: usize) -> String {
        let query = self.query_string();
        match (query.is_empty(), n) {
            (true, 1) => "/partners".to_owned(),
            (true, n) => format!("/partners?page={n}"),
            (false, 1) => format!("/partners?{query}"),
            (false, n) => format!("/partners?{query}&page={n}"),
        }
    }
}

/// One page of matching entries.
#[derive(Debug)]
pub struct Found<'a> {
    pub entries: Vec<&'a Arc<Entry>>,
    pub total: usize,
    /// The page shown (a page past the end shows the last).
    pub page: usize,
    pub pages: usize,
}

/// Every word of the search must begin a word of the display or company
/// name; case and accents do not matter. Results keep the directory's order.
pub fn search<'a>(snapshot: &'a Snapshot, query: &DirectoryQuery, per_page: usize) -> Found<'a> {
    let index = &snapshot.index;
    let filtered = index.filtered(
        code(&PARTNER_TYPES, &query.partner_type),
        code(&STAGES, &query.stage),
    );
    let mut matching: Option<Vec<u32>> = None;
    for word in words(&query.q) {
        let found = index.starting_with(&word);
        matching = Some(match matching {
            None => intersect(filtered, &found),
            Some(so_far) => intersect(&so_far, &found),
        });
    }
    let matching: &[u32] = matching.as_deref().unwrap_or(filtered);
    let total = matching.len();
    let pages = total.div_ceil(per_page).max(1);
    let page = query.page.clamp(1, pages);
    let entries = matching
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|&i| &snapshot.entries[i as usize])
        .collect();
    Found {
        entries,
        total,
        page,
        pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{listings::directory::snapshot::Snapshot, namespaces::feed::Feed};

    fn entry(slug: &str, name: &str, partner_type: &str, stages: &[&str]) -> Entry {
        Entry {
            slug: slug.into(),
            display_name: name.into(),
            company_name: format!("{name} Inc."),
            partner_type: Some(partner_type.into()),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            ..Entry::default()
        }
    }

    fn directory() -> Snapshot {
        Snapshot::from_parts(
            1,
            vec![
                entry("acme", "Acme Security", "technology", &["verify", "secure"]),
                entry("globex", "Globex Cloud", "cloud", &["deploy", "monitor"]),
                entry("societe", "Société Générale Labs", "technology", &["plan"]),
                entry(
                    "initech",
                    "Initech Platform",
                    "platform",
                    &["secure", "govern"],
                ),
            ],
            Feed::default(),
        )
    }

    fn slugs(found: &Found<'_>) -> Vec<String> {
        found.entries.iter().map(|e| e.slug.clone()).collect()
    }

    fn query(q: &str, partner_type: &str, stage: &str) -> DirectoryQuery {
        DirectoryQuery::from(Params {
            q: q.into(),
            partner_type: partner_type.into(),
            stage: stage.into(),
            page: String::new(),
        })
    }

    #[test]
    fn search_matches_every_word_of_the_name_ignoring_case_and_accents() {
        let d = directory();
        assert_eq!(slugs(&search(&d, &query("acme", "", ""), 10)), ["acme"]);
        assert_eq!(
            slugs(&search(&d, &query("  SOCIETE   labs ", "", ""), 10)),
            ["societe"]
        );
        assert_eq!(
            slugs(&search(&d, &query("générale", "", ""), 10)),
            ["societe"]
        );
        assert!(
            search(&d, &query("acme globex", "", ""), 10)
                .entries
                .is_empty()
        );
        assert_eq!(search(&d, &query("inc.", "", ""), 10).total, 4);
    }

    #[test]
    fn filters_by_partner_type_and_stage_combine() {
        let d = directory();
        assert_eq!(
            slugs(&search(&d, &query("", "technology", ""), 10)),
            ["acme", "societe"]
        );
        assert_eq!(
            slugs(&search(&d, &query("", "", "secure"), 10)),
            ["acme", "initech"]
        );
        assert_eq!(
            slugs(&search(&d, &query("", "platform", "secure"), 10)),
            ["initech"]
        );
        assert!(
            search(&d, &query("acme", "cloud", ""), 10)
                .entries
                .is_empty()
        );
    }

    #[test]
    fn unknown_filters_are_ignored_rather_than_matching_nothing() {
        let q = query("", "spaceship", "testing");
        assert_eq!(q.partner_type, "");
        assert_eq!(q.stage, "");
        assert_eq!(search(&directory(), &q, 10).total, 4);
    }

    #[test]
    fn pages_split_results_and_a_page_past_the_end_shows_the_last() {
        let d = directory();
        let mut q = query("", "", "");
        q.page = 2;
        let found = search(&d, &q, 3);
        assert_eq!((found.total, found.page, found.pages), (4, 2, 2));
        assert_eq!(found.entries.len(), 1);
        q.page = 9;
        assert_eq!(search(&d, &q, 3).page, 2);
        let empty = search(&d, &query("nothing", "", ""), 3);
        assert_eq!((empty.total, empty.page, empty.pages), (0, 1, 1));
    }

    #[test]
    fn links_keep_the_search_and_filters() {
        let q = query("acme & co", "cloud", "");
        assert_eq!(q.page_href(1), "/partners?q=acme+%26+co&type=cloud");
        assert_eq!(q.page_href(3), "/partners?q=acme+%26+co&type=cloud&page=3");
        assert_eq!(DirectoryQuery::default().page_href(2), "/partners?page=2");
    }

    #[test]
    fn partners_with_badged_components_come_first() {
        let mut plain = entry("aaa", "Aaa", "technology", &["plan"]);
        plain.components = vec![];
        let mut badged = entry("zzz", "Zzz", "technology", &["plan"]);
        badged.components = vec![crate::listings::directory::snapshot::ComponentEntry {
            path: "zzz/sast".into(),
            web_url: "https://gitlab.com/zzz/sast".into(),
            name: "SAST".into(),
            description: None,
            version: None,
        }];
        let d = Snapshot::from_parts(1, vec![plain, badged], Feed::default());
        let order: Vec<&str> = d.entries.iter().map(|e| e.slug.as_str()).collect();
        assert_eq!(order, ["zzz", "aaa"]);
        assert_eq!(d.by_slug("aaa").unwrap().display_name, "Aaa");
    }
}
