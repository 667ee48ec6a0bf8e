-- Catalog namespaces registered by partners, and the components they list
-- under them (PRODUCT.md §4).

create table namespaces (
    id            bigint generated always as identity primary key,
    partner_id    bigint not null references partners (id) on delete cascade,
    -- Normalised: https://gitlab.com/acme-corp
    url           text not null,
    host          text not null,
    -- The root namespace path: acme-corp
    path          text not null,
    state         text not null default 'pending'
                  check (state in ('pending', 'verified', 'rejected', 'revoked')),
    reason        text,
    registered_by bigint references users (id),
    created_at    timestamptz not null,
    decided_at    timestamptz,
    verified_at   timestamptz,
    updated_at    timestamptz not null default now(),
    unique (partner_id, id)
);

create trigger namespaces_updated_at before update on namespaces
    for each row execute function set_updated_at();

-- A namespace belongs to at most one partner; a rejected registration
-- frees it again.
create unique index namespaces_url_key on namespaces (url) where state <> 'rejected';
create index namespaces_partner on namespaces (partner_id, created_at desc);
create index namespaces_queue on namespaces (state, created_at, id);
-- Routing issues: find the verified namespace owning a project path.
create index namespaces_verified_path on namespaces (host, path) where state = 'verified';

create table components (
    id           bigint generated always as identity primary key,
    partner_id   bigint not null,
    namespace_id bigint not null,
    -- Full project path under the namespace: acme-corp/ci/sast
    path         text not null,
    name         text not null,
    description  text,
    version      text,
    created_at   timestamptz not null,
    updated_at   timestamptz not null default now(),
    unique (partner_id, id),
    unique (namespace_id, path),
    foreign key (partner_id, namespace_id) references namespaces (partner_id, id) on delete cascade
);

create trigger components_updated_at before update on components
    for each row execute function set_updated_at();

create index components_partner on components (partner_id, namespace_id);

do $$
declare
    t text;
begin
    foreach t in array array['namespaces', 'components']
    loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy tenant_isolation on %I to portal_tenant
                          using (partner_id = current_partner_id())
                          with check (partner_id = current_partner_id())', t);
        execute format('create policy privileged on %I to current_user using (true) with check (true)', t);
        execute format('grant select, insert, update, delete on %I to portal_tenant', t);
    end loop;
end
$$;

grant usage on all sequences in schema public to portal_tenant;
