//! `GET,POST /admin/issues/new`: staff enter an issue by hand (reported by
//! email, say). Without a partner it waits in the triage queue; with a
//! severity its clock starts now.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;
use url::Url;

use super::staff_issue::parse_severity;
use crate::{
    accounts::{guard::StaffUser, session},
    error::AppResult,
    issues::{lists, triage},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/issues/new", get(show).post(create))
}

#[derive(Deserialize, Default, Clone)]
pub struct NewIssueForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub project_path: String,
    #[serde(default)]
    pub partner: String,
    #[serde(default)]
    pub severity: String,
}

#[derive(Template)]
#[template(path = "admin/issues/new.html")]
pub struct NewIssuePage {
    pub layout: Layout,
    pub form: NewIssueForm,
    pub errors: FormErrors,
}

pub fn parse_title(input: &str) -> Result<String, &'static str> {
    let title = input.trim();
    match title.chars().count() {
        0 => Err("Enter the issue's title."),
        n if n > 1000 => Err("Keep the title under 1,000 characters."),
        _ if title.chars().any(char::is_control) => {
            Err("The title contains characters that cannot be used.")
        }
        _ => Ok(title.to_owned()),
    }
}

/// An optional link to the issue: an http(s) URL.
pub fn parse_link(input: &str) -> Result<Option<String>, &'static str> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.host_str().is_some() => {
            Ok(Some(url.to_string()))
        }
        _ => Err("Enter the issue's web address, like https://gitlab.com/acme/tool/-/issues/3."),
    }
}

fn optional_text(input: &str, max: usize) -> Result<Option<String>, &'static str> {
    let text = input.trim();
    if text.chars().count() > max {
        return Err("That is too long.");
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

fn render(visitor: &session::Visitor, form: NewIssueForm, errors: FormErrors) -> NewIssuePage {
    NewIssuePage {
        layout: Layout::for_visitor(visitor, "Enter an issue", "admin"),
        form,
        errors,
    }
}

async fn show(StaffUser(staff): StaffUser) -> Page<NewIssuePage> {
    Page(render(
        &staff.visitor,
        NewIssueForm::default(),
        FormErrors::default(),
    ))
}

async fn create(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Form(form): Form<NewIssueForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let title = errors.check("title", parse_title(&form.title));
    let description = errors.check("description", optional_text(&form.description, 20_000));
    let url = errors.check("url", parse_link(&form.url));
    let project_path = errors.check("project_path", optional_text(&form.project_path, 500));
    let partner = if form.partner.trim().is_empty() {
        Some(None)
    } else {
        let mut conn = state.pool.acquire().await?;
        let pick = lists::pick_partner(&mut conn, &form.partner).await?;
        drop(conn);
        errors.check("partner", pick.into_result(&form.partner).map(Some))
    };
    let severity = errors.check("severity", parse_severity(&form.severity, false));
    let (
        Some(title),
        Some(description),
        Some(url),
        Some(project_path),
        Some(partner_id),
        Some(severity),
    ) = (title, description, url, project_path, partner, severity)
    else {
        return Ok(Invalid(render(&staff.visitor, form, errors)).into_response());
    };
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let id = triage::create(
        &mut tx,
        &state.config,
        now,
        &triage::NewIssue {
            title,
            description,
            url,
            project_path,
            partner_id,
            severity,
        },
        &staff.actor(),
    )
    .await?;
    session::set_flash(&mut tx, staff.session.id, "The issue is entered.").await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/issues/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_links_are_checked() {
        assert_eq!(parse_title("  Broken  "), Ok("Broken".into()));
        assert!(parse_title("").is_err());
        assert_eq!(parse_link(""), Ok(None));
        assert!(parse_link("gitlab.com/x").is_err());
        assert!(parse_link("javascript:alert(1)").is_err());
        assert_eq!(
            parse_link("https://gitlab.com/a/b/-/issues/3"),
            Ok(Some("https://gitlab.com/a/b/-/issues/3".into()))
        );
    }
}
