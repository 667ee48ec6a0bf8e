-- The partner API (PRODUCT.md §10): tokens a partner admin makes on
-- /integrations, hashed at rest, scoped, expiring, revocable, with their
-- last use; and the requests of each token per minute, counted in the
-- database so that the rate limit holds across instances.

create table api_tokens (
    id           bigint generated always as identity primary key,
    partner_id   bigint not null references partners (id) on delete cascade,
    name         text not null check (length(name) between 1 and 100),
    scope        text not null check (scope in ('read', 'write')),
    -- SHA-256 of the token (256 random bits; a fast hash is enough).
    token_hash   bytea not null unique,
    -- What lists show of it: its prefix and last four characters.
    hint         text not null,
    created_by   bigint references users (id) on delete set null,
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   bigint references users (id) on delete set null,
    unique (partner_id, id),
    check (expires_at > created_at)
);

create index api_tokens_partner on api_tokens (partner_id, created_at desc, id desc);

create table api_token_usage (
    token_id     bigint not null references api_tokens (id) on delete cascade,
    window_start timestamptz not null,
    requests     integer not null,
    primary key (token_id, window_start)
);

alter table api_tokens enable row level security;
alter table api_tokens force row level security;
create policy tenant_isolation on api_tokens to portal_tenant
    using (partner_id = current_partner_id()) with check (partner_id = current_partner_id());
create policy privileged on api_tokens to current_user using (true) with check (true);

grant select, insert, update (revoked_at, revoked_by) on api_tokens to portal_tenant;

-- One statement per API request, before its tenant transaction: finds the
-- token by its hash, says whether it may be used now, counts the request
-- in the current minute, and marks the token used (at most once a
-- minute, so a busy token does not rewrite its row on every request).
create function api_token_use(p_hash bytea, p_now timestamptz, p_per_minute integer)
returns table (token_id bigint, partner_id bigint, scope text, name text, verdict text,
               used integer, window_ends timestamptz)
language plpgsql as $$
#variable_conflict use_column
declare
    t api_tokens;
    w timestamptz := date_trunc('minute', p_now);
    n integer := 0;
begin
    select * into t from api_tokens where token_hash = p_hash;
    if not found then
        return query select null::bigint, null::bigint, null::text, null::text, 'unknown'::text, 0,
                            w + interval '1 minute';
        return;
    end if;
    if t.revoked_at is not null or t.expires_at <= p_now then
        return query select t.id, t.partner_id, t.scope, t.name,
                            case when t.revoked_at is not null then 'revoked' else 'expired' end, 0,
                            w + interval '1 minute';
        return;
    end if;
    insert into api_token_usage as u (token_id, window_start, requests) values (t.id, w, 1)
        on conflict (token_id, window_start) do update set requests = u.requests + 1
        returning u.requests into n;
    if t.last_used_at is null or t.last_used_at < p_now - interval '1 minute' then
        update api_tokens set last_used_at = p_now where id = t.id;
    end if;
    return query select t.id, t.partner_id, t.scope, t.name,
                        case when n > p_per_minute then 'limited' else 'ok' end, n,
                        w + interval '1 minute';
end
$$;
