-- People and the audit log.

create table users (
    id                bigint generated always as identity primary key,
    email             text not null check (length(email) between 3 and 254),
    name              text not null check (length(name) between 1 and 100),
    password_hash     text not null,
    -- null for partner users; staff never sign up publicly.
    staff_role        text check (staff_role in ('admin', 'reviewer')),
    email_verified_at timestamptz,
    totp_secret       text,
    totp_enrolled_at  timestamptz,
    disabled_at       timestamptz,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);

-- Addresses are compared without case.
create unique index users_email_key on users (lower(email));

create trigger users_updated_at before update on users
    for each row execute function set_updated_at();

-- Append-only: who did what, when, from where, before -> after.
create table audit_log (
    id            bigint generated always as identity primary key,
    occurred_at   timestamptz not null,
    actor_user_id bigint references users (id),
    actor         text not null,
    partner_id    bigint,
    action        text not null,
    subject_type  text,
    subject_id    bigint,
    ip            inet,
    before        jsonb,
    after         jsonb
);

create index audit_log_occurred_at on audit_log (occurred_at desc, id desc);
create index audit_log_partner on audit_log (partner_id, occurred_at desc) where partner_id is not null;
create index audit_log_subject on audit_log (subject_type, subject_id);
create index audit_log_actor on audit_log (actor_user_id, occurred_at desc);

create function audit_log_is_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'the audit log is append-only';
end
$$;

create trigger audit_log_no_update_or_delete before update or delete on audit_log
    for each row execute function audit_log_is_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_is_append_only();
