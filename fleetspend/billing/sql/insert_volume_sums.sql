-- Adds a later price list's pass to volume_sums (volume_sums.sql follows).
insert into volume_sums
