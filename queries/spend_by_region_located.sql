-- One organization's spend in one calendar month per region, with where the region is.
-- Params: org_id; month_date (the month's first day; a month in progress gives its spend
-- so far). Returns: region_code, city, country, continent, latitude, longitude,
-- amount_precise, amount_cents (rounded once, half up);
-- biggest first. Reads the per-region-size-and-product monthly rows, the smallest rollup that
-- holds the region (a few hundred rows a month where the meter rows are tens of thousands).
with region_spend as (
    select region_code, sum(amount_precise) as amount_precise
    from rollup_region_size_monthly
    where org_id = :org_id
      and month_date = :month_date
    group by region_code
),

final as (
    select
        regions.region_code,
        regions.city,
        regions.country,
        regions.continent,
        regions.latitude,
        regions.longitude,
        region_spend.amount_precise,
        cast(round(region_spend.amount_precise * 100) as bigint) as amount_cents
    from region_spend
    inner join regions on regions.region_code = region_spend.region_code
)

select * from final
order by amount_precise desc, region_code
