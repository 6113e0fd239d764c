-- The memory a CPU kind allows per CPU: cpu_kind, min_memory_mb_per_cpu, max_memory_mb_per_cpu.
select cpu_kind, min_memory_mb_per_cpu, max_memory_mb_per_cpu from cpu_kinds
