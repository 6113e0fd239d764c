-- Statistics for staged_machine_usage_anchors (a temporary table has none until analyzed).
analyze staged_machine_usage_anchors
