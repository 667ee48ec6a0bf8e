//! Who may reach what. Handlers name what they need as an extractor
//! (`SignedIn`, `PartnerUser`, `StaffUser`, `StaffAdmin`); each router group
//! also runs the same check as a layer, so no route of a group can forget it.

use axum::{
    extract::{FromRequestParts, Request},
    http::{Method, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use super::session::{Session, SessionUser, Visitor};
use crate::{audit::Actor, views::ErrorPage};

/// Why a request may not go on, and where the person is sent instead.
#[derive(Debug)]
pub enum Refusal {
    SignIn { next: Option<String> },
    SecondFactor,
    VerifyEmail,
    StaffHome,
    PartnerHome,
    NotFound,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::SignIn { next: Some(next) } => {
                let next =
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            Refusal::SignIn { next: None } => Redirect::to("/login").into_response(),
            Refusal::SecondFactor => Redirect::to("/login/second-factor").into_response(),
            Refusal::VerifyEmail => Redirect::to("/verify-email/pending").into_response(),
            Refusal::StaffHome => Redirect::to("/admin").into_response(),
            Refusal::PartnerHome => Redirect::to("/dashboard").into_response(),
            Refusal::NotFound => {
                ErrorPage::for_status(axum::http::StatusCode::NOT_FOUND).into_response()
            }
        }
    }
}

/// Someone with a complete session: email verified, second factor done.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub visitor: Visitor,
    pub session: Session,
}

impl SignedIn {
    pub fn user(&self) -> &SessionUser {
        &self.session.user
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.session.user.id),
            label: self.session.user.email.clone(),
            ip: self.visitor.ip,
        }
    }

    fn from_parts(parts: &Parts) -> Result<Self, Refusal> {
        let visitor = parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or(Refusal::SignIn { next: None })?;
        let Some(session) = visitor.session.clone() else {
            let next = (parts.method == Method::GET).then(|| {
                parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
            });
            return Err(Refusal::SignIn { next });
        };
        if session.second_factor_pending {
            return Err(Refusal::SecondFactor);
        }
        if !session.user.email_verified {
            return Err(Refusal::VerifyEmail);
        }
        Ok(Self { visitor, session })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Refusal;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)
    }
}

/// A signed-in partner user (not staff).
#[derive(Debug, Clone)]
pub struct PartnerUser(pub SignedIn);

impl PartnerUser {
    fn from_parts(parts: &Parts) -> Result<Self, Refusal> {
        let signed_in = SignedIn::from_parts(parts)?;
        if signed_in.user().is_staff() {
            return Err(Refusal::StaffHome);
        }
        Ok(Self(signed_in))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PartnerUser {
    type Rejection = Refusal;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)
    }
}

/// A signed-in staff member. Anyone else is told the page does not exist.
#[derive(Debug, Clone)]
pub struct StaffUser(pub SignedIn);

impl StaffUser {
    fn from_parts(parts: &Parts) -> Result<Self, Refusal> {
        let signed_in = SignedIn::from_parts(parts)?;
        if !signed_in.user().is_staff() {
            return Err(Refusal::NotFound);
        }
        Ok(Self(signed_in))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for StaffUser {
    type Rejection = Refusal;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)
    }
}

/// A staff admin (manages staff accounts and program settings).
#[derive(Debug, Clone)]
pub struct StaffAdmin(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for StaffAdmin {
    type Rejection = Refusal;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let StaffUser(signed_in) = StaffUser::from_parts(parts)?;
        if !signed_in.user().is_staff_admin() {
            return Err(Refusal::NotFound);
        }
        Ok(Self(signed_in))
    }
}

/// Layer of the partner group.
pub async fn require_partner(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(refusal) = PartnerUser::from_parts(&parts) {
        return refusal.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Layer of the staff group.
pub async fn require_staff(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(refusal) = StaffUser::from_parts(&parts) {
        return refusal.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Layer of pages for anyone signed in (staff or partner).
pub async fn require_signed_in(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(refusal) = SignedIn::from_parts(&parts) {
        return refusal.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Where someone goes after signing in: a path of this site only.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains("://")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then(|| next.to_owned())
}

/// An address to fill a sign-in or sign-up form with, from a link (an
/// invitation, the confirmation of an address): only something that could
/// be an address, else nothing.
pub fn prefill_email(email: Option<&str>) -> String {
    let email = email.unwrap_or_default().trim();
    let ok = email.len() <= 254 && email.contains('@') && !email.chars().any(char::is_control);
    if ok { email.to_owned() } else { String::new() }
}

/// `path` (`/login`, `/signup`) carrying `next` and `email` when they are set.
pub fn account_link(path: &str, next: &str, email: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !next.is_empty() {
        query.append_pair("next", next);
    }
    if !email.is_empty() {
        query.append_pair("email", email);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_between_sign_in_and_sign_up_keep_next_and_the_address() {
        assert_eq!(account_link("/login", "", ""), "/login");
        assert_eq!(
            account_link("/signup", "/invitations/accept?token=a+b", "bob@acme.test"),
            "/signup?next=%2Finvitations%2Faccept%3Ftoken%3Da%2Bb&email=bob%40acme.test"
        );
        assert_eq!(prefill_email(Some(" bob@acme.test ")), "bob@acme.test");
        assert_eq!(prefill_email(Some("not an address")), "");
        assert_eq!(prefill_email(None), "");
    }

    #[test]
    fn next_is_only_ever_a_path_of_this_site() {
        assert_eq!(
            safe_next(Some("/licenses?x=1")),
            Some("/licenses?x=1".into())
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/x\\y",
            "/\r\nx",
            "javascript:alert(1)",
            "/redirect?to=https://evil",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(safe_next(None), None);
    }
}
