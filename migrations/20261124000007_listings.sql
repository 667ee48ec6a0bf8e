-- The public directory listing a partner asks for (PRODUCT.md §7), namespace
-- revocation on suspension, and what tells every portal instance that the
-- public directory and the verified-namespaces feed changed.

-- Who decided a namespace, and why it is revoked: namespaces revoked because
-- their partner was suspended are verified again on reinstatement.
alter table namespaces add column decided_by bigint references users (id);
alter table namespaces add column revoked_at timestamptz;
alter table namespaces add column revoked_for text check (revoked_for in ('suspension'));

-- Logos as uploaded (checked by content, at most 512 KiB). Versions share a
-- logo row when a resubmission keeps the logo.
create table listing_logos (
    id           bigint generated always as identity primary key,
    partner_id   bigint not null references partners (id) on delete cascade,
    content_type text not null check (content_type in ('image/png', 'image/jpeg', 'image/svg+xml')),
    bytes        bytea not null check (octet_length(bytes) between 1 and 524288),
    -- Hex SHA-256 of the bytes: the cache key in the logo's public URL.
    sha256       text not null,
    width        integer,
    height       integer,
    created_at   timestamptz not null,
    unique (partner_id, id)
);

-- One listing per partner. What the public sees is the approved version it
-- points to; a newer submission waits for review beside it.
create table listings (
    id                   bigint generated always as identity primary key,
    partner_id           bigint not null unique references partners (id) on delete cascade,
    published_version_id bigint,
    published_at         timestamptz,
    created_at           timestamptz not null,
    updated_at           timestamptz not null default now(),
    unique (partner_id, id)
);

create trigger listings_updated_at before update on listings
    for each row execute function set_updated_at();

-- Every submission, kept as submitted: `submitted → approved | rejected`, or
-- `superseded` when a newer submission replaced it before review.
create table listing_versions (
    id                bigint generated always as identity primary key,
    partner_id        bigint not null,
    listing_id        bigint not null,
    display_name      text not null,
    short_description text not null,
    long_description  text not null,
    website           text not null,
    documentation_url text not null,
    demo_url          text,
    value_messaging   text not null,
    use_cases         text not null,
    stages            text[] not null,
    logo_id           bigint,
    state             text not null default 'submitted'
                      check (state in ('submitted', 'approved', 'rejected', 'superseded')),
    reason            text,
    submitted_by      bigint references users (id),
    submitted_at      timestamptz not null,
    decided_by        bigint references users (id),
    decided_at        timestamptz,
    unique (partner_id, id),
    foreign key (partner_id, listing_id) references listings (partner_id, id) on delete cascade,
    foreign key (partner_id, logo_id) references listing_logos (partner_id, id)
);

alter table listings add foreign key (partner_id, published_version_id)
    references listing_versions (partner_id, id);

-- At most one submission waits for review per listing.
create unique index listing_versions_one_submitted on listing_versions (listing_id) where state = 'submitted';
create index listing_versions_queue on listing_versions (state, submitted_at, id);
create index listing_versions_listing on listing_versions (partner_id, listing_id, submitted_at desc);

do $$
declare
    t text;
begin
    foreach t in array array['listing_logos', 'listings', 'listing_versions']
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

-- The public directory and the feed are served from memory. Any change to
-- what they show bumps this version in the changing transaction and sends
-- `NOTIFY directory_changed` on commit; instances rebuild on the
-- notification and compare versions now and then in case one was missed.
create table directory_version (
    singleton boolean primary key default true check (singleton),
    version   bigint not null
);

insert into directory_version (version) values (1);

-- Runs as the owner so tenant transactions can bump the version without
-- being granted the table.
create function directory_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    update public.directory_version set version = version + 1;
    perform pg_notify('directory_changed', '');
    return null;
end
$$;

revoke all on function directory_changed() from public;

create trigger listings_directory after insert or update or delete on listings
    for each statement execute function directory_changed();
create trigger namespaces_directory after insert or update or delete on namespaces
    for each statement execute function directory_changed();
create trigger components_directory after insert or update or delete on components
    for each statement execute function directory_changed();
create trigger partners_directory_update after update on partners
    for each row when (old.company_name is distinct from new.company_name or old.slug is distinct from new.slug)
    execute function directory_changed();
create trigger partners_directory_delete after delete on partners
    for each statement execute function directory_changed();
-- Approval, suspension, reinstatement and the partner type; not draft edits.
create trigger applications_directory_update after update on applications
    for each row when (old.state is distinct from new.state or old.partner_type is distinct from new.partner_type)
    execute function directory_changed();
