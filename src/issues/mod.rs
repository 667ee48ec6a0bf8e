//! Component issues from the platform's tracker: reading its webhook, their
//! severity, the resolution clock with its reminders, and the pages and
//! background jobs around them.

pub mod alerts;
pub mod apply;
pub mod clock;
pub mod comments;
pub mod emails;
pub mod export;
pub mod feed;
pub mod history;
pub mod inbox;
pub mod jobs;
pub mod lists;
pub mod notes;
pub mod record;
pub mod reminders;
pub mod routes;
pub mod routing;
pub mod scorecard;
pub mod severity;
pub mod share;
pub mod sla;
pub mod triage;
pub mod updates;
pub mod webhook;

pub use clock::{
    DeadlineState, clock_start_for, clock_start_for_triage, deadline, effective_severity, state,
};
pub use inbox::process_pending;
pub use jobs::{ReminderReport, run_daily_digest, run_reminders};
pub use reminders::{Reminder, due_reminder, next_threshold_at};
pub use severity::{Severity, SlaTable, SlaTableProblem};
pub use webhook::{
    IssueAction, IssueEvent, TrackerState, WebhookEvent, WebhookProblem, is_issue_hook, parse_event,
};
