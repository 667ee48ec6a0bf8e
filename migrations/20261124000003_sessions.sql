-- Server-side sessions, single-use tokens, sign-in throttling, staff second factor.

create table sessions (
    id                   bigint generated always as identity primary key,
    -- sha256 of the cookie value; the value itself is never stored.
    token_hash           bytea not null unique,
    user_id              bigint not null references users (id) on delete cascade,
    csrf_token           text not null,
    -- Staff after the password, before the second factor: may only finish signing in.
    second_factor_pending boolean not null default false,
    flash                text,
    ip                   inet,
    user_agent           text,
    created_at           timestamptz not null,
    last_seen_at         timestamptz not null,
    -- The absolute limit, whatever the activity.
    expires_at           timestamptz not null
);

create index sessions_user on sessions (user_id, last_seen_at desc);
create index sessions_expires on sessions (expires_at);

-- Email verification and password reset links. Stored hashed; single use.
create table user_tokens (
    id          bigint generated always as identity primary key,
    user_id     bigint not null references users (id) on delete cascade,
    purpose     text not null check (purpose in ('verify_email', 'reset_password', 'staff_invitation')),
    token_hash  bytea not null unique,
    created_at  timestamptz not null,
    expires_at  timestamptz not null,
    used_at     timestamptz
);

create index user_tokens_user on user_tokens (user_id, purpose, created_at desc);

-- Failed sign-ins and other rate-limited events, counted in the database so
-- the limits hold across several portal instances.
create table throttle_events (
    id          bigint generated always as identity primary key,
    key         text not null,
    occurred_at timestamptz not null
);

create index throttle_events_key on throttle_events (key, occurred_at desc);

-- Staff recovery codes, shown once at enrolment, stored hashed.
create table recovery_codes (
    id         bigint generated always as identity primary key,
    user_id    bigint not null references users (id) on delete cascade,
    code_hash  bytea not null,
    used_at    timestamptz,
    unique (user_id, code_hash)
);

-- The last accepted TOTP time step, so a code cannot be replayed.
alter table users add column totp_last_step bigint;
