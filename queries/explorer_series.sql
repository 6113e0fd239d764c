-- One organization's spend or usage per period and series for the explorer's stacked chart:
-- a series is a value (or pair of values) of one or two dimensions; the biggest :top series
-- are kept and the rest folded into one "other" series, here, so the page receives the cells
-- it draws (a few hundred rows where one per period and value would be tens of thousands).
-- Params: org_id; start_date, end_date (exclusive); grain: 'day', 'week' (ISO) or 'month';
-- whole_from, whole_until: the months whose monthly rollup rows lie wholly inside the range
-- (readmodels.whole_months), read from the monthly rollup when grain is 'month' (both equal
-- end_date otherwise, or when there are none); daily_source: the narrowest rollups
-- holding every dimension grouped or filtered on ('team', 'team_region', 'app_region',
-- 'region_size' or 'meter', see readmodels.daily_source; the first three only for spend and
-- machine hours); measure: 'spend',
-- 'machine_hours', 'egress_gb' or 'volume_gb_hours';
-- dimension_1, dimension_2: each one of app, team, region, continent, preset, product
-- ('none' for no second one); app_ids, team_ids (bigint[]), region_codes, continents,
-- preset_codes, products (text[]): keep only these keys of each dimension, null keeps all;
-- top: how many series to keep (null keeps all; a single series left over is kept too);
-- with_cells: false returns the series alone (a period's totals per series).
-- Returns two kinds of rows (kind): first 'series', one per series kept, biggest first:
-- series_key ('key', or 'key|key2' with a second dimension), series_label, series_rank (1 =
-- biggest over the range), hidden (how many series "other" holds), quantity (the series'
-- total over the range); then 'cell', by period and
-- within it by series key: period_start_date, series_key ('__other__' for the folded
-- series), quantity (the measure in the cell: machine-hours, GB or GB-hours; for 'spend' the
-- unrounded dollars, NUMERIC).
-- The preset key of usage without a machine size (volumes) is 'no-size'.
-- rows carrying every dimension: the meter rows (or, for daily_source 'region_size', the
-- narrow rows without apps) of the days outside whole months and of the whole months
with meter_usage as (
    select
        cast(date_trunc(:grain, cast(usage_date as timestamp)) as date) as period_start_date,
        app_id,
        region_code,
        preset_code,
        product,
        consumed_quantity,
        amount_precise
    from rollup_usage_daily
    where :daily_source = 'meter'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select
        cast(date_trunc(:grain, cast(usage_date as timestamp)) as date),
        null,
        region_code,
        preset_code,
        product,
        consumed_quantity,
        amount_precise
    from rollup_region_size_daily
    where :daily_source = 'region_size'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select month_date, app_id, region_code, preset_code, product, consumed_quantity,
           amount_precise
    from rollup_usage_monthly
    where :daily_source = 'meter'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
    union all
    select month_date, null, region_code, preset_code, product, consumed_quantity,
           amount_precise
    from rollup_region_size_monthly
    where :daily_source = 'region_size'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
),

-- the measure of each row (machine runtime in seconds); null where the measure does not
-- apply to the product (rows are aggregated once, at the end, by the dimensions asked for). For
-- daily_source 'app_region', 'team_region' and 'team' the rows are the per-app (or per-team)
-- ones, spend or machine runtime only; a row carries its team when it has no app.
measured_usage as (
    select
        period_start_date,
        app_id,
        cast(null as bigint) as team_id,
        region_code,
        preset_code,
        product,
        amount_precise,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then
                case when product = 'machine_runtime' then consumed_quantity end
            when 'egress_gb' then
                case when product in ('egress_internet', 'egress_private')
                    then consumed_quantity end
            when 'volume_gb_hours' then
                case when product = 'volume' then consumed_quantity end
        end as quantity
    from meter_usage
    union all
    select
        cast(date_trunc(:grain, cast(usage_date as timestamp)) as date),
        app_id,
        null,
        region_code,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_app_region_daily
    where :daily_source = 'app_region'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select
        month_date,
        app_id,
        null,
        region_code,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_app_region_monthly
    where :daily_source = 'app_region'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
    union all
    select
        cast(date_trunc(:grain, cast(usage_date as timestamp)) as date),
        null,
        team_id,
        region_code,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_team_region_daily
    where :daily_source = 'team_region'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select
        month_date,
        null,
        team_id,
        region_code,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_team_region_monthly
    where :daily_source = 'team_region'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
    union all
    select
        cast(date_trunc(:grain, cast(usage_date as timestamp)) as date),
        null,
        team_id,
        null,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_team_daily
    where :daily_source = 'team'
      and org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
      and not (usage_date >= :whole_from and usage_date < :whole_until)
    union all
    select
        month_date,
        null,
        team_id,
        null,
        null,
        null,
        case :measure when 'machine_hours' then runtime_amount_precise else amount_precise end,
        case :measure
            when 'spend' then amount_precise
            when 'machine_hours' then runtime_seconds
        end
    from rollup_team_monthly
    where :daily_source = 'team'
      and org_id = :org_id
      and month_date >= :whole_from
      and month_date < :whole_until
),

-- one cell per period and value (or pair of values), each value keyed by its key as text
-- (an id as text): one hashed pass over the rows; machine runtime is summed in seconds and
-- turned into hours once per cell
cells as (
    select
        measured_usage.period_start_date,
        keys.key_1,
        keys.key_2,
        case :measure
            when 'machine_hours' then sum(measured_usage.quantity) / 3600
            else sum(measured_usage.quantity)
        end as quantity
    from measured_usage
    -- the per-team rows have no app to look up
    left join apps
        on :daily_source not in ('team', 'team_region')
        and apps.org_id = :org_id and apps.app_id = measured_usage.app_id
    left join regions on regions.region_code = measured_usage.region_code
    cross join lateral (
        select
            case :dimension_1
                when 'app' then cast(measured_usage.app_id as text)
                when 'team' then cast(coalesce(measured_usage.team_id, apps.team_id) as text)
                when 'region' then measured_usage.region_code
                when 'continent' then regions.continent
                when 'preset' then coalesce(nullif(measured_usage.preset_code, ''), 'no-size')
                when 'product' then measured_usage.product
            end as key_1,
            case :dimension_2
                when 'app' then cast(measured_usage.app_id as text)
                when 'team' then cast(coalesce(measured_usage.team_id, apps.team_id) as text)
                when 'region' then measured_usage.region_code
                when 'continent' then regions.continent
                when 'preset' then coalesce(nullif(measured_usage.preset_code, ''), 'no-size')
                when 'product' then measured_usage.product
            end as key_2
    ) as keys
    where measured_usage.quantity is not null
      and (cast(:app_ids as bigint[]) is null
           or measured_usage.app_id = any(cast(:app_ids as bigint[])))
      and (cast(:team_ids as bigint[]) is null
           or coalesce(measured_usage.team_id, apps.team_id)
              = any(cast(:team_ids as bigint[])))
      and (cast(:region_codes as text[]) is null
           or measured_usage.region_code = any(cast(:region_codes as text[])))
      and (cast(:continents as text[]) is null
           or regions.continent = any(cast(:continents as text[])))
      and (cast(:preset_codes as text[]) is null
           or coalesce(nullif(measured_usage.preset_code, ''), 'no-size')
              = any(cast(:preset_codes as text[])))
      and (cast(:products as text[]) is null
           or measured_usage.product = any(cast(:products as text[])))
    group by 1, 2, 3
),

-- a series' key is its value's key, or both values' keys joined by '|' when there is a second
-- dimension ('None' for a missing one)
keyed_cells as (
    select
        cells.*,
        case
            when :dimension_2 = 'none' then coalesce(cells.key_1, 'None')
            else coalesce(cells.key_1, 'None') || '|' || coalesce(cells.key_2, 'None')
        end as series_key
    from cells
),

-- every series over the range, biggest first (ties by key, in byte order)
ranked_series as (
    select
        series_key,
        min(key_1) as key_1,
        min(key_2) as key_2,
        sum(quantity) as quantity,
        row_number() over (order by sum(quantity) desc, series_key collate "C") as series_rank,
        count(*) over () as series_count
    from keyed_cells
    group by series_key
),

folded_series as (
    select
        ranked_series.*,
        cast(:top as bigint) is null
        or ranked_series.series_count <= cast(:top as bigint) + 1
        or ranked_series.series_rank <= cast(:top as bigint) as is_kept
    from ranked_series
),

kept as (
    select
        coalesce(array_agg(series_key) filter (where is_kept), array[]::text[]) as series_keys,
        coalesce(bool_and(is_kept), true) as keeps_all,
        count(*) filter (where not is_kept) as hidden
    from folded_series
),

-- the cells summed per period under their series or "other": the chart's cells. Within a
-- period the cells come by series key, in byte order, "other" last: the order the page splits
-- the rounded total in
folded_cells as (
    select
        keyed_cells.period_start_date,
        case
            when (select keeps_all from kept) then keyed_cells.series_key
            when keyed_cells.series_key = any(cast((select series_keys from kept) as text[]))
                then keyed_cells.series_key
            else '__other__'
        end as series_key,
        sum(keyed_cells.quantity) as quantity
    from keyed_cells
    group by 1, 2
),

-- the kept series' labels, looked up for them alone
labels as (
    select
        folded_series.series_key,
        folded_series.series_rank,
        folded_series.quantity,
        case
            when :dimension_2 = 'none' then coalesce(named.label_1, 'None')
            else coalesce(named.label_1, 'None') || ' · ' || coalesce(named.label_2, 'None')
        end as series_label
    from folded_series
    left join apps as app_1
        on :dimension_1 = 'app' and app_1.org_id = :org_id
        and cast(app_1.app_id as text) = folded_series.key_1
    left join apps as app_2
        on :dimension_2 = 'app' and app_2.org_id = :org_id
        and cast(app_2.app_id as text) = folded_series.key_2
    -- teams are billing data: members read usage without team names
    left join teams as team_1
        on :dimension_1 = 'team' and team_1.org_id = :org_id
        and cast(team_1.team_id as text) = folded_series.key_1
    left join teams as team_2
        on :dimension_2 = 'team' and team_2.org_id = :org_id
        and cast(team_2.team_id as text) = folded_series.key_2
    left join regions as region_1 on region_1.region_code = folded_series.key_1
    left join regions as region_2 on region_2.region_code = folded_series.key_2
    left join products as product_1 on product_1.product = folded_series.key_1
    left join products as product_2 on product_2.product = folded_series.key_2
    cross join lateral (
        select
            case :dimension_1
                when 'app' then app_1.name
                when 'team' then team_1.name
                when 'region' then region_1.city
                when 'continent' then folded_series.key_1
                when 'preset' then
                    case when folded_series.key_1 = 'no-size' then 'no machine size'
                         else folded_series.key_1 end
                when 'product' then product_1.name
            end as label_1,
            case :dimension_2
                when 'app' then app_2.name
                when 'team' then team_2.name
                when 'region' then region_2.city
                when 'continent' then folded_series.key_2
                when 'preset' then
                    case when folded_series.key_2 = 'no-size' then 'no machine size'
                         else folded_series.key_2 end
                when 'product' then product_2.name
            end as label_2
    ) as named
    where folded_series.is_kept
),

-- two kinds of rows, so that nothing is joined per cell: the kept series, then the cells
final as (
    select
        'series' as kind,
        cast(null as date) as period_start_date,
        labels.series_key,
        labels.series_label,
        labels.series_rank,
        (select hidden from kept) as hidden,
        labels.quantity
    from labels
    union all
    select
        'cell',
        folded_cells.period_start_date,
        folded_cells.series_key,
        null,
        null,
        null,
        folded_cells.quantity
    from folded_cells
    where :with_cells
)

select kind, period_start_date, series_key, series_label, series_rank, hidden, quantity
from final
order by kind desc, series_rank, period_start_date, series_key = '__other__',
    series_key collate "C"
