-- One organization's invoice for one calendar month, if any (draft, finalized, paid or void).
-- Params: org_id; month_date (the month's first day).
-- Returns at most one row: the invoice's header (every column of the invoice_headers view,
-- migration 0020).
-- Plan: generic (looked up by key: one plan serves every organization, see db.py).
select *
from invoice_headers
where org_id = :org_id
  and period_start_date = :month_date
