-- Creates period_runtime_rates: the runtime rates (a small view) of the price lists
-- price_list_ids, computed once for the staged sums (rating.stage_sums).
create temp table period_runtime_rates on commit drop as
select * from runtime_rates where price_list_id = any(:price_list_ids)
