//! What every staff decision shares: the reason the partner receives.

use crate::error::{AppError, AppResult};

/// The longest reason a decision may carry.
pub const MAX_REASON_CHARS: usize = 4000;

/// A decision's reason, trimmed and with plain newlines. `required`: the
/// partner must be told why (rejections, requests for changes…).
pub fn staff_reason(input: &str, required: bool) -> AppResult<String> {
    let reason = input.trim().replace("\r\n", "\n");
    let chars = reason.chars().count();
    if required && chars < 5 {
        return Err(AppError::Conflict(
            "Give a reason (at least a few words): the partner receives it by email.".into(),
        ));
    }
    if chars > MAX_REASON_CHARS {
        return Err(AppError::Conflict(
            "Keep the reason under 4000 characters.".into(),
        ));
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_required_when_asked_and_bounded() {
        assert_eq!(
            staff_reason("  Looks good\r\nthanks ", true).unwrap(),
            "Looks good\nthanks"
        );
        assert!(staff_reason(" ok ", true).is_err());
        assert_eq!(staff_reason("", false).unwrap(), "");
        assert!(staff_reason(&"x".repeat(4001), false).is_err());
    }
}
