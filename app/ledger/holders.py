"""R1 budget holders (chủ thể ngân sách): whose budget a pool is — the province, or one named district or commune
government, each decided by its own council (docs/rules.md, R1 and R19).

Every pool key names its holder (`PoolKey.budget_holder_id`, an organisation id). This module resolves and checks
it wherever a pool is named by a client: step 0 of the posting pipeline (every movement of money), filing a
dossier, registering an extra need, an envelope proposal.

* A named holder must be an organisation (`reference_not_found`) of the budget level's kind
  (`budget_holder_wrong_kind`): central and province levels — a people's committee (UBND tỉnh: central-budget
  capital assigned to the province is managed in its budget); district — a district government; commune — a
  commune government.
* Omitted, it defaults to the nearest organisation of that kind up the project's investor's parent chain (a
  district's project board sits under its district's people's committee, which sits under the province's);
  for the central and province levels, when the chain has none, to the only top-level people's committee.
  Without such an organisation the holder is required (`budget_holder_required`): nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import object_session

from app.enums import BudgetLevel, OrganisationKind
from app.kernel import caches
from app.kernel.errors import RuleViolation, UnknownReference
from app.ledger.posting_rules import RowError
from app.models import Organisation, Project

HOLDER_KIND: dict[BudgetLevel, OrganisationKind] = {
    BudgetLevel.central: OrganisationKind.people_committee,
    BudgetLevel.province: OrganisationKind.people_committee,
    BudgetLevel.district: OrganisationKind.district,
    BudgetLevel.commune: OrganisationKind.commune,
}
_POINTER = "/budget_holder_id"
_MAX_DEPTH = 20  # a parent chain longer than this is a data error, not a budget structure

# (project id or None for a pool not yet tied to a project, budget level, holder the client named or None)
Request = tuple[int | None, BudgetLevel, int | None]


class _Organisations:
    """The organisation tree (a few hundred rows in a province, a few thousand nationally) and the projects'
    investors. The tree is read once per worker and remembered (`caches.organisations`), not per posting."""

    def __init__(self, tree: _Tree, investors: dict[int, int]) -> None:
        self.kind, self.parent, self.top_committees = tree.kind, tree.parent, tree.top_committees
        self.investors = investors

    def default(self, project_id: int | None, level: BudgetLevel) -> int | None:
        wanted = HOLDER_KIND[level]
        org = self.investors.get(project_id) if project_id is not None else None
        for _ in range(_MAX_DEPTH):
            if org is None:
                break
            if self.kind.get(org) is wanted:
                return org
            org = self.parent.get(org)
        if wanted is OrganisationKind.people_committee:
            roots = self.top_committees
            return roots[0] if len(roots) == 1 else None
        return None


class _Tree:
    """Each organisation's kind and parent (read-only once built: it is shared by the worker's requests)."""

    def __init__(self, rows: Sequence[tuple[int, str, int | None]]) -> None:
        self.kind = {r[0]: OrganisationKind(r[1]) for r in rows}
        self.parent = {r[0]: r[2] for r in rows}
        # The top-level people's committees (the province's default holder when a chain has none): once, not per row.
        self.top_committees = [o for o, kind in self.kind.items()
                               if kind is OrganisationKind.people_committee and self.parent[o] is None]


_TREE = "tree"  # the one key of caches.organisations
_WROTE = "holders.organisations_written"  # session.info: this session wrote organisations (bypass the cache)


async def _tree(session: AsyncSession) -> _Tree:
    async def read() -> _Tree:
        rows = (await session.execute(select(Organisation.id, Organisation.kind, Organisation.parent_id))).all()
        return _Tree([(r[0], r[1], r[2]) for r in rows])

    if session.sync_session.info.get(_WROTE):
        return await read()  # this transaction wrote organisations: its own view, never remembered
    tree: _Tree = await caches.remembered(caches.organisations, _TREE, read)
    return tree


@event.listens_for(Organisation, "after_insert")
@event.listens_for(Organisation, "after_update")
@event.listens_for(Organisation, "after_delete")
def _organisation_written(_mapper: Any, _connection: Any, target: Organisation) -> None:
    """Any ORM write of an organisation forgets the tree in every worker when its transaction commits."""
    session = object_session(target)
    if session is not None:
        session.info[_WROTE] = True
        caches.invalidate_on_commit(session, caches.organisations)


async def _load(session: AsyncSession, project_ids: set[int], investors: dict[int, int] | None) -> _Organisations:
    if investors is None:
        investors = dict((await session.execute(
            select(Project.id, Project.investor_id).where(Project.id.in_(sorted(project_ids))))).all()) \
            if project_ids else {}
    return _Organisations(await _tree(session), investors)


async def resolve(session: AsyncSession, requests: Sequence[Request], *, investors: dict[int, int] | None = None
                  ) -> tuple[list[int | None], list[RowError]]:
    """Each request's holder (the named one, checked, or the default) by index, and the rows refused.

    `investors` (project id → investor id): the caller's read of the projects (the posting pipeline reads them
    with the project locks), so they are not read again."""
    tree = await _load(session, {r[0] for r in requests if r[0] is not None}, investors)
    holders: list[int | None] = []
    errors: list[RowError] = []
    for index, (project_id, level, named) in enumerate(requests):
        wanted = HOLDER_KIND[level]
        holder = named if named is not None else tree.default(project_id, level)
        holders.append(holder)
        if named is None and holder is None:
            errors.append(RowError(index, "budget_holder_required",
                                   f"R1: name the budget holder of this {level.value}-level pool: the {wanted.value} "
                                   "organisation whose council decides the capital (none can be inferred from the "
                                   "project's investor).", _POINTER, {"allowed_kind": wanted.value}))
        elif named is not None and named not in tree.kind:
            errors.append(RowError(index, "reference_not_found", f"Organisation {named} does not exist.", _POINTER,
                                   {"resource": "organisation"}))
        elif named is not None and tree.kind[named] is not wanted:
            errors.append(RowError(index, "budget_holder_wrong_kind",
                                   f"R1: a {level.value}-level pool is held by a {wanted.value} organisation; "
                                   f"organisation {named} is a {tree.kind[named].value}.", _POINTER,
                                   {"allowed_kind": wanted.value, "kind": tree.kind[named].value}))
    return holders, errors


async def resolve_one(session: AsyncSession, project_id: int | None, level: BudgetLevel, named: int | None,
                      *, pointer_prefix: str = "") -> int:
    """One pool's holder, or the problem (422) with the field's pointer."""
    [holder], errors = await resolve(session, [(project_id, level, named)])
    if errors:
        e = errors[0]
        cls = UnknownReference if e.code == "reference_not_found" else RuleViolation
        raise cls(e.code, e.detail, pointer=pointer_prefix + (e.pointer or ""), **e.numbers)
    assert holder is not None
    return holder
