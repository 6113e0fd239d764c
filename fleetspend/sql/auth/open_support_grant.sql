-- Opens a support grant for org_id with its ticket and reason, lasting seconds; the database
-- writes its audit event with it (migration 0010). Returns the grant's row.
select *
from fleetspend_auth.open_support_grant(:org_id, :ticket, :reason,
                                        make_interval(secs => :seconds))
