"""Who is asking and what they may see: identity -> memberships -> scope; support grants; audit.

A signed-in person is a :class:`Caller`: a customer (a row in ``users``) or a support engineer
(a row in ``staff_users``), found by the email their identity provider vouched for. The
database decides what a caller sees (row-level security, migration 0004); this module only
says who the caller is, through :func:`scope_for`, and performs the writes support access
needs:

- :func:`open_support_access` writes a support grant (organization, ticket, reason, expiry)
  to the primary, as the app's own role, through a database function that writes its audit
  event with it (migration 0010): the app's role cannot write one without the other;
- :func:`revoke_support_access` ends a grant early, for its engineer or an admin of its
  organization, audited the same way;
- :func:`record_support_view` writes an audit event for each page a support engineer views
  under a grant, before the page reads anything: if that write fails the page shows nothing;
- :func:`record_console_view` does the same for the support console's own pages (search,
  support access, the audit trail), which belong to no organization: their events go to
  ``staff_audit_events`` (migration 0005), as do searches.

Roles: a customer is a ``member`` or an ``admin`` of each organization they belong to; support
engineers are ``support`` everywhere and see an organization only under an active grant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from fleetspend import db
from fleetspend.sqlfiles import SqlFolder
from queries import sql

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "auth")

MEMBER = "member"
ADMIN = "admin"
SUPPORT = "support"

# SQLSTATE the policies raise for a support grant that is not active on the server asked
GRANT_NOT_ACTIVE = "FSG01"
# SQLSTATE of a grant the database refuses to open or revoke, with a message to show
GRANT_REFUSED = "FSA01"
INSUFFICIENT_PRIVILEGE = "42501"  # a policy or a function refused the caller

MIN_GRANT = timedelta(minutes=15)
MAX_GRANT = timedelta(hours=8)  # the database refuses longer grants too

ACCESS_OPENED = "support.access_opened"
ACCESS_REVOKED = "support.access_revoked"
PAGE_VIEWED = "support.page_viewed"
SEARCHED = "support.searched"
CREDIT_NOTE_ISSUED = "support.credit_note_issued"
EVIDENCE_EXPORTED = "support.evidence_exported"


class AccessRefusedError(Exception):
    """The caller may not do this; the message says why in words a person understands."""


class SupportAccessError(ValueError):
    """A support grant could not be opened; nothing was written."""


@dataclass(frozen=True)
class Caller:
    """A signed-in person: a customer (``user``) or a support engineer (``staff``)."""

    kind: Literal["user", "staff"]
    actor_id: int
    name: str
    email: str

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


@dataclass(frozen=True)
class Membership:
    """A customer's role in one organization."""

    org_id: int
    slug: str
    name: str
    role: str


@dataclass(frozen=True)
class SupportGrant:
    """A support engineer's time-limited access to one organization, for one ticket."""

    grant_id: int
    org_id: int
    org_name: str
    support_ticket: str
    reason: str
    granted_at: datetime
    expires_at: datetime

    def is_active(self, now: datetime) -> bool:
        return now < self.expires_at


def identify(connection: Connection, email: str) -> Caller | None:
    """The customer or support engineer with this email, or None when there is none."""
    row = connection.execute(
        _STATEMENTS.sql("identify"),
        {"email": email.strip()},
    ).first()
    if row is None:
        return None
    return Caller(kind=row.actor_kind, actor_id=row.actor_id, name=row.name, email=email.strip())


def scope_for(caller: Caller, *, grant: SupportGrant | None = None,
              org_id: int | None = None) -> db.Scope:
    """The scope one page view of ``caller`` reads under, optionally narrowed to one org.

    A support engineer's scope opens an organization only with ``grant``; a customer never
    carries one.
    """
    narrowed = () if org_id is None else (org_id,)
    if caller.is_staff:
        if grant is not None:
            if org_id is not None and org_id != grant.org_id:
                raise AccessRefusedError("this support grant is for another organization")
            return db.Scope(org_ids=(grant.org_id,), staff_user_id=caller.actor_id,
                            grant_id=grant.grant_id)
        return db.Scope(org_ids=narrowed, staff_user_id=caller.actor_id)
    if grant is not None:
        raise AccessRefusedError("support grants are for support engineers")
    return db.Scope(org_ids=narrowed, user_id=caller.actor_id)


def memberships(connection: Connection, caller: Caller) -> list[Membership]:
    """The organizations a customer belongs to and their role in each (none for staff)."""
    if caller.is_staff:
        return []
    rows = connection.execute(sql("caller_memberships"), {"user_id": caller.actor_id})
    return [Membership(**row) for row in rows.mappings()]


def grants_of(connection: Connection, caller: Caller) -> list[SupportGrant]:
    """A support engineer's own grants, newest first (read in a scope without a grant)."""
    if not caller.is_staff:
        return []
    rows = connection.execute(sql("support_grants_of_engineer"),
                              {"staff_user_id": caller.actor_id}).mappings().all()
    # an engineer may not read organizations; the database names those their own grants name
    names = {org_id: name for org_id, name in connection.execute(
        _STATEMENTS.sql("granted_organizations"))}
    return [SupportGrant(**row, org_name=names[row["org_id"]]) for row in rows]


@dataclass(frozen=True)
class Frame:
    """What every page view needs before its own reads (:func:`page_frame`): the caller, the
    organizations or grants they may pick from, the organization in view with its unread
    alerts (a customer's), and the scope the transaction now holds."""

    caller: Caller
    memberships: list[Membership]
    grants: list[SupportGrant]
    unread_alerts: int | None
    scope: dict[str, str]

    @property
    def membership(self) -> Membership | None:
        """The customer's organization in view (the one the scope is narrowed to)."""
        in_view = self.scope.get("fleetspend.org_ids", "")
        return next((m for m in self.memberships if str(m.org_id) == in_view), None)


def page_frame(connection: Connection, email: str,
               wanted_org_slug: str | None = None) -> Frame | None:
    """The frame of a page view in one statement (``fleetspend_auth.page_frame``, migration
    0024), or None when nobody has this email: it identifies the caller, reads what
    :func:`memberships` or :func:`grants_of` would, and the unread alerts of the organization
    in view (``wanted_org_slug`` if the customer belongs to it, else their first), under the
    caller's scope, which it sets for the rest of the transaction (narrowed to that
    organization for a customer; no grant for an engineer)."""
    row = connection.execute(sql("page_frame"), {"email": email.strip(),
                                                 "wanted_org_slug": wanted_org_slug}).first()
    if row is None:
        db.note_local(connection, db.Scope().settings())
        return None
    db.note_local(connection, row.scope)
    caller = Caller(kind=row.actor_kind, actor_id=row.actor_id, name=row.name,
                    email=email.strip())
    grants = [SupportGrant(**{**grant, "granted_at": datetime.fromisoformat(grant["granted_at"]),
                              "expires_at": datetime.fromisoformat(grant["expires_at"])})
              for grant in row.grants]
    return Frame(caller, [Membership(**membership) for membership in row.memberships], grants,
                 row.unread_alerts, dict(row.scope))


def _set_scope(connection: Connection, scope: db.Scope) -> None:
    db.set_local(connection, scope.settings())


def record_org_event(connection: Connection, caller: Caller, org_id: int, action: str,
                     detail: dict[str, object]) -> None:
    """Audit a support engineer's ``action`` in organization ``org_id``, in the caller's
    transaction (whose scope must hold a grant for that organization)."""
    connection.execute(
        _STATEMENTS.sql("record_org_event"),
        {"org_id": org_id, "actor_id": caller.actor_id, "action": action,
         "detail": json.dumps(detail, default=str)},
    )


def refusal(error: DBAPIError, *sqlstates: str) -> str | None:
    """The message of a database refusal with one of ``sqlstates`` (a person can act on it),
    else None."""
    cause = error.orig
    if not isinstance(cause, psycopg.Error) or cause.sqlstate not in sqlstates:
        return None
    return cause.diag.message_primary or str(cause)


def open_support_access(engine: Engine, caller: Caller, *, org_slug: str, ticket: str,
                        reason: str, duration: timedelta) -> SupportGrant:
    """Open a grant for ``org_slug`` on the primary; the database writes its audit event with
    it (``fleetspend_auth.open_support_grant``, migration 0010), both or neither.

    ``engine`` is the primary as the app's role (:func:`fleetspend.db.app_primary_engine`).
    Raises :class:`SupportAccessError` for a missing ticket or reason, a duration outside
    15 minutes to 8 hours, or an unknown organization; a database failure propagates, and
    either way nothing is written and nothing may be shown.
    """
    if not caller.is_staff:
        raise AccessRefusedError("only support engineers open support access")
    ticket, reason, org_slug = ticket.strip(), reason.strip(), org_slug.strip().lower()
    if not ticket:
        raise SupportAccessError("name the support ticket this access is for")
    if not reason:
        raise SupportAccessError("say why you need to look at this organization")
    if not MIN_GRANT <= duration <= MAX_GRANT:
        raise SupportAccessError("support access lasts between 15 minutes and 8 hours")
    try:
        with engine.begin() as connection:
            _set_scope(connection, scope_for(caller))
            org_id = connection.execute(_STATEMENTS.sql("org_id_for_support"),
                                        {"slug": org_slug}).scalar()
            if org_id is None:
                raise SupportAccessError(f"there is no organization with the slug {org_slug!r}")
            row = connection.execute(
                _STATEMENTS.sql("open_support_grant"),
                {"org_id": org_id, "ticket": ticket, "reason": reason,
                 "seconds": duration.total_seconds()},
            ).mappings().one()
    except DBAPIError as error:
        refused = refusal(error, GRANT_REFUSED)
        if refused is None:
            raise
        raise SupportAccessError(refused) from None
    return SupportGrant(**row)


def revoke_support_access(engine: Engine, caller: Caller, grant_id: int) -> None:
    """End an active support grant now, on the primary, with its audit event in the revoker's
    name (``fleetspend_auth.revoke_support_grant``, migration 0010).

    The grant's own engineer or an admin of its organization may; anyone else gets
    :class:`AccessRefusedError`, and a grant that has already ended
    :class:`SupportAccessError`. Nothing is written then.
    """
    try:
        with engine.begin() as connection:
            _set_scope(connection, scope_for(caller))
            connection.execute(_STATEMENTS.sql("revoke_support_grant"),
                               {"grant_id": grant_id})
    except DBAPIError as error:
        denied = refusal(error, INSUFFICIENT_PRIVILEGE)
        if denied is not None:
            raise AccessRefusedError(denied) from None
        refused = refusal(error, GRANT_REFUSED)
        if refused is None:
            raise
        raise SupportAccessError(refused) from None


def record_support_view(engine: Engine, caller: Caller, grant: SupportGrant, page: str) -> None:
    """Audit that ``caller`` viewed ``page`` of the grant's organization (on the primary).

    Call before the page reads anything; an inactive grant or a failed write raises, and the
    page must then show nothing.
    """
    with engine.begin() as connection:
        _set_scope(connection, scope_for(caller, grant=grant))
        record_org_event(connection, caller, grant.org_id, PAGE_VIEWED,
                {"grant_id": grant.grant_id, "page": page})


def record_console_event(connection: Connection, caller: Caller, action: str,
                         detail: dict[str, object]) -> None:
    """Audit a support engineer's ``action`` outside any organization, in the caller's
    transaction (whose scope must name the engineer)."""
    connection.execute(
        _STATEMENTS.sql("record_console_event"),
        {"staff_user_id": caller.actor_id, "action": action,
         "detail": json.dumps(detail, default=str)},
    )


def record_console_view(engine: Engine, caller: Caller, page: str) -> None:
    """Audit that a support engineer viewed the console page ``page`` (on the primary)."""
    if not caller.is_staff:
        raise AccessRefusedError("only support engineers use the support console")
    with engine.begin() as connection:
        _set_scope(connection, scope_for(caller))
        record_console_event(connection, caller, PAGE_VIEWED, {"page": page})


def is_grant_not_active(error: BaseException) -> bool:
    """Whether a database error is the policies refusing an inactive (or unreplicated) grant."""
    return isinstance(error, DBAPIError) and refusal(error, GRANT_NOT_ACTIVE) is not None
