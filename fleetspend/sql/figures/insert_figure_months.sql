-- The monthly meter rows of the figure_orgs for month_date, summed again from the month's
-- meter rows (month_date to next_month_date).
insert into rollup_usage_monthly (
    org_id, month_date, app_id, region_code, preset_code, product,
    consumed_quantity, pricing_quantity, amount_precise, day_rows
)
select org_id, cast(:month_date as date), app_id, region_code, preset_code, product,
       sum(consumed_quantity), sum(pricing_quantity), sum(amount_precise), count(*)
from rollup_usage_daily
where org_id in (select org_id from figure_orgs)
  and usage_date >= :month_date and usage_date < :next_month_date
group by 1, 2, 3, 4, 5, 6
order by 1, 3
