"""The migrations build the whole schema from nothing, match the models, and undo cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from fleetspend import schema
from fleetspend.models import TENANT_TABLES, metadata
from tests.conftest import engine_for


def _user_tables(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(text(
            "select tablename from pg_tables where schemaname = 'public'"
        )).scalars())


def test_upgrade_from_empty_then_downgrade_to_empty(empty_database_url):
    engine = engine_for(empty_database_url)
    schema.upgrade(engine)
    assert {t.name for t in metadata.sorted_tables} <= _user_tables(engine)
    assert schema.current_revision(engine) == ScriptDirectory.from_config(
        schema.alembic_config()).get_current_head()

    schema.downgrade(engine, "base")
    assert _user_tables(engine) == {"alembic_version"}
    with engine.connect() as connection:
        leftovers = connection.execute(text(
            "select proname from pg_proc join pg_namespace on pg_namespace.oid = pronamespace "
            "where nspname = 'public'"
        )).scalars().all()
        extensions = connection.execute(text("select extname from pg_extension")).scalars().all()
    assert leftovers == []
    assert extensions == ["plpgsql"]
    engine.dispose()


def test_migrations_have_a_single_head():
    assert len(ScriptDirectory.from_config(schema.alembic_config()).get_heads()) == 1


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_every_tenant_table_primary_key_starts_with_org_id(engine):
    with engine.connect() as connection:
        rows = connection.execute(text("""
            select table_class.relname as table_name,
                   (select attname from pg_attribute
                    where attrelid = table_class.oid and attnum = pk.conkey[1]) as first_column
            from pg_class table_class
            join pg_constraint pk on pk.conrelid = table_class.oid and pk.contype = 'p'
            where exists (select from pg_attribute
                          where attrelid = table_class.oid and attname = 'org_id'
                            and not attisdropped)
              and table_class.relnamespace = 'public'::regnamespace
              and not table_class.relispartition
        """)).all()
    checked = {row.table_name: row.first_column for row in rows}
    assert set(TENANT_TABLES) <= set(checked), "a tenant table has no primary key"
    assert {table: first for table, first in checked.items() if first != "org_id"} == {}


def test_tenant_tables_are_found():
    # the catalog test above is only as good as this list: it must hold the billing domain
    assert {"machines", "machine_usage", "invoices", "invoice_allocations", "credit_notes",
            "support_grants", "audit_events", "memberships", "teams", "apps"} <= set(TENANT_TABLES)


def test_published_presets_and_regions_are_loaded(engine):
    inspector = inspect(engine)
    assert "regions" in inspector.get_table_names()
    with engine.connect() as connection:
        continents = connection.execute(text(
            "select count(distinct continent), count(*) from regions")).one()
    assert tuple(continents) == (6, 18)
