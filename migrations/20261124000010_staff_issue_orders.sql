-- The orders staff can choose on the issue list, each walked by an index so
-- a page stays cheap among a million issues (the list's filters narrow on
-- top of them; the open-issue ones already exist in 000008 and 000009):
-- severity first across open and closed issues,
create index issues_severity_deadline on issues (severity, deadline_at, id);
-- and the newest first, whatever their state.
create index issues_created on issues (created_at desc, id desc);
