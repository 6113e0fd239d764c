-- An organization's alert delivery log for its admins: the latest 200 attempts to send an
-- alert by email or webhook, with their outcome.
-- Params: org_id.
-- Returns: attempted_at, alert_title, channel, target (the webhook's name, or the email's
-- recipients), is_success, status_code, error, duration_ms, delivery_status; newest first.
with final as (
    select
        delivery_attempts.attempted_at,
        alerts.title as alert_title,
        alert_deliveries.channel,
        coalesce(alert_webhooks.name, array_to_string(alert_deliveries.recipients, ', '))
            as target,
        delivery_attempts.is_success,
        delivery_attempts.status_code,
        delivery_attempts.error,
        delivery_attempts.duration_ms,
        alert_deliveries.status as delivery_status,
        delivery_attempts.attempt_id
    from delivery_attempts
    inner join alert_deliveries
        on alert_deliveries.org_id = delivery_attempts.org_id
        and alert_deliveries.delivery_id = delivery_attempts.delivery_id
    inner join alerts
        on alerts.org_id = alert_deliveries.org_id
        and alerts.alert_id = alert_deliveries.alert_id
    left join alert_webhooks
        on alert_webhooks.org_id = alert_deliveries.org_id
        and alert_webhooks.webhook_id = alert_deliveries.webhook_id
    where delivery_attempts.org_id = :org_id
)

select * from final
order by attempted_at desc, attempt_id desc
limit 200
