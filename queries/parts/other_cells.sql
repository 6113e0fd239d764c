-- Part of a statement, put in place of an "include" naming it: the "other" series' cells of a
-- spend statement that keeps some series and folds the rest into one: per period (grain), the
-- organization's spend in [start_date, end_date) from rollup_org_daily minus the kept cells'.
-- Reads the statement's own kept_cells (period_start_date, quantity) and kept (hidden: how many
-- series "other" holds); no rows when nothing is hidden, none for a period with nothing left.
-- Columns: period_start_date, series_key ('__other__'), quantity (unrounded dollars).
select
    period_totals.period_start_date,
    '__other__' as series_key,
    period_totals.quantity - coalesce(sum(kept_cells.quantity), 0) as quantity
from (
    select
        cast(date_trunc(:grain, cast(usage_date as timestamp)) as date) as period_start_date,
        sum(amount_precise) as quantity
    from rollup_org_daily
    where org_id = :org_id
      and usage_date >= :start_date
      and usage_date < :end_date
    group by 1
) as period_totals
left join kept_cells on kept_cells.period_start_date = period_totals.period_start_date
where (select hidden from kept) > 0
group by period_totals.period_start_date, period_totals.quantity
having period_totals.quantity - coalesce(sum(kept_cells.quantity), 0) <> 0
