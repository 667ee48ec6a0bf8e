-- Program insights (PRODUCT.md §11): counts by UTC day or month, kept up to
-- date by triggers in the transaction that writes the rows they count, so
-- /admin/insights and the partner dashboard read a few hundred rows
-- instead of counting a million issues per request.
--
-- Each count is a function of the rows as they stand, never a log of
-- events replayed: a statement trigger takes back what the old rows
-- counted for and adds what the new ones do (an issue reopened, given
-- another severity or assigned to a partner moves its counts with it),
-- and `insight_rebuild()`, which counts everything afresh, finds the same
-- numbers (the tests check it). Statement triggers with transition tables
-- keep a bulk load (demo-data inserts 50,000 issues at a time) to one
-- grouped upsert per statement. Counters are upserted in key order so two
-- transactions meet their rows in the same order.

-- The counter tables are small and their rows are rewritten on every
-- change they count: pages half empty (fillfactor 50) let PostgreSQL
-- rewrite a row within its page (a HOT update) instead of growing the
-- table between vacuums.
--
-- Calendar days and months are UTC, whatever the session's time zone.
create function insight_day(t timestamptz) returns date
language sql immutable parallel safe as $$
    select (t at time zone 'UTC')::date
$$;

create function insight_month(t timestamptz) returns date
language sql immutable parallel safe as $$
    select date_trunc('month', t at time zone 'UTC')::date
$$;

-- Weekday time (Monday to Friday, UTC) from a fixed Monday to `t`, in
-- microseconds; it stands still over weekends. The clock of
-- `dates::business_days_between` in the portal, which the tests compare.
create function business_micros(t timestamptz) returns bigint
language sql immutable parallel safe as $$
    select w * 432000000000 + least(s - w * 604800000000, 432000000000)
      from (select s, floor(s::numeric / 604800000000)::bigint as w
              from (select (extract(epoch from t) * 1000000)::bigint - 345600000000 as s) a) b
$$;

-- Business hours from `a` to `b`, rounded up: within 5 business days is
-- at most 120.
create function business_hours_between(a timestamptz, b timestamptz) returns integer
language sql immutable parallel safe as $$
    select greatest(0, ceil((business_micros(b) - business_micros(a)) / 3600000000.0))::integer
$$;

-- Issues, program-wide, by UTC day and severity (0: none yet). `opened`:
-- issues created that day; `closed`: issues closed now whose resolution
-- was that day; `met`: partner deadlines met by a resolution that day;
-- `due_unmet`: partner deadlines falling that day and not met before them
-- (missed once their moment passed; still to come for open issues).
create table insight_issue_days (
    day       date not null,
    severity  smallint not null check (severity between 0 and 4),
    opened    integer not null default 0,
    closed    integer not null default 0,
    met       integer not null default 0,
    due_unmet integer not null default 0,
    primary key (day, severity)
) with (fillfactor = 50);

-- The same deadlines of one partner by UTC month: its own trend, read on
-- every dashboard view. The key carries the counts, so that read is an
-- index-only scan of a dozen entries rather than a heap page per month
-- (these rows change far less often than the program-wide days).
create table insight_partner_deadlines (
    partner_id bigint not null references partners (id) on delete cascade,
    month      date not null,
    met        integer not null default 0,
    due_unmet  integer not null default 0,
    primary key (partner_id, month) include (met, due_unmet)
) with (fillfactor = 50);

-- Applications by UTC month: `started` (created), `submitted` (for the
-- first time), `approved` and `rejected` (decisions made that month).
create table insight_application_months (
    month     date primary key,
    started   integer not null default 0,
    submitted integer not null default 0,
    approved  integer not null default 0,
    rejected  integer not null default 0
) with (fillfactor = 50);

-- How long staff took to decide (approve, reject or ask for changes)
-- after the submission before it, in business hours rounded up, by UTC
-- month of the decision: a histogram the median and 90th percentile are
-- read from.
create table insight_decision_hours (
    month          date not null,
    business_hours integer not null check (business_hours >= 0),
    decisions      integer not null default 0,
    primary key (month, business_hours)
) with (fillfactor = 50);

-- Approved partners (as they stand) by the UTC month of their approval,
-- by partner type and by each DevSecOps stage they touch.
create table insight_partner_mix (
    dimension text not null check (dimension in ('type', 'stage')),
    value     text not null,
    month     date not null,
    partners  integer not null default 0,
    primary key (dimension, value, month)
) with (fillfactor = 50);

-- Active licenses by the UTC day they expire.
create table insight_license_expiry (
    day      date primary key,
    licenses integer not null default 0
) with (fillfactor = 50);

-- Issues -------------------------------------------------------------------

create type insight_issue_fact as (
    partner_id bigint,
    day        date,
    severity   smallint,
    opened     integer,
    closed     integer,
    met        integer,
    due_unmet  integer
);

-- What one issue counts for; `p_sign` -1 takes it back. A deadline counts
-- for the partner that owns the issue, and an issue waiting for triage
-- (no partner) for no one.
create function insight_issue_facts(
    p_partner_id bigint, p_severity smallint, p_state text, p_created_at timestamptz,
    p_resolved_at timestamptz, p_deadline_at timestamptz, p_sign integer)
returns setof insight_issue_fact
language sql immutable as $$
    select p_partner_id, insight_day(p_created_at), coalesce(p_severity, 0::smallint), p_sign, 0, 0, 0
    union all
    select p_partner_id, insight_day(p_resolved_at), coalesce(p_severity, 0::smallint), 0, p_sign,
           case when p_partner_id is not null and p_resolved_at < p_deadline_at then p_sign else 0 end, 0
     where p_state = 'closed' and p_resolved_at is not null
    union all
    select p_partner_id, insight_day(p_deadline_at), p_severity, 0, 0, 0, p_sign
     where p_partner_id is not null and p_deadline_at is not null
       and (p_resolved_at is null or p_resolved_at >= p_deadline_at)
$$;

create function insight_issue_apply(facts insight_issue_fact[]) returns void
language sql as $$
    insert into insight_issue_days as t (day, severity, opened, closed, met, due_unmet)
    select f.day, f.severity, sum(f.opened), sum(f.closed), sum(f.met), sum(f.due_unmet)
      from unnest(facts) f
     group by f.day, f.severity
    having sum(f.opened) <> 0 or sum(f.closed) <> 0 or sum(f.met) <> 0 or sum(f.due_unmet) <> 0
     order by f.day, f.severity
        on conflict (day, severity) do update
       set opened = t.opened + excluded.opened, closed = t.closed + excluded.closed,
           met = t.met + excluded.met, due_unmet = t.due_unmet + excluded.due_unmet;
    -- A partner deleted with its issues takes its counts along (cascade).
    insert into insight_partner_deadlines as t (partner_id, month, met, due_unmet)
    select f.partner_id, date_trunc('month', f.day)::date, sum(f.met), sum(f.due_unmet)
      from unnest(facts) f
      join partners p on p.id = f.partner_id
     group by 1, 2
    having sum(f.met) <> 0 or sum(f.due_unmet) <> 0
     order by 1, 2
        on conflict (partner_id, month) do update
       set met = t.met + excluded.met, due_unmet = t.due_unmet + excluded.due_unmet;
$$;

-- Security definer: a partner's transaction updates issues too (its first
-- response), and its role may not write the program's counts.
create function insight_issues_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    if tg_op = 'INSERT' then
        perform insight_issue_apply(array(
            select f from new_rows n,
                   insight_issue_facts(n.partner_id, n.severity, n.state, n.created_at,
                                       n.resolved_at, n.deadline_at, 1) f));
    elsif tg_op = 'DELETE' then
        perform insight_issue_apply(array(
            select f from old_rows o,
                   insight_issue_facts(o.partner_id, o.severity, o.state, o.created_at,
                                       o.resolved_at, o.deadline_at, -1) f));
    else
        -- Most updates (reminders, titles, first responses) change nothing
        -- counted: only rows whose counted columns moved are looked at.
        perform insight_issue_apply(array(
            select f from new_rows n join old_rows o on o.id = n.id,
                   insight_issue_facts(n.partner_id, n.severity, n.state, n.created_at,
                                       n.resolved_at, n.deadline_at, 1) f
             where (o.partner_id, o.severity, o.state, o.created_at, o.resolved_at, o.deadline_at)
                   is distinct from
                   (n.partner_id, n.severity, n.state, n.created_at, n.resolved_at, n.deadline_at)
            union all
            select f from new_rows n join old_rows o on o.id = n.id,
                   insight_issue_facts(o.partner_id, o.severity, o.state, o.created_at,
                                       o.resolved_at, o.deadline_at, -1) f
             where (o.partner_id, o.severity, o.state, o.created_at, o.resolved_at, o.deadline_at)
                   is distinct from
                   (n.partner_id, n.severity, n.state, n.created_at, n.resolved_at, n.deadline_at)));
    end if;
    return null;
end
$$;

create trigger issues_insights_insert after insert on issues
    referencing new table as new_rows
    for each statement execute function insight_issues_changed();
create trigger issues_insights_update after update on issues
    referencing old table as old_rows new table as new_rows
    for each statement execute function insight_issues_changed();
create trigger issues_insights_delete after delete on issues
    referencing old table as old_rows
    for each statement execute function insight_issues_changed();

-- Applications: started, and approved partners by type and stage ------------

create type insight_application_fact as (
    kind  text,   -- 'started', 'type' or 'stage'
    value text,
    month date,
    n     integer
);

-- What one application counts for: it was started in the month it was
-- created; approved, its partner counts under its type and each stage, in
-- the month of the approval.
create function insight_application_facts(
    p_state text, p_partner_type text, p_stages text[], p_created_at timestamptz,
    p_approved_at timestamptz, p_sign integer)
returns setof insight_application_fact
language sql immutable as $$
    select 'started', '', insight_month(p_created_at), p_sign
    union all
    select 'type', coalesce(p_partner_type, 'unknown'), insight_month(p_approved_at), p_sign
     where p_state = 'approved'
    union all
    select 'stage', s, insight_month(p_approved_at), p_sign
      from unnest(p_stages) s
     where p_state = 'approved'
$$;

create function insight_application_apply(facts insight_application_fact[]) returns void
language sql as $$
    insert into insight_application_months as t (month, started)
    select f.month, sum(f.n)
      from unnest(facts) f
     where f.kind = 'started'
     group by f.month
    having sum(f.n) <> 0
     order by f.month
        on conflict (month) do update set started = t.started + excluded.started;
    insert into insight_partner_mix as t (dimension, value, month, partners)
    select f.kind, f.value, f.month, sum(f.n)
      from unnest(facts) f
     where f.kind in ('type', 'stage')
     group by f.kind, f.value, f.month
    having sum(f.n) <> 0
     order by f.kind, f.value, f.month
        on conflict (dimension, value, month) do update set partners = t.partners + excluded.partners;
$$;

-- The approval's month: `decided_at` of an approved application is its
-- approval (suspension and reinstatement leave it).
create function insight_applications_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    if tg_op = 'INSERT' then
        perform insight_application_apply(array(
            select f from new_rows n,
                   insight_application_facts(n.state, n.partner_type, n.stages, n.created_at,
                       coalesce(n.decided_at, n.submitted_at, n.created_at), 1) f));
    elsif tg_op = 'DELETE' then
        perform insight_application_apply(array(
            select f from old_rows o,
                   insight_application_facts(o.state, o.partner_type, o.stages, o.created_at,
                       coalesce(o.decided_at, o.submitted_at, o.created_at), -1) f));
    else
        perform insight_application_apply(array(
            select f from new_rows n join old_rows o on o.id = n.id,
                   insight_application_facts(n.state, n.partner_type, n.stages, n.created_at,
                       coalesce(n.decided_at, n.submitted_at, n.created_at), 1) f
             where (o.state, o.partner_type, o.stages, o.created_at, o.decided_at, o.submitted_at)
                   is distinct from
                   (n.state, n.partner_type, n.stages, n.created_at, n.decided_at, n.submitted_at)
            union all
            select f from new_rows n join old_rows o on o.id = n.id,
                   insight_application_facts(o.state, o.partner_type, o.stages, o.created_at,
                       coalesce(o.decided_at, o.submitted_at, o.created_at), -1) f
             where (o.state, o.partner_type, o.stages, o.created_at, o.decided_at, o.submitted_at)
                   is distinct from
                   (n.state, n.partner_type, n.stages, n.created_at, n.decided_at, n.submitted_at)));
    end if;
    return null;
end
$$;

create trigger applications_insights_insert after insert on applications
    referencing new table as new_rows
    for each statement execute function insight_applications_changed();
create trigger applications_insights_update after update on applications
    referencing old table as old_rows new table as new_rows
    for each statement execute function insight_applications_changed();
create trigger applications_insights_delete after delete on applications
    referencing old table as old_rows
    for each statement execute function insight_applications_changed();

-- Application history: submissions, decisions and their time ---------------

-- An application's history only grows (its rows go only with the whole
-- application), so what an event counts for is settled by the events
-- before it: a submission is the first one if none came before; a
-- decision took the business hours since the latest submission before it.
-- `p_history` is every event of the applications concerned.
create type insight_event_fact as (
    month          date,
    submitted      integer,
    approved       integer,
    rejected       integer,
    business_hours integer,
    n              integer
);

create function insight_event_apply(facts insight_event_fact[]) returns void
language sql as $$
    insert into insight_application_months as t (month, submitted, approved, rejected)
    select f.month, sum(f.submitted * f.n), sum(f.approved * f.n), sum(f.rejected * f.n)
      from unnest(facts) f
     group by f.month
    having sum(f.submitted * f.n) <> 0 or sum(f.approved * f.n) <> 0 or sum(f.rejected * f.n) <> 0
     order by f.month
        on conflict (month) do update
       set submitted = t.submitted + excluded.submitted, approved = t.approved + excluded.approved,
           rejected = t.rejected + excluded.rejected;
    insert into insight_decision_hours as t (month, business_hours, decisions)
    select f.month, f.business_hours, sum(f.n)
      from unnest(facts) f
     where f.business_hours is not null
     group by f.month, f.business_hours
    having sum(f.n) <> 0
     order by f.month, f.business_hours
        on conflict (month, business_hours) do update set decisions = t.decisions + excluded.decisions;
$$;

create function insight_events_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    if tg_op = 'INSERT' then
        -- The table already holds the new rows (an AFTER statement trigger).
        perform insight_event_apply(array(
            select row(insight_month(e.occurred_at),
                       (e.to_state = 'submitted' and not exists (
                           select 1 from application_events p
                            where p.partner_id = e.partner_id and p.application_id = e.application_id
                              and p.to_state = 'submitted'
                              and (p.occurred_at, p.id) < (e.occurred_at, e.id)))::integer,
                       (e.to_state = 'approved')::integer,
                       (e.to_state = 'rejected')::integer,
                       case when e.to_state in ('approved', 'rejected', 'changes_requested') then
                           (select business_hours_between(max(p.occurred_at), e.occurred_at)
                              from application_events p
                             where p.partner_id = e.partner_id and p.application_id = e.application_id
                               and p.to_state = 'submitted'
                               and (p.occurred_at, p.id) < (e.occurred_at, e.id))
                       end,
                       1)::insight_event_fact
              from new_rows e));
    elsif tg_op = 'DELETE' then
        -- Gone with their application: its history is among the old rows.
        perform insight_event_apply(array(
            select row(insight_month(e.occurred_at),
                       (e.to_state = 'submitted' and not exists (
                           select 1 from (select * from old_rows union all select * from application_events) p
                            where p.partner_id = e.partner_id and p.application_id = e.application_id
                              and p.to_state = 'submitted'
                              and (p.occurred_at, p.id) < (e.occurred_at, e.id)))::integer,
                       (e.to_state = 'approved')::integer,
                       (e.to_state = 'rejected')::integer,
                       case when e.to_state in ('approved', 'rejected', 'changes_requested') then
                           (select business_hours_between(max(p.occurred_at), e.occurred_at)
                              from (select * from old_rows union all select * from application_events) p
                             where p.partner_id = e.partner_id and p.application_id = e.application_id
                               and p.to_state = 'submitted'
                               and (p.occurred_at, p.id) < (e.occurred_at, e.id))
                       end,
                       -1)::insight_event_fact
              from old_rows e));
    end if;
    return null;
end
$$;

create trigger application_events_insights_insert after insert on application_events
    referencing new table as new_rows
    for each statement execute function insight_events_changed();
create trigger application_events_insights_delete after delete on application_events
    referencing old table as old_rows
    for each statement execute function insight_events_changed();

-- Licenses ------------------------------------------------------------------

create type insight_day_count as (day date, n integer);

create function insight_license_apply(counts insight_day_count[]) returns void
language sql as $$
    insert into insight_license_expiry as t (day, licenses)
    select c.day, sum(c.n)
      from unnest(counts) c
     group by c.day
    having sum(c.n) <> 0
     order by c.day
        on conflict (day) do update set licenses = t.licenses + excluded.licenses;
$$;

create function insight_licenses_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    if tg_op <> 'DELETE' then
        perform insight_license_apply(array(
            select row(insight_day(n.expires_at), 1)::insight_day_count
              from new_rows n
             where n.state = 'active' and n.expires_at is not null));
    end if;
    if tg_op <> 'INSERT' then
        perform insight_license_apply(array(
            select row(insight_day(o.expires_at), -1)::insight_day_count
              from old_rows o
             where o.state = 'active' and o.expires_at is not null));
    end if;
    return null;
end
$$;

create trigger licenses_insights_insert after insert on licenses
    referencing new table as new_rows
    for each statement execute function insight_licenses_changed();
create trigger licenses_insights_update after update on licenses
    referencing old table as old_rows new table as new_rows
    for each statement execute function insight_licenses_changed();
create trigger licenses_insights_delete after delete on licenses
    referencing old table as old_rows
    for each statement execute function insight_licenses_changed();

-- What pages read -------------------------------------------------------------

-- A partner's deadlines met and missed per UTC month, from the month of
-- `p_from` to the month of `p_now`. A deadline counts as met in the month the issue was
-- resolved before it, and as missed in the month it passed unmet: in the
-- current month only deadlines already past count, so the open issues
-- whose deadline is still to come this month are taken off. Row-level
-- security applies as to the caller's own query.
create function partner_deadline_trend(p_partner_id bigint, p_from date, p_now timestamptz)
returns table (month date, met bigint, missed bigint)
language sql stable as $$
    select m.month::date,
           coalesce(d.met, 0)::bigint,
           coalesce(d.due_unmet, 0)::bigint
             - case when m.month::date = insight_month(p_now) then
                   (select count(*) from issues i
                     where i.partner_id = p_partner_id and i.state = 'open'
                       and i.deadline_at > p_now
                       and i.deadline_at < (insight_month(p_now) + interval '1 month') at time zone 'UTC')
               else 0 end
      from generate_series(date_trunc('month', p_from::timestamp), insight_month(p_now)::timestamp,
                           interval '1 month') m (month)
      left join insight_partner_deadlines d on d.partner_id = p_partner_id and d.month = m.month::date
     order by 1
$$;

-- Every count afresh from the rows themselves: fills the tables when this
-- migration runs on a database that has data, and is what the tests hold
-- the triggers' running counts against.
create function insight_rebuild() returns void
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    truncate insight_issue_days, insight_partner_deadlines, insight_application_months,
             insight_decision_hours, insight_partner_mix, insight_license_expiry;
    perform insight_issue_apply(array(
        select f from issues i,
               insight_issue_facts(i.partner_id, i.severity, i.state, i.created_at,
                                   i.resolved_at, i.deadline_at, 1) f));
    perform insight_application_apply(array(
        select f from applications a,
               insight_application_facts(a.state, a.partner_type, a.stages, a.created_at,
                   coalesce(a.decided_at, a.submitted_at, a.created_at), 1) f));
    perform insight_event_apply(array(
        select row(insight_month(e.occurred_at),
                   (e.to_state = 'submitted' and e.submission = 1)::integer,
                   (e.to_state = 'approved')::integer,
                   (e.to_state = 'rejected')::integer,
                   case when e.to_state in ('approved', 'rejected', 'changes_requested') then
                       business_hours_between(e.submitted_before, e.occurred_at)
                   end,
                   1)::insight_event_fact
          from (select ev.*,
                       row_number() over (partition by ev.partner_id, ev.application_id, ev.to_state = 'submitted'
                                          order by ev.occurred_at, ev.id) as submission,
                       max(ev.occurred_at) filter (where ev.to_state = 'submitted')
                           over (partition by ev.partner_id, ev.application_id order by ev.occurred_at, ev.id
                                 rows between unbounded preceding and 1 preceding) as submitted_before
                  from application_events ev) e));
    perform insight_license_apply(array(
        select row(insight_day(l.expires_at), 1)::insight_day_count
          from licenses l
         where l.state = 'active' and l.expires_at is not null));
end
$$;

select insight_rebuild();
-- Only the portal's own (privileged) sessions may start a recount.
revoke execute on function insight_rebuild() from public;

-- A partner reads its own trend (row-level security); the program-wide
-- counts are read on the staff side only.
alter table insight_partner_deadlines enable row level security;
alter table insight_partner_deadlines force row level security;
create policy tenant_isolation on insight_partner_deadlines to portal_tenant
    using (partner_id = current_partner_id()) with check (partner_id = current_partner_id());
create policy privileged on insight_partner_deadlines to current_user using (true) with check (true);
grant select on insight_partner_deadlines to portal_tenant;
