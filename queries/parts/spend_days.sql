-- Part of a statement, put in place of an "include" naming it: the organization's days with
-- any spend in [start_date, end_date) outside the whole months [whole_from, whole_until)
-- (both end_date: none), from rollup_org_daily, for a statement that looks rows up a day at
-- a time. Materialized by the statement (range_days as materialized) so that the rollup's key
-- is compared with a date as it is (row-level security lets only leakproof comparisons into
-- an index condition) and so that the planner knows how few they are (a generated series is
-- guessed at a thousand, which costs the statement enough to be compiled).
-- Columns: usage_date.
select distinct usage_date
from rollup_org_daily
where org_id = :org_id
  and usage_date >= :start_date
  and usage_date < :end_date
  and not (usage_date >= :whole_from and usage_date < :whole_until)
