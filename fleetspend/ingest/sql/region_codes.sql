-- Every region's code.
select region_code from regions
