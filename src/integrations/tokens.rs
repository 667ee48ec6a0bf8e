//! API tokens of the partner API (§10): made by a partner admin with a
//! name, a scope and an expiry of at most a year; shown once; only a
//! SHA-256 hash is kept (256 random bits, so a fast hash is enough); a
//! recognisable prefix (`ppat_`) lets secret scanners find a leaked one;
//! revocable; their last use shown.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use crate::accounts::tokens;

/// Partner Portal API Token: what secret scanners look for.
pub const PREFIX: &str = "ppat_";
/// The longest life of a token.
pub const MAX_DAYS: i64 = 365;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }
}

/// A token as the form asks for it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub scope: Scope,
    pub days: i64,
}

/// What the form's fields are wrong with, by field.
pub type Problems = Vec<(&'static str, &'static str)>;

impl NewToken {
    pub fn parse(name: &str, scope: &str, days: &str) -> Result<Self, Problems> {
        let mut problems = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            problems.push(("name", "Name the token after the tool that will use it."));
        } else if name.chars().count() > 100 {
            problems.push(("name", "Keep the name under 100 characters."));
        }
        let scope = Scope::parse(scope);
        if scope.is_none() {
            problems.push(("scope", "Choose read or write."));
        }
        let days = match days.trim().parse::<i64>() {
            Ok(d) if (1..=MAX_DAYS).contains(&d) => Some(d),
            _ => {
                problems.push(("expires_in_days", "Choose a number of days from 1 to 365."));
                None
            }
        };
        match (scope, days) {
            (Some(scope), Some(days)) if problems.is_empty() => Ok(Self {
                name: name.to_owned(),
                scope,
                days,
            }),
            _ => Err(problems),
        }
    }
}

/// A token in a list (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scope: String,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Makes a token (tenant transaction); returns its id and the token, which
/// is never stored and shown once.
pub async fn create(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: i64,
    user_id: i64,
    new: &NewToken,
) -> Result<(i64, String), sqlx::Error> {
    let token = format!("{PREFIX}{}", tokens::new_token());
    let hint = format!("{PREFIX}…{}", &token[token.len() - 4..]);
    let id = sqlx::query_scalar!(
        "insert into api_tokens (partner_id, name, scope, token_hash, hint, created_by, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        partner_id,
        new.name,
        new.scope.as_str(),
        tokens::hash(&token),
        hint,
        user_id,
        now,
        now + Duration::days(new.days)
    )
    .fetch_one(conn)
    .await?;
    Ok((id, token))
}

/// The organisation's tokens, newest first (tenant transaction).
pub async fn list(conn: &mut PgConnection, limit: i64) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        r#"select t.id, t.name, t.scope, t.hint, t.created_at, u.name as "created_by?",
                  t.expires_at, t.last_used_at, t.revoked_at
             from api_tokens t left join users u on u.id = t.created_by
            order by t.created_at desc, t.id desc
            limit $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Revokes one of the organisation's tokens (tenant transaction): its name
/// if it was live, `None` if it is not the organisation's or was revoked.
pub async fn revoke(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: i64,
    user_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "update api_tokens set revoked_at = $2, revoked_by = $3
          where id = $1 and revoked_at is null returning name",
        id,
        now,
        user_id
    )
    .fetch_optional(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_asks_for_a_name_a_scope_and_a_year_at_most() {
        assert_eq!(
            NewToken::parse(" Jira sync ", "write", "90"),
            Ok(NewToken {
                name: "Jira sync".into(),
                scope: Scope::Write,
                days: 90
            })
        );
        assert!(NewToken::parse("x", "read", "1").is_ok());
        assert!(NewToken::parse("x", "read", "365").is_ok());
        let problems = NewToken::parse(" ", "admin", "366").unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["name", "scope", "expires_in_days"]);
        assert!(NewToken::parse("x", "read", "0").is_err());
        assert!(NewToken::parse("x", "read", "-1").is_err());
        assert!(NewToken::parse(&"n".repeat(100), "read", "30").is_ok());
        assert!(NewToken::parse(&"n".repeat(101), "read", "30").is_err());
    }
}
