-- The frame of a page view in one round trip: the caller with this email, their memberships
-- (a customer) or their own support grants not revoked (a support engineer), and, for a
-- customer, the unread alerts of the organization in view: wanted_org_slug if theirs, else
-- their first. It sets the caller's scope for the rest of the transaction (migration 0025),
-- reading everything under it, bound by row-level security.
-- Params: email, wanted_org_slug (may be null). Returns no row for an unknown email, else one:
-- actor_kind ('user' or 'staff'), actor_id, name, memberships (jsonb: org_id, slug, name,
-- role, by slug), grants (jsonb: grant_id, org_id, org_name, support_ticket, reason,
-- granted_at, expires_at, newest first), unread_alerts (null without an organization in
-- view), scope (jsonb: the fleetspend.* settings it set).
-- Plan: generic (one plan for every caller: a function call).
select
    actor_kind,
    actor_id,
    name,
    memberships,
    grants,
    unread_alerts,
    scope
from fleetspend_auth.page_frame(:email, :wanted_org_slug)
