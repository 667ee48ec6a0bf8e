//! An audit entry as a page shows it: when (in words, exact on hover), who,
//! from where, what, on which object, and what changed.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{names, query::Row};
use crate::dates::{When, date_time};

/// One field that changed: `role: member → admin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EntryView {
    pub when: When,
    pub who: String,
    pub ip: Option<String>,
    pub action: String,
    pub action_label: String,
    /// Staff view: the organisation, for a link to its entries.
    pub partner: Option<(i64, String)>,
    pub subject: Option<String>,
    pub changes: Vec<Change>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

impl EntryView {
    pub fn has_data(&self) -> bool {
        self.before_json.is_some() || self.after_json.is_some()
    }
}

/// How the actor is shown to whom.
pub enum Audience<'a> {
    Staff,
    /// A partner admin: actions of staff read "Alliance team", without
    /// their address or IP.
    Partner {
        staff_ids: &'a HashSet<i64>,
    },
}

pub fn entry(now: DateTime<Utc>, row: Row, audience: &Audience<'_>) -> EntryView {
    let by_staff = match audience {
        Audience::Staff => false,
        Audience::Partner { staff_ids } => {
            row.actor_user_id.is_some_and(|id| staff_ids.contains(&id))
        }
    };
    let (who, ip) = if by_staff {
        ("Alliance team".to_owned(), None)
    } else {
        (row.actor, row.ip.map(|ip| ip.ip().to_string()))
    };
    let partner = match (audience, row.partner_id) {
        (Audience::Staff, Some(id)) => Some((
            id,
            row.company_name
                .unwrap_or_else(|| format!("Organisation #{id}")),
        )),
        _ => None,
    };
    EntryView {
        when: When::new(now, row.occurred_at),
        who,
        ip,
        action_label: names::label(&row.action),
        action: row.action,
        partner,
        subject: row.subject_type.map(|t| subject(&t, row.subject_id)),
        changes: changes(row.before.as_ref(), row.after.as_ref()),
        before_json: row.before.as_ref().map(pretty),
        after_json: row.after.as_ref().map(pretty),
    }
}

fn subject(kind: &str, id: Option<i64>) -> String {
    let kind = kind.replace('_', " ");
    match id {
        Some(id) => format!("{kind} #{id}"),
        None => kind,
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// A value in a line of text: strings without quotes, moments as people
/// read them, long ones shortened.
fn short(v: &Value) -> String {
    let text = match v {
        Value::String(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => date_time(t.with_timezone(&Utc)),
            Err(_) => s.clone(),
        },
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

/// The fields of `after` that differ from `before`, in name order. Fields
/// only in `before` are context (the entry's subject), not removals.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let Some(Value::Object(after)) = after else {
        return Vec::new();
    };
    let before = match before {
        Some(Value::Object(b)) => Some(b),
        _ => None,
    };
    let fields: BTreeSet<&String> = after.keys().collect();
    fields
        .into_iter()
        .filter_map(|k| {
            let old = before.and_then(|b| b.get(k));
            let new = &after[k];
            // A field that was not there and is still empty says nothing.
            let empty_news = old.is_none() && new.is_null();
            (old != Some(new) && !empty_news).then(|| Change {
                field: k.replace('_', " "),
                before: old.map(short),
                after: Some(short(new)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changes_list_only_what_differs() {
        let c = changes(
            Some(&json!({ "role": "member", "email": "a@x.test" })),
            Some(&json!({ "role": "admin", "email": "a@x.test" })),
        );
        assert_eq!(
            c,
            vec![Change {
                field: "role".into(),
                before: Some("member".into()),
                after: Some("admin".into())
            }]
        );
    }

    #[test]
    fn a_creation_lists_every_field_as_new() {
        let c = changes(
            None,
            Some(&json!({ "company_name": "Acme", "n": 2, "replaces": null })),
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].field, "company name");
        assert_eq!(c[0].before, None);
        assert_eq!(c[1].after.as_deref(), Some("2"));
    }

    #[test]
    fn moments_read_as_dates() {
        let c = changes(
            None,
            Some(&json!({ "expires_at": "2026-12-01T15:28:00.556302750Z" })),
        );
        assert_eq!(c[0].after.as_deref(), Some("1 December 2026, 15:28 UTC"));
    }

    #[test]
    fn context_in_before_and_deletions_list_nothing() {
        let before = json!({ "email": "a@x.test", "cancelled": false });
        let c = changes(Some(&before), Some(&json!({ "cancelled": true })));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "cancelled");
        assert!(changes(Some(&before), None).is_empty());
    }

    #[test]
    fn long_values_are_shortened_and_non_objects_skipped() {
        let c = changes(None, Some(&json!({ "body": "x".repeat(200) })));
        assert_eq!(c[0].after.as_ref().unwrap().chars().count(), 60);
        assert!(changes(Some(&json!([1])), Some(&json!([2]))).is_empty());
    }

    #[test]
    fn partners_see_staff_as_the_alliance_team_without_ip() {
        let row = Row {
            id: 1,
            occurred_at: Utc::now(),
            actor: "reviewer@vendor.test".into(),
            actor_user_id: Some(7),
            partner_id: Some(3),
            company_name: Some("Acme".into()),
            action: "application.approved".into(),
            subject_type: Some("application".into()),
            subject_id: Some(9),
            ip: Some("10.1.2.3".parse().unwrap()),
            before: None,
            after: None,
        };
        let staff: HashSet<i64> = [7].into();
        let seen = entry(
            Utc::now(),
            row.clone(),
            &Audience::Partner { staff_ids: &staff },
        );
        assert_eq!(seen.who, "Alliance team");
        assert_eq!(seen.ip, None);
        assert_eq!(seen.partner, None);
        let staff_view = entry(Utc::now(), row, &Audience::Staff);
        assert_eq!(staff_view.who, "reviewer@vendor.test");
        assert_eq!(staff_view.ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(staff_view.partner, Some((3, "Acme".into())));
        assert_eq!(staff_view.subject.as_deref(), Some("application #9"));
    }
}
