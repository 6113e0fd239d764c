"""What `fleetspend seed` loaded, so it never replaces data it did not create.

The seed records the organizations it created and the invoices it sealed in
``seeded_dataset``. The seed refuses to replace a database holding any other organization or
sealed invoice (unless told it is a throw-away database); demo mode, which lets anyone pick a
person to be, refuses to run on a database holding any other organization.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# What the database holds that no seed run created: organizations and sealed invoices that
# are not in the seeded_dataset record (all of them when there is none).
FOREIGN_DATA_SQL = """
with recorded as (
    select coalesce((select org_ids from seeded_dataset), '{}') as org_ids,
           coalesce((select sealed_invoice_ids from seeded_dataset), '{}') as invoice_ids
)
select (select count(*) from organizations
        where not organizations.org_id = any(recorded.org_ids)) as organizations,
       (select count(*) from invoices
        where invoices.status <> 'draft'
          and not invoices.invoice_id = any(recorded.invoice_ids)) as sealed_invoices
from recorded
"""

RECORD_SQL = """
insert into seeded_dataset (singleton, scale, seed, org_ids, sealed_invoice_ids)
select true, :scale, :seed,
       coalesce((select array_agg(org_id order by org_id) from organizations), '{}'),
       coalesce((select array_agg(invoice_id order by invoice_id) from invoices
                 where status <> 'draft'), '{}')
on conflict (singleton) do update
set scale = excluded.scale, seed = excluded.seed, loaded_at = now(),
    org_ids = excluded.org_ids, sealed_invoice_ids = excluded.sealed_invoice_ids
"""


class SeedRefusedError(Exception):
    """The database holds data the seed did not create; replacing it would destroy it."""


def foreign_data(connection: Connection) -> tuple[int, int]:
    """How many organizations and sealed invoices no seed run created."""
    organizations, sealed = connection.execute(text(FOREIGN_DATA_SQL)).one()
    return organizations, sealed


def record(connection: Connection, *, scale: str, seed: int) -> None:
    """Remember everything in the database now as the seed's own (at the end of a seed)."""
    connection.execute(text(RECORD_SQL), {"scale": scale, "seed": seed})


def holds_real_data(connection: Connection) -> bool:
    """Whether the database holds an organization the seed did not create: real customers,
    whom demo mode (anyone picks a person to be) must never show. An empty database, or the
    seed's organizations with invoices billed since, is demo data."""
    organizations, _ = foreign_data(connection)
    return organizations > 0
