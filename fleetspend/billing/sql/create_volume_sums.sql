-- Creates volume_sums from the first price list's pass (volume_sums.sql follows).
create temp table volume_sums on commit drop as
