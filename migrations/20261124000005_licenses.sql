-- Not-for-resale (NFR) licenses (PRODUCT.md §5).
--
-- A request for both products makes one license per product. A license is
-- `pending` until staff decide (or issued at once up to 10 users), then
-- `active` or `rejected`; staff may later `revoke` it. An active license whose
-- `expires_at` has passed is expired by time; once past its renewal window it
-- becomes `lapsed` when the partner requests that product again, which frees
-- the "one per product" slot. Every term (the first and each renewal) is a
-- row of `license_terms`, so the history shows all of them.

create table licenses (
    id               bigint generated always as identity primary key,
    partner_id       bigint not null references partners (id) on delete cascade,
    product          text not null check (product in ('saas', 'self_managed')),
    state            text not null check (state in ('pending', 'active', 'rejected', 'revoked', 'lapsed')),
    users            integer not null check (users between 1 and 1000),
    purposes         text[] not null
                     check (cardinality(purposes) >= 1
                            and purposes <@ array['training', 'integration_testing', 'demos']),
    justification    text,
    -- Issued with the license; kept across renewals.
    license_key      text unique,
    -- The span the license covers now: from the first issue to the end of
    -- the last term issued.
    issued_at        timestamptz,
    expires_at       timestamptz,
    requested_by     bigint references users (id) on delete set null,
    requested_at     timestamptz not null,
    decided_at       timestamptz,
    reason           text,
    -- The next expiry reminder, when it falls due; null when none is left
    -- for this term. Kept by the reminder job.
    next_reminder_at timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    unique (partner_id, id),
    check (state not in ('active', 'revoked', 'lapsed')
           or (license_key is not null and issued_at is not null and expires_at is not null))
);

create trigger licenses_updated_at before update on licenses
    for each row execute function set_updated_at();

-- At most one live license (waiting or active) per product per partner; two
-- requests at once cannot both get in.
create unique index licenses_one_per_product on licenses (partner_id, product)
    where state in ('pending', 'active');
create index licenses_partner on licenses (partner_id, requested_at desc, id desc);
-- The staff list of active licenses, soonest expiry first.
create index licenses_active_expiry on licenses (expires_at, id) where state = 'active';
-- The reminder job reads only the licenses with a reminder due.
create index licenses_reminder_due on licenses (next_reminder_at)
    where state = 'active' and next_reminder_at is not null;

-- Each term of a license and the request behind it.
create table license_terms (
    id            bigint generated always as identity primary key,
    partner_id    bigint not null,
    license_id    bigint not null,
    kind          text not null check (kind in ('new', 'renewal')),
    state         text not null check (state in ('pending', 'issued', 'rejected')),
    users         integer not null check (users between 1 and 1000),
    justification text,
    requested_by  bigint references users (id) on delete set null,
    requested_at  timestamptz not null,
    starts_at     timestamptz,
    expires_at    timestamptz,
    decided_at    timestamptz,
    reason        text,
    unique (partner_id, id),
    foreign key (partner_id, license_id) references licenses (partner_id, id) on delete cascade,
    check (state <> 'issued' or (starts_at is not null and expires_at is not null))
);

-- One request at a time per license: a renewal waits until the last is decided.
create unique index license_terms_one_pending on license_terms (license_id) where state = 'pending';
create index license_terms_license on license_terms (partner_id, license_id, requested_at);
-- The staff queue, oldest first.
create index license_terms_queue on license_terms (requested_at, id) where state = 'pending';

-- What happened to a license, in words the partner reads on its page.
create table license_events (
    id          bigint generated always as identity primary key,
    partner_id  bigint not null,
    license_id  bigint not null,
    occurred_at timestamptz not null,
    kind        text not null,
    -- Shown to the partner: a partner user's name, or "Alliance team".
    actor       text not null,
    detail      text not null,
    reason      text,
    foreign key (partner_id, license_id) references licenses (partner_id, id) on delete cascade
);

create index license_events_license on license_events (partner_id, license_id, occurred_at, id);

-- Expiry reminders sent: each one once per term, whatever runs the job.
create table license_reminders (
    partner_id      bigint not null,
    license_id      bigint not null,
    term_expires_at timestamptz not null,
    kind            text not null check (kind in ('thirty_days', 'seven_days', 'expired')),
    sent_at         timestamptz not null,
    primary key (license_id, term_expires_at, kind),
    foreign key (partner_id, license_id) references licenses (partner_id, id) on delete cascade
);

do $$
declare
    t text;
begin
    foreach t in array array['licenses', 'license_terms', 'license_events', 'license_reminders']
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

-- Partners request and renew; staff decisions and reminders go through the
-- privileged path.
grant select, insert, update on licenses, license_terms to portal_tenant;
grant select, insert on license_events to portal_tenant;
grant select on license_reminders to portal_tenant;
grant usage on all sequences in schema public to portal_tenant;
