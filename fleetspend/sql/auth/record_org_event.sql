-- Audits a support engineer's action in one organization: org_id, actor_id, action and
-- detail (JSON text).
insert into audit_events (org_id, actor_kind, actor_id, action, detail)
values (:org_id, 'staff', :actor_id, :action, cast(:detail as jsonb))
