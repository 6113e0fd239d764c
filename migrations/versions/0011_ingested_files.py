"""The usage feed's record of imported files: ``ingested_files``, one row per file content.

The feed (``fleetspend ingest FOLDER --watch``) writes a file's SHA-256 here in the same
transaction as its rows, so a file is imported exactly once by content, across restarts and
across watchers. Not a tenant table; the app's role gets no privilege on it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingested_files",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("imported_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_ingested_files_sha256_hex")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_ingested_files")),
    )


def downgrade() -> None:
    op.drop_table("ingested_files")
