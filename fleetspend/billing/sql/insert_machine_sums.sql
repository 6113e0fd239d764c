-- Adds a later price list's pass to machine_sums (machine_sums.sql follows).
insert into machine_sums
