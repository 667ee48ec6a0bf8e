-- What partner pages read about their organisation, as SQL functions: a
-- module's loader selects from its function, and the dashboard joins all of
-- them into one statement (one round trip where it made six). Each is one
-- `select` in LANGUAGE sql, neither STRICT nor SECURITY DEFINER, so the
-- planner inlines it into the calling statement (the same index plans as
-- before) and row-level security applies as to the caller's own query.

-- Where an organisation stands: its application state and whether it
-- accepted the current agreement version.
create function partner_standing(p_partner_id bigint)
returns table (application_state text, agreement_version text, agreement_accepted boolean)
language sql stable as $$
    select (select a.state from applications a where a.partner_id = p_partner_id),
           v.version,
           exists (select 1 from agreement_acceptances aa
                    where aa.partner_id = p_partner_id and aa.version_id = v.id)
      from agreement_versions v
     order by v.published_at desc, v.id desc
     limit 1
$$;

-- The licenses of the organisation (row-level security) at `p_now`.
create function license_counts(p_now timestamptz)
returns table (active bigint, pending bigint, nearest_expiry timestamptz)
language sql stable as $$
    select count(*) filter (where state = 'active' and expires_at > p_now),
           count(*) filter (where state = 'pending'),
           min(expires_at) filter (where state = 'active' and expires_at > p_now)
      from licenses
$$;

-- The issue scorecard at `p_now` over the window starting at `p_since`:
-- deadlines met and missed, and where open issues stand. Of the
-- organisation under row-level security, of every partner on the
-- privileged path.
create function issue_scorecard(p_now timestamptz, p_since timestamptz)
returns table (open bigint, overdue bigint, untriaged bigint, met bigint, missed bigint)
language sql stable as $$
    select count(*) filter (where state = 'open'),
           count(*) filter (where state = 'open' and deadline_at <= p_now),
           count(*) filter (where state = 'open' and severity is null),
           count(*) filter (where resolved_at >= p_since and resolved_at < deadline_at),
           count(*) filter (where deadline_at >= p_since and deadline_at <= p_now
                              and (resolved_at is null or resolved_at >= deadline_at))
      from issues
     where partner_id is not null
       and (state = 'open' or resolved_at >= p_since or deadline_at >= p_since)
$$;
