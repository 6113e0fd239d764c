-- Ends adjustment_allocation_differences.sql: resources paired within their line key.
from rerated
full join billed
  on billed.org_id = rerated.org_id
 and billed.line_key = rerated.line_key
 and billed.resource_id = rerated.resource_id
