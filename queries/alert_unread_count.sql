-- How many alerts of one organization one person has neither read nor muted.
-- Params: org_id, user_id. Returns one row: unread.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with final as (
    select count(*) as unread
    from alerts
    where alerts.org_id = :org_id
      and not exists (
          select from alert_receipts
          where alert_receipts.org_id = alerts.org_id
            and alert_receipts.alert_id = alerts.alert_id
            and alert_receipts.user_id = :user_id
      )
      and not exists (
          select from alert_mutes
          where alert_mutes.org_id = alerts.org_id
            and alert_mutes.user_id = :user_id
            and alert_mutes.kind = alerts.kind
            and alert_mutes.budget_id is not distinct from alerts.budget_id
      )
)

select * from final
