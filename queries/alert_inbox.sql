-- One person's alert inbox in one organization: the latest 500 alerts, each with whether
-- this person has read, acknowledged or muted it (a mute silences one kind of alert of one
-- budget, or anomalies).
-- Params: org_id, user_id.
-- Returns: alert_id, kind, budget_id, budget_name, period_start_date, threshold_percent,
-- fired_at, title, explanation, link_page, link_params (jsonb), spent_cents, budget_cents,
-- forecast_cents, forecast_low_cents, forecast_high_cents, is_invoiced, is_read,
-- is_acknowledged, is_muted; newest first.
with person_receipts as (
    select alert_id, read_at, acknowledged_at
    from alert_receipts
    where org_id = :org_id
      and user_id = :user_id
),

person_mutes as (
    select kind, budget_id
    from alert_mutes
    where org_id = :org_id
      and user_id = :user_id
),

final as (
    select
        alerts.alert_id,
        alerts.kind,
        alerts.budget_id,
        budgets.name as budget_name,
        alerts.period_start_date,
        alerts.threshold_percent,
        alerts.fired_at,
        alerts.title,
        alerts.explanation,
        alerts.link_page,
        alerts.link_params,
        alerts.spent_cents,
        alerts.budget_cents,
        alerts.forecast_cents,
        alerts.forecast_low_cents,
        alerts.forecast_high_cents,
        alerts.is_invoiced,
        person_receipts.read_at is not null as is_read,
        person_receipts.acknowledged_at is not null as is_acknowledged,
        exists (
            select from person_mutes
            where person_mutes.kind = alerts.kind
              and person_mutes.budget_id is not distinct from alerts.budget_id
        ) as is_muted
    from alerts
    left join budgets on budgets.org_id = alerts.org_id and budgets.budget_id = alerts.budget_id
    left join person_receipts on person_receipts.alert_id = alerts.alert_id
    where alerts.org_id = :org_id
)

select * from final
order by fired_at desc, alert_id desc
limit 500
