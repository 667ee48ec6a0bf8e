//! Staff accounts. Never created by public sign-up: the first comes from the
//! command line, later ones from a staff admin.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{EmailAddress, NewPassword};
use crate::{audit, email_bodies, error::AppError, mail, secrets::Secrets};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRole {
    Admin,
    Reviewer,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Reviewer => "reviewer",
        }
    }
}

impl FromStr for StaffRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "admin" => Ok(StaffRole::Admin),
            "reviewer" => Ok(StaffRole::Reviewer),
            other => Err(format!("{other:?} is not a staff role (admin or reviewer)")),
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's display name: trimmed, 1 to 100 characters.
pub fn parse_name(input: &str) -> Result<String, &'static str> {
    let name = input.trim();
    match name.chars().count() {
        0 => Err("Enter a name."),
        n if n > 100 => Err("Use at most 100 characters for the name."),
        _ if name.chars().any(char::is_control) => {
            Err("The name contains characters that cannot be used.")
        }
        _ => Ok(name.to_owned()),
    }
}

pub struct NewStaff {
    pub email: EmailAddress,
    pub name: String,
    pub role: StaffRole,
    pub password_hash: String,
    /// Base32 TOTP secret; the person enrols it at first sign-in.
    pub totp_secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateStaffError {
    #[error("an account with the email {0} already exists")]
    EmailTaken(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for CreateStaffError {
    fn from(e: sqlx::Error) -> Self {
        Self::App(e.into())
    }
}

/// A fresh random TOTP secret (160 bits, base32 as authenticator apps expect).
pub fn generate_totp_secret() -> String {
    match totp_rs::Secret::generate_secret().to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => unreachable!("to_encoded gives the encoded form"),
    }
}

/// The new account and its queued welcome email.
pub struct CreatedStaff {
    pub user_id: i64,
    pub welcome_email_id: i64,
}

/// Inserts the account, audits it and queues the welcome email, all in `tx`.
pub async fn create(
    tx: &mut PgConnection,
    secrets: &Secrets,
    now: DateTime<Utc>,
    actor: &audit::Actor,
    staff: &NewStaff,
    sign_in_url: String,
) -> Result<CreatedStaff, CreateStaffError> {
    let inserted = sqlx::query_scalar!(
        r#"insert into users (email, name, password_hash, staff_role, email_verified_at, created_at)
           values ($1, $2, $3, $4, $5, $5)
           on conflict ((lower(email))) do nothing
           returning id"#,
        staff.email.as_str(),
        staff.name,
        staff.password_hash,
        staff.role.as_str(),
        now,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = inserted else {
        return Err(CreateStaffError::EmailTaken(staff.email.to_string()));
    };
    // Sealed for this row, so it is written once the row has its id.
    super::totp_secrets::store(tx, secrets, id, &staff.totp_secret).await?;

    audit::record(
        tx,
        now,
        actor,
        audit::Entry {
            action: "staff.created",
            subject: Some(("user", id)),
            after: Some(serde_json::json!({
                "email": staff.email.as_str(),
                "name": staff.name,
                "role": staff.role.as_str(),
            })),
            ..audit::Entry::default()
        },
    )
    .await?;

    let welcome = StaffWelcome {
        name: staff.name.clone(),
        role: staff.role.to_string(),
        sign_in_url,
    };
    let welcome_email_id = mail::enqueue(
        tx,
        now,
        &mail::Recipient::new(staff.email.as_str(), &staff.name),
        &welcome,
    )
    .await?;
    Ok(CreatedStaff {
        user_id: id,
        welcome_email_id,
    })
}

/// Sent to a new staff member with the link to sign in.
pub struct StaffWelcome {
    pub name: String,
    pub role: String,
    pub sign_in_url: String,
}

impl StaffWelcome {
    fn subject_line(&self) -> String {
        "Your Partner Portal staff account".into()
    }
}

email_bodies!(
    StaffWelcome,
    "staff_welcome",
    StaffWelcomeText = "email/staff_welcome.txt",
    StaffWelcomeHtml = "email/staff_welcome.html"
);

/// Checks a staff password against the policy.
pub fn check_password(
    password: &str,
    email: &EmailAddress,
    name: &str,
) -> Result<NewPassword, super::password::PasswordProblem> {
    NewPassword::parse(password, &[email.as_str(), name])
}
