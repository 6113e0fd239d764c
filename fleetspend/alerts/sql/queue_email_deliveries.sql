-- An email delivery of each of alert_ids to the organization's recipients (if it has any).
insert into alert_deliveries (org_id, alert_id, channel, recipients)
select :org_id, new_alerts.alert_id, 'email', recipients.emails
from unnest(cast(:alert_ids as bigint[])) as new_alerts (alert_id)
cross join (select array_agg(email order by email) as emails from alert_email_recipients
            where org_id = :org_id) as recipients
where recipients.emails is not null
on conflict do nothing
