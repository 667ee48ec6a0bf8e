//! What the public directory and the feed show, read from the database in
//! one consistent snapshot and kept in memory.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use super::{index::Index, pages::PageCache};

use crate::{
    applications::form::{PARTNER_TYPES, STAGES, label_of},
    namespaces::feed::{Feed, FeedItem},
};

/// A listed partner as the directory shows it.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub partner_id: i64,
    pub slug: String,
    pub company_name: String,
    pub display_name: String,
    pub short_description: String,
    pub long_description: String,
    pub website: String,
    pub documentation_url: String,
    pub demo_url: Option<String>,
    pub value_messaging: String,
    pub use_cases: String,
    pub stages: Vec<String>,
    pub partner_type: Option<String>,
    pub logo: Option<LogoRef>,
    /// Verified namespace URLs.
    pub namespaces: Vec<String>,
    /// Badged components: those under a verified namespace.
    pub components: Vec<ComponentEntry>,
    pub published_at: Option<DateTime<Utc>>,
    /// Display and company name, lowercased without accents, for ordering.
    pub(crate) folded_name: String,
}

#[derive(Debug, Clone)]
pub struct LogoRef {
    pub id: i64,
    pub sha256: String,
    pub content_type: String,
}

impl LogoRef {
    /// The part of the hash in the logo's URL and ETag.
    pub fn version(&self) -> &str {
        &self.sha256[..self.sha256.len().min(16)]
    }
}

#[derive(Debug, Clone)]
pub struct ComponentEntry {
    pub path: String,
    pub web_url: String,
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
}

impl Entry {
    pub fn logo_url(&self) -> Option<String> {
        self.logo
            .as_ref()
            .map(|l| format!("/partners/{}/logo?v={}", self.slug, l.version()))
    }

    pub fn type_label(&self) -> &'static str {
        self.partner_type
            .as_deref()
            .map_or("", |t| label_of(&PARTNER_TYPES, t))
    }

    pub fn stage_labels(&self) -> Vec<&'static str> {
        self.stages.iter().map(|s| label_of(&STAGES, s)).collect()
    }

    /// The first letter of the name, shown when there is no logo.
    pub fn initial(&self) -> String {
        self.display_name
            .chars()
            .find(|c| c.is_alphanumeric())
            .map_or_else(String::new, |c| c.to_uppercase().collect())
    }

    pub fn has_badged_components(&self) -> bool {
        !self.components.is_empty()
    }

    pub(crate) fn fold_names(&mut self) {
        self.folded_name = fold(&format!("{} {}", self.display_name, self.company_name));
    }
}

/// Lowercase, accents removed: "Société" matches "societe".
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Debug, Default)]
pub struct Snapshot {
    /// `directory_version` when it was read; 0 for the empty start value.
    pub version: i64,
    /// Partners with badged components first, then by name.
    pub entries: Vec<Arc<Entry>>,
    by_slug: HashMap<String, usize>,
    pub feed: Feed,
    pub(crate) index: Index,
    /// Pages rendered from this snapshot for visitors not signed in.
    pub pages: PageCache,
    pub built_at: Option<DateTime<Utc>>,
}

impl Snapshot {
    pub fn from_parts(version: i64, mut entries: Vec<Entry>, feed: Feed) -> Self {
        for e in &mut entries {
            e.fold_names();
        }
        entries.sort_by(|a, b| {
            b.has_badged_components()
                .cmp(&a.has_badged_components())
                .then_with(|| a.folded_name.cmp(&b.folded_name))
                .then_with(|| a.slug.cmp(&b.slug))
        });
        let index = Index::build(&entries);
        let by_slug = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.slug.clone(), i))
            .collect();
        Self {
            version,
            entries: entries.into_iter().map(Arc::new).collect(),
            by_slug,
            feed,
            index,
            pages: PageCache::default(),
            built_at: Some(Utc::now()),
        }
    }

    pub fn by_slug(&self, slug: &str) -> Option<&Arc<Entry>> {
        self.by_slug.get(slug).map(|&i| &self.entries[i])
    }
}

/// Reads everything at one point in time (repeatable read), so the version
/// matches the rows.
pub async fn load(pool: &PgPool) -> Result<Snapshot, sqlx::Error> {
    let mut tx = crate::db::begin(pool).await?;
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let version = sqlx::query_scalar!("select version from directory_version")
        .fetch_one(&mut *tx)
        .await?;
    let listed = sqlx::query!(
        r#"select p.id as partner_id, p.slug, p.company_name, a.partner_type, l.published_at,
                  v.display_name, v.short_description, v.long_description, v.website,
                  v.documentation_url, v.demo_url, v.value_messaging, v.use_cases, v.stages,
                  g.id as "logo_id?", g.sha256 as "logo_sha?", g.content_type as "logo_type?"
             from listings l
             join listing_versions v on v.partner_id = l.partner_id and v.id = l.published_version_id
             join partners p on p.id = l.partner_id
             join applications a on a.partner_id = l.partner_id
             left join listing_logos g on g.partner_id = v.partner_id and g.id = v.logo_id
            where a.state = 'approved'"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let badged = sqlx::query!(
        r#"select n.partner_id, n.url, n.host, n.path, p.company_name, p.slug,
                  coalesce(n.verified_at, n.decided_at, n.created_at) as "verified_at!"
             from namespaces n
             join partners p on p.id = n.partner_id
             join applications a on a.partner_id = n.partner_id
            where n.state = 'verified' and a.state = 'approved'
            order by n.partner_id, n.url"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let components = sqlx::query!(
        r#"select c.partner_id, c.path, c.name, c.description, c.version, n.host
             from components c
             join namespaces n on n.partner_id = c.partner_id and n.id = c.namespace_id
             join applications a on a.partner_id = c.partner_id
            where n.state = 'verified' and a.state = 'approved'
            order by c.partner_id, c.path"#
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    let mut entries: Vec<Entry> = listed
        .into_iter()
        .map(|r| Entry {
            partner_id: r.partner_id,
            slug: r.slug,
            company_name: r.company_name,
            display_name: r.display_name,
            short_description: r.short_description,
            long_description: r.long_description,
            website: r.website,
            documentation_url: r.documentation_url,
            demo_url: r.demo_url,
            value_messaging: r.value_messaging,
            use_cases: r.use_cases,
            stages: r.stages,
            partner_type: r.partner_type,
            logo: match (r.logo_id, r.logo_sha, r.logo_type) {
                (Some(id), Some(sha256), Some(content_type)) => Some(LogoRef {
                    id,
                    sha256,
                    content_type,
                }),
                _ => None,
            },
            published_at: r.published_at,
            ..Entry::default()
        })
        .collect();
    let index: HashMap<i64, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.partner_id, i))
        .collect();
    let mut feed = Vec::with_capacity(badged.len());
    for n in badged {
        if let Some(&i) = index.get(&n.partner_id) {
            entries[i].namespaces.push(n.url.clone());
        }
        feed.push(FeedItem::new(
            n.path,
            n.url,
            n.company_name,
            n.slug,
            n.verified_at,
        ));
    }
    for c in components {
        if let Some(&i) = index.get(&c.partner_id) {
            entries[i].components.push(ComponentEntry {
                web_url: format!("https://{}/{}", c.host, c.path),
                path: c.path,
                name: c.name,
                description: c.description,
                version: c.version,
            });
        }
    }
    Ok(Snapshot::from_parts(version, entries, Feed::new(feed)))
}
