//! Component issues from the platform's tracker: reading its webhook, their
//! severity, and the resolution clock with its reminders.

pub mod clock;
pub mod reminders;
pub mod severity;
pub mod webhook;

pub use clock::{
    DeadlineState, clock_start_for, clock_start_for_triage, deadline, effective_severity, state,
};
pub use reminders::{Reminder, due_reminder, next_threshold_at};
pub use severity::{Severity, SlaTable, SlaTableProblem};
pub use webhook::{
    IssueAction, IssueEvent, TrackerState, WebhookEvent, WebhookProblem, is_issue_hook, parse_event,
};
