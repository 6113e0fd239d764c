-- An organization's budgets in force (not archived), with what each covers by name and the
-- months whose amount differs from the usual one.
-- Params: org_id.
-- Returns: budget_id, name, scope_kind ('organization', 'team', 'app'), team_id, app_id,
-- scope_label, amount_cents, actual_thresholds, forecast_thresholds (smallint[], percent),
-- month_amounts (jsonb: month's first day as 'YYYY-MM-DD' -> cents), updated_at; by name.
with month_amounts as (
    select
        budget_id,
        jsonb_object_agg(cast(month_date as text), amount_cents) as month_amounts
    from budget_month_amounts
    where org_id = :org_id
    group by budget_id
),

final as (
    select
        budgets.budget_id,
        budgets.name,
        budgets.scope_kind,
        budgets.team_id,
        budgets.app_id,
        case budgets.scope_kind
            when 'team' then teams.name
            when 'app' then apps.name
            else 'All apps'
        end as scope_label,
        budgets.amount_cents,
        budgets.actual_thresholds,
        budgets.forecast_thresholds,
        coalesce(month_amounts.month_amounts, jsonb_build_object()) as month_amounts,
        budgets.updated_at
    from budgets
    left join teams on teams.org_id = budgets.org_id and teams.team_id = budgets.team_id
    left join apps on apps.org_id = budgets.org_id and apps.app_id = budgets.app_id
    left join month_amounts on month_amounts.budget_id = budgets.budget_id
    where budgets.org_id = :org_id
      and not budgets.is_archived
)

select * from final
order by name, budget_id
