//! Queries of the listing: its versions, its logos, the staff queue and
//! decisions. Partner-side functions take the partner explicitly as well as
//! running under row-level security.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::{
    ListingDraft, Logo,
    version::{Version, VersionState},
};

macro_rules! version_from_row {
    ($r:expr) => {
        Version {
            id: $r.id,
            partner_id: $r.partner_id,
            listing_id: $r.listing_id,
            content: ListingDraft {
                display_name: $r.display_name,
                short_description: $r.short_description,
                long_description: $r.long_description,
                website: $r.website,
                documentation_url: $r.documentation_url,
                demo_url: $r.demo_url,
                value_messaging: $r.value_messaging,
                use_cases: $r.use_cases,
                stages: $r.stages,
            },
            logo_id: $r.logo_id,
            state: $r.state.parse().unwrap_or(VersionState::Superseded),
            reason: $r.reason,
            submitted_at: $r.submitted_at,
            decided_at: $r.decided_at,
        }
    };
}

/// Where a partner's listing stands.
#[derive(Debug, Clone, Default)]
pub struct ListingStatus {
    /// What the directory shows.
    pub published: Option<Version>,
    pub published_at: Option<DateTime<Utc>>,
    /// The newest submission, whatever its state (may be the published one).
    pub latest: Option<Version>,
}

impl ListingStatus {
    pub fn is_pending(&self) -> bool {
        self.latest
            .as_ref()
            .is_some_and(|v| v.state == VersionState::Submitted)
    }
}

pub async fn version(
    conn: &mut PgConnection,
    partner_id: i64,
    id: i64,
) -> Result<Option<Version>, sqlx::Error> {
    let row = sqlx::query!(
        "select id, partner_id, listing_id, display_name, short_description, long_description, website,
                documentation_url, demo_url, value_messaging, use_cases, stages, logo_id, state, reason,
                submitted_at, decided_at
           from listing_versions where partner_id = $1 and id = $2",
        partner_id,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| version_from_row!(r)))
}

pub async fn status(
    conn: &mut PgConnection,
    partner_id: i64,
) -> Result<ListingStatus, sqlx::Error> {
    let listing = sqlx::query!(
        "select published_version_id, published_at from listings where partner_id = $1",
        partner_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(listing) = listing else {
        return Ok(ListingStatus::default());
    };
    let latest_id = sqlx::query_scalar!(
        "select id from listing_versions where partner_id = $1
          order by submitted_at desc, id desc limit 1",
        partner_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let latest = match latest_id {
        Some(id) => version(conn, partner_id, id).await?,
        None => None,
    };
    let published = match listing.published_version_id {
        Some(id) if latest.as_ref().is_some_and(|v| v.id == id) => latest.clone(),
        Some(id) => version(conn, partner_id, id).await?,
        None => None,
    };
    Ok(ListingStatus {
        published,
        published_at: listing.published_at,
        latest,
    })
}

/// Stores a logo, or finds the same bytes stored before.
pub async fn save_logo(
    conn: &mut PgConnection,
    partner_id: i64,
    logo: &Logo,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let sha = hex::encode(Sha256::digest(logo.bytes()));
    let existing = sqlx::query_scalar!(
        "select id from listing_logos where partner_id = $1 and sha256 = $2 limit 1",
        partner_id,
        sha
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let (width, height) = logo.size().unzip();
    sqlx::query_scalar!(
        "insert into listing_logos (partner_id, content_type, bytes, sha256, width, height, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
        partner_id,
        logo.content_type(),
        logo.bytes(),
        sha,
        width.map(|w| w as i32),
        height.map(|h| h as i32),
        now
    )
    .fetch_one(conn)
    .await
}

pub struct StoredLogo {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

pub async fn logo(
    conn: &mut PgConnection,
    partner_id: i64,
    logo_id: i64,
) -> Result<Option<StoredLogo>, sqlx::Error> {
    sqlx::query_as!(
        StoredLogo,
        "select content_type, bytes, sha256 from listing_logos where partner_id = $1 and id = $2",
        partner_id,
        logo_id
    )
    .fetch_optional(conn)
    .await
}

/// Submits a new version for review; a submission still waiting is
/// replaced by it. Returns the new version's id.
pub async fn submit(
    conn: &mut PgConnection,
    partner_id: i64,
    user_id: i64,
    draft: &ListingDraft,
    logo_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query!(
        "insert into listings (partner_id, created_at) values ($1, $2) on conflict (partner_id) do nothing",
        partner_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    let listing_id = sqlx::query_scalar!(
        "select id from listings where partner_id = $1 for update",
        partner_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let replaced = sqlx::query_scalar!(
        "update listing_versions set state = 'superseded'
          where partner_id = $1 and listing_id = $2 and state = 'submitted' returning id",
        partner_id,
        listing_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let id = sqlx::query_scalar!(
        "insert into listing_versions (partner_id, listing_id, display_name, short_description, long_description,
                                       website, documentation_url, demo_url, value_messaging, use_cases, stages,
                                       logo_id, submitted_by, submitted_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning id",
        partner_id,
        listing_id,
        draft.display_name,
        draft.short_description,
        draft.long_description,
        draft.website,
        draft.documentation_url,
        draft.demo_url,
        draft.value_messaging,
        draft.use_cases,
        &draft.stages,
        logo_id,
        user_id,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok((id, replaced))
}
