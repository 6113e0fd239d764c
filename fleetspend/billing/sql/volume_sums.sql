-- One pass over the hourly volume rows of one price list's hours, [from_at, until_at)
-- (rating.stage_sums), after create_volume_sums.sql or insert_volume_sums.sql: per volume (and
-- per UTC day below month grain), as price list period_no, rated per row as the rated_usage
-- view does (18-decimal rounding per row). The grain's columns follow
-- (volume_sums_by_month.sql or volume_sums_by_day.sql), then the rows read
-- (volume_sums_from_usage.sql, or volume_sums_from_hours.sql for some hours only).
select volume_usage.org_id,
       volume_usage.volume_id,
       cast(:period_no as integer) as period_no,
       sum(volume_usage.gb_hours) as consumed_quantity,
       sum(round(volume_usage.gb_hours / :volume_conversion, 18)) as quantity,
       sum(round(volume_usage.gb_hours
                 * cast(:volume_price as numeric) / :volume_conversion, 18))
           as amount_precise,
