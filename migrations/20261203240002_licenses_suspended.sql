-- A suspended partner's active licenses are suspended with it (PRODUCT.md
-- §5): no reminders, no renewal, shown as suspended. Reinstatement makes
-- `active` again those whose term has not ended; the others become `lapsed`.

alter table licenses drop constraint licenses_state_check;
alter table licenses add constraint licenses_state_check
    check (state in ('pending', 'active', 'rejected', 'revoked', 'lapsed', 'suspended'));

alter table licenses drop constraint licenses_check;
alter table licenses add constraint licenses_issued_check
    check (state not in ('active', 'revoked', 'lapsed', 'suspended')
           or (license_key is not null and issued_at is not null and expires_at is not null));

-- When the partner's suspension suspended it; null otherwise.
alter table licenses add column suspended_at timestamptz;
alter table licenses add constraint licenses_suspended_at_check
    check ((state = 'suspended') = (suspended_at is not null));

-- A suspended license keeps its product's slot, so reinstatement can always
-- make it active again.
drop index licenses_one_per_product;
create unique index licenses_one_per_product on licenses (partner_id, product)
    where state in ('pending', 'active', 'suspended');

-- The staff list of licenses in their term shows the suspended ones too.
drop index licenses_active_expiry;
create index licenses_active_expiry on licenses (expires_at, id) where state in ('active', 'suspended');
