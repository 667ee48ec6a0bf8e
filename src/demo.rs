//! `partner-portal demo-data`: fills a database with a realistic, varied
//! program at scale (by default 10,000 organisations) in a few minutes.
//! Rows are generated inside PostgreSQL (`insert … select … from
//! generate_series`) in batches, so nothing crosses the wire but the
//! statements; values are derived from hashes of the row number, so two runs
//! make the same data.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;

use crate::{
    accounts::{NewPassword, Passwords, staff, totp_secrets},
    error::{AppError, AppResult},
    secrets::Secrets,
};

/// The password of every generated person.
pub const DEMO_PASSWORD: &str = "demo portal passphrase";

/// How much to generate; 1.0 is the program at full scale.
#[derive(Debug, Clone, Copy)]
pub struct Scale(pub f64);

impl Scale {
    fn of(self, full: i64) -> i64 {
        ((full as f64) * self.0).round().max(1.0) as i64
    }
}

pub struct Summary {
    pub elapsed: Duration,
    pub counts: Vec<(&'static str, i64)>,
    pub partner_admin: String,
    pub staff_admin: String,
    pub staff_totp_secret: String,
}

/// One kind of row: how many, and the statement that makes rows `$1..$2`
/// (for steps counted per organisation: organisations `$1..$2`). Parameters:
/// `$3` partner id base, `$4` now, `$5` user id base, `$6` password hash.
struct Step {
    label: &'static str,
    rows: i64,
    batch: i64,
    sql: &'static str,
}

const FIRST_NAMES: &str = "array['Ada','Grace','Linus','Margaret','Alan','Barbara','Ken','Frances','Dennis','Radia','Tim','Hedy','Guido','Katherine','Donald','Shafi','Edsger','Lynn','Bjarne','Anita','Yukihiro','Sophie','Rasmus','Mary','John','Joan','Niklaus','Adele','Leslie','Carol']";
const LAST_NAMES: &str = "array['Lovelace','Hopper','Torvalds','Hamilton','Turing','Liskov','Thompson','Allen','Ritchie','Perlman','Berners-Lee','Lamarr','van Rossum','Johnson','Knuth','Goldwasser','Dijkstra','Conway','Stroustrup','Borg','Matsumoto','Wilson','Lerdorf','Shaw','McCarthy','Clarke','Wirth','Goldberg','Lamport','Shaw']";

fn steps(scale: Scale) -> Vec<Step> {
    let partners = scale.of(10_000);
    vec![
        Step {
            label: "partner organisations",
            rows: partners,
            batch: 5_000,
            sql: PARTNERS,
        },
        Step {
            label: "partner users",
            rows: partners * 3,
            batch: 15_000,
            sql: USERS,
        },
        Step {
            label: "team memberships",
            rows: partners * 3,
            batch: 15_000,
            sql: MEMBERS,
        },
        Step {
            label: "applications",
            rows: partners,
            batch: 5_000,
            sql: APPLICATIONS,
        },
        Step {
            label: "application history",
            rows: partners,
            batch: 2_000,
            sql: APPLICATION_EVENTS,
        },
        Step {
            label: "agreement acceptances",
            rows: partners,
            batch: 5_000,
            sql: ACCEPTANCES,
        },
        Step {
            label: "namespaces",
            rows: partners * 2,
            batch: 10_000,
            sql: NAMESPACES,
        },
        Step {
            label: "catalog components",
            rows: partners * 2,
            batch: 10_000,
            sql: COMPONENTS,
        },
        Step {
            label: "NFR licenses",
            rows: partners,
            batch: 5_000,
            sql: LICENSES,
        },
        Step {
            label: "license terms",
            rows: partners,
            batch: 5_000,
            sql: LICENSE_TERMS,
        },
        Step {
            label: "license history",
            rows: partners,
            batch: 5_000,
            sql: LICENSE_EVENTS,
        },
        Step {
            label: "component issues",
            rows: scale.of(1_000_000),
            batch: 50_000,
            sql: ISSUES,
        },
        Step {
            label: "directory logos",
            rows: partners,
            batch: 5_000,
            sql: LOGOS,
        },
        Step {
            label: "directory listings",
            rows: partners,
            batch: 5_000,
            sql: LISTINGS,
        },
        Step {
            label: "listing versions",
            rows: partners,
            batch: 5_000,
            sql: LISTING_VERSIONS,
        },
        Step {
            label: "published listings",
            rows: partners,
            batch: 5_000,
            sql: PUBLISH_LISTINGS,
        },
        Step {
            label: "listing changes to review",
            rows: partners,
            batch: 5_000,
            sql: LISTING_CHANGES,
        },
    ]
}

// Row g of each step belongs to organisation (g - 1) / k + 1 for k rows per
// organisation; ids are the row numbers offset by what the tables held.

const PARTNERS: &str = r#"
insert into partners (id, company_name, slug, created_at)
overriding system value
select $3 + g,
       name,
       lower(regexp_replace(name, '[^A-Za-z0-9]+', '-', 'g')) || '-' || g,
       $4::timestamptz - make_interval(days => abs(hashtext(g || 'c')) % 1100)
  from (select g, (array['Acme','Globex','Initech','Umbrella','Hooli','Vandelay','Stark','Wayne','Cyberdyne','Tyrell','Soylent','Wonka','Aperture','Black Mesa','Massive Dynamic','Oscorp','Nakatomi','Gringotts','Monarch','Dunder'])[1 + abs(hashtext(g || 'a')) % 20]
               || ' ' || (array['Cloud','Data','Security','DevOps','Analytics','Networks','Labs','Systems','Software','AI','Observability','Compliance','Pipelines','Edge','Quantum'])[1 + abs(hashtext(g || 'b')) % 15]
               || ' ' || (array['Inc.','GmbH','Ltd','SAS','BV','AG','LLC','Oy','AB','KK'])[1 + abs(hashtext(g || 'd')) % 10] as name
          from generate_series($1::bigint, $2::bigint) g) s
"#;

const USERS: &str = r#"
insert into users (id, email, name, password_hash, email_verified_at, created_at)
overriding system value
select $5 + g,
       lower(f) || '.' || lower(replace(l, ' ', '')) || g || '@' || split_part(p.slug, '-', 1) || p.id || '.example',
       f || ' ' || l, $6, p.created_at, p.created_at
  from generate_series($1::bigint, $2::bigint) g
  join partners p on p.id = $3 + (g - 1) / 3 + 1
  cross join lateral (select (FIRST)[1 + abs(hashtext(g || 'f')) % 30] as f,
                             (LAST)[1 + abs(hashtext(g || 'l')) % 30] as l) n
"#;

const MEMBERS: &str = r#"
insert into partner_members (partner_id, user_id, role, created_at)
select $3 + (g - 1) / 3 + 1, $5 + g, (array['owner','admin','member'])[1 + (g - 1) % 3], $4
  from generate_series($1::bigint, $2::bigint) g
"#;

const APPLICATIONS: &str = r#"
insert into applications (partner_id, company_name, website, country, partner_type, integration_description,
                          stages, offerings, primary_contact_name, primary_contact_email, technical_contact_name,
                          technical_contact_email, state, submitted_at, decided_at, secure_checklist, created_at)
select p.id, p.company_name, 'https://' || split_part(p.slug, '-', 1) || p.id || '.example',
       (array['US','DE','GB','FR','JP','IN','BR','CA','NL','SE','AU','ES','IL','SG','KR'])[1 + abs(hashtext(g || 'co')) % 15],
       (array['technology','technology','technology','cloud','platform'])[1 + abs(hashtext(g || 'ty')) % 5],
       'Integrates ' || p.company_name || ' with merge requests and pipelines: ' ||
         (array['scans dependencies and reports findings','publishes build artifacts','deploys to its managed clusters','tracks compliance evidence','streams pipeline metrics to dashboards'])[1 + abs(hashtext(g || 'de')) % 5] || '.',
       string_to_array((array['verify,secure','create,verify','package,deploy','deploy,monitor','plan,create','secure,govern','monitor','verify'])[1 + abs(hashtext(g || 'st')) % 8], ','),
       string_to_array((array['saas','saas,self_managed','self_managed','saas,self_managed,dedicated'])[1 + abs(hashtext(g || 'of')) % 4], ','),
       u.name, u.email, u.name, u.email,
       st.state,
       case when st.state <> 'draft' then p.created_at + interval '2 days' + make_interval(days => abs(hashtext(g || 'sd')) % 30) end,
       case when st.state in ('approved','rejected','suspended','changes_requested') then p.created_at + interval '9 days' + make_interval(days => abs(hashtext(g || 'dd')) % 30) end,
       case when st.state in ('approved','suspended') then array['findings_format','public_apis','disclosure_policy','data_handling'] else '{}' end,
       p.created_at
  from generate_series($1::bigint, $2::bigint) g
  join partners p on p.id = $3 + g
  join users u on u.id = $5 + (g - 1) * 3 + 1
  cross join lateral (select case
         when abs(hashtext(g || 'state')) % 100 < 62 then 'approved'
         when abs(hashtext(g || 'state')) % 100 < 74 then 'submitted'
         when abs(hashtext(g || 'state')) % 100 < 82 then 'draft'
         when abs(hashtext(g || 'state')) % 100 < 87 then 'changes_requested'
         when abs(hashtext(g || 'state')) % 100 < 93 then 'rejected'
         when abs(hashtext(g || 'state')) % 100 < 97 then 'withdrawn'
         else 'suspended' end as state) st
"#;

/// Six to fifteen events per submitted application (about 97,000 at full
/// scale, so applications and their history pass 100,000 rows): rounds of
/// review, then the outcome.
const APPLICATION_EVENTS: &str = r#"
insert into application_events (partner_id, application_id, from_state, to_state, reason, actor, occurred_at)
select a.partner_id, a.id, null,
       case when e.j = e.n then (case a.state when 'approved' then 'approved' when 'rejected' then 'rejected'
                                 when 'suspended' then 'suspended' when 'withdrawn' then 'withdrawn'
                                 when 'changes_requested' then 'changes_requested' else 'submitted' end)
            when e.j % 2 = 1 then 'submitted' else 'changes_requested' end,
       case when e.j % 2 = 0 or e.j = e.n then 'Reviewed against the program criteria; see the notes in the application.' end,
       case when e.j % 2 = 1 and e.j <> e.n then u.email else 'reviewer@portal.example' end,
       -- 5 to 75 hours apart, so decisions take from hours to days.
       coalesce(a.submitted_at, a.created_at) + make_interval(hours => e.j * 40 + abs(hashtext(a.id || 'gap' || e.j)) % 36)
  from applications a
  join users u on u.id = (select min(user_id) from partner_members m where m.partner_id = a.partner_id)
  cross join lateral (select generate_series(1, n) as j, n from (select 6 + abs(hashtext(a.id || 'ev')) % 10 as n) k) e
 where a.partner_id between $3 + $1 and $3 + $2 and a.state <> 'draft'
"#;

const ACCEPTANCES: &str = r#"
insert into agreement_acceptances (partner_id, version_id, user_id, accepted_at)
select a.partner_id, (select id from agreement_versions order by published_at desc, id desc limit 1),
       $5 + (a.partner_id - $3 - 1) * 3 + 1, coalesce(a.submitted_at, a.created_at)
  from applications a
 where a.partner_id between $3 + $1 and $3 + $2 and a.state <> 'draft'
"#;

const NAMESPACES: &str = r#"
insert into namespaces (partner_id, url, host, path, state, reason, registered_by, created_at, decided_at, verified_at)
select p.id, 'https://gitlab.com/' || ns.path, 'gitlab.com', ns.path, ns.state,
       case when ns.state = 'rejected' then 'We could not confirm that this group belongs to your company.' end,
       $5 + (p.id - $3 - 1) * 3 + 1, p.created_at + interval '20 days',
       case when ns.state <> 'pending' then p.created_at + interval '22 days' end,
       case when ns.state in ('verified','revoked') then p.created_at + interval '22 days' end
  from generate_series($1::bigint, $2::bigint) g
  join partners p on p.id = $3 + (g - 1) / 2 + 1
  join applications a on a.partner_id = p.id
  cross join lateral (select
        split_part(p.slug, '-', 1) || '-' || split_part(p.slug, '-', 2) || '-' || p.id || case when g % 2 = 0 then '-labs' else '' end as path,
        case when a.state = 'approved' and abs(hashtext(g || 'nv')) % 10 < 9 then 'verified'
             when a.state = 'suspended' then 'revoked'
             when abs(hashtext(g || 'nr')) % 10 < 2 then 'rejected'
             else 'pending' end as state) ns
"#;

const COMPONENTS: &str = r#"
insert into components (partner_id, namespace_id, path, name, description, version, created_at)
select n.partner_id, n.id, n.path || '/' || c.slug, c.name,
       c.name || ' for CI/CD pipelines, maintained by the partner.',
       (1 + abs(hashtext(n.id || c.slug)) % 4) || '.' || (abs(hashtext(n.id || c.slug || 'm')) % 12) || '.0',
       n.created_at + interval '3 days'
  from namespaces n
  cross join lateral (select * from (values ('sast', 'SAST scanner'), ('deploy', 'Deploy to cloud'), ('metrics', 'Pipeline metrics'))
                      as v(slug, name) limit 1 + abs(hashtext(n.id || 'nc')) % 3) c
 where n.partner_id between $3 + $1 and $3 + $2 and n.state = 'verified'
"#;

/// Two licenses per organisation (SaaS and Self-Managed): active or waiting
/// for approved partners, revoked for suspended ones, refused for the rest.
const LICENSES: &str = r#"
insert into licenses (partner_id, product, state, users, purposes, justification, license_key, issued_at, expires_at,
                      requested_by, requested_at, decided_at, reason, next_reminder_at)
select a.partner_id, pr.product, l.state, l.users,
       string_to_array((array['integration_testing','training,integration_testing','demos,integration_testing','training,demos,integration_testing'])[1 + abs(hashtext(a.id || pr.product || 'pu')) % 4], ','),
       case when l.users > 10 then 'Our QA team of ' || l.users || ' engineers tests the integration against every release.' end,
       case when l.state in ('active','revoked') then 'NFR-' || upper(substr(md5(a.partner_id || pr.product), 1, 5)) || '-' || upper(substr(md5(a.partner_id || pr.product), 6, 5)) || '-' || upper(substr(md5(a.partner_id || pr.product), 11, 5)) || '-' || upper(substr(md5(a.partner_id || pr.product), 16, 5)) end,
       case when l.state in ('active','revoked') then l.issued end,
       case when l.state in ('active','revoked') then l.issued + interval '12 months' end,
       m.user_id, l.issued - interval '2 hours',
       case when l.state <> 'pending' then l.issued end,
       case when l.state = 'rejected' then 'NFR licenses are available to approved partners.'
            when l.state = 'revoked' then 'The partnership is suspended.' end,
       case when l.state = 'active' then l.issued + interval '12 months' - interval '30 days' end
  from applications a
  join partner_members m on m.partner_id = a.partner_id and m.role = 'owner'
  cross join (values ('saas'), ('self_managed')) pr(product)
  cross join lateral (select
        case when a.state = 'approved' and abs(hashtext(a.id || pr.product || 'pe')) % 8 = 0 then 'pending'
             when a.state = 'approved' then 'active'
             when a.state = 'suspended' then 'revoked'
             else 'rejected' end as state,
        case when abs(hashtext(a.id || pr.product || 'pe')) % 8 = 0 then 11 + abs(hashtext(a.id || 'u')) % 40
             else 1 + abs(hashtext(a.id || pr.product || 'u')) % 10 end as users,
        $4::timestamptz - make_interval(days => 1 + abs(hashtext(a.id || pr.product || 'is')) % 330) as issued) l
 where a.partner_id between $3 + $1 and $3 + $2
"#;

const LICENSE_TERMS: &str = r#"
insert into license_terms (partner_id, license_id, kind, state, users, justification, requested_by, requested_at,
                           starts_at, expires_at, decided_at, reason)
select l.partner_id, l.id, 'new',
       case l.state when 'pending' then 'pending' when 'rejected' then 'rejected' else 'issued' end,
       l.users, l.justification, l.requested_by, l.requested_at, l.issued_at, l.expires_at, l.decided_at, l.reason
  from licenses l
 where l.partner_id between $3 + $1 and $3 + $2
"#;

const LICENSE_EVENTS: &str = r#"
insert into license_events (partner_id, license_id, occurred_at, kind, actor, detail, reason)
select l.partner_id, l.id, e.at, e.kind, e.actor, e.detail, e.reason
  from licenses l
  join users u on u.id = l.requested_by
  cross join lateral (values
        (l.requested_at, 'requested', u.name, 'Requested for ' || l.users || ' users', null::text),
        (coalesce(l.decided_at, l.requested_at), case l.state when 'pending' then 'waiting' when 'rejected' then 'rejected' else 'issued' end,
         case when l.users > 10 then 'Alliance team' else 'Partner Portal' end,
         case l.state when 'pending' then 'Waiting for a decision by the alliance team'
                      when 'rejected' then 'Request refused'
                      else 'Issued for ' || l.users || ' users until ' || to_char(l.expires_at, 'FMDD FMMonth YYYY') end,
         l.reason)) e(at, kind, actor, detail, reason)
 where l.partner_id between $3 + $1 and $3 + $2
"#;

/// A million issues from the tracker over the last two years, a third of
/// them open; open ones carry the reminders already sent, so the first
/// scheduler pass sends only what is due now.
const ISSUES: &str = r#"
insert into issues (partner_id, source, external_id, iid, project_host, project_path, url, title, labels, severity,
                    clock_started_at, deadline_at, state, resolved_at, tracker_created_at, tracker_updated_at,
                    routed_at, first_response_at, last_reminder, next_reminder_at, created_at)
select i.partner_id, 'tracker', 1000000000 + g, g, 'gitlab.com', i.path, 'https://gitlab.com/' || i.path || '/-/issues/' || g,
       (array['Pipeline fails on','Wrong exit code with','Timeout when scanning','Cannot parse config in','Memory use grows in','Deprecation warning from','Crash on empty input in','Slow start of'])[1 + abs(hashtext(g || 'ti')) % 8]
         || ' ' || (array['large repositories','merge trains','self-managed runners','monorepos','protected branches','scheduled pipelines'])[1 + abs(hashtext(g || 'tj')) % 6],
       array['severity::' || i.sev, 'bug'], i.sev, i.started, i.deadline,
       case when i.open then 'open' else 'closed' end,
       case when not i.open then i.started + (i.deadline - i.started) * (0.2 + (abs(hashtext(g || 'rs')) % 100) / 90.0) end,
       i.started, i.started + interval '1 hour', i.started + interval '1 minute',
       case when abs(hashtext(g || 'fr')) % 10 < 8 then i.started + interval '2 days' end,
       case when i.open then r.last end,
       case when i.open then r.next end,
       i.started
  from generate_series($1::bigint, $2::bigint) g
  cross join lateral (select $3 + 1 + (g - 1) % (select max(id) - $3 from partners) as partner_id,
                             1 + abs(hashtext(g || 'sv')) % 4 as sev,
                             g % 3 = 0 as open) b
  join partners p on p.id = b.partner_id
  cross join lateral (select b.partner_id, b.sev, b.open,
                             split_part(p.slug, '-', 1) || '-' || split_part(p.slug, '-', 2) || '-' || p.id
                               || (array['/sast','/deploy','/metrics'])[1 + g % 3] as path,
                             case when b.open then $4::timestamptz - make_interval(days => abs(hashtext(g || 'op')) % 60)
                                  else $4::timestamptz - make_interval(days => 60 + abs(hashtext(g || 'cl')) % 660) end as started) a
  cross join lateral (select a.*, a.started + make_interval(days => (array[7, 30, 45, 60])[a.sev]) as deadline) i
  cross join lateral (select
        case when $4::timestamptz >= i.deadline then 'escalation'
             when $4::timestamptz >= i.deadline - interval '1 day' then 'day_before'
             when $4::timestamptz >= i.started + (i.deadline - i.started) * 0.8 then 'four_fifths'
             when $4::timestamptz >= i.started + (i.deadline - i.started) * 0.5 then 'half' end as last) l
  cross join lateral (select l.last,
        case l.last when 'escalation' then null
                    when 'day_before' then i.deadline
                    when 'four_fifths' then i.deadline - interval '1 day'
                    when 'half' then i.started + (i.deadline - i.started) * 0.8
                    else i.started + (i.deadline - i.started) * 0.5 end as next) r
"#;

// Approved partners with a verified namespace are listed in the directory;
// two in three have a generated SVG logo; one in twenty has a change
// waiting for review.

const LOGOS: &str = r##"
insert into listing_logos (partner_id, content_type, bytes, sha256, created_at)
select p.id, 'image/svg+xml', s.bytes, encode(sha256(s.bytes), 'hex'), p.created_at + interval '30 days'
  from partners p
  join applications a on a.partner_id = p.id
  cross join lateral (select convert_to(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        || '<rect width="64" height="64" rx="14" fill="#'
        || (array['6b4fbb','1f75cb','108548','c17d10','dd2b0e','2f2a6b','0b7285','a02e6c'])[1 + abs(hashtext(p.id || 'lc')) % 8]
        || '"/><text x="32" y="43" font-size="30" font-family="sans-serif" font-weight="700" text-anchor="middle" fill="#fff">'
        || upper(left(p.company_name, 1)) || '</text></svg>', 'UTF8') as bytes) s
 where p.id between $3 + $1 and $3 + $2 and a.state = 'approved' and abs(hashtext(p.id || 'logo')) % 3 <> 0
"##;

const LISTINGS: &str = r#"
insert into listings (partner_id, created_at, published_at)
select p.id, p.created_at + interval '30 days', p.created_at + interval '33 days'
  from partners p
  join applications a on a.partner_id = p.id
 where p.id between $3 + $1 and $3 + $2 and a.state = 'approved'
   and exists (select 1 from namespaces n where n.partner_id = p.id and n.state = 'verified')
"#;

const LISTING_VERSIONS: &str = r#"
insert into listing_versions (partner_id, listing_id, display_name, short_description, long_description, website,
                              documentation_url, demo_url, value_messaging, use_cases, stages, logo_id, state,
                              submitted_by, submitted_at, decided_at)
select l.partner_id, l.id, p.company_name,
       p.company_name || ' ' || (array['scans every merge request for vulnerabilities','deploys pipelines to its managed clusters','streams pipeline metrics to dashboards','tracks compliance evidence from CI','publishes signed build artifacts'])[1 + abs(hashtext(p.id || 'sd')) % 5] || '.',
       a.integration_description || E'\n\nInstall the catalog components, set two CI/CD variables, and results appear in the merge request.',
       a.website, a.website || '/docs/gitlab',
       case when abs(hashtext(p.id || 'demo')) % 2 = 0 then a.website || '/demo' end,
       'Customers find problems before merge and ship faster, without leaving the platform.',
       E'Business: audit readiness and fewer incidents.\nTechnical: one CI/CD component per pipeline stage.',
       a.stages,
       (select g.id from listing_logos g where g.partner_id = l.partner_id limit 1),
       'approved', $5 + (p.id - $3 - 1) * 3 + 1, l.created_at, l.published_at
  from listings l
  join partners p on p.id = l.partner_id
  join applications a on a.partner_id = l.partner_id
 where l.partner_id between $3 + $1 and $3 + $2
"#;

const PUBLISH_LISTINGS: &str = r#"
update listings l set published_version_id = v.id
  from listing_versions v
 where v.partner_id = l.partner_id and v.listing_id = l.id
   and l.partner_id between $3 + $1 and $3 + $2
"#;

const LISTING_CHANGES: &str = r#"
insert into listing_versions (partner_id, listing_id, display_name, short_description, long_description, website,
                              documentation_url, demo_url, value_messaging, use_cases, stages, logo_id, state,
                              submitted_by, submitted_at)
select v.partner_id, v.listing_id, v.display_name, v.short_description || ' Now with a new dashboard.',
       v.long_description, v.website, v.documentation_url, v.demo_url, v.value_messaging, v.use_cases, v.stages,
       v.logo_id, 'submitted', v.submitted_by, $4::timestamptz - make_interval(hours => abs(hashtext(v.id || 'ch')) % 200)
  from listing_versions v
 where v.partner_id between $3 + $1 and $3 + $2 and v.state = 'approved' and abs(hashtext(v.partner_id || 'chg')) % 20 = 0
"#;

/// Fills the database. Refuses if it already holds organisations.
pub async fn run(
    pool: &PgPool,
    secrets: &Secrets,
    scale: Scale,
    now: DateTime<Utc>,
) -> AppResult<Summary> {
    let started = Instant::now();
    let existing: i64 = sqlx::query_scalar!(r#"select count(*) as "n!" from partners"#)
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        return Err(AppError::Conflict(format!(
            "the database already holds {existing} organisations; demo data goes into an empty one"
        )));
    }
    let password = NewPassword::parse(DEMO_PASSWORD, &[]).map_err(AppError::internal)?;
    let hash = Passwords::new()
        .hash(&password)
        .await
        .map_err(AppError::internal)?;
    let partner_base: i64 =
        sqlx::query_scalar!(r#"select coalesce(max(id), 0) as "n!" from partners"#)
            .fetch_one(pool)
            .await?;
    let user_base: i64 = sqlx::query_scalar!(r#"select coalesce(max(id), 0) as "n!" from users"#)
        .fetch_one(pool)
        .await?;

    let style =
        ProgressStyle::with_template("{msg:>24} {bar:40.cyan/blue} {pos:>9}/{len:9} {elapsed:>4}")
            .map_err(AppError::internal)?
            .progress_chars("█▉▊▋▌▍▎▏ ");
    let mut counts = Vec::new();
    for step in steps(scale) {
        let bar = ProgressBar::new(step.rows as u64)
            .with_style(style.clone())
            .with_message(step.label);
        // Every statement gets the same six parameters, whether it uses them or not.
        let sql = format!(
            "with _params as (select $1::bigint, $2::bigint, $3::bigint, $4::timestamptz, $5::bigint, $6::text) {}",
            step.sql
                .replace("FIRST", FIRST_NAMES)
                .replace("LAST", LAST_NAMES)
        );
        let mut inserted = 0;
        let mut from = 1;
        while from <= step.rows {
            let to = (from + step.batch - 1).min(step.rows);
            let done = sqlx::query(&sql)
                .bind(from)
                .bind(to)
                .bind(partner_base)
                .bind(now)
                .bind(user_base)
                .bind(&hash)
                .execute(pool)
                .await?;
            inserted += done.rows_affected() as i64;
            bar.set_position(to as u64);
            from = to + 1;
        }
        bar.finish();
        counts.push((step.label, inserted));
    }
    for table in ["partners", "users", "issues"] {
        sqlx::query(&format!(
            "select setval(pg_get_serial_sequence('{table}', 'id'), (select max(id) from {table}))"
        ))
        .execute(pool)
        .await?;
    }

    // Staff, with a known password and second factor.
    let staff_secret = staff::generate_totp_secret();
    let mut tx = crate::db::begin(pool).await?;
    for (email, name, role, secret) in [
        (
            "alliance.admin@portal.example",
            "Alex Alliance",
            "admin",
            Some(staff_secret.as_str()),
        ),
        (
            "reviewer@portal.example",
            "Riley Reviewer",
            "reviewer",
            None,
        ),
        (
            "reviewer2@portal.example",
            "Robin Reviewer",
            "reviewer",
            None,
        ),
    ] {
        let own_secret = staff::generate_totp_secret();
        let id = sqlx::query_scalar!(
            "insert into users (email, name, password_hash, staff_role, email_verified_at, created_at)
             values ($1, $2, $3, $4, $5, $5) on conflict ((lower(email))) do nothing returning id",
            email,
            name,
            hash,
            role,
            now,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            totp_secrets::store(&mut tx, secrets, id, secret.unwrap_or(&own_secret)).await?;
        }
    }
    tx.commit().await?;
    // The insight counters were rewritten once per batch: compact them.
    sqlx::query(
        "vacuum full insight_issue_days, insight_partner_deadlines, insight_application_months,
                     insight_decision_hours, insight_partner_mix, insight_license_expiry",
    )
    .execute(pool)
    .await?;
    // Vacuum as well as analyze: bulk-loaded GIN (trigram) indexes keep
    // every entry in their pending list until a vacuum merges it, and a
    // name search then reads ~500 pages instead of ~7; vacuum also sets the
    // visibility map that index-only scans rely on.
    sqlx::query("vacuum analyze").execute(pool).await?;

    let partner_admin: String = sqlx::query_scalar!(
        "select u.email from users u join partner_members m on m.user_id = u.id join applications a on a.partner_id = m.partner_id
          where m.role = 'owner' and a.state = 'approved' order by u.id limit 1"
    )
    .fetch_optional(pool)
    .await?
    .unwrap_or_default();
    Ok(Summary {
        elapsed: started.elapsed(),
        counts,
        partner_admin,
        staff_admin: "alliance.admin@portal.example".into(),
        staff_totp_secret: staff_secret,
    })
}
