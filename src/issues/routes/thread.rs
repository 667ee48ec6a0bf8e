//! An issue's thread as both its pages show it (the partner's and staff's):
//! history sentences, partner updates with where their note on GitLab
//! stands, and comments made on GitLab, in time order.

use chrono::{DateTime, Utc};

use crate::{
    config::Config,
    dates::When,
    issues::{
        history::{Entry, NoteState, Said},
        record::IssueRecord,
    },
};

/// History entries shown on an issue page.
pub const TIMELINE_LIMIT: i64 = 500;

/// One entry of the thread, ready to show.
pub struct TimelineItem {
    /// `event`, `update` or `comment`, for the page's styles.
    pub kind: &'static str,
    pub actor: String,
    /// What the actor did, after their name ("posted an update").
    pub verb: String,
    /// A history sentence (events).
    pub text: String,
    /// Safe HTML rendered from Markdown (updates and comments).
    pub html: Option<String>,
    pub at: When,
    pub badges: Vec<&'static str>,
    /// Where an update's note on GitLab stands: a style and the words.
    pub delivery: Option<(&'static str, String)>,
    /// The entry on GitLab.
    pub link: Option<String>,
}

pub fn timeline_items(
    entries: Vec<Entry>,
    issue: &IssueRecord,
    now: DateTime<Utc>,
) -> Vec<TimelineItem> {
    entries
        .into_iter()
        .map(|e| {
            let (kind, verb, badges, delivery, link) = match e.said {
                Said::Event => ("event", String::new(), Vec::new(), None, None),
                Said::Update(state) => {
                    let link = match &state {
                        NoteState::Posted {
                            note_id: Some(note),
                        } => issue.url.as_ref().map(|u| format!("{u}#note_{note}")),
                        _ => None,
                    };
                    (
                        "update",
                        "posted an update".to_owned(),
                        Vec::new(),
                        Some(delivery(&state)),
                        link,
                    )
                }
                Said::Comment {
                    username,
                    internal,
                    url,
                    edited,
                    by_partner,
                } => {
                    let mut badges = Vec::new();
                    if by_partner {
                        badges.push("Your team");
                    }
                    if internal {
                        badges.push("Internal note");
                    }
                    if edited {
                        badges.push("Edited");
                    }
                    (
                        "comment",
                        format!("(@{username}) commented on GitLab"),
                        badges,
                        None,
                        url.filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                    )
                }
            };
            TimelineItem {
                kind,
                actor: e.actor,
                verb,
                text: e.text,
                html: e.html,
                at: When::new(now, e.at),
                badges,
                delivery,
                link,
            }
        })
        .collect()
}

fn delivery(state: &NoteState) -> (&'static str, String) {
    match state {
        NoteState::NotSent => ("kept", "Kept in the portal".to_owned()),
        NoteState::Waiting { retrying: None } => {
            ("waiting", "Waiting to be posted to GitLab".to_owned())
        }
        NoteState::Waiting {
            retrying: Some(why),
        } => (
            "waiting",
            format!("Waiting to be posted to GitLab; the last try failed: {why}"),
        ),
        NoteState::Posted { .. } => ("posted", "Posted to GitLab".to_owned()),
        NoteState::Failed(why) => ("failed", format!("Could not be posted to GitLab: {why}")),
    }
}

/// Why updates on this issue stay in the portal, if they do.
pub fn kept_in_portal(config: &Config, issue: &IssueRecord) -> Option<&'static str> {
    if issue.iid.is_none() {
        Some(
            "This issue was entered by the alliance team, not raised on GitLab: updates stay in the portal.",
        )
    } else if config.gitlab.api_token.is_none() {
        Some(
            "Updates stay in the portal: it is not connected to GitLab, so the customer does not see them there. The alliance team reads them.",
        )
    } else {
        None
    }
}
