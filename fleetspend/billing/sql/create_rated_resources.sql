-- Creates rated_resources (rating.stage_month): the staged sums priced
-- (resource_products.sql, which follows this "with"), summed per line and resource
-- (rated_resources.sql, which ends the statement).
create temp table rated_resources on commit drop as
with
