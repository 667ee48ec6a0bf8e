//! `GET,POST /signup`: a new partner user. The answer never tells whether
//! the address was already taken; its owner gets an email instead.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use super::gitlab;
use crate::{
    accounts::{
        EmailAddress, NewPassword, emails,
        guard::{account_link, prefill_email, safe_next},
        session::Visitor,
        staff::parse_name,
        throttle,
        tokens::{self, Purpose},
    },
    audit::{self, Actor},
    error::AppResult,
    mail::{self, Recipient},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/signup", get(show).post(submit))
}

#[derive(Template)]
#[template(path = "accounts/signup.html")]
pub struct SignupPage {
    pub layout: Layout,
    pub name: String,
    pub email: String,
    /// Where to land after confirming the address and signing in.
    pub next: String,
    pub errors: FormErrors,
    /// "Sign up with GitLab", when configured.
    pub gitlab_href: Option<String>,
}

impl SignupPage {
    /// The sign-in link, carrying `next`.
    pub fn login_href(&self) -> String {
        account_link("/login", &self.next, "")
    }

    /// Coming from an invitation: the account is for joining a team, not for
    /// applying with a company of one's own.
    pub fn joining_a_team(&self) -> bool {
        self.next.starts_with("/invitations/accept")
    }
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    /// Filled in from an invitation link.
    email: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if visitor.user().is_some() {
        return Redirect::to(next.as_deref().unwrap_or("/dashboard")).into_response();
    }
    Page(SignupPage {
        layout: Layout::for_visitor(&visitor, "Create your account", "signup"),
        name: String::new(),
        email: prefill_email(q.email.as_deref()),
        gitlab_href: gitlab::button_href(&state.config, next.as_deref().unwrap_or_default()),
        next: next.unwrap_or_default(),
        errors: FormErrors::default(),
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[tracing::instrument(skip_all)]
async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<SignupForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let name = errors.check("name", parse_name(&form.name));
    let email = errors.check("email", EmailAddress::parse(&form.email));
    let password = errors.check(
        "password",
        NewPassword::parse(&form.password, &[form.email.trim(), form.name.trim()]),
    );
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Ok(Invalid(SignupPage {
            layout: Layout::for_visitor(&visitor, "Create your account", "signup"),
            name: form.name,
            email: form.email,
            gitlab_href: gitlab::button_href(
                &state.config,
                &safe_next(Some(&form.next)).unwrap_or_default(),
            ),
            next: safe_next(Some(&form.next)).unwrap_or_default(),
            errors,
        })
        .into_response());
    };

    // Hash before looking at the address, so both outcomes take as long.
    let hash = state
        .passwords
        .hash(&password)
        .await
        .map_err(crate::error::AppError::internal)?;
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let inserted = sqlx::query_scalar!(
        "insert into users (email, name, password_hash, created_at) values ($1, $2, $3, $4)
         on conflict ((lower(email))) do nothing returning id",
        email.as_str(),
        name,
        hash,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    match inserted {
        Some(user_id) => {
            let token = tokens::issue(&mut tx, now, user_id, Purpose::VerifyEmail).await?;
            let next = safe_next(Some(&form.next));
            let notice = emails::verify_email(&state.config, &name, &token, next.as_deref());
            mail::enqueue(
                &mut tx,
                now,
                &Recipient::new(email.as_str(), &name),
                &notice,
            )
            .await?;
            let actor = Actor {
                user_id: Some(user_id),
                label: email.to_string(),
                ip: visitor.ip,
            };
            audit::record(
                &mut tx,
                now,
                &actor,
                audit::Entry {
                    action: "account.signed_up",
                    subject: Some(("user", user_id)),
                    after: Some(serde_json::json!({ "email": email.as_str(), "name": name })),
                    ..Default::default()
                },
            )
            .await?;
        }
        None => {
            // Tell the owner, at most once an hour, without telling the visitor.
            let key = format!("signup-existing:{}", email.normalized());
            if throttle::count(&mut tx, now, &key, chrono::Duration::hours(1)).await? == 0 {
                throttle::record(&mut tx, now, &key).await?;
                let owner = sqlx::query!(
                    "select email, name from users where lower(email) = $1",
                    email.normalized()
                )
                .fetch_one(&mut *tx)
                .await?;
                let notice = emails::signup_with_existing_address(&state.config, &owner.name);
                mail::enqueue(
                    &mut tx,
                    now,
                    &Recipient::new(owner.email, &owner.name),
                    &notice,
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    let address =
        url::form_urlencoded::byte_serialize(email.as_str().as_bytes()).collect::<String>();
    Ok(Redirect::to(&format!("/signup/check-email?email={address}")).into_response())
}
