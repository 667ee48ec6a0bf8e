//! The emails about licenses. Each goes to every admin of the organisation,
//! links to the license page, and never carries the key itself.

use chrono::{DateTime, TimeDelta, Utc};

use super::{
    ExpiryReminder, Product,
    rules::{RENEWAL_CLOSES_DAYS_AFTER, RENEWAL_OPENS_DAYS_BEFORE},
};
use crate::{
    config::Config,
    dates::{expires_phrase, long_date},
    mail::Notice,
};

/// What every license email names.
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub license_id: i64,
    pub product: Product,
    pub users: i32,
}

impl About {
    fn link(&self, config: &Config) -> String {
        config.link(&format!("/licenses/{}", self.license_id))
    }

    fn what(&self) -> String {
        format!(
            "{} NFR license for {} user{}",
            self.product,
            self.users,
            if self.users == 1 { "" } else { "s" }
        )
    }
}

/// What changed, for the email to say.
#[derive(Debug, Clone)]
pub enum Change {
    /// Issued at once (up to 10 users) or approved by staff, with their note.
    Issued {
        expires_at: DateTime<Utc>,
        approved: Option<Option<String>>,
    },
    /// More than 10 users: waiting for the alliance team.
    Received,
    Rejected {
        reason: String,
    },
    Renewed {
        starts_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        approved: Option<Option<String>>,
    },
    RenewalReceived,
    RenewalRejected {
        expires_at: DateTime<Utc>,
        reason: String,
    },
    Reduced {
        from: i32,
        reason: String,
    },
    Revoked {
        reason: String,
    },
    Reminder {
        kind: ExpiryReminder,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Suspended with the partnership.
    Suspended {
        expires_at: DateTime<Utc>,
    },
    /// Active again on reinstatement.
    Restored {
        expires_at: DateTime<Utc>,
    },
    /// Its term ended while the partnership was suspended.
    EndedWhileSuspended {
        expired_at: DateTime<Utc>,
    },
}

const TERMS_NOTE: &str = "NFR licenses are for internal training, integration testing and demonstrations to prospects only: no customer environments, no managed services, no production use.";
const REVIEW_NOTE: &str = "More than 10 users needs a decision by the alliance team, who usually decide within 5 business days. We will email you when they do.";

/// The email about `change` to the license `about`, greeting `name`.
pub fn notice(config: &Config, name: &str, about: &About, change: &Change) -> Notice {
    let product = about.product;
    let what = about.what();
    let link = about.link(config);
    let see = "See the license";
    let n = |kind, subject: String| Notice::new(kind, subject, name);
    match change {
        Change::Issued { expires_at, approved } => {
            let mut notice = n("license_issued", format!("Your {product} NFR license is ready"));
            notice = match approved {
                Some(_) => notice.paragraph(format!("The alliance team approved your request: your {what} is active until {}.", long_date(*expires_at))),
                None => notice.paragraph(format!("Your {what} is active until {}.", long_date(*expires_at))),
            };
            if let Some(Some(note)) = approved {
                notice = notice.paragraph(format!("Their note: {note}"));
            }
            notice
                .paragraph("Copy the license key from the license page.")
                .action("See the license and its key", link)
                .footnote(TERMS_NOTE)
        }
        Change::Received => n("license_received", format!("Your {product} NFR license request is waiting for review"))
            .paragraph(format!("We received your request for a {what}."))
            .paragraph(REVIEW_NOTE)
            .action("See the request", link),
        Change::Rejected { reason } => n("license_rejected", format!("Your {product} NFR license request was not approved"))
            .paragraph(format!("The alliance team did not approve your request for a {what}."))
            .paragraph(format!("Their reason: {reason}"))
            .action("See the request", link)
            .footnote("You can make a new request from the licenses page, or reply to the alliance team if you have questions."),
        Change::Renewed { starts_at, expires_at, approved } => {
            let mut notice = n("license_renewed", format!("Your {product} NFR license is renewed until {}", long_date(*expires_at)));
            notice = notice.paragraph(format!(
                "{}your {what} runs for 12 more months, from {} until {}. The license key stays the same.",
                if approved.is_some() { "The alliance team approved your renewal: " } else { "" },
                long_date(*starts_at),
                long_date(*expires_at)
            ));
            if let Some(Some(note)) = approved {
                notice = notice.paragraph(format!("Their note: {note}"));
            }
            notice.action(see, link).footnote(TERMS_NOTE)
        }
        Change::RenewalReceived => n("license_renewal_received", format!("Your {product} NFR license renewal is waiting for review"))
            .paragraph(format!("We received your request to renew your {what}."))
            .paragraph(REVIEW_NOTE)
            .action(see, link),
        Change::RenewalRejected { expires_at, reason } => n("license_renewal_rejected", format!("Your {product} NFR license renewal was not approved"))
            .paragraph(format!("The alliance team did not approve the renewal of your {what}; it runs until {}.", long_date(*expires_at)))
            .paragraph(format!("Their reason: {reason}"))
            .action(see, link),
        Change::Reduced { from, reason } => n("license_reduced", format!("Your {product} NFR license now has {} user{}", about.users, if about.users == 1 { "" } else { "s" }))
            .paragraph(format!("After an audit, the alliance team reduced your {product} NFR license from {from} to {} users.", about.users))
            .paragraph(format!("Their reason: {reason}"))
            .action(see, link)
            .footnote(TERMS_NOTE),
        Change::Revoked { reason } => n("license_revoked", format!("Your {product} NFR license was revoked"))
            .paragraph(format!("The alliance team revoked your {what}. It can no longer be used."))
            .paragraph(format!("Their reason: {reason}"))
            .action(see, link),
        Change::Reminder { kind, expires_at, now } => reminder(n, *kind, &what, product, *expires_at, *now)
            .action("Renew the license", link),
        Change::Suspended { expires_at } => n("license_suspended", format!("Your {product} NFR license is suspended"))
            .paragraph(format!("Your partnership is suspended, and your {what} with it: it must not be used until the partnership is reinstated."))
            .paragraph(format!("If the partnership is reinstated before {}, the license becomes active again with the same key until that date.", long_date(*expires_at)))
            .action(see, link),
        Change::Restored { expires_at } => n("license_restored", format!("Your {product} NFR license is active again"))
            .paragraph(format!("Your partnership is reinstated, and your {what} is active again until {}, with the same key.", long_date(*expires_at)))
            .action(see, link)
            .footnote(TERMS_NOTE),
        Change::EndedWhileSuspended { expired_at } => n("license_ended", format!("Your {product} NFR license ended during the suspension"))
            .paragraph(format!("Your partnership is reinstated, but your {what} ended on {} while it was suspended, so it stays inactive.", long_date(*expired_at)))
            .paragraph("You can request a new license from the licenses page.")
            .action(see, link),
    }
}

fn reminder(
    n: impl Fn(&'static str, String) -> Notice,
    kind: ExpiryReminder,
    what: &str,
    product: Product,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Notice {
    let closes = long_date(expires_at + TimeDelta::days(RENEWAL_CLOSES_DAYS_AFTER));
    match kind {
        ExpiryReminder::Expired => n("license_expired", format!("Your {product} NFR license has expired"))
            .paragraph(format!("Your {what} {}.", expires_phrase(now, expires_at)))
            .paragraph(format!("You can still renew it until {closes}; the new term runs 12 months from the day you renew. After that, request a new license.")),
        _ => n("license_expiring", format!(
            "Your {product} NFR license expires in {} days",
            (expires_at - kind.due_at(expires_at)).num_days()
        ))
        .paragraph(format!("Your {what} {}.", expires_phrase(now, expires_at)))
        .paragraph(format!(
            "Renewal is open from {RENEWAL_OPENS_DAYS_BEFORE} days before expiry: renew now and the new term runs 12 months from {}, so no day is lost.",
            long_date(expires_at)
        )),
    }
}
