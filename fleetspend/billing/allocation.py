"""Allocating a line's cents to the machines and volumes that produced it: largest remainder.

A line of ``C`` cents with precise amount ``P`` is split over its resources with precise
amounts ``p_i`` (summing to ``P``). Each resource's proportional share of the line's cents is
``s_i = C * p_i / P``. Every resource first gets ``floor(s_i)``; the ``C - sum(floor(s_i))``
cents left over (fewer than the number of resources) go one each to the resources with the
largest fractional parts ``s_i - floor(s_i)``, ties broken by resource id. So the allocations
sum to the line exactly and each is within one cent of its proportional share. A line whose
precise amount is zero allocates zero to everyone.

The SQL version (sql/allocate_largest_remainder.sql) runs over the staged tables of rating.py
with window functions; money.largest_remainder is the same rule for one line, used by the
benchmark's pandas baseline.
"""

from __future__ import annotations

from fleetspend.billing import statements

# the statement (sql/allocate_largest_remainder.sql), as rating.py runs it after pricing
LARGEST_REMAINDER_SQL = statements.catalog()["allocate_largest_remainder"]
