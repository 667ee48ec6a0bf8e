//! Emails about issues: shared with a partner, deadline reminders, the
//! escalation, and the staff digest. A confidential issue's title stays out
//! of email; the link leads to it.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{Reminder, Severity};
use crate::{
    config::Config,
    dates::{date_time, long_date},
    mail::{Notice, Recipient},
};

/// What an email says about one issue.
#[derive(Debug, Clone)]
pub struct Brief {
    pub id: i64,
    pub title: String,
    pub reference: String,
    pub severity: Option<Severity>,
    pub deadline: Option<DateTime<Utc>>,
    pub confidential: bool,
    pub company: String,
}

impl Brief {
    /// "“Runner fails behind a proxy” (acme-corp/runner#17)".
    pub fn name(&self) -> String {
        if self.confidential {
            format!("a confidential issue ({})", self.reference)
        } else {
            format!("“{}” ({})", self.title, self.reference)
        }
    }

    pub fn subject_name(&self) -> String {
        if self.confidential {
            format!("confidential issue {}", self.reference)
        } else {
            format!("{} ({})", self.title, self.reference)
        }
    }

    fn deadline_sentence(&self) -> String {
        match (self.severity, self.deadline) {
            (Some(severity), Some(deadline)) => format!(
                "{severity}: resolve it by {} ({}).",
                date_time(deadline),
                long_date(deadline)
            ),
            _ => "Its severity is not set yet; the resolution clock starts when it is.".to_owned(),
        }
    }
}

/// The owner's contacts learn of a new issue of theirs.
pub fn shared(config: &Config, brief: &Brief, name: &str) -> Notice {
    Notice::new(
        "issue_shared",
        format!("New issue for {}: {}", brief.company, brief.subject_name()),
        name,
    )
    .paragraph(format!(
        "An issue was raised against one of {}'s components: {}.",
        brief.company,
        brief.name()
    ))
    .paragraph(brief.deadline_sentence())
    .action(
        "Open the issue",
        config.link(&format!("/issues/{}", brief.id)),
    )
    .footnote("Post an update in the portal to let the customer and the alliance team know it is in hand.")
}

fn threshold_words(reminder: Reminder) -> &'static str {
    match reminder {
        Reminder::Half => "Half of the resolution window has passed",
        Reminder::FourFifths => "80 % of the resolution window has passed",
        Reminder::DayBefore => "Less than 24 hours are left",
        Reminder::Escalation => "The deadline has passed",
    }
}

/// A reminder at 50 %, 80 % or 24 hours before, or the escalation, to the
/// partner.
pub fn reminder(config: &Config, brief: &Brief, reminder: Reminder, name: &str) -> Notice {
    let deadline = brief.deadline.map(date_time).unwrap_or_default();
    let subject = match reminder {
        Reminder::Escalation => format!("Deadline missed: {}", brief.subject_name()),
        _ => format!("Reminder: {} is due {deadline}", brief.subject_name()),
    };
    let notice = Notice::new(
        if reminder == Reminder::Escalation {
            "issue_escalation"
        } else {
            "issue_reminder"
        },
        subject,
        name,
    )
    .paragraph(format!(
        "{} for {}.",
        threshold_words(reminder),
        brief.name()
    ));
    let notice = match reminder {
        Reminder::Escalation => notice.paragraph(format!(
            "Its deadline was {deadline}. The alliance team has been told. Resolve it as soon as you can and post an update saying where it stands."
        )),
        _ => notice.paragraph(brief.deadline_sentence()),
    };
    notice.action(
        "Open the issue",
        config.link(&format!("/issues/{}", brief.id)),
    )
}

/// The escalation, to staff.
pub fn escalation_to_staff(config: &Config, brief: &Brief, name: &str) -> Notice {
    let deadline = brief.deadline.map(date_time).unwrap_or_default();
    Notice::new(
        "issue_escalation_staff",
        format!("Escalation: {} missed a deadline", brief.company),
        name,
    )
    .paragraph(format!(
        "{} missed the deadline of {deadline} for {}.",
        brief.company,
        brief.name()
    ))
    .action(
        "See the issue",
        config.link(&format!("/admin/issues/{}", brief.id)),
    )
}

/// One line of the digest.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub brief: Brief,
}

/// The staff digest of overdue issues.
pub fn digest(
    config: &Config,
    now: DateTime<Utc>,
    total: i64,
    listed: &[Overdue],
    name: &str,
) -> Notice {
    let plural = if total == 1 { "issue is" } else { "issues are" };
    let mut notice = Notice::new(
        "issue_digest",
        format!("{total} overdue {plural} open — {}", long_date(now)),
        name,
    )
    .paragraph(format!("{total} {plural} open past their deadline:"));
    for item in listed {
        let b = &item.brief;
        let company = if b.company.is_empty() {
            "Awaiting triage".to_owned()
        } else {
            b.company.clone()
        };
        notice = notice.paragraph(format!(
            "• {company} — {} — due {}",
            b.name(),
            b.deadline.map(date_time).unwrap_or_default()
        ));
    }
    if total > listed.len() as i64 {
        notice = notice.paragraph(format!("… and {} more.", total - listed.len() as i64));
    }
    notice.action(
        "See overdue issues",
        config.link("/admin/issues?overdue=on"),
    )
}

/// Every staff account that can sign in.
pub async fn active_staff(conn: &mut PgConnection) -> Result<Vec<Recipient>, sqlx::Error> {
    let rows = sqlx::query!(
        "select email, name from users
          where staff_role is not null and disabled_at is null and password_hash <> '!'
          order by id"
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Recipient::new(r.email, r.name))
        .collect())
}
