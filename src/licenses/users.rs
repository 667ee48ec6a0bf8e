//! How many people may use a license.

pub const MAX_USERS: u32 = 1000;

/// A number of license seats, 1 to [`MAX_USERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UserCount(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserCountProblem {
    #[error("Enter the number of users.")]
    Missing,
    #[error("Enter the number of users as a whole number, like 5.")]
    NotANumber,
    #[error("Enter at least 1 user.")]
    TooFew,
    #[error("Enter at most 1000 users.")]
    TooMany,
}

impl UserCount {
    pub fn parse(input: &str) -> Result<Self, UserCountProblem> {
        let text = input.trim();
        if text.is_empty() {
            return Err(UserCountProblem::Missing);
        }
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UserCountProblem::NotANumber);
        }
        if negative {
            return Err(UserCountProblem::TooFew);
        }
        // All digits: the only way parsing fails is a number too big for u32.
        let n: u32 = digits.parse().map_err(|_| UserCountProblem::TooMany)?;
        Self::try_from(n)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for UserCount {
    type Error = UserCountProblem;

    fn try_from(n: u32) -> Result<Self, Self::Error> {
        match n {
            0 => Err(UserCountProblem::TooFew),
            n if n > MAX_USERS => Err(UserCountProblem::TooMany),
            n => Ok(Self(n)),
        }
    }
}

impl std::fmt::Display for UserCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_whole_numbers_in_range_and_trims() {
        for (input, n) in [
            ("1", 1),
            (" 10 ", 10),
            ("+11", 11),
            ("007", 7),
            ("1000", 1000),
        ] {
            assert_eq!(
                UserCount::parse(input).map(UserCount::get),
                Ok(n),
                "{input:?}"
            );
        }
    }

    #[test]
    fn refuses_with_a_message_that_says_what_to_do() {
        use UserCountProblem::*;
        for (input, problem) in [
            ("", Missing),
            ("   ", Missing),
            ("ten", NotANumber),
            ("2.5", NotANumber),
            ("1e3", NotANumber),
            ("-", NotANumber),
            ("+", NotANumber),
            ("0", TooFew),
            ("-3", TooFew),
            ("1001", TooMany),
            ("99999999999999999999", TooMany),
        ] {
            assert_eq!(UserCount::parse(input), Err(problem), "{input:?}");
        }
    }

    #[test]
    fn converts_from_stored_numbers_with_the_same_bounds() {
        assert_eq!(UserCount::try_from(0), Err(UserCountProblem::TooFew));
        assert_eq!(UserCount::try_from(1001), Err(UserCountProblem::TooMany));
        assert_eq!(UserCount::try_from(12).map(UserCount::get), Ok(12));
    }
}
