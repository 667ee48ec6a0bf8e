-- A partner page may start from a session the portal remembered instead of
-- reading it again. The remembered copy carries a fingerprint of everything
-- the page was given (user, address, name, staff role, verification,
-- organisation and role in it, CSRF token), and the page's own transaction
-- first confirms, in the round trip that opens it, that the session still
-- stands exactly so. Anything that changed (signed out, disabled, removed
-- from the organisation, a message waiting, idle too long) fails the
-- confirmation and the session is read again.

create function session_fingerprint(
    p_user_id bigint, p_email text, p_name text, p_staff_role text, p_email_verified boolean,
    p_partner_id bigint, p_member_role text, p_csrf_token text)
returns text
language sql stable as $$
    select md5(row(p_user_id, p_email, p_name, p_staff_role, p_email_verified,
                   p_partner_id, p_member_role, p_csrf_token)::text)
$$;

-- True if session `p_session_id` still stands as fingerprinted; raises
-- `PPS01` otherwise, so that a transaction opened with it does not begin.
create function session_confirm(
    p_session_id bigint, p_fingerprint text, p_now timestamptz, p_idle_since timestamptz)
returns boolean
language plpgsql stable as $$
begin
    perform 1
       from sessions s
       join users u on u.id = s.user_id
       left join partner_members m on m.user_id = u.id
      where s.id = p_session_id
        and u.disabled_at is null
        and s.flash is null
        and not s.second_factor_pending
        and s.expires_at > p_now
        and s.last_seen_at > p_idle_since
        and session_fingerprint(u.id, u.email, u.name, u.staff_role,
                                u.email_verified_at is not null,
                                m.partner_id, m.role, s.csrf_token) = p_fingerprint;
    if not found then
        raise exception 'the session changed since it was remembered' using errcode = 'PPS01';
    end if;
    return true;
end
$$;
