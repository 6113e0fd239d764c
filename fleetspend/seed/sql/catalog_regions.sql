-- The regions machines can be seeded in (not retired): region_code, egress_group.
select region_code, egress_group from regions where not is_retired order by region_code
