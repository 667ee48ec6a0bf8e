-- Partner organisations (the tenants), their teams, the application and the
-- Technology Partner Agreement.
--
-- Tenant isolation is enforced by PostgreSQL: partner requests run their
-- transaction as the role `portal_tenant` (no superuser, no BYPASSRLS, owns
-- nothing) with the tenant in the transaction-local setting
-- `portal.partner_id`. Every tenant table has row-level security FORCEd and
-- a policy that matches rows of that tenant only; without the setting no row
-- matches (fail closed). Staff pages and background jobs use the owner's
-- connection: the explicitly privileged path.

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'portal_tenant') then
        create role portal_tenant nologin nosuperuser nobypassrls noinherit;
    end if;
end
$$;

-- The application's own login must be able to switch to it.
grant portal_tenant to current_user;
grant usage on schema public to portal_tenant;

-- The tenant of the current transaction, or null (matches nothing).
create function current_partner_id() returns bigint
language sql stable as $$
    select nullif(current_setting('portal.partner_id', true), '')::bigint
$$;

create extension if not exists pg_trgm;

create table partners (
    id           bigint generated always as identity primary key,
    company_name text not null check (length(company_name) between 1 and 200),
    slug         text not null unique,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);

create trigger partners_updated_at before update on partners
    for each row execute function set_updated_at();

create table partner_members (
    partner_id bigint not null references partners (id) on delete cascade,
    user_id    bigint not null references users (id) on delete cascade,
    role       text not null check (role in ('owner', 'admin', 'member')),
    created_at timestamptz not null default now(),
    primary key (partner_id, user_id),
    -- A partner user belongs to exactly one organisation.
    unique (user_id)
);

-- One owner per organisation.
create unique index partner_members_one_owner on partner_members (partner_id) where role = 'owner';

create table partner_invitations (
    id           bigint generated always as identity primary key,
    partner_id   bigint not null references partners (id) on delete cascade,
    email        text not null,
    role         text not null check (role in ('admin', 'member')),
    token_hash   bytea not null unique,
    invited_by   bigint references users (id),
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    accepted_at  timestamptz,
    cancelled_at timestamptz,
    unique (partner_id, id)
);

create index partner_invitations_partner on partner_invitations (partner_id, created_at desc);
create unique index partner_invitations_open_email on partner_invitations (partner_id, lower(email))
    where accepted_at is null and cancelled_at is null;

create table applications (
    id                      bigint generated always as identity primary key,
    partner_id              bigint not null unique references partners (id) on delete cascade,
    company_name            text not null default '',
    website                 text not null default '',
    country                 text not null default '',
    category                text not null default 'alliance_partner' check (category in ('alliance_partner')),
    partner_type            text check (partner_type in ('cloud', 'platform', 'technology')),
    integration_description text not null default '',
    stages                  text[] not null default '{}',
    offerings               text[] not null default '{}',
    primary_contact_name    text not null default '',
    primary_contact_email   text not null default '',
    primary_contact_phone   text not null default '',
    technical_contact_name  text not null default '',
    technical_contact_email text not null default '',
    state                   text not null default 'draft'
                            check (state in ('draft', 'submitted', 'changes_requested', 'approved',
                                             'rejected', 'withdrawn', 'suspended')),
    -- Secure or govern stage: the Secure Partner Integration track.
    secure_track            boolean generated always as (stages && array['secure', 'govern']) stored,
    secure_checklist        text[] not null default '{}',
    submitted_at            timestamptz,
    decided_at              timestamptz,
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now(),
    unique (partner_id, id)
);

create trigger applications_updated_at before update on applications
    for each row execute function set_updated_at();

-- The staff queue: oldest submitted first, filtered by state, type, track.
create index applications_queue on applications (state, submitted_at, id);
create index applications_type on applications (partner_type, state);
create index applications_company_trgm on applications using gin (company_name gin_trgm_ops);
create index applications_stages on applications using gin (stages);

-- Every transition of an application, with its reason.
create table application_events (
    id             bigint generated always as identity primary key,
    partner_id     bigint not null,
    application_id bigint not null,
    from_state     text,
    to_state       text not null,
    reason         text,
    actor_user_id  bigint references users (id),
    actor          text not null,
    occurred_at    timestamptz not null,
    foreign key (partner_id, application_id) references applications (partner_id, id) on delete cascade
);

create index application_events_application on application_events (partner_id, application_id, occurred_at);

-- The Technology Partner Agreement, versioned by staff.
create table agreement_versions (
    id           bigint generated always as identity primary key,
    version      text not null unique,
    body         text not null,
    published_at timestamptz not null,
    published_by bigint references users (id)
);

create index agreement_versions_published on agreement_versions (published_at desc, id desc);

create table agreement_acceptances (
    id          bigint generated always as identity primary key,
    partner_id  bigint not null references partners (id) on delete cascade,
    version_id  bigint not null references agreement_versions (id),
    user_id     bigint not null references users (id),
    accepted_at timestamptz not null,
    ip          inet,
    unique (partner_id, version_id)
);

insert into agreement_versions (version, body, published_at) values ('2026-01', $$Technology Partner Agreement

1. Purpose. This agreement governs the participation of the partner in the Alliance Partner Program for the development of technology integrations with the DevSecOps platform.

2. Integrations and components. The partner builds and maintains its integrations and the CI/CD Catalog components it publishes. Components published from partner namespaces are independently created and maintained by the partner; use of such content by end users, and any liability related to it, is between the partner and the end user.

3. Maintenance. The partner makes a commercially reasonable effort to respond to issues raised by customers and users against its components, and to resolve them within the resolution times by severity: Severity 1 within 7 days, Severity 2 within 30 days, Severity 3 within 45 days, Severity 4 within 60 days.

4. Not-For-Resale licenses. NFR software and services may be used solely by the partner for internal employee training, integration testing with related products and platforms, and partner-led product demonstrations to prospective customers. Use in a customer environment, including for managed services, and production use are prohibited. The program may audit NFR use and reduce or revoke licenses that are not in compliance.

5. Brand. The partner follows the published brand guidelines when using the platform's name and logo.

6. Changes. The program may publish new versions of this agreement. Approved partners accept a new version before requesting licenses, registering namespaces or changing their directory listing.

7. Term. Either party may end the partnership at any time. The program may suspend a partner that does not comply with this agreement.$$, '2026-01-01T00:00:00Z');

-- Row-level security on every tenant table.
alter table partners enable row level security;
alter table partners force row level security;
create policy tenant_isolation on partners to portal_tenant
    using (id = current_partner_id()) with check (id = current_partner_id());
create policy privileged on partners to current_user using (true) with check (true);

do $$
declare
    t text;
begin
    foreach t in array array['partner_members', 'partner_invitations', 'applications',
                             'application_events', 'agreement_acceptances']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to portal_tenant
                          using (partner_id = current_partner_id())
                          with check (partner_id = current_partner_id())', t);
        execute format('create policy privileged on %I to current_user using (true) with check (true)', t);
    end loop;
end
$$;

-- The audit log is shared: a tenant sees and writes only its own entries.
alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy tenant_isolation on audit_log to portal_tenant
    using (partner_id = current_partner_id()) with check (partner_id = current_partner_id());
create policy privileged on audit_log to current_user using (true) with check (true);

-- People: a tenant sees the members of its own organisation only.
alter table users enable row level security;
alter table users force row level security;
create policy tenant_members on users for select to portal_tenant
    using (exists (select 1 from partner_members m
                    where m.user_id = users.id and m.partner_id = current_partner_id()));
create policy privileged on users to current_user using (true) with check (true);

grant select, insert, update, delete on partners, partner_members, partner_invitations, applications,
    application_events, agreement_acceptances to portal_tenant;
grant select on users, agreement_versions to portal_tenant;
grant select, insert on audit_log to portal_tenant;
grant insert on outbox_emails to portal_tenant;
-- `insert … returning id` reads the id back.
grant select (id) on outbox_emails to portal_tenant;
grant usage on all sequences in schema public to portal_tenant;
