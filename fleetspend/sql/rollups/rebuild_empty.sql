-- Empties every rebuilt rollup (rollups.REBUILT_TABLES), the organizations' latest hours and
-- the anomaly findings.
truncate rollup_resource_daily, rollup_usage_daily, rollup_usage_monthly, rollup_org_daily,
    rollup_app_region_daily, rollup_app_region_monthly,
    rollup_app_region_size_daily, rollup_app_region_size_monthly,
    rollup_region_size_daily, rollup_region_size_monthly,
    rollup_team_region_size_daily, rollup_team_region_size_monthly,
    rollup_team_region_daily, rollup_team_region_monthly,
    rollup_team_daily, rollup_team_monthly,
    rollup_app_region_series, rollup_org_latest_hour, rollup_anomaly_findings
