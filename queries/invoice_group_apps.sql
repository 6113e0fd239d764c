-- The apps behind one group of an invoice's lines, dearest first: what each app's machines
-- and volumes were allocated on those lines, as written when the invoice was drafted
-- (invoice_group_amounts, migration 0020; billing verify proves it equals the allocations).
-- Params: org_id, invoice_id, group_by, group_key (as in invoice_group_total).
-- Returns: app_id, app_name, team_id, team_name, machines, volumes, amount_cents.
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
with app_amounts as (
    select
        app_id,
        machines,
        volumes,
        amount_cents
    from invoice_group_amounts
    where org_id = :org_id
      and invoice_id = :invoice_id
      and group_by = :group_by
      and group_key = :group_key
),

final as (
    select
        app_amounts.app_id,
        apps.name as app_name,
        apps.team_id,
        teams.name as team_name,
        app_amounts.machines,
        app_amounts.volumes,
        app_amounts.amount_cents
    from app_amounts
    inner join apps on apps.org_id = :org_id and apps.app_id = app_amounts.app_id
    inner join teams on teams.org_id = :org_id and teams.team_id = apps.team_id
)

select * from final
order by amount_cents desc, app_name
