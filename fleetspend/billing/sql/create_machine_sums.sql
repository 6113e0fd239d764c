-- Creates machine_sums from the first price list's pass (machine_sums.sql follows).
create temp table machine_sums on commit drop as
