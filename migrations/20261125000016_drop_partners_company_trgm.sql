-- Every search of partners by name now matches the lowered copy
-- (`company_name_folded`, with its own trigram index): this index on the
-- name as typed is no longer read by any statement.
drop index partners_company_trgm;
