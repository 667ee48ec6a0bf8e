//! Action names as people read them: `sign_in.failed` → "Sign-in failed".
//! Known actions have a written label; any other reads as its words.

/// Labels of the actions the portal records.
const LABELS: &[(&str, &str)] = &[
    ("account.signed_up", "Account created"),
    ("account.email_verified", "Email address confirmed"),
    ("account.locked", "Sign-in paused after failed attempts"),
    ("sign_in.succeeded", "Signed in"),
    (
        "sign_in.password_ok",
        "Password accepted, second factor next",
    ),
    ("sign_in.failed", "Sign-in failed"),
    ("sign_in.gitlab", "Signed in with GitLab"),
    ("sign_in.gitlab_refused", "Sign-in with GitLab refused"),
    ("account.gitlab_linked", "GitLab account linked"),
    ("account.gitlab_refreshed", "GitLab account confirmed again"),
    ("account.gitlab_unlinked", "GitLab account unlinked"),
    ("password.set", "Password set"),
    (
        "namespace.ownership_proven",
        "Namespace verified: ownership proven on GitLab",
    ),
    (
        "namespace.ownership_not_proven",
        "Namespace ownership not proven on GitLab",
    ),
    ("namespace.revoked", "Namespace verification revoked"),
    ("session.signed_out", "Signed out"),
    ("session.ended", "Session ended"),
    ("password.changed", "Password changed"),
    ("password.reset", "Password reset"),
    ("password.reset_requested", "Password reset requested"),
    ("second_factor.enrolled", "Two-factor authentication set up"),
    ("second_factor.failed", "Wrong two-factor code"),
    ("second_factor.recovery_code_used", "Recovery code used"),
    ("staff.created", "Staff account created"),
    ("staff.invited", "Staff member invited"),
    ("staff.invitation_accepted", "Staff invitation accepted"),
    ("staff.disabled", "Staff account disabled"),
    ("organization.created", "Organisation created"),
    ("team.invitation_sent", "Invitation sent"),
    ("team.invitation_resent", "Invitation sent again"),
    ("team.invitation_cancelled", "Invitation cancelled"),
    (
        "team.invitation_accepted",
        "Invitation accepted: joined the team",
    ),
    ("team.role_changed", "Role changed"),
    ("team.member_removed", "Member removed"),
    ("team.member_left", "Member left the organisation"),
    ("team.ownership_transferred", "Ownership transferred"),
    ("api_token.created", "API token made"),
    ("api_token.revoked", "API token revoked"),
    ("webhook_endpoint.created", "Webhook endpoint registered"),
    ("webhook_endpoint.deleted", "Webhook endpoint deleted"),
    (
        "webhook_endpoint.disabled",
        "Webhook endpoint disabled after three days of failures",
    ),
    ("webhook_endpoint.enabled", "Webhook endpoint enabled again"),
    (
        "webhook_endpoint.tested",
        "Test event sent to a webhook endpoint",
    ),
    (
        "webhook_endpoint.redelivered",
        "Webhook delivery sent again",
    ),
];

/// Prefixes offered in the action filter, with what they cover.
pub const AREAS: &[(&str, &str)] = &[
    ("account.", "Accounts"),
    ("sign_in.", "Sign-ins"),
    ("session.", "Sessions"),
    ("password.", "Passwords"),
    ("second_factor.", "Two-factor authentication"),
    ("staff.", "Staff accounts"),
    ("organization.", "Organisations"),
    ("team.", "Teams and invitations"),
    ("application.", "Applications"),
    ("agreement.", "Agreements"),
    ("namespace.", "Namespaces"),
    ("component.", "Components"),
    ("license.", "Licenses"),
    ("issue.", "Issues"),
    ("listing.", "Directory listings"),
    ("api_token.", "API tokens"),
    ("webhook_secret.", "GitLab webhook secret"),
    ("webhook_endpoint.", "Webhook endpoints"),
];

/// The readable name of an action.
pub fn label(action: &str) -> String {
    if let Some((_, label)) = LABELS.iter().find(|(a, _)| *a == action) {
        return (*label).to_owned();
    }
    let words = action.replace(['.', '_'], " ");
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Unnamed action".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_actions_have_written_labels() {
        assert_eq!(label("sign_in.failed"), "Sign-in failed");
        assert_eq!(label("team.ownership_transferred"), "Ownership transferred");
    }

    #[test]
    fn other_actions_read_as_their_words() {
        assert_eq!(label("license.requested"), "License requested");
        assert_eq!(label("listing.logo_replaced"), "Listing logo replaced");
        assert_eq!(label(""), "Unnamed action");
    }

    #[test]
    fn every_label_belongs_to_an_offered_area() {
        for (action, _) in LABELS {
            assert!(
                AREAS.iter().any(|(prefix, _)| action.starts_with(prefix)),
                "{action}"
            );
        }
    }
}
