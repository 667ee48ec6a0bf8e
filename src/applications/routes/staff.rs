//! The staff review: the queue of applications (oldest first, with age
//! against the 5-business-day target), filters, search, CSV, the detail
//! page, and decisions with a required reason that the partner receives.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::Form;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    accounts::{guard::StaffUser, session},
    applications::{
        form::{self, OFFERINGS, PARTNER_TYPES, STAGES},
        model::{self, Application, SECURE_CHECKLIST},
        state::{ApplicationState, Transition},
    },
    dates::{self, When},
    error::{AppError, AppResult},
    mail::Notice,
    organizations::emails,
    state::AppState,
    views::{Layout, Page},
};

/// Business days staff have to decide.
pub const TARGET_BUSINESS_DAYS: i64 = 5;
const PER_PAGE: i64 = 25;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/applications", get(list))
        .route("/admin/applications.csv", get(csv))
        .route("/admin/applications/{id}", get(detail))
        .route("/admin/applications/{id}/approve", post(approve))
        .route("/admin/applications/{id}/reject", post(reject))
        .route(
            "/admin/applications/{id}/request-changes",
            post(request_changes),
        )
        .route("/admin/applications/{id}/suspend", post(suspend))
        .route("/admin/applications/{id}/reinstate", post(reinstate))
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct Filters {
    pub state: String,
    #[serde(rename = "type")]
    pub partner_type: String,
    pub stage: String,
    pub secure: String,
    pub q: String,
    /// `oldest` (default), `newest` or `company`.
    pub sort: String,
    pub page: Option<i64>,
}

impl Filters {
    /// The queue by default: submitted applications.
    fn state(&self) -> Option<&str> {
        match self.state.as_str() {
            "" => Some("submitted"),
            "all" => None,
            s => Some(s),
        }
    }
    fn opt(s: &str) -> Option<&str> {
        (!s.trim().is_empty()).then_some(s.trim())
    }
    /// The query string of these filters, for links (page left out).
    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("state", &self.state)
            .append_pair("type", &self.partner_type)
            .append_pair("stage", &self.stage)
            .append_pair("secure", &self.secure)
            .append_pair("q", &self.q)
            .append_pair("sort", &self.sort)
            .finish()
    }
}

pub struct QueueRow {
    pub id: i64,
    pub company: String,
    pub partner_type: &'static str,
    pub state: ApplicationState,
    pub secure_track: bool,
    pub submitted: Option<When>,
    pub age_days: i64,
    pub late: bool,
}

#[derive(sqlx::FromRow)]
struct Found {
    id: i64,
    company_name: String,
    partner_type: Option<String>,
    state: String,
    secure_track: Option<bool>,
    submitted_at: Option<DateTime<Utc>>,
    total: Option<i64>,
}

async fn search(
    state: &AppState,
    f: &Filters,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<Found>, i64)> {
    let secure = match f.secure.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    // `query_as!` cannot make an unnamed statement; the queue tests run
    // this one against PostgreSQL.
    let rows = sqlx::query_as::<_, Found>(
        "select id, company_name, partner_type, state, secure_track, submitted_at,
                count(*) over () as total
           from applications
          where ($1::text is null or state = $1)
            and ($2::text is null or partner_type = $2)
            and ($3::text is null or stages @> array[$3::text])
            and ($4::bool is null or secure_track = $4)
            and ($5::text is null or company_name ilike $5)
          order by case when $8 = 'company' then lower(company_name) end,
                   case when $8 = 'newest' then submitted_at end desc nulls last,
                   submitted_at nulls last, id
          limit $6 offset $7",
    )
    .bind(f.state())
    .bind(Filters::opt(&f.partner_type))
    .bind(Filters::opt(&f.stage))
    .bind(secure)
    .bind(Filters::opt(&f.q).map(crate::search::contains_pattern))
    .bind(limit)
    .bind(offset)
    .bind(f.sort.as_str())
    // Planned for this request's filters (an unnamed statement gets a
    // custom plan): a plan for "any value" cannot tell which of them
    // narrow the list.
    .persistent(false)
    .fetch_all(&state.pool)
    .await?;
    let total = rows.first().and_then(|r| r.total).unwrap_or(0);
    Ok((rows, total))
}

#[derive(Template)]
#[template(path = "admin/applications.html")]
pub struct QueuePage {
    pub layout: Layout,
    pub rows: Vec<QueueRow>,
    pub filters: Filters,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub states: [ApplicationState; 7],
    pub types: &'static [(&'static str, &'static str)],
    pub stages: &'static [(&'static str, &'static str)],
}

async fn list(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(f): Query<Filters>,
) -> AppResult<Page<QueuePage>> {
    let now = state.clock.now();
    let page = f.page.unwrap_or(1).max(1);
    let (found, total) = search(&state, &f, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let rows = found
        .into_iter()
        .map(|r| {
            let age_days = r
                .submitted_at
                .map_or(0, |s| dates::business_days_between(s, now));
            let state: ApplicationState = r.state.parse().unwrap_or(ApplicationState::Draft);
            QueueRow {
                id: r.id,
                company: r.company_name,
                partner_type: form::label_of(
                    &PARTNER_TYPES,
                    r.partner_type.as_deref().unwrap_or(""),
                ),
                late: state == ApplicationState::Submitted && age_days >= TARGET_BUSINESS_DAYS,
                state,
                secure_track: r.secure_track.unwrap_or(false),
                submitted: r.submitted_at.map(|s| When::new(now, s)),
                age_days,
            }
        })
        .collect();
    Ok(Page(QueuePage {
        layout: Layout::for_visitor(&staff.visitor, "Applications", "admin"),
        rows,
        page,
        pages: (total + PER_PAGE - 1) / PER_PAGE,
        total,
        filters: f,
        states: ApplicationState::ALL,
        types: &PARTNER_TYPES,
        stages: &STAGES,
    }))
}

async fn csv(
    State(state): State<AppState>,
    StaffUser(_staff): StaffUser,
    Query(f): Query<Filters>,
) -> AppResult<Response> {
    let (rows, _) = search(&state, &f, 100_000, 0).await?;
    let mut out = String::from("id,company,partner_type,state,secure_track,submitted_at\r\n");
    for r in rows {
        out.push_str(&crate::csv::record(&[
            r.id.to_string(),
            r.company_name,
            r.partner_type.unwrap_or_default(),
            r.state,
            r.secure_track.unwrap_or(false).to_string(),
            r.submitted_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ]));
    }
    Ok(crate::csv::download("applications.csv", out))
}

pub struct Member {
    pub name: String,
    pub email: String,
    pub role: String,
}

pub struct AuditRow {
    pub action: String,
    pub actor: String,
    pub when: When,
}

#[derive(Template)]
#[template(path = "admin/application.html")]
pub struct DetailPage {
    pub layout: Layout,
    pub app: Application,
    pub country: &'static str,
    pub partner_type: &'static str,
    pub stages: String,
    pub offerings: String,
    pub submitted: Option<When>,
    pub age_days: i64,
    pub late: bool,
    pub members: Vec<Member>,
    pub history: Vec<super::partner::HistoryRow>,
    pub audit: Vec<AuditRow>,
    pub checklist: &'static [(&'static str, &'static str)],
    pub agreement: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Page<DetailPage>> {
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    let app = model::by_id(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = sqlx::query_as!(
        Member,
        "select u.name, u.email, m.role from partner_members m join users u on u.id = m.user_id
          where m.partner_id = $1 order by m.role = 'owner' desc, u.name",
        app.partner_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let history = model::events(&mut conn, app.partner_id, app.id)
        .await?
        .into_iter()
        .map(|e| super::partner::HistoryRow {
            label: e.label(),
            when: When::new(now, e.occurred_at),
            reason: e.reason,
            actor: e.actor,
        })
        .collect();
    let audit = sqlx::query!(
        "select action, actor, occurred_at from audit_log where partner_id = $1 order by occurred_at desc, id desc limit 50",
        app.partner_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| AuditRow { action: r.action, actor: r.actor, when: When::new(now, r.occurred_at) })
    .collect();
    let agreement = sqlx::query_scalar!(
        "select v.version || ', accepted ' || to_char(a.accepted_at, 'DD Mon YYYY') from agreement_acceptances a
           join agreement_versions v on v.id = a.version_id where a.partner_id = $1
          order by v.published_at desc limit 1",
        app.partner_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    let age_days = app
        .submitted_at
        .map_or(0, |s| dates::business_days_between(s, now));
    Ok(Page(DetailPage {
        layout: Layout::for_visitor(&staff.visitor, app.answers.company_name.clone(), "admin"),
        country: crate::applications::countries::name(&app.answers.country).unwrap_or("—"),
        partner_type: form::label_of(
            &PARTNER_TYPES,
            app.answers.partner_type.as_deref().unwrap_or(""),
        ),
        stages: app
            .answers
            .stages
            .iter()
            .map(|s| form::label_of(&STAGES, s))
            .collect::<Vec<_>>()
            .join(", "),
        offerings: app
            .answers
            .offerings
            .iter()
            .map(|s| form::label_of(&OFFERINGS, s))
            .collect::<Vec<_>>()
            .join(", "),
        submitted: app.submitted_at.map(|s| When::new(now, s)),
        late: app.state == ApplicationState::Submitted && age_days >= TARGET_BUSINESS_DAYS,
        age_days,
        members,
        history,
        audit,
        checklist: &SECURE_CHECKLIST,
        agreement,
        app,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Decision {
    reason: String,
    checklist: Vec<String>,
}

async fn approve(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, Transition::Approve, d).await
}
async fn reject(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, Transition::Reject, d).await
}
async fn request_changes(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, Transition::RequestChanges, d).await
}
async fn suspend(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, Transition::Suspend, d).await
}
async fn reinstate(
    state: State<AppState>,
    staff: StaffUser,
    id: Path<i64>,
    Form(d): Form<Decision>,
) -> AppResult<Response> {
    decide(state, staff, id, Transition::Reinstate, d).await
}

/// Every decision carries a reason, which the partner's admins receive.
async fn decide(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
    action: Transition,
    d: Decision,
) -> AppResult<Response> {
    let reason = crate::decisions::staff_reason(&d.reason, true)?;
    let back = format!("/admin/applications/{id}");
    let refuse =
        |message: &str| -> AppResult<Response> { Err(AppError::Conflict(message.to_owned())) };
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let app = model::by_id(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let checklist: Vec<String> = SECURE_CHECKLIST
        .iter()
        .filter(|(k, _)| d.checklist.iter().any(|c| c == k))
        .map(|(k, _)| (*k).to_owned())
        .collect();
    if action == Transition::Approve
        && app.secure_track
        && checklist.len() != SECURE_CHECKLIST.len()
    {
        return refuse(
            "This is a Secure Partner Integration: tick every item of its checklist before approving.",
        );
    }
    let to = model::transition(
        &mut tx,
        now,
        &app,
        action,
        &staff.actor(),
        Some(&reason),
        &checklist,
    )
    .await?;
    // The licenses go with the partnership (each emailed on its own).
    match action {
        Transition::Suspend => {
            crate::licenses::suspension::on_partner_suspended(
                &mut tx,
                &state.config,
                now,
                &staff.actor(),
                app.partner_id,
            )
            .await?;
        }
        Transition::Reinstate => {
            crate::licenses::suspension::on_partner_reinstated(
                &mut tx,
                &state.config,
                now,
                &staff.actor(),
                app.partner_id,
            )
            .await?;
        }
        _ => {}
    }
    let admins = emails::admins(&mut tx, app.partner_id).await?;
    let (subject, opening) = match action {
        Transition::Approve => (
            "Your partner application is approved",
            "Welcome to the Alliance Partner Program: your application is approved.",
        ),
        Transition::Reject => (
            "Your partner application was not accepted",
            "The alliance team reviewed your application and could not accept it.",
        ),
        Transition::RequestChanges => (
            "Changes requested on your partner application",
            "The alliance team reviewed your application and asks for a few changes before deciding.",
        ),
        Transition::Suspend => (
            "Your partnership is suspended",
            "Your organisation's partnership in the Alliance Partner Program is suspended.",
        ),
        Transition::Reinstate => (
            "Your partnership is reinstated",
            "Your organisation's partnership in the Alliance Partner Program is reinstated.",
        ),
        Transition::Submit | Transition::Withdraw => (
            "Your partner application changed",
            "Your application changed.",
        ),
    };
    let link = state.config.link(if action == Transition::Approve {
        "/dashboard"
    } else {
        "/application"
    });
    emails::send_each(&mut tx, now, &admins, |name| {
        Notice::new("application_decision", subject, name)
            .paragraph(opening)
            .paragraph(format!("Note from the alliance team: {reason}"))
            .action(
                if action == Transition::Approve {
                    "Continue onboarding"
                } else {
                    "See your application"
                },
                link.clone(),
            )
    })
    .await?;
    session::set_flash(
        &mut tx,
        staff.session.id,
        &format!(
            "{} is now {}. The partner's admins were emailed.",
            app.answers.company_name,
            to.label().to_lowercase()
        ),
    )
    .await?;
    tx.commit().await?;
    // Approval, suspension and reinstatement change the public directory.
    state.directory.invalidate();
    Ok(Redirect::to(&back).into_response())
}
