//! When an issue's resolution clock starts, when it is due, and how it stands.
//!
//! All times are the tracker's own (§6): an issue can arrive with part of its
//! window already gone. Nothing here reads the system clock; `now` is passed in.

use chrono::{DateTime, Duration, Utc};

use super::severity::{Severity, SlaTable};
use super::webhook::{IssueAction, IssueEvent};

/// When the clock of an issue starts, given a tracker event and the start
/// already recorded, if any.
///
/// - A start once recorded is never moved: severity changes, closing and
///   reopening keep it.
/// - No severity label, no clock.
/// - An event that itself added the first severity label starts the clock at
///   the event's `updated_at`.
/// - Otherwise the issue arrived already labelled, and the clock started when
///   it was created.
pub fn clock_start_for(
    event: &IssueEvent,
    existing_start: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    if existing_start.is_some() {
        return existing_start;
    }
    event.severity?;
    if event.action != IssueAction::Open && event.adds_severity() {
        Some(event.updated_at)
    } else {
        Some(event.created_at)
    }
}

/// When the clock starts for an issue staff triage by hand at `acted_at`:
/// then, unless it already runs.
pub fn clock_start_for_triage(
    existing_start: Option<DateTime<Utc>>,
    acted_at: DateTime<Utc>,
) -> DateTime<Utc> {
    existing_start.unwrap_or(acted_at)
}

/// The severity an issue has after a tracker event. A tracker label sets it;
/// an event without a severity label leaves the one the issue has (so a
/// staff triage or a running clock is not undone by an unlabelled update).
pub fn effective_severity(
    from_tracker: Option<Severity>,
    current: Option<Severity>,
) -> Option<Severity> {
    from_tracker.or(current)
}

/// The resolution deadline: the severity's window counted from the start.
/// A severity change gives a new deadline from the same start.
pub fn deadline(start: DateTime<Utc>, severity: Severity, table: &SlaTable) -> DateTime<Utc> {
    start + table.window(severity)
}

/// How an issue stands against its deadline, as partners and staff see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadlineState {
    OnTrack,
    DueSoon,
    Overdue,
    Met,
    Missed,
    Untriaged,
}

impl DeadlineState {
    pub fn label(self) -> &'static str {
        match self {
            Self::OnTrack => "On track",
            Self::DueSoon => "Due soon",
            Self::Overdue => "Overdue",
            Self::Met => "Met",
            Self::Missed => "Missed",
            Self::Untriaged => "Awaiting triage",
        }
    }

    /// The class the stylesheet colours the state badge with.
    pub fn css_class(self) -> &'static str {
        match self {
            Self::OnTrack => "deadline-on-track",
            Self::DueSoon => "deadline-due-soon",
            Self::Overdue => "deadline-overdue",
            Self::Met => "deadline-met",
            Self::Missed => "deadline-missed",
            Self::Untriaged => "deadline-untriaged",
        }
    }
}

/// The state of an issue at `now`.
///
/// The window runs from `start` up to, not including, `deadline`: an issue
/// resolved before the deadline is met, at or after it missed; an open issue
/// is overdue from the deadline on, and due soon once 80 % of the window has
/// gone or less than 24 hours are left. Without a clock the state is
/// untriaged, resolved or not.
pub fn state(
    now: DateTime<Utc>,
    start: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
) -> DeadlineState {
    let (Some(start), Some(deadline)) = (start, deadline) else {
        return DeadlineState::Untriaged;
    };
    if let Some(resolved_at) = resolved_at {
        return if resolved_at < deadline {
            DeadlineState::Met
        } else {
            DeadlineState::Missed
        };
    }
    let due_soon_at = four_fifths(start, deadline).min(deadline - Duration::hours(24));
    if now >= deadline {
        DeadlineState::Overdue
    } else if now >= due_soon_at {
        DeadlineState::DueSoon
    } else {
        DeadlineState::OnTrack
    }
}

/// The instant 80 % of the window has gone.
pub(crate) fn four_fifths(start: DateTime<Utc>, deadline: DateTime<Utc>) -> DateTime<Utc> {
    start + (deadline - start) * 4 / 5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::webhook::{WebhookEvent, parse_event};
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn fixture(body: &str) -> IssueEvent {
        match parse_event(body.as_bytes()) {
            Ok(WebhookEvent::Issue(event)) => event,
            other => panic!("expected an issue event, got {other:?}"),
        }
    }

    const OPEN_LABELLED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_open_labelled.json");
    const OPEN_UNLABELLED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_open_unlabelled.json");
    const LABEL_ADDED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_update_label_added.json");
    const SEVERITY_CHANGED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_update_severity_changed.json");
    const CLOSE: &str = include_str!("../../tests/fixtures/gitlab/issue_close.json");

    #[test]
    fn issue_arriving_labelled_starts_at_creation() {
        let event = fixture(OPEN_LABELLED);
        assert_eq!(clock_start_for(&event, None), Some(at(2019, 11, 8, 10, 15)));
    }

    #[test]
    fn issue_arriving_unlabelled_runs_no_clock() {
        assert_eq!(clock_start_for(&fixture(OPEN_UNLABELLED), None), None);
    }

    #[test]
    fn label_added_later_starts_at_that_update() {
        let event = fixture(LABEL_ADDED);
        assert_eq!(
            clock_start_for(&event, None),
            Some(at(2019, 11, 12, 14, 30) + Duration::seconds(5))
        );
    }

    #[test]
    fn first_sighting_of_a_labelled_issue_on_another_action_starts_at_creation() {
        // The portal first hears of this issue when it closes; it had its
        // severity all along, so the clock ran from creation.
        let event = fixture(CLOSE);
        assert_eq!(clock_start_for(&event, None), Some(event.created_at));
        let changed = fixture(SEVERITY_CHANGED);
        assert_eq!(clock_start_for(&changed, None), Some(changed.created_at));
    }

    #[test]
    fn a_recorded_start_is_never_moved() {
        let recorded = at(2019, 11, 1, 0, 0);
        for body in [
            OPEN_LABELLED,
            OPEN_UNLABELLED,
            LABEL_ADDED,
            SEVERITY_CHANGED,
            CLOSE,
        ] {
            assert_eq!(
                clock_start_for(&fixture(body), Some(recorded)),
                Some(recorded)
            );
        }
        assert_eq!(
            clock_start_for_triage(Some(recorded), at(2019, 11, 5, 9, 0)),
            recorded
        );
    }

    #[test]
    fn staff_triage_starts_the_clock_at_the_staff_action() {
        let acted = at(2019, 11, 5, 9, 0);
        assert_eq!(clock_start_for_triage(None, acted), acted);
    }

    #[test]
    fn unlabelled_tracker_events_keep_the_current_severity() {
        assert_eq!(
            effective_severity(None, Some(Severity::S2)),
            Some(Severity::S2)
        );
        assert_eq!(
            effective_severity(Some(Severity::S4), Some(Severity::S1)),
            Some(Severity::S4)
        );
        assert_eq!(effective_severity(None, None), None);
    }

    #[test]
    fn deadlines_follow_the_table() {
        let start = at(2019, 11, 8, 10, 15);
        let table = SlaTable::default();
        for (severity, days) in [
            (Severity::S1, 7),
            (Severity::S2, 30),
            (Severity::S3, 45),
            (Severity::S4, 60),
        ] {
            assert_eq!(
                deadline(start, severity, &table),
                start + Duration::days(days)
            );
        }
        let custom = SlaTable::new(3, 14, 21, 90).unwrap();
        assert_eq!(
            deadline(start, Severity::S2, &custom),
            start + Duration::days(14)
        );
    }

    #[test]
    fn downgrade_recomputes_the_deadline_from_the_same_start() {
        let table = SlaTable::default();
        let event = fixture(SEVERITY_CHANGED);
        let recorded = at(2019, 11, 2, 7, 45) + Duration::seconds(12);
        let start = clock_start_for(&event, Some(recorded)).unwrap();
        assert_eq!(event.previous_severity, Some(Some(Severity::S1)));
        assert_eq!(
            deadline(start, Severity::S1, &table),
            recorded + Duration::days(7)
        );
        let new_severity = effective_severity(event.severity, Some(Severity::S1)).unwrap();
        assert_eq!(
            deadline(start, new_severity, &table),
            recorded + Duration::days(60)
        );
    }

    #[test]
    fn upgrade_can_make_an_issue_overdue_at_once() {
        let table = SlaTable::default();
        let start = at(2026, 11, 1, 0, 0);
        let now = start + Duration::days(10);
        let s4 = deadline(start, Severity::S4, &table);
        let s1 = deadline(start, Severity::S1, &table);
        assert_eq!(
            state(now, Some(start), Some(s4), None),
            DeadlineState::OnTrack
        );
        assert_eq!(
            state(now, Some(start), Some(s1), None),
            DeadlineState::Overdue
        );
    }

    #[test]
    fn open_issue_states_change_at_their_boundaries() {
        // S2: 30 days; 80 % is day 24, 24 hours left is day 29.
        let start = at(2026, 11, 1, 0, 0);
        let due = start + Duration::days(30);
        let one_second = Duration::seconds(1);
        for (now, expected) in [
            (start - Duration::days(1), DeadlineState::OnTrack),
            (start, DeadlineState::OnTrack),
            (
                start + Duration::days(24) - one_second,
                DeadlineState::OnTrack,
            ),
            (start + Duration::days(24), DeadlineState::DueSoon),
            (due - one_second, DeadlineState::DueSoon),
            (due, DeadlineState::Overdue),
            (due + Duration::days(40), DeadlineState::Overdue),
        ] {
            assert_eq!(
                state(now, Some(start), Some(due), None),
                expected,
                "at {now}"
            );
        }
    }

    #[test]
    fn short_windows_are_due_soon_24_hours_before() {
        // A 2-day window: 80 % is at 38.4 hours, 24 hours left is at 24 hours.
        let start = at(2026, 11, 1, 0, 0);
        let due = start + Duration::days(2);
        assert_eq!(
            state(start + Duration::hours(23), Some(start), Some(due), None),
            DeadlineState::OnTrack
        );
        assert_eq!(
            state(start + Duration::hours(24), Some(start), Some(due), None),
            DeadlineState::DueSoon
        );
    }

    #[test]
    fn resolved_issues_are_met_or_missed() {
        let start = at(2026, 11, 1, 0, 0);
        let due = start + Duration::days(7);
        let later = due + Duration::days(30);
        for (resolved, expected) in [
            (start + Duration::days(1), DeadlineState::Met),
            (due - Duration::seconds(1), DeadlineState::Met),
            (due, DeadlineState::Missed),
            (due + Duration::days(1), DeadlineState::Missed),
        ] {
            assert_eq!(
                state(later, Some(start), Some(due), Some(resolved)),
                expected,
                "resolved at {resolved}"
            );
        }
    }

    #[test]
    fn without_a_clock_the_issue_is_untriaged() {
        let now = at(2026, 11, 1, 0, 0);
        assert_eq!(state(now, None, None, None), DeadlineState::Untriaged);
        assert_eq!(state(now, None, None, Some(now)), DeadlineState::Untriaged);
    }

    #[test]
    fn every_state_has_its_own_label_and_class() {
        let all = [
            DeadlineState::OnTrack,
            DeadlineState::DueSoon,
            DeadlineState::Overdue,
            DeadlineState::Met,
            DeadlineState::Missed,
            DeadlineState::Untriaged,
        ];
        let labels: std::collections::HashSet<_> = all.iter().map(|s| s.label()).collect();
        let classes: std::collections::HashSet<_> = all.iter().map(|s| s.css_class()).collect();
        assert_eq!(labels.len(), all.len());
        assert_eq!(classes.len(), all.len());
        assert_eq!(DeadlineState::DueSoon.label(), "Due soon");
        assert_eq!(DeadlineState::Overdue.css_class(), "deadline-overdue");
    }
}
