"""Alembic environment: migrates the engine handed in by fleetspend.schema, else the primary."""

from alembic import context
from sqlalchemy.pool import NullPool

from fleetspend import db
from fleetspend.models import metadata

engine = context.config.attributes.get("engine") or db.make_engine(
    db.primary_url(), poolclass=NullPool
)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
