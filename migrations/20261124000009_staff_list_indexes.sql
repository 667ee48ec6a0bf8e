-- The staff issue list filtered by severity, soonest deadline first: among a
-- million issues the deadline index alone walked tens of thousands of open
-- issues of the other severities (S1 deadlines come first) before finding a
-- page of S2 ones.
create index issues_open_severity_deadline on issues (severity, deadline_at, id)
    where state = 'open';

-- The staff issue list's partner filter searches company names.
create index partners_company_trgm on partners using gin (company_name gin_trgm_ops);
