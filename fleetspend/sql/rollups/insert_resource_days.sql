-- Continues batch.sql: the batch's per-resource daily rows from rated usage (per org, UTC
-- day, resource, product and preset). The hour range (from_at, until_at) and the org list
-- repeat the batch as plain predicates so that the planner prunes the usage partitions and
-- uses the (org_id, ...) indexes.
, fresh as (
    select
        rated_usage.org_id,
        cast(rated_usage.hour_at at time zone 'UTC' as date) as usage_date,
        rated_usage.resource_id,
        rated_usage.product,
        coalesce(rated_usage.preset_code, '') as preset_code,
        min(rated_usage.resource_kind) as resource_kind,
        min(rated_usage.app_id) as app_id,
        min(rated_usage.region_code) as region_code,
        sum(rated_usage.consumed_quantity) as consumed_quantity,
        sum(rated_usage.pricing_quantity) as pricing_quantity,
        sum(rated_usage.amount_precise) as amount_precise,
        max(rated_usage.hour_at) as last_hour_at
    from rated_usage
    inner join batch
        on batch.org_id = rated_usage.org_id
        and batch.usage_date = cast(rated_usage.hour_at at time zone 'UTC' as date)
    where rated_usage.hour_at >= :from_at
      and rated_usage.hour_at < :until_at
      and rated_usage.org_id = any(cast(:org_ids as bigint[]))
    group by 1, 2, 3, 4, 5
)

insert into rollup_resource_daily (
    org_id, usage_date, resource_id, product, preset_code, resource_kind, app_id, region_code,
    consumed_quantity, pricing_quantity, amount_precise, last_hour_at
)
select * from fresh
