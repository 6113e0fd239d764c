"""The read side: what the pages ask of the database, one module per kind of read.

spend_overview and usage_explorer (the spend pages), teams (the team comparison),
invoice_drill and invoice_document (an invoice down to its machines), dispute, evidence and
support (support's investigations), exports (CSV and FOCUS), freshness (how current the
figures are), and beneath them dimensions (the registry every spend read groups and filters
by), readmodels (which rollup answers a question) and comparison (periods side by side).
"""
