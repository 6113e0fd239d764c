"""An invoice line's key in one place: ``invoice_line_key(...)``.

Late usage and verification pair an invoice's lines with the re-rated lines of the same key:
its product, price list, region, preset and memory, and egress group joined by '|', the
missing ones left out. That rule was spelled (``concat_ws('|', ...)``) seven times in five
statements of fleetspend/billing/sql; it is now this one function, which those statements
call with a line's six columns (stored lines and the temporary rated lines alike).

It gives exactly what ``concat_ws`` gave, written with immutable operators only: ``concat_ws``
is stable (it formats any type), and the planner inlines an immutable SQL function only when
its body is immutable too. Inlined, a statement's plan is the one it had with the expression
written out.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 23:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# concat_ws('|', ...) over the six columns: each present one preceded by '|', then the first
# '|' dropped ('' when none is present)
LINE_KEY = """
create function invoice_line_key(product text, price_list_id integer, region_code text,
                                 preset_code text, memory_mb integer, egress_group text)
returns text
language sql immutable parallel safe as $$
    select substr(coalesce('|' || product, '')
                  || coalesce('|' || cast(price_list_id as text), '')
                  || coalesce('|' || region_code, '')
                  || coalesce('|' || preset_code, '')
                  || coalesce('|' || cast(memory_mb as text), '')
                  || coalesce('|' || egress_group, ''), 2)
$$
"""


def upgrade() -> None:
    op.execute(LINE_KEY)


def downgrade() -> None:
    op.execute("drop function invoice_line_key(text, integer, text, text, integer, text)")
