-- Who from support opened an organization's data, when, why, and how many pages they viewed.
-- Params: org_id. Returns: grant_id, engineer_name, engineer_email, support_ticket, reason,
-- granted_at, expires_at, revoked_at (UTC), pages_viewed, last_viewed_at; newest first.
with page_views as (
    select
        cast(detail ->> 'grant_id' as bigint) as grant_id,
        count(*) as pages_viewed,
        max(occurred_at) as last_viewed_at
    from audit_events
    where org_id = :org_id
      and action = 'support.page_viewed'
    group by 1
),

final as (
    select
        support_grants.grant_id,
        staff_users.name as engineer_name,
        staff_users.email as engineer_email,
        support_grants.support_ticket,
        support_grants.reason,
        support_grants.granted_at,
        support_grants.expires_at,
        support_grants.revoked_at,
        coalesce(page_views.pages_viewed, 0) as pages_viewed,
        page_views.last_viewed_at
    from support_grants
    inner join staff_users on staff_users.staff_user_id = support_grants.staff_user_id
    left join page_views on page_views.grant_id = support_grants.grant_id
    where support_grants.org_id = :org_id
)

select * from final
order by granted_at desc, grant_id desc
