-- Where an organization's alerts go: its email recipients and its webhooks (never their
-- secrets), one row each.
-- Params: org_id.
-- Returns: channel ('email' or 'webhook'), webhook_id (null for email), name, target (the
-- address or URL), is_enabled; emails first, each kind by name.
with final as (
    select
        'email' as channel,
        cast(null as bigint) as webhook_id,
        email as name,
        email as target,
        true as is_enabled
    from alert_email_recipients
    where org_id = :org_id
    union all
    select 'webhook', webhook_id, name, url, is_enabled
    from alert_webhooks
    where org_id = :org_id
)

select * from final
order by channel, name
