//! Accepting a team invitation: what its token finds, and where the person
//! holding it stands (may join, must sign in, is signed in as someone else,
//! already belongs to an organisation…). A person belongs to exactly one
//! organisation.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::MemberRole;
use crate::{
    accounts::{session::Visitor, tokens},
    dates::long_date,
    error::AppResult,
};
/// An invitation as its token finds it.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: i64,
    pub partner_id: i64,
    pub company: String,
    pub email: String,
    pub role: MemberRole,
    pub expires_at: DateTime<Utc>,
    pub accepted: bool,
    pub cancelled: bool,
}

pub async fn lookup(pool: &PgPool, token: &str) -> AppResult<Option<Found>> {
    let row = sqlx::query!(
        "select i.id, i.partner_id, p.company_name, i.email, i.role, i.expires_at,
                i.accepted_at is not null as \"accepted!\", i.cancelled_at is not null as \"cancelled!\"
           from partner_invitations i join partners p on p.id = i.partner_id
          where i.token_hash = $1",
        tokens::hash(token.trim())
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Found {
        id: r.id,
        partner_id: r.partner_id,
        company: r.company_name,
        email: r.email,
        role: r.role.parse().unwrap_or(MemberRole::Member),
        expires_at: r.expires_at,
        accepted: r.accepted,
        cancelled: r.cancelled,
    }))
}

/// The organisation the signed-in person already belongs to.
pub async fn current_organisation(
    pool: &PgPool,
    visitor: &Visitor,
) -> AppResult<Option<(i64, String)>> {
    let Some(user) = visitor.user() else {
        return Ok(None);
    };
    let row = sqlx::query!(
        "select m.partner_id, p.company_name from partner_members m join partners p on p.id = m.partner_id
          where m.user_id = $1",
        user.id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.partner_id, r.company_name)))
}

/// Where the visitor stands with this invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Situation {
    Unknown,
    Used,
    Cancelled,
    Expired { on: String },
    SignedOut { sign_in: String, sign_up: String },
    Staff,
    Unverified,
    WrongAddress { yours: String },
    AlreadyMember,
    OtherOrganisation { yours: String },
    Ready,
}

/// `path` (sign-in or sign-up) with the way back to this invitation, and the
/// invited address already filled in: it is the one the account must use.
fn with_next(path: &str, token: &str, email: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let back = format!("/invitations/accept?token={}", encode(token));
    format!(
        "{path}?next={}&email={}",
        encode(&back),
        encode(email.trim())
    )
}

/// The signed-in person, as far as an invitation cares.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub email: &'a str,
    pub staff: bool,
    pub verified: bool,
}

impl<'a> Viewer<'a> {
    pub fn of(visitor: &'a Visitor) -> Option<Self> {
        visitor.session.as_ref().map(|s| Self {
            email: &s.user.email,
            staff: s.user.is_staff() || s.second_factor_pending,
            verified: s.user.email_verified,
        })
    }
}

pub fn assess(
    found: Option<&Found>,
    now: DateTime<Utc>,
    viewer: Option<Viewer<'_>>,
    organisation: Option<&(i64, String)>,
    token: &str,
) -> Situation {
    let Some(inv) = found else {
        return Situation::Unknown;
    };
    let in_this_one = organisation.is_some_and(|(id, _)| *id == inv.partner_id);
    if inv.accepted {
        return if in_this_one {
            Situation::AlreadyMember
        } else {
            Situation::Used
        };
    }
    if inv.cancelled {
        return Situation::Cancelled;
    }
    if inv.expires_at <= now {
        return Situation::Expired {
            on: long_date(inv.expires_at),
        };
    }
    let Some(viewer) = viewer else {
        return Situation::SignedOut {
            sign_in: with_next("/login", token, &inv.email),
            sign_up: with_next("/signup", token, &inv.email),
        };
    };
    if viewer.staff {
        return Situation::Staff;
    }
    if !viewer.verified {
        return Situation::Unverified;
    }
    if viewer.email.to_lowercase() != inv.email.trim().to_lowercase() {
        return Situation::WrongAddress {
            yours: viewer.email.to_owned(),
        };
    }
    match organisation {
        Some(_) if in_this_one => Situation::AlreadyMember,
        Some((_, company)) => Situation::OtherOrganisation {
            yours: company.clone(),
        },
        None => Situation::Ready,
    }
}
#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn invitation(now: DateTime<Utc>) -> Found {
        Found {
            id: 1,
            partner_id: 10,
            company: "Acme".into(),
            email: "Bob@Acme.test".into(),
            role: MemberRole::Member,
            expires_at: now + Duration::days(7),
            accepted: false,
            cancelled: false,
        }
    }

    fn bob() -> Option<Viewer<'static>> {
        Some(Viewer {
            email: "bob@acme.test",
            staff: false,
            verified: true,
        })
    }

    #[test]
    fn the_invited_address_without_an_organisation_may_join() {
        let now = Utc::now();
        let inv = invitation(now);
        assert_eq!(assess(Some(&inv), now, bob(), None, "t"), Situation::Ready);
    }

    #[test]
    fn used_cancelled_expired_and_unknown_links_do_not_work() {
        let now = Utc::now();
        assert_eq!(assess(None, now, bob(), None, "t"), Situation::Unknown);
        let used = Found {
            accepted: true,
            ..invitation(now)
        };
        assert_eq!(assess(Some(&used), now, bob(), None, "t"), Situation::Used);
        let here = (10, "Acme".to_owned());
        assert_eq!(
            assess(Some(&used), now, bob(), Some(&here), "t"),
            Situation::AlreadyMember
        );
        let cancelled = Found {
            cancelled: true,
            ..invitation(now)
        };
        assert_eq!(
            assess(Some(&cancelled), now, bob(), None, "t"),
            Situation::Cancelled
        );
        let inv = invitation(now);
        let later = inv.expires_at;
        assert!(matches!(
            assess(Some(&inv), later, bob(), None, "t"),
            Situation::Expired { .. }
        ));
    }

    #[test]
    fn everyone_else_is_told_why_not() {
        let now = Utc::now();
        let inv = invitation(now);
        match assess(Some(&inv), now, None, None, "a b") {
            Situation::SignedOut { sign_in, sign_up } => {
                assert_eq!(
                    sign_in,
                    "/login?next=%2Finvitations%2Faccept%3Ftoken%3Da%2Bb&email=Bob%40Acme.test"
                );
                assert_eq!(
                    sign_up,
                    "/signup?next=%2Finvitations%2Faccept%3Ftoken%3Da%2Bb&email=Bob%40Acme.test"
                );
            }
            other => panic!("{other:?}"),
        }
        let eve = Some(Viewer {
            email: "eve@acme.test",
            staff: false,
            verified: true,
        });
        assert_eq!(
            assess(Some(&inv), now, eve, None, "t"),
            Situation::WrongAddress {
                yours: "eve@acme.test".into()
            }
        );
        let staff = Some(Viewer {
            staff: true,
            ..bob().unwrap()
        });
        assert_eq!(assess(Some(&inv), now, staff, None, "t"), Situation::Staff);
        let unverified = Some(Viewer {
            verified: false,
            ..bob().unwrap()
        });
        assert_eq!(
            assess(Some(&inv), now, unverified, None, "t"),
            Situation::Unverified
        );
        let other = (11, "Globex".to_owned());
        assert_eq!(
            assess(Some(&inv), now, bob(), Some(&other), "t"),
            Situation::OtherOrganisation {
                yours: "Globex".into()
            }
        );
    }
}
