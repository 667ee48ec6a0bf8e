-- Write limits (src/limits/): one row per write that notifies people or
-- reaches other systems, counted per user and per organisation over a
-- sliding window. Rows live in PostgreSQL so every instance counts the
-- same writes; housekeeping removes them once older than any window.

create table write_events (
    id          bigint generated always as identity primary key,
    partner_id  bigint not null references partners (id) on delete cascade,
    -- Who wrote; later writes by an API token or the platform carry none.
    user_id     bigint references users (id) on delete set null,
    action      text not null,
    occurred_at timestamptz not null,
    unique (partner_id, id)
);

create index write_events_partner on write_events (partner_id, action, occurred_at);
create index write_events_user on write_events (user_id, action, occurred_at)
    where user_id is not null;

alter table write_events enable row level security;
alter table write_events force row level security;
create policy tenant_isolation on write_events to portal_tenant
    using (partner_id = current_partner_id())
    with check (partner_id = current_partner_id());
create policy privileged on write_events to current_user using (true) with check (true);
grant select, insert on write_events to portal_tenant;
grant usage on all sequences in schema public to portal_tenant;
