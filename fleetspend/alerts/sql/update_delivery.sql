-- A delivery after an attempt: one more attempt, its new status (pending, sent, failed) and
-- when to try again.
update alert_deliveries
set attempts = attempts + 1, status = :status, next_attempt_at = :next_attempt_at,
    sent_at = case when :status = 'sent' then now() end
where org_id = :org_id and delivery_id = :delivery_id
