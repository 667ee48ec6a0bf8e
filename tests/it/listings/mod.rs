//! The directory listing, its review, and the public directory (PRODUCT.md §7).

mod directory;
mod done;
pub mod journey;
mod review;
mod submit;
mod tenancy;

use partner_portal::accounts::staff::StaffRole;

use crate::{
    agent::{Agent, Page},
    fixtures,
    helpers::TestApp,
    namespaces::verified,
};

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut hashed = kind.to_vec();
    hashed.extend_from_slice(data);
    out.extend_from_slice(&crc32fast::hash(&hashed).to_be_bytes());
    out
}

/// A real 1×1 grey PNG.
pub fn tiny_png() -> Vec<u8> {
    let mut ihdr = 1u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

pub const CLEAN_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64"><title>Acme</title><circle cx="32" cy="32" r="30" fill="#6b4fbb"/><path d="M22 46 L32 16 L42 46 Z" fill="#fff"/></svg>"##;

/// [`CLEAN_SVG`] as the portal stores and serves it: drawn into shapes by
/// usvg and written out again.
pub fn stored_svg() -> Vec<u8> {
    partner_portal::listings::Logo::parse(CLEAN_SVG.as_bytes())
        .unwrap()
        .into_bytes()
}

/// A complete listing form.
pub fn fields(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("display_name", name.to_owned()),
        (
            "short_description",
            format!("{name} scans merge requests for vulnerabilities."),
        ),
        (
            "long_description",
            "Runs in every pipeline.\n\nFindings appear in the merge request.".to_owned(),
        ),
        ("website", "https://acme.example.com".to_owned()),
        (
            "documentation_url",
            "https://docs.acme.example.com/gitlab".to_owned(),
        ),
        ("demo_url", String::new()),
        (
            "value_messaging",
            "Ship safer code without leaving the platform.".to_owned(),
        ),
        (
            "use_cases",
            "Business: audit readiness. Technical: SAST in CI.".to_owned(),
        ),
        ("stages", "verify".to_owned()),
        ("stages", "secure".to_owned()),
    ]
}

pub fn with(
    mut form: Vec<(&'static str, String)>,
    field: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    for (k, v) in form.iter_mut() {
        if *k == field {
            *v = value.to_owned();
        }
    }
    form
}

/// Sends the listing form (opening the page first for its CSRF token).
pub async fn submit(
    agent: &Agent,
    form: &[(&'static str, String)],
    files: &[(&str, &str, &str, Vec<u8>)],
) -> Page {
    agent.get("/listing").await;
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    agent.post_multipart("/listing", &pairs, files).await
}

/// An approved partner with one verified namespace, its owner signed in.
pub async fn ready_partner(
    app: &TestApp,
    company: &str,
    email: &str,
    namespace: &str,
) -> (Agent, i64, i64) {
    let (agent, partner_id) = fixtures::approved_partner(app, company, email).await;
    let ns = verified(app, &agent, namespace).await;
    (agent, partner_id, ns)
}

pub async fn latest_version(app: &TestApp, partner_id: i64) -> i64 {
    sqlx::query_scalar(
        "select id from listing_versions where partner_id = $1 order by id desc limit 1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

pub async fn slug_of(app: &TestApp, partner_id: i64) -> String {
    sqlx::query_scalar("select slug from partners where id = $1")
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

pub async fn staff(app: &TestApp) -> Agent {
    app.staff_user("rita@portal.test", StaffRole::Reviewer)
        .await
}

/// Approves the partner's newest submission through the staff page.
pub async fn approve_latest(app: &TestApp, staff: &Agent, partner_id: i64) {
    let id = latest_version(app, partner_id).await;
    staff.get(&format!("/admin/listings/{id}")).await;
    staff
        .post(&format!("/admin/listings/{id}/approve"), &[("reason", "")])
        .await
        .assert_redirect(&format!("/admin/listings/{id}"));
}

/// A listed partner written straight into the database, for directory tests
/// that need many: returns its slug.
pub async fn seed_listing(
    app: &TestApp,
    company: &str,
    partner_type: &str,
    stages: &[&str],
    components: &[&str],
) -> String {
    let slug = partner_portal::listings::slugify(company);
    let stages: Vec<String> = stages.iter().map(|s| s.to_string()).collect();
    let mut tx = app.pool.begin().await.unwrap();
    let partner_id: i64 = sqlx::query_scalar(
        "insert into partners (company_name, slug, created_at) values ($1, $2, now()) returning id",
    )
    .bind(company)
    .bind(&slug)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query("insert into applications (partner_id, company_name, partner_type, stages, state) values ($1, $2, $3, $4, 'approved')")
        .bind(partner_id)
        .bind(company)
        .bind(partner_type)
        .bind(&stages)
        .execute(&mut *tx)
        .await
        .unwrap();
    let listing_id: i64 = sqlx::query_scalar(
        "insert into listings (partner_id, created_at) values ($1, now()) returning id",
    )
    .bind(partner_id)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let version: i64 = sqlx::query_scalar(
        "insert into listing_versions (partner_id, listing_id, display_name, short_description, long_description, website,
                                       documentation_url, value_messaging, use_cases, stages, state, submitted_at, decided_at)
         values ($1, $2, $3, $3 || ' integrates with the platform.', 'Long.', 'https://example.com/',
                 'https://docs.example.com/' || $4, 'Value.', 'Uses.', $5, 'approved', now(), now()) returning id",
    )
    .bind(partner_id)
    .bind(listing_id)
    .bind(company)
    .bind(&slug)
    .bind(&stages)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "update listings set published_version_id = $1, published_at = now() where id = $2",
    )
    .bind(version)
    .bind(listing_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    let ns: i64 = sqlx::query_scalar(
        "insert into namespaces (partner_id, url, host, path, state, created_at, verified_at)
         values ($1, 'https://gitlab.com/' || $2, 'gitlab.com', $2, 'verified', now(), now()) returning id",
    )
    .bind(partner_id)
    .bind(&slug)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    for c in components {
        sqlx::query("insert into components (partner_id, namespace_id, path, name, created_at) values ($1, $2, $3 || '/' || $4, $4, now())")
            .bind(partner_id)
            .bind(ns)
            .bind(&slug)
            .bind(c)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.state.directory.invalidate();
    slug
}
