-- The rows of staged_volume_usage that cannot have happened: hours after current_hour, or
-- more GB-hours than the volume's size accrues in an hour.
select staged.line, staged.volume_id, staged.hour_at, staged.gb_hours, volumes.size_gb,
       staged.hour_at > :current_hour as is_future
from staged_volume_usage as staged
join volumes using (org_id, volume_id)
where staged.hour_at > :current_hour
   or staged.gb_hours > volumes.size_gb
order by staged.line
