-- Moves the watermark to the last change claimed, change_id (ids restart when the seed empties
-- the tables, hence no greatest()); returns folded_change_id.
update rollup_state
set refreshed_at = now(),
    folded_change_id = case when cast(:change_id as bigint) > 0 then :change_id
                            else folded_change_id end
returning folded_change_id
