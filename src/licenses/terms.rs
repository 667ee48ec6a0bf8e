//! The NFR program terms, shown in full next to the request form, and the
//! check on what staff write as the reason for a decision.

/// The terms a partner acknowledges when requesting NFR licenses, one
/// paragraph each.
pub const NFR_TERMS: &[&str] = &[
    "NFR software and services may be used solely and exclusively by the partner for internal employee training, integration testing with related DevSecOps products and platforms, and partner-led product demonstrations to prospective customers.",
    "No customer environments: use of NFR licenses in a customer environment, including for managed services, is strictly prohibited.",
    "No production use: in-house production use, for customer engagements or internal development, requires purchased licenses, available to partners at a discount.",
    "Licenses are issued for 12 months. Up to 10 users per product are issued without further approval; more needs a justification and a decision by the alliance team.",
    "No support is provided for NFR software. All software obtained under the NFR program is subject to the platform's subscription agreement.",
    "The program may audit the use of NFR licenses, reduce the number of users or revoke a license that does not comply, and may reject a request or change or end the NFR program at any time.",
];

pub const MAX_REASON_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonProblem {
    #[error("Give the reason; the partner receives it by email.")]
    Missing,
    #[error("Keep the reason to 2000 characters or fewer.")]
    TooLong,
}

/// A staff member's reason for a decision: trimmed, required, bounded.
pub fn parse_reason(input: &str) -> Result<String, ReasonProblem> {
    let reason = input.trim();
    match reason.chars().count() {
        0 => Err(ReasonProblem::Missing),
        n if n > MAX_REASON_CHARS => Err(ReasonProblem::TooLong),
        _ => Ok(reason.to_owned()),
    }
}

/// An optional note (approval): trimmed, `None` when empty.
pub fn parse_note(input: &str) -> Result<Option<String>, ReasonProblem> {
    match parse_reason(input) {
        Ok(note) => Ok(Some(note)),
        Err(ReasonProblem::Missing) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_required_and_bounded() {
        assert_eq!(
            parse_reason("  Audit found 9 users.  "),
            Ok("Audit found 9 users.".into())
        );
        assert_eq!(parse_reason(" \n "), Err(ReasonProblem::Missing));
        assert_eq!(
            parse_reason(&"x".repeat(MAX_REASON_CHARS + 1)),
            Err(ReasonProblem::TooLong)
        );
        assert!(parse_reason(&"x".repeat(MAX_REASON_CHARS)).is_ok());
    }

    #[test]
    fn notes_may_be_left_empty() {
        assert_eq!(parse_note("  "), Ok(None));
        assert_eq!(parse_note(" ok "), Ok(Some("ok".into())));
        assert!(parse_note(&"x".repeat(MAX_REASON_CHARS + 1)).is_err());
    }

    #[test]
    fn the_terms_name_what_is_forbidden() {
        let all = NFR_TERMS.join(" ");
        for must in ["customer environment", "managed services", "production use"] {
            assert!(all.contains(must), "{must}");
        }
    }
}
