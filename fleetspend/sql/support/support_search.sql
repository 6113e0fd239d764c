-- The support directory's matches for term, at most row_limit of each kind, exact matches
-- first (fleetspend_auth.support_search): kind, identifier, label, org_id, org_slug, org_name,
-- is_exact. A customer's scope finds only their own organizations' entities.
select kind, identifier, label, org_id, org_slug, org_name, is_exact
from fleetspend_auth.support_search(:term, :row_limit)
