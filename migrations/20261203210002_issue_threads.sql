-- One issue thread on both sides (PRODUCT.md §6, §9): comments made on the
-- tracker come in through the Note Hook, partner updates go out as notes
-- through the durable queue of calls to GitLab, and comments by a GitLab
-- user linked to a member of the owning partner count as its response.

-- A portal user's GitLab account ("Sign in with GitLab" links it): one
-- identity per user and one user per identity.
create table gitlab_identities (
    id              bigint generated always as identity primary key,
    user_id         bigint not null unique references users (id) on delete cascade,
    gitlab_user_id  bigint not null unique,
    username        text not null check (length(username) between 1 and 255),
    linked_at       timestamptz not null
);

-- Comments made on the tracker issue. `partner_id` is the issue's partner,
-- or null while the issue waits for triage (moved with the issue's history
-- when staff assign it), exactly as for issue_events.
create table issue_comments (
    id                 bigint generated always as identity primary key,
    partner_id         bigint,
    issue_id           bigint not null references issues (id) on delete cascade,
    -- GitLab's note id: a delivery of the same note twice is one comment.
    external_id        bigint not null unique,
    author_gitlab_id   bigint not null,
    author_username    text not null,
    author_name        text not null,
    body               text not null,
    -- The body as safe HTML, rendered once when it arrives (src/markdown.rs).
    body_html          text not null,
    internal           boolean not null default false,
    url                text,
    -- Written by a GitLab user linked to a member of the owning partner
    -- (when it arrived): the partner answering on the tracker.
    by_partner         boolean not null default false,
    tracker_created_at timestamptz not null,
    tracker_updated_at timestamptz not null,
    received_at        timestamptz not null,
    edited_at          timestamptz,
    -- A customer's comment: when the partner's contacts were told of it.
    notified_at        timestamptz,
    foreign key (partner_id, issue_id) references issues (partner_id, id) on delete cascade
);

create index issue_comments_issue on issue_comments (issue_id, tracker_created_at, id);

-- Notes come back through the hook by project path and issue number.
create index issues_project_iid on issues (project_path, iid) where source = 'tracker';

-- Customer comments email the partner's contacts at most once per issue per
-- 15 minutes; later ones wait for `comment_alert_due_at`, when the
-- scheduler sends them together.
alter table issues
    add column comment_alert_sent_at timestamptz,
    add column comment_alert_due_at  timestamptz;

create index issues_comment_alert_due on issues (comment_alert_due_at)
    where comment_alert_due_at is not null;

-- The note a partner update became on GitLab (set when the call succeeds,
-- or when the note comes back through the hook first), and the update as
-- safe HTML, rendered once when it is posted (older updates are rendered
-- when shown).
alter table issue_updates
    add column gitlab_note_id bigint,
    add column body_html text;

-- The description as safe HTML, rendered when an event brings it.
alter table issues add column description_html text;

-- Calls the portal makes to GitLab, each a row written in the transaction
-- of the change that causes it and delivered by the outbox worker
-- (src/outbox) with the same columns as outbox_emails. `partner_id` is the
-- tenant whose change caused the call, so its pages can show the state.
create table gitlab_calls (
    id              bigint generated always as identity primary key,
    partner_id      bigint references partners (id) on delete cascade,
    kind            text not null check (kind in ('note')),
    -- kind note: the update to post as a note on its issue.
    issue_update_id bigint,
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
    foreign key (partner_id, issue_update_id) references issue_updates (partner_id, id) on delete cascade,
    check ((kind = 'note') = (issue_update_id is not null))
);

-- One note per update, whatever retries or staff do.
create unique index gitlab_calls_one_note on gitlab_calls (issue_update_id) where kind = 'note';
create index gitlab_calls_due on gitlab_calls (next_attempt_at, id) where status = 'pending';
create index gitlab_calls_dead on gitlab_calls (dead_at desc, id) where status = 'dead';

create trigger gitlab_calls_updated_at before update on gitlab_calls
    for each row execute function set_updated_at();

-- A partner's own secret for the webhook it installs on its GitLab group
-- (only its hash is kept; a new one revokes the old).
create table partner_webhook_secrets (
    id          bigint generated always as identity primary key,
    partner_id  bigint not null references partners (id) on delete cascade,
    secret_hash bytea not null unique,
    created_by  bigint references users (id) on delete set null,
    created_at  timestamptz not null,
    revoked_at  timestamptz,
    unique (partner_id, id)
);

create unique index partner_webhook_secrets_one_active on partner_webhook_secrets (partner_id)
    where revoked_at is null;

-- The partner whose own secret a delivery carried (null: the instance-wide
-- token). Not a tenant column: the inbox is the portal's own.
alter table webhook_deliveries add column signed_by_partner_id bigint references partners (id) on delete set null;

do $$
declare
    t text;
begin
    foreach t in array array['issue_comments', 'gitlab_calls', 'partner_webhook_secrets']
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

-- Partners read their threads, queue their notes, keep their secret, and
-- see which of their members linked a GitLab identity.
grant select on issue_comments to portal_tenant;
grant select, insert on gitlab_calls to portal_tenant;
grant select, insert, update (revoked_at) on partner_webhook_secrets to portal_tenant;
grant update (gitlab_note_id) on issue_updates to portal_tenant;
grant select on gitlab_identities to portal_tenant;

-- A partner sees the identities of its own members only.
alter table gitlab_identities enable row level security;
alter table gitlab_identities force row level security;
create policy tenant_members on gitlab_identities for select to portal_tenant
    using (exists (select 1 from partner_members m
                    where m.user_id = gitlab_identities.user_id
                      and m.partner_id = current_partner_id()));
create policy privileged on gitlab_identities to current_user using (true) with check (true);
grant usage on all sequences in schema public to portal_tenant;
