-- Every VM size: preset_code, cpu_kind, cpus, base_memory_mb.
select preset_code, cpu_kind, cpus, base_memory_mb from presets order by preset_code
