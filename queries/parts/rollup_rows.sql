-- Part of a statement, put in place of an "include" naming it: the rows of the rollups that
-- daily_source names (dimensions.daily_source) over one organization's range, in one shape:
-- the days in [start_date, end_date) outside the whole months [whole_from, whole_until) from
-- the daily rollup, the whole months from the monthly one (readmodels.whole_months).
-- The filters reach each rollup's own index: the planner pushes them into every branch, where
-- source and is_monthly are constants, and drops the other sources' branches.
-- Columns: is_monthly (day is then the month's first day), day, then the dimension row's own
-- columns a rollup holds (app_id, team_id, region_code, preset_code, product; null where it
-- has none), consumed_quantity (the meter rows alone), runtime_seconds (machine runtime: the
-- meter rows' runtime quantity, the per-app and per-team rows' own) and amount_precise.
select
    rollup_rows.is_monthly,
    rollup_rows.day,
    rollup_rows.app_id,
    rollup_rows.team_id,
    rollup_rows.region_code,
    rollup_rows.preset_code,
    rollup_rows.product,
    rollup_rows.consumed_quantity,
    case
        when rollup_rows.source not in ('meter', 'region_size') then rollup_rows.runtime_seconds
        when rollup_rows.product = 'machine_runtime' then rollup_rows.consumed_quantity
    end as runtime_seconds,
    rollup_rows.amount_precise
from (
    select
        'meter' as source, false as is_monthly, org_id, usage_date as day, app_id,
        cast(null as bigint) as team_id, region_code, preset_code, product, consumed_quantity,
        cast(null as numeric) as runtime_seconds, amount_precise
    from rollup_usage_daily
    union all
    select 'meter', true, org_id, month_date, app_id, null, region_code, preset_code, product,
        consumed_quantity, null, amount_precise
    from rollup_usage_monthly
    union all
    select 'region_size', false, org_id, usage_date, null, null, region_code, preset_code,
        product, consumed_quantity, null, amount_precise
    from rollup_region_size_daily
    union all
    select 'region_size', true, org_id, month_date, null, null, region_code, preset_code,
        product, consumed_quantity, null, amount_precise
    from rollup_region_size_monthly
    union all
    select 'app_region', false, org_id, usage_date, app_id, null, region_code, null, null,
        null, runtime_seconds, amount_precise
    from rollup_app_region_daily
    union all
    select 'app_region', true, org_id, month_date, app_id, null, region_code, null, null,
        null, runtime_seconds, amount_precise
    from rollup_app_region_monthly
    union all
    select 'team_region', false, org_id, usage_date, null, team_id, region_code, null, null,
        null, runtime_seconds, amount_precise
    from rollup_team_region_daily
    union all
    select 'team_region', true, org_id, month_date, null, team_id, region_code, null, null,
        null, runtime_seconds, amount_precise
    from rollup_team_region_monthly
    union all
    select 'team', false, org_id, usage_date, null, team_id, null, null, null, null,
        runtime_seconds, amount_precise
    from rollup_team_daily
    union all
    select 'team', true, org_id, month_date, null, team_id, null, null, null, null,
        runtime_seconds, amount_precise
    from rollup_team_monthly
) as rollup_rows
where rollup_rows.source = :daily_source
  and rollup_rows.org_id = :org_id
  and case
      when rollup_rows.is_monthly then
          rollup_rows.day >= :whole_from and rollup_rows.day < :whole_until
      else rollup_rows.day >= :start_date and rollup_rows.day < :end_date
          and not (rollup_rows.day >= :whole_from and rollup_rows.day < :whole_until)
  end
