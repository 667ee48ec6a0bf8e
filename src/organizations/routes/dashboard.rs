//! `GET /dashboard`: the partner's home. Without an organisation it says how
//! to start; with one it shows the four onboarding steps of PRODUCT.md §3,
//! what is done and what is next, each linking to where it is done.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use sqlx::PgConnection;

use chrono::{DateTime, Utc};

use crate::{
    applications::state::ApplicationState,
    error::AppResult,
    insights::trend::{self, Trend},
    issues::scorecard::{self, Scorecard},
    licenses,
    organizations::{MemberRole, Standing, Tenant, tenant::TenantRefusal},
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(show))
}

/// What the organisation has done beyond its application.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    pub verified_namespaces: i64,
    pub pending_namespaces: i64,
    pub components: i64,
    pub has_documentation: bool,
    pub has_value_messaging: bool,
    pub listing_approved: bool,
    pub listing_pending: bool,
}

/// Everything the dashboard shows, read in one statement: the same SQL
/// functions the standing gate, the license summary and the issue
/// scorecard read from, plus the dashboard's own counts. Row-level security
/// keeps every part inside the organisation.
struct Facts {
    company: String,
    standing: Standing,
    progress: Progress,
    licenses: String,
    issues: Scorecard,
    trend: Trend,
}

impl Facts {
    async fn load(
        conn: &mut PgConnection,
        partner_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Self, sqlx::Error> {
        let r = sqlx::query!(
            r#"select p.company_name,
                      st.application_state, st.agreement_version as "agreement_version!",
                      st.agreement_accepted as "agreement_accepted!",
                      ns.verified as "verified_namespaces!", ns.pending as "pending_namespaces!",
                      (select count(*) from components c join namespaces n
                          on n.partner_id = c.partner_id and n.id = c.namespace_id
                        where n.state = 'verified') as "components!",
                      l.published_version_id is not null as "listing_approved!",
                      v.state as "listing_state?", v.documentation_url as "documentation_url?",
                      v.value_messaging as "value_messaging?", v.use_cases as "use_cases?",
                      lc.active as "active_licenses!", lc.pending as "pending_licenses!",
                      lc.nearest_expiry,
                      sc.open as "open!", sc.overdue as "overdue!", sc.untriaged as "untriaged!",
                      sc.met as "met!", sc.missed as "missed!",
                      tr.met as "trend_met!", tr.missed as "trend_missed!"
                 from partners p
                cross join partner_standing($1) st
                cross join license_counts($2) lc
                cross join issue_scorecard($2, $3) sc
                cross join lateral (select coalesce(array_agg(t.met order by t.month), '{}') as met,
                                           coalesce(array_agg(t.missed order by t.month), '{}') as missed
                                      from partner_deadline_trend($1, $4, $2) t) tr
                cross join lateral (select count(*) filter (where state = 'verified') as verified,
                                           count(*) filter (where state = 'pending') as pending
                                      from namespaces) ns
                 left join listings l on l.partner_id = p.id
                 -- The newest submission says what the partner wrote; the
                 -- listing says what is public.
                 left join lateral (select state, documentation_url, value_messaging, use_cases
                                      from listing_versions lv
                                     where lv.partner_id = l.partner_id and lv.listing_id = l.id
                                     order by lv.submitted_at desc, lv.id desc limit 1) v on true"#,
            partner_id,
            now,
            scorecard::window_start(now),
            trend::first_month(now)
        )
        .fetch_one(conn)
        .await?;
        let filled = |s: &Option<String>| s.as_deref().is_some_and(|t| !t.trim().is_empty());
        Ok(Self {
            company: r.company_name,
            standing: Standing::new(
                r.application_state,
                r.agreement_version,
                r.agreement_accepted,
            ),
            progress: Progress {
                verified_namespaces: r.verified_namespaces,
                pending_namespaces: r.pending_namespaces,
                components: r.components,
                has_documentation: filled(&r.documentation_url),
                has_value_messaging: filled(&r.value_messaging) && filled(&r.use_cases),
                listing_approved: r.listing_approved,
                listing_pending: r.listing_state.as_deref() == Some("submitted"),
            },
            licenses: licenses::store::summary_text(
                now,
                r.active_licenses,
                r.pending_licenses,
                r.nearest_expiry,
            ),
            issues: Scorecard {
                open: r.open,
                overdue: r.overdue,
                untriaged: r.untriaged,
                met: r.met,
                missed: r.missed,
            },
            trend: Trend::new(now, r.trend_met, r.trend_missed),
        })
    }
}

pub struct Step {
    pub number: u8,
    pub title: &'static str,
    pub status: &'static str,
    pub done: bool,
    pub detail: String,
    pub link: &'static str,
    pub link_label: &'static str,
}

impl Step {
    pub fn status_class(&self) -> &'static str {
        match self.status {
            "Done" => "status status-done",
            "In progress" => "status status-in-progress",
            _ => "status",
        }
    }
}

#[derive(Template)]
#[template(path = "organizations/dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub company: String,
    pub role: String,
    pub application_state: String,
    pub steps: Vec<Step>,
    pub done_count: usize,
    pub agreement_outdated: bool,
    pub is_admin: bool,
    /// "2 active · next expires 12 March 2027, in 47 days".
    pub licenses: String,
    pub issues: Scorecard,
    /// Deadlines met and missed over 12 months, drawn (HTML the code
    /// rendered: its own template, escaped there).
    pub trend: std::sync::Arc<str>,
}

#[derive(Template)]
#[template(path = "organizations/start.html")]
pub struct StartPage {
    pub layout: Layout,
    pub name: String,
}

pub fn steps(standing: &Standing, progress: &Progress) -> Vec<Step> {
    let state = standing.application;
    let registration_done = standing.is_approved() && standing.agreement_current;
    let registration_detail = match state {
        None => "Start your application.".to_owned(),
        Some(ApplicationState::Draft) => {
            "Your application is a draft: complete it and submit it.".to_owned()
        }
        Some(ApplicationState::Submitted) => {
            "Submitted: the alliance team reviews it within 5 business days.".to_owned()
        }
        Some(ApplicationState::ChangesRequested) => {
            "The alliance team asked for changes: see their note and resubmit.".to_owned()
        }
        Some(ApplicationState::Approved) if !standing.agreement_current => {
            format!(
                "Approved. Accept the new Technology Partner Agreement (version {}).",
                standing.agreement_version
            )
        }
        Some(ApplicationState::Approved) => "Approved, and the agreement is accepted.".to_owned(),
        Some(ApplicationState::Rejected) => {
            "Your application was not accepted. The email from the alliance team says why."
                .to_owned()
        }
        Some(ApplicationState::Withdrawn) => {
            "You withdrew your application. Edit it and submit it again when ready.".to_owned()
        }
        Some(ApplicationState::Suspended) => {
            "Your partnership is suspended. Contact the alliance team.".to_owned()
        }
    };
    let development_done = progress.verified_namespaces > 0 && progress.components > 0;
    let documentation_done = progress.has_documentation && progress.has_value_messaging;
    // Listed in the directory, with badged components to show there.
    let promotion_done = progress.listing_approved && progress.components > 0;
    let status = |done: bool, started: bool| match (done, started) {
        (true, _) => "Done",
        (false, true) => "In progress",
        (false, false) => "Not started",
    };
    vec![
        Step {
            number: 1,
            title: "Registration",
            status: status(registration_done, state.is_some()),
            done: registration_done,
            detail: registration_detail,
            link: if standing.is_approved() && !standing.agreement_current { "/agreement" } else { "/application" },
            link_label: if standing.is_approved() && !standing.agreement_current { "Review the agreement" } else { "Your application" },
        },
        Step {
            number: 2,
            title: "Solution development",
            status: status(development_done, progress.verified_namespaces + progress.pending_namespaces > 0),
            done: development_done,
            detail: format!(
                "{} verified namespace{}, {} component{} listed{}.{}",
                progress.verified_namespaces,
                if progress.verified_namespaces == 1 { "" } else { "s" },
                progress.components,
                if progress.components == 1 { "" } else { "s" },
                if progress.pending_namespaces > 0 {
                    format!(", {} namespace{} waiting for verification", progress.pending_namespaces, if progress.pending_namespaces == 1 { "" } else { "s" })
                } else {
                    String::new()
                },
                if development_done {
                    ""
                } else {
                    " Register the namespaces where you publish CI/CD Catalog components, then list the components."
                },
            ),
            link: "/namespaces",
            link_label: "Namespaces and components",
        },
        Step {
            number: 3,
            title: "Documentation and demonstration",
            status: status(documentation_done, progress.has_documentation || progress.has_value_messaging),
            done: documentation_done,
            detail: match (progress.has_documentation, progress.has_value_messaging) {
                (true, true) => "Your listing has its public documentation and value messaging.".to_owned(),
                (true, false) => "Documentation given. Add the value messaging: benefits, business and technical use cases.".to_owned(),
                (false, true) => "Value messaging given. Add the public documentation of the integrated solution.".to_owned(),
                (false, false) => "Public documentation of the integrated solution and its value messaging: benefits, business and technical use cases.".to_owned(),
            },
            link: "/listing",
            link_label: "Documentation and messaging",
        },
        Step {
            number: 4,
            title: "Promotion",
            status: status(promotion_done, progress.listing_pending || progress.listing_approved),
            done: promotion_done,
            detail: if promotion_done {
                "Your listing is live in the partner directory with its badged components.".to_owned()
            } else if progress.listing_approved {
                "Your listing is live. List your catalog components to show them with the partner badge.".to_owned()
            } else if progress.listing_pending {
                "Your listing is waiting for review by the alliance team.".to_owned()
            } else {
                "Request your listing in the public partner directory; your components get the partner badge.".to_owned()
            },
            link: "/listing",
            link_label: "Directory listing",
        },
    ]
}

async fn show(
    State(state): State<AppState>,
    tenant: Result<Tenant, TenantRefusal>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let Tenant {
        signed_in,
        partner_id,
        role,
        mut tx,
    } = match tenant {
        Ok(tenant) => tenant,
        Err(TenantRefusal::NoOrganization(user)) => {
            return Ok(Page(StartPage {
                layout: Layout::for_visitor(&user.visitor, "Welcome", "dashboard"),
                name: user.user().name.clone(),
            })
            .into_response());
        }
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let now = state.clock.now();
    let Facts {
        company,
        standing,
        progress,
        licenses,
        issues,
        trend,
    } = Facts::load(&mut tx, partner_id, now).await?;
    crate::organizations::tenant::finish_reading(tx);
    let steps = steps(&standing, &progress);
    Ok(Page(DashboardPage {
        layout: Layout::for_visitor(&signed_in.visitor, "Dashboard", "dashboard"),
        company,
        role: role.label().to_owned(),
        application_state: standing
            .application
            .map_or("Not started", |s| s.label())
            .to_owned(),
        done_count: steps.iter().filter(|s| s.done).count(),
        steps,
        agreement_outdated: standing.is_approved() && !standing.agreement_current,
        is_admin: role >= MemberRole::Admin,
        licenses,
        issues,
        trend: trend.html()?,
    })
    .into_response())
}
