-- The badge reaches the catalog (PRODUCT.md §4, §9): every change of a
-- namespace's badge becomes a durable call to GitLab's GraphQL mutation
-- verifiedNamespaceCreate, and each namespace shows whether the catalog
-- agrees.

-- Staff may take the badge back from a verified namespace (not only a
-- suspension does).
alter table namespaces drop constraint namespaces_revoked_for_check;
alter table namespaces add constraint namespaces_revoked_for_check
    check (revoked_for in ('suspension', 'staff'));

alter table namespaces
    -- What the portal wants the catalog to show: `badged` while verified,
    -- `unbadged` once it was badged and no longer is; null while it never
    -- was (nothing to tell the catalog). Kept by the trigger below.
    add column catalog_wish        text check (catalog_wish in ('badged', 'unbadged')),
    add column catalog_wish_at     timestamptz,
    -- What the catalog was last told with success, and when.
    add column catalog_level       text check (catalog_level in ('badged', 'unbadged')),
    add column catalog_published_at timestamptz,
    -- Why the last call was given up (cleared by a success).
    add column catalog_error       text,
    -- The daily comparison with what the catalog shows: when it last ran,
    -- what it read (null: nothing could be read), and a note.
    add column catalog_checked_at  timestamptz,
    add column catalog_observed    text,
    add column catalog_observed_note text;

-- The namespaces the daily comparison looks at next.
create index namespaces_catalog_check on namespaces (catalog_checked_at nulls first, id)
    where catalog_wish is not null;

alter table gitlab_calls drop constraint gitlab_calls_kind_check;
alter table gitlab_calls drop constraint gitlab_calls_check;
alter table gitlab_calls
    add column namespace_id bigint,
    add constraint gitlab_calls_kind_check check (kind in ('note', 'catalog')),
    add constraint gitlab_calls_note_check check ((kind = 'note') = (issue_update_id is not null)),
    add constraint gitlab_calls_catalog_check check ((kind = 'catalog') = (namespace_id is not null)),
    add foreign key (partner_id, namespace_id) references namespaces (partner_id, id) on delete cascade;

-- A second change before the first call went out sends only the latest
-- wish: one waiting catalog call per namespace (the call reads the wish
-- when it is made).
create unique index gitlab_calls_one_catalog_wish on gitlab_calls (namespace_id)
    where kind = 'catalog' and status = 'pending';

-- The wish follows the namespace's state, whatever changes it (staff,
-- suspension, reinstatement, proven ownership).
create function namespaces_catalog_wish() returns trigger
language plpgsql as $$
declare
    wish text;
begin
    wish := case
        when new.state = 'verified' then 'badged'
        when new.catalog_wish is not null then 'unbadged'
    end;
    if wish is distinct from new.catalog_wish then
        new.catalog_wish := wish;
        new.catalog_wish_at := now();
    end if;
    return new;
end
$$;

create trigger namespaces_catalog_wish before insert or update of state on namespaces
    for each row execute function namespaces_catalog_wish();

-- Where the portal publishes to a catalog (its connections carry
-- `portal.catalog_host`, set only with PORTAL_GITLAB_ADMIN_TOKEN), a new
-- wish of a namespace on that host becomes a call. Runs as the owner, so a
-- tenant transaction may change a namespace without being granted the
-- queue.
create function namespaces_catalog_call() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    if new.host = current_setting('portal.catalog_host', true) then
        insert into public.gitlab_calls (partner_id, kind, namespace_id, next_attempt_at, created_at)
        values (new.partner_id, 'catalog', new.id, now(), now())
        on conflict (namespace_id) where kind = 'catalog' and status = 'pending' do nothing;
        perform pg_notify('gitlab_calls', '');
    end if;
    return null;
end
$$;

revoke all on function namespaces_catalog_call() from public;

create trigger namespaces_catalog_call_insert after insert on namespaces
    for each row when (new.catalog_wish is not null)
    execute function namespaces_catalog_call();
create trigger namespaces_catalog_call_update after update of state on namespaces
    for each row when (new.catalog_wish is distinct from old.catalog_wish)
    execute function namespaces_catalog_call();

-- The directory shows namespaces by what they are, not by what the
-- catalog was told: bookkeeping of the catalog columns (several times a
-- day per namespace) must not rebuild it.
drop trigger namespaces_directory on namespaces;
create trigger namespaces_directory_change after insert or delete on namespaces
    for each statement execute function directory_changed();
create trigger namespaces_directory_update
    after update of partner_id, url, host, path, state, verified_at on namespaces
    for each statement execute function directory_changed();
