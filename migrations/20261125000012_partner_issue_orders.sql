-- The partner's issue list (/issues) in its two usual orders. Without them
-- each page read every issue of the organisation (a heap block each) and
-- sorted them: 0.8 ms and 104 buffers for a partner with 100 issues, the
-- most expensive statement of the page. With them a page reads its rows
-- in order and stops.
create index issues_partner_urgent on issues
    (partner_id, (state <> 'open'), (case when state = 'open' then deadline_at end),
     resolved_at desc, id desc);
create index issues_partner_newest on issues (partner_id, created_at desc, id desc);
