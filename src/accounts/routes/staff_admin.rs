//! Staff accounts in the admin UI: the staff home, the list of staff, and
//! invitations (a staff admin invites; the invitee sets a password through
//! the emailed link and enrols the second factor at first sign-in).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{
    accounts::{
        EmailAddress, NewPassword, emails,
        guard::{StaffAdmin, StaffUser},
        session::{self, Visitor},
        staff::{self, StaffRole},
        tokens::{self, Purpose},
    },
    audit,
    error::{AppError, AppResult},
    mail::{self, Recipient},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/staff", get(list))
        .route("/admin/staff/invitations", post(invite))
        .route("/admin/staff/{id}/disable", post(disable))
}

/// The public end of an invitation.
pub fn invitation_router() -> Router<AppState> {
    Router::new().route("/staff/invitation", get(show_accept).post(accept))
}

#[derive(Template)]
#[template(path = "admin/home.html")]
pub struct StaffHomePage {
    pub layout: Layout,
    pub name: String,
    pub is_admin: bool,
    pub waiting: i64,
    pub late: i64,
    pub pending_licenses: i64,
    pub issues: crate::issues::lists::StaffCounts,
    pub pending_namespaces: i64,
    pub pending_listings: i64,
    /// Calls to GitLab given up, waiting for staff.
    pub dead_gitlab_calls: i64,
    /// `None` when nothing is published (no catalog token).
    pub catalog_disagreements: Option<i64>,
}

async fn home(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
) -> AppResult<Page<StaffHomePage>> {
    let now = state.clock.now();
    // Submitted at or before this instant means over the business-day target.
    let target = crate::applications::routes::staff::TARGET_BUSINESS_DAYS;
    let late_before = (target..target + 7)
        .map(|days| now - chrono::Duration::days(days))
        .find(|t| crate::dates::business_days_between(*t, now) >= target)
        .unwrap_or(now);
    let counts = sqlx::query!(
        r#"select count(*) as "waiting!", count(*) filter (where submitted_at <= $1) as "late!"
             from applications where state = 'submitted'"#,
        late_before
    )
    .fetch_one(&state.pool)
    .await?;
    let (waiting, late) = (counts.waiting, counts.late);
    let mut conn = state.pool.acquire().await?;
    let issues = crate::issues::lists::staff_counts(&mut conn, state.clock.now()).await?;
    let queues = sqlx::query!(
        r#"select (select count(*) from namespaces where state = 'pending') as "namespaces!",
                  (select count(*) from listing_versions where state = 'submitted') as "listings!",
                  (select count(*) from gitlab_calls where status = 'dead') as "dead_calls!",
                  (select count(*) from namespaces n
                    where n.host = $1 and n.catalog_wish is not null
                      and (n.catalog_level is distinct from n.catalog_wish
                           or n.catalog_error is not null
                           or n.catalog_observed <> case n.catalog_wish when 'badged' then 'GITLAB_PARTNER_MAINTAINED'
                                                                       else 'UNVERIFIED' end)) as "catalog!""#,
        state.config.gitlab.host()
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Page(StaffHomePage {
        layout: Layout::for_visitor(&staff.visitor, "Staff console", "admin"),
        name: staff.user().name.clone(),
        is_admin: staff.user().is_staff_admin(),
        waiting,
        late,
        pending_licenses: crate::licenses::routes::pending_count(&mut conn).await?,
        issues,
        pending_namespaces: queues.namespaces,
        pending_listings: queues.listings,
        dead_gitlab_calls: queues.dead_calls,
        catalog_disagreements: state
            .config
            .gitlab
            .admin_token
            .as_ref()
            .map(|_| queues.catalog),
    }))
}

pub struct StaffRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub status: &'static str,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
pub struct StaffListPage {
    pub layout: Layout,
    pub staff: Vec<StaffRow>,
    pub name: String,
    pub email: String,
    pub role: String,
    pub errors: FormErrors,
    /// The order: empty (active first, by name), `newest` or `role`.
    pub sort: &'static str,
    pub page: i64,
    pub has_next: bool,
}

impl StaffListPage {
    /// The address of `page` in this order.
    pub fn page_href(&self, page: i64) -> String {
        format!("/admin/staff?sort={}&page={page}", self.sort)
    }
}

/// Staff accounts per page.
const PER_PAGE: i64 = 50;

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    sort: String,
    page: Option<String>,
}

impl ListQuery {
    /// Unknown values are the default order.
    fn sort(&self) -> &'static str {
        match self.sort.as_str() {
            "newest" => "newest",
            "role" => "role",
            _ => "",
        }
    }

    fn page(&self) -> i64 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse().ok())
            .filter(|p| (1..=10_000).contains(p))
            .unwrap_or(1)
    }
}

async fn staff_page(
    state: &AppState,
    admin: &StaffAdmin,
    form: InviteForm,
    errors: FormErrors,
    query: &ListQuery,
) -> AppResult<StaffListPage> {
    let (sort, page) = (query.sort(), query.page());
    let mut rows = sqlx::query!(
        r#"select id, name, email, staff_role as "staff_role!", disabled_at, totp_enrolled_at,
                  password_hash = '!' as "invited!"
             from users where staff_role is not null
            order by case when $1 = 'newest' then created_at end desc,
                     case when $1 = 'role' then staff_role end,
                     disabled_at nulls first, lower(name), id
            limit $2 offset $3"#,
        sort,
        PER_PAGE + 1,
        (page - 1) * PER_PAGE
    )
    .fetch_all(&state.pool)
    .await?;
    let has_next = rows.len() as i64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let staff = rows
        .into_iter()
        .map(|r| StaffRow {
            is_self: r.id == admin.0.user().id,
            id: r.id,
            name: r.name,
            email: r.email,
            role: r.staff_role,
            status: match (r.disabled_at, r.invited, r.totp_enrolled_at) {
                (Some(_), _, _) => "Disabled",
                (None, true, _) => "Invited",
                (None, false, None) => "Not yet signed in",
                (None, false, Some(_)) => "Active",
            },
        })
        .collect();
    Ok(StaffListPage {
        layout: Layout::for_visitor(&admin.0.visitor, "Staff accounts", "admin"),
        staff,
        name: form.name,
        email: form.email,
        role: form.role,
        errors,
        sort,
        page,
        has_next,
    })
}

async fn list(
    State(state): State<AppState>,
    admin: StaffAdmin,
    Query(query): Query<ListQuery>,
) -> AppResult<Page<StaffListPage>> {
    Ok(Page(
        staff_page(
            &state,
            &admin,
            InviteForm::default(),
            FormErrors::default(),
            &query,
        )
        .await?,
    ))
}

#[derive(Deserialize, Default)]
struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

async fn invite(
    State(state): State<AppState>,
    admin: StaffAdmin,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let name = errors.check("name", staff::parse_name(&form.name));
    let email = errors.check("email", EmailAddress::parse(&form.email));
    let role = errors.check(
        "role",
        form.role
            .parse::<StaffRole>()
            .map_err(|_| "Choose admin or reviewer."),
    );
    let (Some(name), Some(email), Some(role)) = (name, email, role) else {
        return Ok(
            Invalid(staff_page(&state, &admin, form, errors, &ListQuery::default()).await?)
                .into_response(),
        );
    };
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    // '!' is no argon2 hash: nobody can sign in until the invitation is accepted.
    let id = sqlx::query_scalar!(
        "insert into users (email, name, password_hash, staff_role, created_at)
         values ($1, $2, '!', $3, $4)
         on conflict ((lower(email))) do nothing returning id",
        email.as_str(),
        name,
        role.as_str(),
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        errors.add(
            "email",
            "An account with this email address already exists.",
        );
        return Ok(
            Invalid(staff_page(&state, &admin, form, errors, &ListQuery::default()).await?)
                .into_response(),
        );
    };
    crate::accounts::totp_secrets::store(
        &mut tx,
        &state.secrets,
        id,
        &staff::generate_totp_secret(),
    )
    .await?;
    let token = tokens::issue(&mut tx, now, id, Purpose::StaffInvitation).await?;
    let notice = emails::staff_invitation(
        &state.config,
        &name,
        role.as_str(),
        &admin.0.user().name,
        &token,
    );
    mail::enqueue(
        &mut tx,
        now,
        &Recipient::new(email.as_str(), &name),
        &notice,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        &admin.0.actor(),
        audit::Entry {
            action: "staff.invited",
            subject: Some(("user", id)),
            after: Some(
                serde_json::json!({ "email": email.as_str(), "name": name, "role": role.as_str() }),
            ),
            ..Default::default()
        },
    )
    .await?;
    session::set_flash(
        &mut tx,
        admin.0.session.id,
        &format!("Invitation sent to {email}."),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/staff").into_response())
}

async fn disable(
    State(state): State<AppState>,
    admin: StaffAdmin,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if id == admin.0.user().id {
        return Err(AppError::BadRequest(
            "staff cannot disable themselves".into(),
        ));
    }
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let email = sqlx::query_scalar!(
        "update users set disabled_at = $2 where id = $1 and staff_role is not null and disabled_at is null returning email",
        id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    session::end_all_except(&mut tx, id, None).await?;
    audit::record(
        &mut tx,
        now,
        &admin.0.actor(),
        audit::Entry {
            action: "staff.disabled",
            subject: Some(("user", id)),
            before: Some(serde_json::json!({ "email": email, "disabled": false })),
            after: Some(serde_json::json!({ "disabled": true })),
            ..Default::default()
        },
    )
    .await?;
    session::set_flash(
        &mut tx,
        admin.0.session.id,
        &format!("{email} can no longer sign in."),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/staff").into_response())
}

#[derive(Template)]
#[template(path = "accounts/staff_invitation.html")]
pub struct AcceptPage {
    pub layout: Layout,
    pub token: String,
    pub name: String,
    pub valid: bool,
    pub errors: FormErrors,
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn invitee(
    state: &AppState,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<(i64, String, String)>> {
    let mut conn = state.pool.acquire().await?;
    let Some(id) = tokens::peek(&mut conn, now, token, Purpose::StaffInvitation).await? else {
        return Ok(None);
    };
    let row = sqlx::query!(
        "select email, name from users where id = $1 and disabled_at is null",
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| (id, r.email, r.name)))
}

async fn show_accept(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<TokenQuery>,
) -> AppResult<Page<AcceptPage>> {
    let found = invitee(&state, &q.token, state.clock.now()).await?;
    Ok(Page(AcceptPage {
        layout: Layout::for_visitor(&visitor, "Join the Partner Portal staff", "login"),
        valid: found.is_some(),
        name: found.map(|(_, _, name)| name).unwrap_or_default(),
        token: q.token,
        errors: FormErrors::default(),
    }))
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

async fn accept(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<AcceptForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let Some((id, email, name)) = invitee(&state, &form.token, now).await? else {
        return Ok(Page(AcceptPage {
            layout: Layout::for_visitor(&visitor, "This invitation no longer works", "login"),
            token: String::new(),
            name: String::new(),
            valid: false,
            errors: FormErrors::default(),
        })
        .into_response());
    };
    let mut errors = FormErrors::default();
    let Some(password) = errors.check(
        "password",
        NewPassword::parse(&form.password, &[&email, &name]),
    ) else {
        return Ok(Invalid(AcceptPage {
            layout: Layout::for_visitor(&visitor, "Join the Partner Portal staff", "login"),
            token: form.token,
            name,
            valid: true,
            errors,
        })
        .into_response());
    };
    let hash = state
        .passwords
        .hash(&password)
        .await
        .map_err(AppError::internal)?;
    let mut tx = crate::db::begin(&state.pool).await?;
    if tokens::consume(&mut tx, now, &form.token, Purpose::StaffInvitation)
        .await?
        .is_none()
    {
        return Err(AppError::BadRequest("invitation used concurrently".into()));
    }
    sqlx::query!(
        "update users set password_hash = $2, email_verified_at = $3 where id = $1",
        id,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    let actor = audit::Actor {
        user_id: Some(id),
        label: email,
        ip: visitor.ip,
    };
    audit::record(
        &mut tx,
        now,
        &actor,
        audit::Entry {
            action: "staff.invitation_accepted",
            subject: Some(("user", id)),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/login?notice=invitation_accepted").into_response())
}
