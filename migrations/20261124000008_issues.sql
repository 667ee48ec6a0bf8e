-- Component issues on severity deadlines (PRODUCT.md §6): the tracker's
-- webhook inbox, the issues and their history, partner updates, reminders
-- sent, the staff-editable SLA table and the partners' calendar feeds.

-- Resolution windows in calendar days, one row, edited by staff admins.
-- A change applies to deadlines computed from then on.
create table sla_settings (
    id         boolean primary key default true check (id),
    s1_days    smallint not null default 7 check (s1_days between 1 and 365),
    s2_days    smallint not null default 30 check (s2_days between 1 and 365),
    s3_days    smallint not null default 45 check (s3_days between 1 and 365),
    s4_days    smallint not null default 60 check (s4_days between 1 and 365),
    updated_by bigint references users (id),
    updated_at timestamptz not null default now()
);

insert into sla_settings (id) values (true);

-- Every accepted tracker delivery, stored as it came and applied later by a
-- background task. The unique key makes a replayed delivery a no-op:
-- `Idempotency-Key`, else `X-Gitlab-Event-UUID`, else a hash of the body.
create table webhook_deliveries (
    id              bigint generated always as identity primary key,
    delivery_key    text not null unique,
    event_header    text,
    body            text not null,
    received_at     timestamptz not null,
    state           text not null default 'pending' check (state in ('pending', 'done', 'failed')),
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null,
    processed_at    timestamptz,
    last_error      text,
    issue_id        bigint
);

-- Applied in arrival order.
create index webhook_deliveries_pending on webhook_deliveries (id) where state = 'pending';

-- An issue belongs to the partner whose verified namespace owns its project,
-- or to whom staff assign it. Until then `partner_id` is null: the issue
-- waits in the staff triage queue, and the tenant policy (partner_id =
-- current_partner_id()) matches it for no partner. Once set, partner_id
-- never changes.
create table issues (
    id                 bigint generated always as identity primary key,
    partner_id         bigint references partners (id) on delete cascade,
    source             text not null check (source in ('tracker', 'staff')),
    -- The tracker's global issue id; null for issues staff enter by hand.
    external_id        bigint unique,
    iid                bigint,
    project_host       text,
    project_path       text,
    url                text,
    title              text not null check (length(title) between 1 and 1000),
    description        text,
    confidential       boolean not null default false,
    labels             text[] not null default '{}',
    severity           smallint check (severity between 1 and 4),
    -- When the resolution clock started (tracker time); null: untriaged.
    clock_started_at   timestamptz,
    deadline_at        timestamptz,
    state              text not null default 'open' check (state in ('open', 'closed')),
    resolved_at        timestamptz,
    tracker_created_at timestamptz,
    tracker_updated_at timestamptz,
    routed_at          timestamptz,
    first_response_at  timestamptz,
    -- The latest reminder sent (`half`, `four_fifths`, `day_before`,
    -- `escalation`) and when the next one falls due; the scheduler looks
    -- only at rows whose time has come.
    last_reminder      text check (last_reminder in ('half', 'four_fifths', 'day_before', 'escalation')),
    next_reminder_at   timestamptz,
    created_at         timestamptz not null,
    updated_at         timestamptz not null default now(),
    unique (partner_id, id),
    check ((severity is null) = (clock_started_at is null)),
    check ((clock_started_at is null) = (deadline_at is null)),
    check ((state = 'closed') = (resolved_at is not null)),
    -- Reminders go to a partner, about a running clock.
    check (next_reminder_at is null or (partner_id is not null and deadline_at is not null))
);

create trigger issues_updated_at before update on issues
    for each row execute function set_updated_at();

-- The scheduler's only question: which open issues have a reminder due?
create index issues_reminder_due on issues (next_reminder_at)
    where state = 'open' and next_reminder_at is not null;
-- Lists: a partner's issues, the staff list, the triage queue, the digest.
create index issues_partner on issues (partner_id, state, deadline_at);
create index issues_open_deadline on issues (deadline_at, id) where state = 'open';
create index issues_deadline on issues (deadline_at, id);
create index issues_triage on issues (created_at, id) where partner_id is null;
create index issues_resolved on issues (partner_id, resolved_at) where state = 'closed';

-- The issue's history. `partner_id` is the issue's partner, or null while
-- the issue waits for triage; when staff assign the issue, its history is
-- moved in the same transaction. The composite key means a non-null
-- partner_id can only ever be the issue's own, and a null one matches no
-- tenant: nothing can leak, at worst a row is hidden.
create table issue_events (
    id          bigint generated always as identity primary key,
    partner_id  bigint,
    issue_id    bigint not null references issues (id) on delete cascade,
    kind        text not null,
    summary     text not null,
    actor       text not null,
    occurred_at timestamptz not null,
    data        jsonb,
    foreign key (partner_id, issue_id) references issues (partner_id, id) on delete cascade
);

create index issue_events_issue on issue_events (issue_id, occurred_at, id);

-- What the partner posts in the portal.
create table issue_updates (
    id             bigint generated always as identity primary key,
    partner_id     bigint not null,
    issue_id       bigint not null,
    author_user_id bigint references users (id) on delete set null,
    author_name    text not null,
    body           text not null check (length(body) between 1 and 10000),
    created_at     timestamptz not null,
    unique (partner_id, id),
    foreign key (partner_id, issue_id) references issues (partner_id, id) on delete cascade
);

create index issue_updates_issue on issue_updates (partner_id, issue_id, created_at);

-- "This reminder went": one row per issue and threshold, written in the
-- same transaction as its emails, so it goes once whatever runs twice.
create table issue_reminders (
    partner_id bigint not null,
    issue_id   bigint not null,
    kind       text not null check (kind in ('half', 'four_fifths', 'day_before', 'escalation')),
    sent_at    timestamptz not null,
    primary key (issue_id, kind),
    foreign key (partner_id, issue_id) references issues (partner_id, id) on delete cascade
);

-- One staff digest of overdue issues per day.
create table issue_digests (
    day     date primary key,
    sent_at timestamptz not null,
    overdue integer not null
);

-- A partner's secret calendar address (only its hash is kept); revocable.
create table calendar_feeds (
    id         bigint generated always as identity primary key,
    partner_id bigint not null references partners (id) on delete cascade,
    token_hash bytea not null unique,
    created_by bigint references users (id) on delete set null,
    created_at timestamptz not null,
    revoked_at timestamptz,
    unique (partner_id, id)
);

create unique index calendar_feeds_one_active on calendar_feeds (partner_id) where revoked_at is null;

do $$
declare
    t text;
begin
    foreach t in array array['issues', 'issue_events', 'issue_updates', 'issue_reminders', 'calendar_feeds']
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

-- Partners read their issues and record only their first response.
grant select on issues to portal_tenant;
grant update (first_response_at) on issues to portal_tenant;
grant select, insert on issue_events, issue_updates to portal_tenant;
grant select on issue_reminders to portal_tenant;
grant select, insert, update on calendar_feeds to portal_tenant;
grant select on sla_settings to portal_tenant;
grant usage on all sequences in schema public to portal_tenant;
