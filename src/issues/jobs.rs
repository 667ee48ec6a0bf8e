//! The scheduler's issue jobs: deadline reminders and escalations, and the
//! staff's daily digest of overdue issues. Each only decides and enqueues
//! email; "this reminder went" is a unique row written in the same
//! transaction as its emails, so a pass run twice, on two instances or
//! after a crash, has one effect.

use chrono::{DateTime, Duration, Utc};

use super::{
    Reminder, Severity, due_reminder,
    emails::{self, Brief, Overdue},
    history::{self, Event, SCHEDULER},
    next_threshold_at,
    record::reference,
};
use crate::{error::AppResult, integrations::webhooks, organizations, state::AppState};

/// Issues claimed per transaction.
const BATCH: i64 = 200;
/// Overdue issues named in the digest; the rest are counted.
const DIGEST_LISTED: i64 = 50;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReminderReport {
    /// Issues whose next threshold had come.
    pub examined: usize,
    pub reminders: usize,
    pub escalations: usize,
}

/// Sends the reminders due at `now`. Looks only at open issues whose
/// `next_reminder_at` has come (index `issues_reminder_due`).
pub async fn run_reminders(state: &AppState, now: DateTime<Utc>) -> AppResult<ReminderReport> {
    let mut report = ReminderReport::default();
    loop {
        let mut tx = crate::db::begin(&state.pool).await?;
        let due = sqlx::query!(
            r#"select i.id, i.partner_id as "partner_id!", i.clock_started_at as "start!",
                      i.deadline_at as "deadline!", i.last_reminder, i.title, i.iid,
                      i.project_path, i.severity, i.confidential, p.company_name
                 from issues i join partners p on p.id = i.partner_id
                where i.state = 'open' and i.next_reminder_at is not null
                  and i.next_reminder_at <= $1
                order by i.next_reminder_at
                limit $2
                for update of i skip locked"#,
            now,
            BATCH
        )
        .fetch_all(&mut *tx)
        .await?;
        let claimed = due.len();
        for row in due {
            report.examined += 1;
            let mut last = row.last_reminder.as_deref().and_then(Reminder::from_key);
            if let Some(reminder) = due_reminder(row.start, row.deadline, now, last) {
                let first_time = sqlx::query!(
                    "insert into issue_reminders (partner_id, issue_id, kind, sent_at)
                     values ($1, $2, $3, $4) on conflict do nothing",
                    row.partner_id,
                    row.id,
                    reminder.key(),
                    now
                )
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if first_time {
                    let brief = Brief {
                        id: row.id,
                        title: row.title,
                        reference: reference(row.project_path.as_deref(), row.iid),
                        severity: row.severity.and_then(Severity::from_i16),
                        deadline: Some(row.deadline),
                        confidential: row.confidential,
                        company: row.company_name,
                    };
                    send(state, &mut tx, now, row.partner_id, &brief, reminder).await?;
                    if reminder == Reminder::Escalation {
                        report.escalations += 1;
                    } else {
                        report.reminders += 1;
                    }
                }
                last = last.max(Some(reminder));
            }
            // The next threshold is still to come once the latest reached
            // one is recorded; never let a row be found again in this pass.
            let next = next_threshold_at(row.start, row.deadline, last)
                .map(|at| at.max(now + Duration::seconds(1)));
            sqlx::query!(
                "update issues set last_reminder = $2, next_reminder_at = $3 where id = $1",
                row.id,
                last.map(Reminder::key),
                next
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if claimed < BATCH as usize {
            return Ok(report);
        }
    }
}

fn history_sentence(reminder: Reminder) -> &'static str {
    match reminder {
        Reminder::Half => "Reminder sent: half of the resolution window has passed.",
        Reminder::FourFifths => "Reminder sent: 80 % of the resolution window has passed.",
        Reminder::DayBefore => "Reminder sent: less than 24 hours left.",
        Reminder::Escalation => {
            "The deadline passed. Escalated to the partner and the alliance team."
        }
    }
}

async fn send(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    brief: &Brief,
    reminder: Reminder,
) -> AppResult<()> {
    let config = &state.config;
    let people = organizations::emails::members(tx, partner_id).await?;
    organizations::emails::send_each(tx, now, &people, |name| {
        emails::reminder(config, brief, reminder, name)
    })
    .await?;
    if reminder == Reminder::Escalation {
        let staff = emails::active_staff(tx).await?;
        organizations::emails::send_each(tx, now, &staff, |name| {
            emails::escalation_to_staff(config, brief, name)
        })
        .await?;
    }
    let (event, extra) = match reminder {
        Reminder::Escalation => (webhooks::Event::IssueOverdue, serde_json::json!({})),
        _ => (
            webhooks::Event::IssueDeadlineApproaching,
            serde_json::json!({ "threshold": reminder.key() }),
        ),
    };
    webhooks::emit_issue(tx, config, now, partner_id, brief.id, event, extra).await?;
    history::record(
        tx,
        now,
        Some(partner_id),
        brief.id,
        Event {
            kind: if reminder == Reminder::Escalation {
                "escalated"
            } else {
                "reminder"
            },
            summary: history_sentence(reminder).to_owned(),
            actor: SCHEDULER,
            data: Some(serde_json::json!({ "threshold": reminder.key() })),
        },
    )
    .await?;
    Ok(())
}

/// Sends the staff digest of overdue issues, once per UTC day, when there
/// is any. `true` when it was sent by this call.
pub async fn run_daily_digest(state: &AppState, now: DateTime<Utc>) -> AppResult<bool> {
    let mut tx = crate::db::begin(&state.pool).await?;
    // Every pass but the day's first stops here, before counting the
    // overdue issues (a scan of every open issue past its deadline).
    let sent_today = sqlx::query_scalar!(
        r#"select exists (select 1 from issue_digests where day = $1) as "sent!""#,
        now.date_naive()
    )
    .fetch_one(&mut *tx)
    .await?;
    if sent_today {
        return Ok(false);
    }
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from issues where state = 'open' and deadline_at <= $1"#,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    if total == 0 {
        return Ok(false);
    }
    let first_today = sqlx::query!(
        "insert into issue_digests (day, sent_at, overdue) values ($1, $2, $3) on conflict do nothing",
        now.date_naive(),
        now,
        total as i32
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !first_today {
        return Ok(false);
    }
    let rows = sqlx::query!(
        r#"select i.id, i.title, i.iid, i.project_path, i.severity, i.deadline_at, i.confidential,
                  coalesce(p.company_name, '') as "company!"
             from issues i left join partners p on p.id = i.partner_id
            where i.state = 'open' and i.deadline_at <= $1
            order by i.deadline_at, i.id
            limit $2"#,
        now,
        DIGEST_LISTED
    )
    .fetch_all(&mut *tx)
    .await?;
    let listed: Vec<Overdue> = rows
        .into_iter()
        .map(|r| Overdue {
            brief: Brief {
                id: r.id,
                title: r.title,
                reference: reference(r.project_path.as_deref(), r.iid),
                severity: r.severity.and_then(Severity::from_i16),
                deadline: r.deadline_at,
                confidential: r.confidential,
                company: r.company,
            },
        })
        .collect();
    let staff = emails::active_staff(&mut tx).await?;
    let config = &state.config;
    organizations::emails::send_each(&mut tx, now, &staff, |name| {
        emails::digest(config, now, total, &listed, name)
    })
    .await?;
    tx.commit().await?;
    Ok(true)
}
