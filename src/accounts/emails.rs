//! The emails of the accounts area, as [`Notice`]s.

use crate::{config::Config, mail::Notice};

/// `next`: a path of this site to land on after confirming and signing in
/// (an invitation being accepted, say).
pub fn verify_email(config: &Config, name: &str, token: &str, next: Option<&str>) -> Notice {
    let mut link = format!("/verify-email?token={token}");
    if let Some(next) = next {
        link.push_str("&next=");
        link.extend(url::form_urlencoded::byte_serialize(next.as_bytes()));
    }
    Notice::new("verify_email", "Confirm your email address for the Partner Portal", name)
        .paragraph("Thanks for signing up to the Alliance Partner Portal. Please confirm that this is your email address.")
        .action("Confirm my email address", config.link(&link))
        .footnote("The link works once and expires in 48 hours. If you did not sign up, ignore this email.")
}

pub fn signup_with_existing_address(config: &Config, name: &str) -> Notice {
    Notice::new("signup_existing_account", "Someone tried to sign up with your email address", name)
        .paragraph("Someone, perhaps you, tried to create a Partner Portal account with this email address. You already have an account, so nothing was created.")
        .paragraph("If it was you, sign in instead, or reset your password if you have forgotten it.")
        .action("Sign in", config.link("/login"))
        .footnote(format!("Forgot your password? {}", config.link("/password/forgot")))
}

pub fn password_reset(config: &Config, name: &str, token: &str) -> Notice {
    Notice::new("password_reset", "Reset your Partner Portal password", name)
        .paragraph("We received a request to reset the password of your Partner Portal account.")
        .action("Choose a new password", config.link(&format!("/password/reset?token={token}")))
        .footnote("The link works once and expires in 1 hour. If you did not ask for this, ignore this email: your password stays as it is.")
}

pub fn password_changed(config: &Config, name: &str) -> Notice {
    Notice::new("password_changed", "Your Partner Portal password was changed", name)
        .paragraph("The password of your Partner Portal account was just changed, and every other session was signed out.")
        .paragraph("If you did not do this, reset your password now and tell the alliance team.")
        .action("Reset my password", config.link("/password/forgot"))
}

pub fn account_locked(config: &Config, name: &str, minutes: i64) -> Notice {
    Notice::new("account_locked", "Sign-in to your Partner Portal account is paused", name)
        .paragraph(format!(
            "There were 10 failed attempts to sign in to your account within 15 minutes, so sign-in is paused for about {minutes} minutes."
        ))
        .paragraph("If these attempts were not yours, someone may be guessing your password: choose a new one.")
        .action("Reset my password", config.link("/password/forgot"))
}

pub fn staff_invitation(
    config: &Config,
    name: &str,
    role: &str,
    inviter: &str,
    token: &str,
) -> Notice {
    Notice::new("staff_invitation", "You are invited to join the Partner Portal staff", name)
        .paragraph(format!("{inviter} invited you to the Alliance Partner Portal as a staff {role}."))
        .paragraph("Choose your password, then at your first sign-in add the portal to an authenticator app for the second factor.")
        .action("Accept the invitation", config.link(&format!("/staff/invitation?token={token}")))
        .footnote("The invitation works once and expires in 7 days.")
}
