-- A partner page may start from a session the portal remembered instead of
-- reading it again. The page's own transaction first confirms, in the
-- round trip that opens it, that the session still stands as remembered.
--
-- What a session was read with (the user's address, name, staff role,
-- verification, whether they are disabled, their organisation and role in
-- it) is summed up by `sessions.stamp`: the triggers below move the stamp
-- of every session of a user whenever any of that changes, whoever changes
-- it (a page, a staff member, another instance, a script). Confirming is
-- then one look at the session's own row.

alter table sessions add column stamp bigint not null default 0;

-- Security definer: membership changes are made in tenant transactions,
-- whose role may not touch sessions.
create function sessions_restamp() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
    if tg_table_name = 'users' then
        update sessions set stamp = stamp + 1 where user_id = new.id;
    else
        if tg_op <> 'INSERT' then
            update sessions set stamp = stamp + 1 where user_id = old.user_id;
        end if;
        if tg_op <> 'DELETE' and (tg_op = 'INSERT' or new.user_id <> old.user_id) then
            update sessions set stamp = stamp + 1 where user_id = new.user_id;
        end if;
    end if;
    return null;
end
$$;

create trigger users_restamp_sessions
    after update of email, name, staff_role, email_verified_at, disabled_at on users
    for each row
    when ((old.email, old.name, old.staff_role, old.email_verified_at, old.disabled_at)
          is distinct from
          (new.email, new.name, new.staff_role, new.email_verified_at, new.disabled_at))
    execute function sessions_restamp();

create trigger partner_members_restamp_sessions
    after insert or update or delete on partner_members
    for each row execute function sessions_restamp();

-- True if session `p_session_id` still stands as remembered with
-- `p_stamp`: same stamp, no message waiting, within its limits. Raises
-- `PPS01` otherwise, so that a statement calling it fails.
create function session_confirm(
    p_session_id bigint, p_stamp bigint, p_now timestamptz, p_idle_since timestamptz)
returns boolean
language plpgsql stable as $$
begin
    perform 1
       from sessions
      where id = p_session_id
        and stamp = p_stamp
        and flash is null
        and not second_factor_pending
        and expires_at > p_now
        and last_seen_at > p_idle_since;
    if not found then
        raise exception 'the session changed since it was remembered' using errcode = 'PPS01';
    end if;
    return true;
end
$$;
