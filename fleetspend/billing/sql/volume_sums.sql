-- The first part of one pass over hourly volume rows (rating.stage_sums): creates volume_sums,
-- per volume and price list (and per UTC day below month grain), rated per row as the
-- rated_usage view does (18-decimal rounding per row). The grain's columns follow
-- (volume_sums_by_month.sql or volume_sums_by_day.sql), then the rows read
-- (volume_sums_from_usage.sql, or volume_sums_from_hours.sql for some hours only).
create temp table volume_sums on commit drop as
select volume_usage.org_id,
       volume_usage.volume_id,
       width_bucket(volume_usage.hour_at, cast(:starts_at as timestamptz[])) as period_no,
       sum(volume_usage.gb_hours) as consumed_quantity,
       sum(round(volume_usage.gb_hours / :volume_conversion, 18)) as quantity,
       sum(round(volume_usage.gb_hours
                 * (cast(:volume_prices as numeric[]))[
                       width_bucket(volume_usage.hour_at, cast(:starts_at as timestamptz[]))]
                 / :volume_conversion, 18)) as amount_precise,
