-- One organization's spend or usage per period and series for the explorer's stacked chart:
-- a series is a value (or pair of values) of one or two dimensions; the biggest :top series
-- are kept and the rest folded into one "other" series, here, so the page receives the cells
-- it draws (a few hundred rows where one per period and value would be tens of thousands).
-- Params: org_id; start_date, end_date (exclusive); grain: 'day', 'week' (ISO) or 'month';
-- whole_from, whole_until: the months whose monthly rollup rows lie wholly inside the range
-- (readmodels.whole_months), read from the monthly rollup when grain is 'month' (both equal
-- end_date otherwise, or when there are none); daily_source: the narrowest rollups
-- holding every dimension grouped or filtered on ('team', 'team_region', 'app_region',
-- 'region_size' or 'meter', see dimensions.daily_source; the first three only for spend and
-- machine hours); measure: 'spend',
-- 'machine_hours', 'egress_gb' or 'volume_gb_hours';
-- dimension_1, dimension_2: each a dimension of the registry (fleetspend/reads/dimensions.py:
-- app, team, region, continent, preset, product; 'none' for no second one); each dimension's
-- filter (app_ids, team_ids, region_codes, continents, preset_codes, products): keep only
-- these keys of it, null keeps all;
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
-- the rows of the rollups daily_source names: the days outside whole months and the whole
-- months; the measure of each row (machine runtime in seconds), null where the measure does
-- not apply to its product (the per-app and per-team rows hold spend and machine runtime)
with measured_usage as (
    select
        case
            when rollup_rows.is_monthly then rollup_rows.day
            else cast(date_trunc(:grain, cast(rollup_rows.day as timestamp)) as date)
        end as period_start_date,
        rollup_rows.app_id,
        rollup_rows.team_id,
        rollup_rows.region_code,
        rollup_rows.preset_code,
        rollup_rows.product,
        case :measure
            when 'spend' then rollup_rows.amount_precise
            when 'machine_hours' then rollup_rows.runtime_seconds
            when 'egress_gb' then
                case when rollup_rows.product in ('egress_internet', 'egress_private')
                    then rollup_rows.consumed_quantity end
            when 'volume_gb_hours' then
                case when rollup_rows.product = 'volume' then rollup_rows.consumed_quantity end
        end as quantity
    from include(rollup_rows) as rollup_rows
),

-- a dimension row per row: a row carries its app's team when it has no team of its own
dimension_rows as (
    select
        measured_usage.period_start_date,
        measured_usage.app_id,
        coalesce(measured_usage.team_id, apps.team_id) as team_id,
        measured_usage.region_code,
        regions.continent,
        measured_usage.preset_code,
        measured_usage.product,
        measured_usage.quantity
    from measured_usage
    -- the per-team rows have no app to look up
    left join apps
        on :daily_source not in ('team', 'team_region')
        and apps.org_id = :org_id and apps.app_id = measured_usage.app_id
    left join regions on regions.region_code = measured_usage.region_code
),

-- one cell per period and value (or pair of values), each value keyed by its key as text
-- (an id as text): one hashed pass over the rows; machine runtime is summed in seconds and
-- turned into hours once per cell
cells as (
    select
        period_start_date,
        dimension_key(:dimension_1) as key_1,
        dimension_key(:dimension_2) as key_2,
        case :measure
            when 'machine_hours' then sum(quantity) / 3600
            else sum(quantity)
        end as quantity
    from dimension_rows
    where quantity is not null
      and dimension_filters()
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
            when :dimension_2 = 'none' then coalesce(label_1.label, 'None')
            else coalesce(label_1.label, 'None') || ' · ' || coalesce(label_2.label, 'None')
        end as series_label
    from folded_series
    left join dimension_labels() as label_1
        on label_1.dimension = :dimension_1 and label_1.key = folded_series.key_1
    left join dimension_labels() as label_2
        on label_2.dimension = :dimension_2 and label_2.key = folded_series.key_2
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
