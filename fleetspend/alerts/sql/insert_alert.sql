-- One alert, unless it fired already (a budget's threshold once per month, an anomaly once):
-- its alert_id, or no row.
insert into alerts (org_id, kind, budget_id, period_start_date, threshold_percent,
                    anomaly_key, spent_cents, budget_cents, forecast_cents, forecast_low_cents,
                    forecast_high_cents, is_invoiced, title, explanation, link_page,
                    link_params)
values (:org_id, :kind, :budget_id, :period_start_date, :threshold_percent, :anomaly_key,
        :spent_cents, :budget_cents, :forecast_cents, :forecast_low_cents,
        :forecast_high_cents, :is_invoiced, :title, :explanation, :link_page,
        cast(:link_params as jsonb))
on conflict do nothing
returning alert_id
