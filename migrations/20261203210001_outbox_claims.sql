-- Every outbox table (emails now; calls to GitLab and partner webhooks
-- next) is worked by one loop (src/outbox). A claim marks its row with the
-- time it was claimed, cleared when the outcome is recorded: a row claimed
-- while still marked was in flight on an instance that died, so the other
-- side may already have it, and an outcome is recorded only by the claim
-- whose mark the row still carries.
alter table outbox_emails add column claimed_at timestamptz;
