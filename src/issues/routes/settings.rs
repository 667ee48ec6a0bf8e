//! `GET,POST /admin/settings/sla`: staff admins set the resolution window of
//! each severity. A change applies to deadlines computed from then on (new
//! clocks and severity changes); running deadlines stay as they are.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    accounts::{
        guard::{StaffAdmin, StaffUser},
        session,
    },
    audit,
    error::AppResult,
    issues::{Severity, SlaTable, sla},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/settings/sla", get(show).post(save))
}

#[derive(Deserialize, Default, Clone)]
pub struct SlaForm {
    #[serde(default)]
    pub s1: String,
    #[serde(default)]
    pub s2: String,
    #[serde(default)]
    pub s3: String,
    #[serde(default)]
    pub s4: String,
}

impl SlaForm {
    fn from_table(table: &SlaTable) -> Self {
        let days = |s| table.days(s).to_string();
        Self {
            s1: days(Severity::S1),
            s2: days(Severity::S2),
            s3: days(Severity::S3),
            s4: days(Severity::S4),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/issues/sla.html")]
pub struct SlaPage {
    pub layout: Layout,
    pub form: SlaForm,
    pub errors: FormErrors,
    pub can_edit: bool,
}

async fn show(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
) -> AppResult<Page<SlaPage>> {
    let mut conn = state.pool.acquire().await?;
    let table = sla::load(&mut conn).await?;
    Ok(Page(SlaPage {
        layout: Layout::for_visitor(&staff.visitor, "Resolution windows", "admin"),
        form: SlaForm::from_table(&table),
        errors: FormErrors::default(),
        can_edit: staff.user().is_staff_admin(),
    }))
}

async fn save(
    State(state): State<AppState>,
    StaffAdmin(admin): StaffAdmin,
    Form(form): Form<SlaForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let s1 = errors.check("s1", SlaTable::parse_days(&form.s1));
    let s2 = errors.check("s2", SlaTable::parse_days(&form.s2));
    let s3 = errors.check("s3", SlaTable::parse_days(&form.s3));
    let s4 = errors.check("s4", SlaTable::parse_days(&form.s4));
    let table = match (s1, s2, s3, s4) {
        (Some(a), Some(b), Some(c), Some(d)) => SlaTable::new(a, b, c, d).ok(),
        _ => None,
    };
    let Some(table) = table else {
        return Ok(Invalid(SlaPage {
            layout: Layout::for_visitor(&admin.visitor, "Resolution windows", "admin"),
            form,
            errors,
            can_edit: true,
        })
        .into_response());
    };
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let before = sla::load(&mut tx).await?;
    sla::save(&mut tx, &table, admin.user().id).await?;
    audit::record(
        &mut tx,
        now,
        &admin.actor(),
        audit::Entry {
            action: "settings.sla_changed",
            before: serde_json::to_value(before).ok(),
            after: serde_json::to_value(table).ok(),
            ..Default::default()
        },
    )
    .await?;
    session::set_flash(
        &mut tx,
        admin.session.id,
        "Resolution windows saved. They apply to deadlines computed from now on.",
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings/sla").into_response())
}
