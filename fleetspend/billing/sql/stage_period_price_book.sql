-- Creates period_price_book: the price book (a small view) of the price lists price_list_ids,
-- computed once for the staged sums (rating.stage_sums).
create temp table period_price_book on commit drop as
select * from price_book where price_list_id = any(:price_list_ids)
