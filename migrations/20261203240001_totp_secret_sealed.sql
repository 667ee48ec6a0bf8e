-- Staff TOTP secrets sealed at rest (src/secrets.rs, src/accounts/totp_secrets.rs).
--
-- SQL cannot seal with the portal's key, so the rows move in Rust: every
-- instance, at start and in the scheduler's housekeeping, seals each plain
-- `totp_secret` into `totp_secret_sealed` and clears it in one statement.
-- The plain column stays until a later release, for instances of the
-- previous release during a rolling upgrade; nothing new is written to it.

alter table users add column totp_secret_sealed text;

-- A row holds its secret in one form at a time.
alter table users add constraint users_totp_secret_one_form
    check (totp_secret is null or totp_secret_sealed is null);

-- Lets every housekeeping pass find plain secrets left by an older
-- instance without reading the whole table (empty once all are sealed).
create index users_totp_secret_plain on users (id) where totp_secret is not null;
