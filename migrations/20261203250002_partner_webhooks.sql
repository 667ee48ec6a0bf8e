-- Webhooks to partners' own endpoints (PRODUCT.md §10): the endpoints a
-- partner admin registers, each event's delivery to each endpoint (an
-- outbox queue like outbox_emails and gitlab_calls, worked by the same
-- loop), and the log of every attempt with the endpoint's answer.

create table webhook_endpoints (
    id              bigint generated always as identity primary key,
    partner_id      bigint not null references partners (id) on delete cascade,
    url             text not null check (length(url) between 1 and 2000),
    events          text[] not null check (cardinality(events) > 0),
    -- The signing secret (whsec_…), sealed under PORTAL_SECRET_KEY; set in
    -- the transaction that made the row (the row's id is in the seal).
    secret_sealed   text,
    created_by      bigint references users (id) on delete set null,
    created_at      timestamptz not null,
    -- Since when every delivery has failed (null: the last one went).
    failing_since   timestamptz,
    disabled_at     timestamptz,
    disabled_reason text,
    unique (partner_id, id)
);

create index webhook_endpoints_partner on webhook_endpoints (partner_id, id) where disabled_at is null;

create table endpoint_deliveries (
    id              bigint generated always as identity primary key,
    partner_id      bigint not null,
    endpoint_id     bigint not null,
    -- webhook-id: one per event, the same for every retry and every
    -- "send again", so a receiver can tell a redelivery.
    message_id      text not null,
    event_type      text not null,
    -- The body as sent: {"type", "timestamp", "data"}.
    payload         jsonb not null,
    status          text not null default 'pending' check (status in ('pending', 'sent', 'dead')),
    attempts        integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null,
    claimed_at      timestamptz,
    last_error      text,
    sent_at         timestamptz,
    dead_at         timestamptz,
    created_at      timestamptz not null,
    updated_at      timestamptz not null default now(),
    unique (partner_id, id),
    foreign key (partner_id, endpoint_id) references webhook_endpoints (partner_id, id) on delete cascade
);

create index endpoint_deliveries_due on endpoint_deliveries (next_attempt_at, id) where status = 'pending';
create index endpoint_deliveries_dead on endpoint_deliveries (dead_at desc, id) where status = 'dead';
create index endpoint_deliveries_endpoint on endpoint_deliveries (endpoint_id, created_at desc, id desc);

create trigger endpoint_deliveries_updated_at before update on endpoint_deliveries
    for each row execute function set_updated_at();

create table endpoint_attempts (
    id               bigint generated always as identity primary key,
    partner_id       bigint not null,
    endpoint_id      bigint not null,
    delivery_id      bigint not null,
    attempted_at     timestamptz not null,
    -- null: no answer (refused, timed out, not allowed).
    status_code      integer,
    duration_ms      integer not null,
    -- The first KiB of the answer.
    response_excerpt text,
    error            text,
    foreign key (partner_id, delivery_id) references endpoint_deliveries (partner_id, id) on delete cascade
);

create index endpoint_attempts_endpoint on endpoint_attempts (endpoint_id, attempted_at desc, id desc);

do $$
declare
    t text;
begin
    foreach t in array array['webhook_endpoints', 'endpoint_deliveries', 'endpoint_attempts']
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

-- Partners manage their endpoints and read their logs; events they cause
-- in their own transactions (a license issued) queue deliveries there.
grant select, insert, delete, update (secret_sealed, disabled_at, disabled_reason, failing_since)
    on webhook_endpoints to portal_tenant;
grant select, insert on endpoint_deliveries to portal_tenant;
grant select on endpoint_attempts to portal_tenant;
grant usage on all sequences in schema public to portal_tenant;
