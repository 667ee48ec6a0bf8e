-- Shared helpers and the mail outbox.

create function set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end
$$;

-- Every email the portal sends is first a row here, written in the same
-- transaction as the change it reports. The dispatcher delivers it.
create table outbox_emails (
    id              bigint generated always as identity primary key,
    kind            text not null,
    to_address      text not null,
    to_name         text,
    subject         text not null,
    text_body       text not null,
    html_body       text not null,
    status          text not null default 'pending'
                    check (status in ('pending', 'sent', 'dead')),
    attempts        integer not null default 0 check (attempts >= 0),
    -- When the row may next be claimed: the retry time, or the end of the
    -- lease of the dispatcher that claimed it.
    next_attempt_at timestamptz not null,
    last_error      text,
    sent_at         timestamptz,
    dead_at         timestamptz,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);

create index outbox_emails_due on outbox_emails (next_attempt_at, id) where status = 'pending';
create index outbox_emails_dead on outbox_emails (dead_at desc) where status = 'dead';

create trigger outbox_emails_updated_at before update on outbox_emails
    for each row execute function set_updated_at();
