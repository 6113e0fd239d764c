-- Audits a support engineer's action outside any organization: staff_user_id, action and
-- detail (JSON text).
insert into staff_audit_events (staff_user_id, action, detail)
values (:staff_user_id, :action, cast(:detail as jsonb))
