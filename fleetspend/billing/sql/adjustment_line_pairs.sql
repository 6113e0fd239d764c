-- Ends adjustment_line_differences.sql: lines paired on their key, with the adjusted month's
-- own invoice.
from rerated
full join billed
  on billed.org_id = rerated.org_id and billed.line_key = rerated.line_key
join own_invoice on own_invoice.org_id = coalesce(rerated.org_id, billed.org_id)
