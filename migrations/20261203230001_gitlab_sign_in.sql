-- "Sign in with GitLab" and namespace ownership proven by it (PRODUCT.md
-- §4, §9).

-- What GitLab said of a linked identity the last time the person signed in
-- with it: the address it shares, and the top-level groups it owns (the
-- userinfo claim `https://gitlab.org/claims/groups/owner`, lowercased).
-- No access token is kept: the proof is read during the sign-in itself.
alter table gitlab_identities
    add column email             text,
    add column owner_groups      text[] not null default '{}',
    add column groups_checked_at timestamptz;

-- A sign-in with GitLab under way: the browser was sent to GitLab's
-- authorize endpoint and has not come back yet. Kept on the server so the
-- PKCE verifier and the nonce never reach the browser; single use (the
-- callback deletes it) and short-lived. `browser_hash` is the hash of a
-- cookie set on the browser that started it, so a callback URL carried to
-- another browser (login CSRF) does not finish there. A link started by a
-- signed-in user names that user and session.
create table gitlab_sign_in_attempts (
    id            bigint generated always as identity primary key,
    state_hash    bytea not null unique,
    browser_hash  bytea not null,
    nonce         text not null,
    pkce_verifier text not null,
    user_id       bigint references users (id) on delete cascade,
    session_id    bigint references sessions (id) on delete cascade,
    next          text,
    created_at    timestamptz not null,
    expires_at    timestamptz not null,
    check ((user_id is null) = (session_id is null))
);

create index gitlab_sign_in_attempts_expires on gitlab_sign_in_attempts (expires_at);

-- Ownership proven through a linked identity (§4): who on GitLab, and
-- when. `proof_problem` is why a registration was not proven (shown to the
-- partner and to staff while it waits for them).
alter table namespaces
    add column proven_by_gitlab_user_id bigint,
    add column proven_by_username       text,
    add column proven_at                timestamptz,
    add column proof_problem            text,
    add constraint namespaces_proof_whole
        check ((proven_at is null) = (proven_by_username is null)
           and (proven_at is null) = (proven_by_gitlab_user_id is null));
