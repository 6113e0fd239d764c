-- Each preset's CPUs and the memory per CPU its CPU kind allows: preset_code, cpus, min_memory_mb_per_cpu, max_memory_mb_per_cpu.
select preset_code, cpus, min_memory_mb_per_cpu, max_memory_mb_per_cpu
from presets
join cpu_kinds using (cpu_kind)
