//! Severity of a component issue, read from the tracker's scoped labels
//! `severity::1` … `severity::4`, and the staff-editable table of resolution
//! windows.

use std::fmt;

use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How bad an issue is; `S1` is the most severe.
///
/// Ordered from most to least severe, so `S1 < S4` and the minimum of several
/// severities is the most severe one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    S1,
    S2,
    S3,
    S4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::S1, Severity::S2, Severity::S3, Severity::S4];

    /// The severity named by one label, if it is a `severity::N` scoped label.
    /// Case and surrounding spaces are ignored (`" Severity::2 "`).
    pub fn from_label(label: &str) -> Option<Self> {
        let (scope, value) = label.trim().split_once("::")?;
        if !scope.trim().eq_ignore_ascii_case("severity") {
            return None;
        }
        match value.trim() {
            "1" => Some(Self::S1),
            "2" => Some(Self::S2),
            "3" => Some(Self::S3),
            "4" => Some(Self::S4),
            _ => None,
        }
    }

    /// The severity an issue carries. Scoped labels are exclusive in the
    /// tracker, but a payload could still hold several; the most severe wins.
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Option<Self> {
        labels
            .iter()
            .filter_map(|label| Self::from_label(label.as_ref()))
            .min()
    }

    /// The number stored in the database (1 to 4).
    pub fn as_i16(self) -> i16 {
        match self {
            Self::S1 => 1,
            Self::S2 => 2,
            Self::S3 => 3,
            Self::S4 => 4,
        }
    }

    pub fn from_i16(value: i16) -> Option<Self> {
        match value {
            1 => Some(Self::S1),
            2 => Some(Self::S2),
            3 => Some(Self::S3),
            4 => Some(Self::S4),
            _ => None,
        }
    }

    /// The words shown to people: "Severity 2".
    pub fn label(self) -> String {
        format!("Severity {}", self.as_i16())
    }

    /// The tracker label that sets this severity: `severity::2`.
    pub fn scoped_label(self) -> String {
        format!("severity::{}", self.as_i16())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Severity {}", self.as_i16())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlaTableProblem {
    #[error("Enter the number of days as a whole number, like 30.")]
    NotANumber,
    #[error("A resolution window must be between 1 and {max} days.", max = SlaTable::MAX_DAYS)]
    OutOfRange,
}

/// Resolution windows in calendar days for each severity. Staff can change
/// them; the defaults are those of the partner agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTable {
    s1: u16,
    s2: u16,
    s3: u16,
    s4: u16,
}

impl Default for SlaTable {
    fn default() -> Self {
        Self {
            s1: 7,
            s2: 30,
            s3: 45,
            s4: 60,
        }
    }
}

impl SlaTable {
    pub const MAX_DAYS: u16 = 365;

    /// A table from four day counts, S1 first; each must be 1 to 365.
    pub fn new(s1: u16, s2: u16, s3: u16, s4: u16) -> Result<Self, SlaTableProblem> {
        for days in [s1, s2, s3, s4] {
            if !(1..=Self::MAX_DAYS).contains(&days) {
                return Err(SlaTableProblem::OutOfRange);
            }
        }
        Ok(Self { s1, s2, s3, s4 })
    }

    /// One field of the staff form: a whole number of days, 1 to 365.
    pub fn parse_days(input: &str) -> Result<u16, SlaTableProblem> {
        let days: i64 = input
            .trim()
            .parse()
            .map_err(|_| SlaTableProblem::NotANumber)?;
        u16::try_from(days)
            .ok()
            .filter(|days| (1..=Self::MAX_DAYS).contains(days))
            .ok_or(SlaTableProblem::OutOfRange)
    }

    pub fn days(&self, severity: Severity) -> u16 {
        match severity {
            Severity::S1 => self.s1,
            Severity::S2 => self.s2,
            Severity::S3 => self.s3,
            Severity::S4 => self.s4,
        }
    }

    /// The time from clock start to deadline for a severity.
    pub fn window(&self, severity: Severity) -> Duration {
        Duration::days(i64::from(self.days(severity)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn scoped_labels_name_a_severity() {
        for (label, expected) in [
            ("severity::1", Some(Severity::S1)),
            ("severity::2", Some(Severity::S2)),
            ("severity::3", Some(Severity::S3)),
            ("severity::4", Some(Severity::S4)),
            ("  Severity::3 ", Some(Severity::S3)),
            ("SEVERITY::4", Some(Severity::S4)),
            ("severity :: 2", Some(Severity::S2)),
            ("severity::5", None),
            ("severity::0", None),
            ("severity::high", None),
            ("severity", None),
            ("severity:2", None),
            ("priority::1", None),
            ("bug", None),
            ("", None),
        ] {
            assert_eq!(Severity::from_label(label), expected, "label {label:?}");
        }
    }

    #[test]
    fn other_labels_are_ignored_and_no_severity_is_untriaged() {
        assert_eq!(
            Severity::from_labels(&labels(&["component::runner", "severity::3", "bug"])),
            Some(Severity::S3)
        );
        assert_eq!(
            Severity::from_labels(&labels(&["component::runner", "bug"])),
            None
        );
        assert_eq!(Severity::from_labels::<String>(&[]), None);
    }

    #[test]
    fn several_severity_labels_yield_the_most_severe() {
        assert_eq!(
            Severity::from_labels(&labels(&["severity::4", "severity::2", "severity::3"])),
            Some(Severity::S2)
        );
    }

    #[test]
    fn numbers_round_trip_and_out_of_range_numbers_are_refused() {
        for severity in Severity::ALL {
            assert_eq!(Severity::from_i16(severity.as_i16()), Some(severity));
        }
        for bad in [0, 5, -1, i16::MAX] {
            assert_eq!(Severity::from_i16(bad), None, "{bad}");
        }
    }

    #[test]
    fn labels_read_as_words() {
        assert_eq!(Severity::S2.label(), "Severity 2");
        assert_eq!(Severity::S4.to_string(), "Severity 4");
        assert_eq!(Severity::S1.scoped_label(), "severity::1");
    }

    #[test]
    fn default_windows_are_7_30_45_60_days() {
        let table = SlaTable::default();
        assert_eq!(table.window(Severity::S1), Duration::days(7));
        assert_eq!(table.window(Severity::S2), Duration::days(30));
        assert_eq!(table.window(Severity::S3), Duration::days(45));
        assert_eq!(table.window(Severity::S4), Duration::days(60));
    }

    #[test]
    fn staff_can_set_other_windows_within_range() {
        let table = SlaTable::new(3, 14, 21, 90).unwrap();
        assert_eq!(table.window(Severity::S1), Duration::days(3));
        assert_eq!(table.days(Severity::S4), 90);
        assert_eq!(
            SlaTable::new(0, 30, 45, 60),
            Err(SlaTableProblem::OutOfRange)
        );
        assert_eq!(
            SlaTable::new(7, 30, 45, 366),
            Err(SlaTableProblem::OutOfRange)
        );
    }

    #[test]
    fn day_fields_parse_whole_numbers_in_range() {
        assert_eq!(SlaTable::parse_days(" 30 "), Ok(30));
        assert_eq!(SlaTable::parse_days("365"), Ok(365));
        for (input, problem) in [
            ("", SlaTableProblem::NotANumber),
            ("thirty", SlaTableProblem::NotANumber),
            ("7.5", SlaTableProblem::NotANumber),
            ("0", SlaTableProblem::OutOfRange),
            ("-3", SlaTableProblem::OutOfRange),
            ("366", SlaTableProblem::OutOfRange),
            ("99999999", SlaTableProblem::OutOfRange),
        ] {
            assert_eq!(SlaTable::parse_days(input), Err(problem), "{input:?}");
        }
    }
}
