//! `GET,POST /organization/new`: a verified user creates the partner
//! organisation and becomes its owner. A draft application comes with it.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    accounts::{guard::PartnerUser, session},
    audit,
    error::AppResult,
    listings::slug,
    organizations::tenant::membership,
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/organization/new", get(show).post(create))
}

#[derive(Template)]
#[template(path = "organizations/new.html")]
pub struct NewOrganizationPage {
    pub layout: Layout,
    pub company_name: String,
    pub errors: FormErrors,
}

async fn show(
    State(state): State<AppState>,
    PartnerUser(user): PartnerUser,
) -> AppResult<Response> {
    if membership(&state.pool, user.user().id).await?.is_some() {
        return Ok(Redirect::to("/dashboard").into_response());
    }
    Ok(Page(NewOrganizationPage {
        layout: Layout::for_visitor(&user.visitor, "Create your organisation", "dashboard"),
        company_name: String::new(),
        errors: FormErrors::default(),
    })
    .into_response())
}

#[derive(Deserialize)]
struct NewForm {
    #[serde(default)]
    company_name: String,
}

/// A company name: trimmed, 2 to 200 characters.
pub fn parse_company_name(input: &str) -> Result<String, &'static str> {
    let name = input.trim();
    match name.chars().count() {
        0 => Err("Enter your company's name."),
        1 => Err("Enter your company's full name."),
        n if n > 200 => Err("Use at most 200 characters."),
        _ if name.chars().any(char::is_control) => {
            Err("The name contains characters that cannot be used.")
        }
        _ => Ok(name.to_owned()),
    }
}

async fn create(
    State(state): State<AppState>,
    PartnerUser(user): PartnerUser,
    Form(form): Form<NewForm>,
) -> AppResult<Response> {
    if membership(&state.pool, user.user().id).await?.is_some() {
        return Ok(Redirect::to("/dashboard").into_response());
    }
    let mut errors = FormErrors::default();
    let Some(company) = errors.check("company_name", parse_company_name(&form.company_name)) else {
        return Ok(Invalid(NewOrganizationPage {
            layout: Layout::for_visitor(&user.visitor, "Create your organisation", "dashboard"),
            company_name: form.company_name,
            errors,
        })
        .into_response());
    };
    let now = state.clock.now();
    // The privileged path: the tenant does not exist yet.
    let mut tx = crate::db::begin(&state.pool).await?;
    let base = slug::slugify(&company);
    let taken: Vec<String> = sqlx::query_scalar!(
        "select slug from partners where slug = $1 or slug like $1 || '-%'",
        base
    )
    .fetch_all(&mut *tx)
    .await?;
    let slug = (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                slug::numbered(&base, n)
            }
        })
        .find(|s| !taken.contains(s))
        .expect("some number is free");
    let partner_id = sqlx::query_scalar!(
        "insert into partners (company_name, slug, created_at) values ($1, $2, $3) returning id",
        company,
        slug,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    let joined = sqlx::query!(
        "insert into partner_members (partner_id, user_id, role, created_at) values ($1, $2, 'owner', $3)
         on conflict (user_id) do nothing",
        partner_id,
        user.user().id,
        now
    )
    .execute(&mut *tx)
    .await?;
    if joined.rows_affected() == 0 {
        // Created one in another tab a moment ago.
        tx.rollback().await?;
        return Ok(Redirect::to("/dashboard").into_response());
    }
    let application_id = sqlx::query_scalar!(
        "insert into applications (partner_id, company_name, primary_contact_name, primary_contact_email, created_at)
         values ($1, $2, $3, $4, $5) returning id",
        partner_id,
        company,
        user.user().name,
        user.user().email,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(&mut tx, now, &user.actor(), audit::Entry {
        action: "organization.created",
        partner_id: Some(partner_id),
        subject: Some(("partner", partner_id)),
        after: Some(serde_json::json!({ "company_name": company, "slug": slug, "application_id": application_id })),
        ..Default::default()
    })
    .await?;
    session::set_flash(
        &mut tx,
        user.session.id,
        &format!("{company} is set up. Next: fill in your application."),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/application").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_are_trimmed_and_bounded() {
        assert_eq!(parse_company_name("  Acme Corp "), Ok("Acme Corp".into()));
        assert!(parse_company_name(" ").is_err());
        assert!(parse_company_name("A").is_err());
        assert!(parse_company_name(&"x".repeat(201)).is_err());
    }
}
