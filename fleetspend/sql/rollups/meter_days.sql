-- Every (org, day) with meter rows: org_id, usage_date.
select distinct org_id, usage_date from rollup_usage_daily order by 1, 2
