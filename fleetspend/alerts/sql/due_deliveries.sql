-- The pending deliveries due at now, oldest first, at most batch: org_id, delivery_id.
select org_id, delivery_id from alert_deliveries
where status = 'pending' and next_attempt_at <= :now
order by next_attempt_at, delivery_id
limit :batch
