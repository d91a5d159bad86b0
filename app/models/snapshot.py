"""Snapshot versions: an O(1) "has anything behind the overdue snapshot changed?" for poller ETags.

`snapshot_versions` holds a few counter rows (shards). Any transaction that writes a table the Treasury's
overdue snapshot depends on (advances, contracts, contract balances, rule-set overrides, calendar days,
sweep transitions; a project's code or investor) bumps one counter per touched shard *in the same
transaction*, just before it commits. Counters only grow, so Σ version changes with every such commit
and a reader gets the right answer in one read of ≤ SHARDS rows, without touching the advances.

The bump is an ORM-level trigger on every Session (so no writer can forget it): `after_flush` notes the
shards of changed ORM objects, `do_orm_execute` notes Core/bulk INSERT/UPDATE/DELETE on those tables run
through a session, and `before_commit` upserts the counters in shard order (the last locks a
transaction takes, in one order: no deadlock). Shards spread concurrent writers of different projects
over different rows. A write that bypasses the Session (raw driver SQL) must call `mark` itself.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import Integer, event, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from app.kernel import caches
from app.models.base import Base

SHARDS = 16
WATCHED_TABLES = frozenset(
    {"advances", "contracts", "contract_balances", "rule_set_overrides", "calendar_days", "sweep_transitions"}
)
# Core statements on these are marked by their caller when they changed something (the sweep's
# INSERT … ON CONFLICT DO NOTHING usually inserts nothing: marking it would change the ETag every sweep).
CALLER_MARKED_TABLES = frozenset({"sweep_transitions"})
PROJECT_FIELDS = ("code", "investor_id")  # shown in (or filter) the overdue snapshot
_INFO_KEY = "snapshot_shards"


class SnapshotVersion(Base):
    """One counter shard; see the module docstring."""

    __tablename__ = "snapshot_versions"

    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)


def mark(session: Session, key: int | None = None) -> None:
    """Note that this transaction changed the snapshot (bumped at commit). `key`: a project or contract id."""
    session.info.setdefault(_INFO_KEY, set()).add(key % SHARDS if isinstance(key, int) else 0)


def _key_of(obj: object) -> int | None:
    return getattr(obj, "project_id", None) or getattr(obj, "contract_id", None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    # after_flush still shows the pre-flush new/dirty/deleted sets and attribute history
    for obj in chain(session.new, session.deleted):
        if getattr(obj, "__tablename__", None) in WATCHED_TABLES:
            mark(session, _key_of(obj))
    for obj in session.dirty:
        table = getattr(obj, "__tablename__", None)
        if table in WATCHED_TABLES:
            if session.is_modified(obj, include_collections=False):
                mark(session, _key_of(obj))
        elif table == "projects":
            attrs = inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in PROJECT_FIELDS):
                mark(session, getattr(obj, "id", None))


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name in WATCHED_TABLES and name not in CALLER_MARKED_TABLES:
            mark(state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # collect the last changes now: the commit's own flush comes after this hook
    shards = session.info.pop(_INFO_KEY, None)
    if not shards:
        return
    insert = pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert
    for shard in sorted(shards):
        stmt = insert(SnapshotVersion).values(shard=shard, version=1)
        session.execute(stmt.on_conflict_do_update(index_elements=["shard"],
                                                   set_={"version": SnapshotVersion.version + 1}))
    # Every worker's in-memory copy of the version (the pollers' 304s) is cleared by this commit's NOTIFY.
    caches.invalidate_in_commit(session, caches.snapshot_versions)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous) -> None:
    if not session.in_transaction():
        session.info.pop(_INFO_KEY, None)
