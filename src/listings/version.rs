//! A submitted version of a listing: `submitted → approved | rejected`, or
//! `superseded` when a newer submission replaced it before review. The
//! listing shows the approved version it points to; a newer one waits for
//! review beside it.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::ListingDraft;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    Submitted,
    Approved,
    Rejected,
    Superseded,
}

impl VersionState {
    pub const ALL: [VersionState; 4] = [
        VersionState::Submitted,
        VersionState::Approved,
        VersionState::Rejected,
        VersionState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Submitted => "submitted",
            VersionState::Approved => "approved",
            VersionState::Rejected => "rejected",
            VersionState::Superseded => "superseded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VersionState::Submitted => "Waiting for review",
            VersionState::Approved => "Approved",
            VersionState::Rejected => "Rejected",
            VersionState::Superseded => "Replaced before review",
        }
    }

    pub fn css(self) -> &'static str {
        match self {
            VersionState::Submitted => "state state-submitted",
            VersionState::Approved => "state state-approved",
            VersionState::Rejected => "state state-rejected",
            VersionState::Superseded => "state",
        }
    }
}

impl FromStr for VersionState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown listing state {s:?}"))
    }
}

/// One version as stored.
#[derive(Debug, Clone)]
pub struct Version {
    pub id: i64,
    pub partner_id: i64,
    pub listing_id: i64,
    pub content: ListingDraft,
    pub logo_id: Option<i64>,
    pub state: VersionState,
    pub reason: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The fields whose value differs between two versions, by form name.
pub fn changed_fields(
    old: &ListingDraft,
    old_logo: Option<i64>,
    new: &ListingDraft,
    new_logo: Option<i64>,
) -> Vec<&'static str> {
    [
        ("display_name", old.display_name != new.display_name),
        (
            "short_description",
            old.short_description != new.short_description,
        ),
        (
            "long_description",
            old.long_description != new.long_description,
        ),
        ("website", old.website != new.website),
        (
            "documentation_url",
            old.documentation_url != new.documentation_url,
        ),
        ("demo_url", old.demo_url != new.demo_url),
        (
            "value_messaging",
            old.value_messaging != new.value_messaging,
        ),
        ("use_cases", old.use_cases != new.use_cases),
        ("stages", old.stages != new.stages),
        ("logo", old_logo != new_logo),
    ]
    .into_iter()
    .filter_map(|(field, differs)| differs.then_some(field))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ListingDraft {
        ListingDraft {
            display_name: "Acme".into(),
            short_description: "Short.".into(),
            long_description: "Long.".into(),
            website: "https://acme.example/".into(),
            documentation_url: "https://docs.acme.example/".into(),
            demo_url: None,
            value_messaging: "Value.".into(),
            use_cases: "Uses.".into(),
            stages: vec!["secure".into()],
        }
    }

    #[test]
    fn states_round_trip() {
        for s in VersionState::ALL {
            assert_eq!(s.as_str().parse::<VersionState>(), Ok(s));
        }
        assert!("draft".parse::<VersionState>().is_err());
    }

    #[test]
    fn changed_fields_names_only_what_differs() {
        let old = draft();
        assert!(changed_fields(&old, Some(1), &old.clone(), Some(1)).is_empty());
        let mut new = draft();
        new.short_description = "Shorter.".into();
        new.stages.push("govern".into());
        new.demo_url = Some("https://demo.acme.example/".into());
        assert_eq!(
            changed_fields(&old, Some(1), &new, Some(2)),
            ["short_description", "demo_url", "stages", "logo"]
        );
    }
}
