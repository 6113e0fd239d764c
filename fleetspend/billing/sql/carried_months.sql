-- The carried months in order, each with its organizations: period_start_date, org_ids.
select period_start_date, array_agg(org_id order by org_id) as org_ids
from carried_periods
group by 1
order by 1
