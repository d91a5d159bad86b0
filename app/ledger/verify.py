"""`python -m app verify`: every fact derivable from the ledger, checked against what is stored.

`check_all(session)` returns one `Finding` per inconsistency (empty: the books agree). The simulator calls it
after every step; the CLI prints the findings and exits 1 on any. The checks are the invariants of
docs/rules.md ("Invariants of the books"); each finding names its check.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.enums import AdvanceKind, AllocationKind, BudgetLevel, CapitalSource, DisbursementKind, EntrySource
from app.kernel.clock import today
from app.ledger import medium_term, next_year_advances
from app.ledger.advance_rules import ContractBalances, advance_ceiling_pct, r8_breached
from app.ledger.balances import PoolFigures, PoolKey, pool_figures, pool_key_of
from app.ledger.books import load_books
from app.ledger.fold import AdvanceState, ContractState, MemberState, PoolState, ProjectState
from app.ledger.holders import HOLDER_KIND
from app.ledger.medium_term_rules import period_label
from app.models import (
    Advance,
    AllocationEntry,
    Contract,
    ContractBalance,
    ContractMember,
    Disbursement,
    Event,
    Organisation,
    PoolBalance,
    Project,
    ProjectBalance,
    ReallocationProposal,
    ReallocationTransfer,
    RecoveryCase,
)
from app.registry import investors
from app.rulesets.model import RuleSet, ruleset_for
from app.rulesets.service import effective_rule_sets


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # which invariant, e.g. "pool_balance", "r3_contract_cap", "feed_contiguous"
    where: str  # the row it concerns, e.g. "contract 12"
    detail: str  # stored vs derived, with the numbers

    def __str__(self) -> str:
        return f"[{self.check}] {self.where}: {self.detail}"


def _compare(check: str, where: str, stored: Any, derived: Any, names: tuple[str, ...]) -> list[Finding]:
    return [Finding(check, where, f"{name}: stored {getattr(stored, name)!s}, ledger {getattr(derived, name)!s}")
            for name in names if getattr(stored, name) != getattr(derived, name)]


_POOL_FIELDS = tuple(f.name for f in fields(PoolState) if f.name not in ("id", "key"))
_PROJECT_FIELDS = tuple(f.name for f in fields(ProjectState) if f.name != "project_id")
_FIGURE_FIELDS = tuple(f.name for f in fields(PoolFigures)  # those without a balance column are left out
                       if f.name not in ("confirmed_vnd", "next_year_advance_vnd", "advance_repayment_vnd"))
_CONTRACT_FIELDS = tuple(f.name for f in fields(ContractState) if f.name != "contract_id")
_MEMBER_FIELDS = tuple(f.name for f in fields(MemberState) if f.name != "member_id")


async def _balances(session: AsyncSession) -> list[Finding]:
    """Every column of every balance row and advance equals the fold of the ledger."""
    books = await load_books(session)
    out: list[Finding] = []
    stored_pools = {pool_key_of(p): p for p in await session.scalars(select(PoolBalance))}
    for key, derived in books.pools.items():
        pool = stored_pools.pop(key, None)
        if pool is None:
            out.append(Finding("pool_balance", f"pool {key}", "no balance row for a pool the ledger has"))
            continue
        out += _compare("pool_balance", f"pool {key}", pool, derived, _POOL_FIELDS)
    for key, pool in stored_pools.items():
        out += _compare("pool_balance", f"pool {key}", pool, PoolState(0, key), _POOL_FIELDS)
    # Point-in-time reads aggregate the ledger in SQL (`balances.pool_figures`, fast at national scale): at the
    # present they must say what the fold says, so the two can never drift apart unnoticed.
    for key, figures in (await pool_figures(session)).items():
        out += _compare("pool_figures", f"pool {key}", figures, books.pool(key), _FIGURE_FIELDS)
    for project in await session.scalars(select(ProjectBalance)):
        out += _compare("project_balance", f"project {project.project_id}", project,
                        books.project(project.project_id), _PROJECT_FIELDS)
    for contract in await session.scalars(select(ContractBalance)):
        out += _compare("contract_balance", f"contract {contract.contract_id}", contract,
                        books.contract(contract.contract_id), _CONTRACT_FIELDS)
    for member in await session.scalars(select(ContractMember)):
        out += _compare("contract_member", f"contract member {member.id}", member, books.member(member.id),
                        _MEMBER_FIELDS)
    stored_advances = {a.disbursement_id: a for a in await session.scalars(select(Advance))}
    for disbursement_id, derived_advance in books.advances.items():
        advance = stored_advances.pop(disbursement_id, None)
        if advance is None:
            out.append(Finding("advance", f"disbursement {disbursement_id}", "an advance without its advance row"))
            continue
        out += _compare("advance", f"advance {advance.id}", advance, derived_advance, ("amount_vnd", "recovered_vnd"))
        if advance.outstanding_vnd != advance.amount_vnd - advance.recovered_vnd:
            out.append(Finding("advance", f"advance {advance.id}", "outstanding ≠ amount − recovered"))
    out += [Finding("advance", f"advance {a.id}", "an advance row without an advance in the ledger")
            for a in stored_advances.values()]
    by_scope: dict[Any, list[AdvanceState]] = defaultdict(list)
    for derived_advance in books.advances.values():
        by_scope[derived_advance.scope].append(derived_advance)
    for scope, recovered in books.scope_recovered.items():
        advanced = sum(a.amount_vnd for a in by_scope.get(scope, []))
        if recovered > advanced or recovered < 0:
            out.append(Finding("r13_recovery_scope", f"{scope}", f"recovered {recovered:,} of {advanced:,} "
                               "advanced in this scope"))
    return out


async def _caps(session: AsyncSession) -> list[Finding]:
    """R1, R2, R3, R4, R4a, R8 on the stored rows."""
    out: list[Finding] = []
    for p in await session.scalars(select(PoolBalance).where(PoolBalance.disbursed_vnd > PoolBalance.plan_vnd)):
        out.append(Finding("r1_plan_cap", f"pool {p.id}", f"disbursed {p.disbursed_vnd:,} > plan {p.plan_vnd:,}"))
    totals = select(Project.id, Project.total_investment_vnd, ProjectBalance.planned_total_vnd,
                    ProjectBalance.disbursed_total_vnd).join(ProjectBalance, ProjectBalance.project_id == Project.id)
    for pid, tmdt, planned, disbursed in await session.execute(totals):
        if planned > tmdt:
            out.append(Finding("r2_plan_within_tmdt", f"project {pid}", f"cumulative plan {planned:,} > TMĐT {tmdt:,}"))
        if disbursed > tmdt:
            out.append(Finding("r2_tmdt_cap", f"project {pid}", f"disbursed {disbursed:,} > TMĐT {tmdt:,}"))
    rule_sets = await effective_rule_sets(session)
    rule_set = ruleset_for(today(), rule_sets)
    decided_under = await _decided_under(session, Disbursement.contract_id, rule_sets)
    query = select(Contract.id, Contract.value_vnd, ContractBalance.outstanding_vnd, ContractBalance.paid_vnd,
                   ContractBalance.advanced_vnd, ContractBalance.recovered_vnd, Contract.value_at_signing_vnd,
                   Contract.agreed_advance_rate_pct, Contract.approved_advance_rate_pct, Contract.contract_type,
                   ContractBalance.supply_completions).join(
        ContractBalance, ContractBalance.contract_id == Contract.id)
    for cid, value, outstanding, paid, advanced, recovered, signed, agreed, approved, kind, completions \
            in await session.execute(query):
        pct = advance_ceiling_pct(ContractBalances("", value, agreed_advance_rate_pct=agreed,
                                                   approved_advance_rate_pct=approved, approving_decision="-"),
                                  rule_set)
        if advanced * 100 > signed * pct:
            out.append(Finding("r4_advance_ceiling", f"contract {cid}", f"advanced {advanced:,} > {pct}% of the "
                               f"value at signing {signed:,}"))
        if outstanding + paid > value:
            out.append(Finding("r3_contract_cap", f"contract {cid}", f"disbursed {outstanding + paid:,} > value "
                               f"{value:,}"))
        if outstanding < 0 or recovered > advanced:
            out.append(Finding("r7_contract_outstanding", f"contract {cid}", f"advanced {advanced:,}, recovered "
                               f"{recovered:,}"))
        r8 = decided_under.get(cid, rule_set)
        if r8_breached(kind, value, outstanding, paid, completions > 0, r8):
            out.append(Finding("r8_completion_recovery", f"contract {cid}", f"paid {paid:,} of {value:,} "
                               f"({r8.code}: {r8.completion_recovery_base}, supply completions {completions}) with "
                               f"{outstanding:,} advance outstanding"))
    out += await _joint_ventures(session, rule_set, await _decided_under(session, Disbursement.contract_member_id,
                                                                         rule_sets))
    orphan = select(func.count()).select_from(Disbursement).where(
        Disbursement.kind == DisbursementKind.advance, Disbursement.advance_kind == AdvanceKind.contract,
        Disbursement.contract_id.is_(None))
    if n := await session.scalar(orphan):
        out.append(Finding("r4a_contract_advance", "disbursements", f"{n} contract advance(s) without a contract"))
    return out


async def _decided_under(session: AsyncSession, key: Any, rule_sets: tuple[RuleSet, ...]) -> dict[int, RuleSet]:
    """R8's rule set per contract (or joint-venture member): the one its last posted movement was decided under (by
    its value date, a reversal's by its original's), so a balance accepted under nd99 is judged under nd99."""
    last = select(key.label("k"), func.max(Disbursement.id).label("last_id")).where(key.is_not(None)) \
        .group_by(key).subquery()
    original = aliased(Disbursement)
    rows = await session.execute(select(last.c.k, Disbursement.value_date, original.value_date)
                                 .join(Disbursement, Disbursement.id == last.c.last_id)
                                 .outerjoin(original, original.id == Disbursement.reverses_id))
    return {k: ruleset_for(original_day or day, rule_sets) for k, day, original_day in rows}


async def _joint_ventures(session: AsyncSession, rule_set: RuleSet, decided_under: dict[int, RuleSet]
                          ) -> list[Finding]:
    """R8 per joint-venture member: shares sum to the value, every movement names a member of its own contract, and
    no member keeps an advance outstanding past 80% of its share."""
    out: list[Finding] = []
    query = select(Contract.id, Contract.value_vnd, Contract.contract_type, ContractMember.id, ContractMember.share_vnd,
                   ContractMember.outstanding_vnd, ContractMember.paid_vnd, ContractMember.supply_completions).join(
        ContractMember, ContractMember.contract_id == Contract.id).order_by(ContractMember.id)
    shares: dict[int, int] = defaultdict(int)
    values: dict[int, int] = {}
    for cid, value, kind, mid, share, outstanding, paid, completions in await session.execute(query):
        shares[cid] += share
        values[cid] = value
        if r8_breached(kind, share, outstanding, paid, completions > 0, decided_under.get(mid, rule_set)):
            out.append(Finding("r8_member_recovery", f"contract member {mid}", f"paid {paid:,} of a share of "
                               f"{share:,} with {outstanding:,} advance outstanding"))
    out += [Finding("r8_member_shares", f"contract {cid}", f"shares sum to {total:,}, value {values[cid]:,}")
            for cid, total in shares.items() if total != values[cid]]
    member = aliased(ContractMember)
    unnamed = select(func.count()).select_from(Disbursement).where(
        Disbursement.contract_id.in_(select(ContractMember.contract_id)), Disbursement.contract_member_id.is_(None))
    if n := await session.scalar(unnamed):
        out.append(Finding("r8_member_named", "disbursements", f"{n} joint-venture movement(s) without a member"))
    foreign = select(func.count()).select_from(Disbursement).join(
        member, member.id == Disbursement.contract_member_id).where(member.contract_id != Disbursement.contract_id)
    if n := await session.scalar(foreign):
        out.append(Finding("r8_member_named", "disbursements", f"{n} movement(s) name a member of another contract"))
    return out


async def _one_outstanding_model(session: AsyncSession) -> list[Finding]:
    """R13: project, contract and advance figures are the same money."""
    out: list[Finding] = []
    by_project = dict((await session.execute(
        select(Advance.project_id, func.sum(Advance.outstanding_vnd)).group_by(Advance.project_id))).all())
    for pid, outstanding in await session.execute(select(ProjectBalance.project_id,
                                                         ProjectBalance.advance_outstanding_vnd)):
        if outstanding != int(by_project.get(pid) or 0):
            out.append(Finding("r13_one_outstanding", f"project {pid}", f"project outstanding {outstanding:,}, "
                               f"its advances {int(by_project.get(pid) or 0):,}"))
    by_contract = dict((await session.execute(select(Advance.contract_id, func.sum(Advance.outstanding_vnd))
                                              .where(Advance.contract_id.is_not(None))
                                              .group_by(Advance.contract_id))).all())
    for cid, outstanding in await session.execute(select(ContractBalance.contract_id,
                                                         ContractBalance.outstanding_vnd)):
        if outstanding != int(by_contract.get(cid) or 0):
            out.append(Finding("r13_one_outstanding", f"contract {cid}", f"contract outstanding {outstanding:,}, "
                               f"its advances {int(by_contract.get(cid) or 0):,}"))
    return out


async def _workflows(session: AsyncSession) -> list[Finding]:
    """R16 cases against outstanding; R19 applied proposals zero-sum; the change feed contiguous."""
    out: list[Finding] = []
    query = select(RecoveryCase.id, RecoveryCase.state, Advance.outstanding_vnd).join(
        Advance, Advance.id == RecoveryCase.advance_id)
    for case_id, state, outstanding in await session.execute(query):
        if (state == "closed") != (outstanding == 0):
            out.append(Finding("r16_case_state", f"recovery case {case_id}", f"state {state} with "
                               f"{outstanding:,} outstanding"))
    sums = dict((await session.execute(
        select(AllocationEntry.reallocation_proposal_id, func.sum(AllocationEntry.amount_vnd))
        .where(AllocationEntry.reallocation_proposal_id.is_not(None))
        .group_by(AllocationEntry.reallocation_proposal_id))).all())
    for pid, status, mode, moved in await session.execute(select(
            ReallocationProposal.id, ReallocationProposal.status, ReallocationProposal.mode,
            ReallocationProposal.moved_vnd)):
        if (status == "applied") != (pid in sums):
            out.append(Finding("r19_proposal_status", f"proposal {pid}", f"status {status}, "
                               f"{'with' if pid in sums else 'without'} plan entries"))
        # A zero-sum proposal's entries sum to 0; an envelope's supplements to what it distributed.
        expected = moved if mode == "envelope" else 0
        if pid in sums and sums[pid] != expected:
            out.append(Finding("r19_zero_sum", f"proposal {pid}", f"plan entries sum to {int(sums[pid]):,}, "
                               f"not {expected:,} ({mode})"))
    out += await _r19_holders(session)
    count, low, high = (await session.execute(
        select(func.count(Event.position), func.min(Event.position), func.max(Event.position)))).one()
    if count and (low != 1 or high != count):
        out.append(Finding("feed_contiguous", "events", f"{count} positions spanning {low}..{high}"))
    return out


def _pool_name(key: Any) -> str:
    """year/source/level/holder, as a finding names a pool."""
    return "/".join(str(getattr(part, "value", part)) for part in key)


async def _r19_holders(session: AsyncSession) -> list[Finding]:
    """R19: an applied proposal never moves capital across budget holders, sources or years — each pool's entries of
    a zero-sum proposal sum to 0, an envelope names one pool, and every transfer's donor and recipient have an entry in
    the transfer's own pool (R1: each pool's holder is of its level's kind)."""
    out: list[Finding] = []
    a = AllocationEntry
    pool = (a.plan_year, a.capital_source, a.budget_level, a.budget_holder_id)
    groups: dict[int, dict[str, int]] = defaultdict(dict)
    for row in await session.execute(
            select(a.reallocation_proposal_id, *pool, func.sum(a.amount_vnd))
            .where(a.reallocation_proposal_id.is_not(None)).group_by(a.reallocation_proposal_id, *pool)):
        groups[row[0] or 0][_pool_name(row[1:5])] = int(row[5])  # never None: filtered above
    modes = dict((await session.execute(select(ReallocationProposal.id, ReallocationProposal.mode))).all())
    for pid, by_pool in sorted(groups.items()):
        if modes.get(pid) == "envelope" and len(by_pool) > 1:
            out.append(Finding("r19_across_holders", f"proposal {pid}", f"an envelope's supplements in {len(by_pool)} "
                               "pools (year, source, level, holder)"))
        elif modes.get(pid) != "envelope":
            out += [Finding("r19_across_holders", f"proposal {pid}", f"pool {key}: entries sum to {total:,}, not 0")
                    for key, total in sorted(by_pool.items()) if total != 0]
    entered = {(r[0], r[1], _pool_name(r[2:])) for r in await session.execute(
        select(a.reallocation_proposal_id, a.project_id, *pool).where(a.reallocation_proposal_id.is_not(None)))}
    t = ReallocationTransfer
    for tid, pid, donor, recipient, *key in await session.execute(
            select(t.id, t.proposal_id, t.donor_project_id, t.recipient_project_id, t.plan_year, t.capital_source,
                   t.budget_level, t.budget_holder_id)
            .join(ReallocationProposal, ReallocationProposal.id == t.proposal_id)
            .where(ReallocationProposal.status == "applied")):
        for side in (donor, recipient):
            if side is not None and (pid, side, _pool_name(key)) not in entered:
                out.append(Finding("r19_across_holders", f"transfer {tid}", f"project {side} has no entry of "
                                   f"proposal {pid} in the transfer's pool {_pool_name(key)}"))
    for pool_id, level, kind in await session.execute(
            select(PoolBalance.id, PoolBalance.budget_level, Organisation.kind)
            .join(Organisation, Organisation.id == PoolBalance.budget_holder_id)):
        if HOLDER_KIND[BudgetLevel(level)] != kind:
            out.append(Finding("r1_budget_holder", f"pool {pool_id}", f"a {level}-level pool held by a {kind} "
                               f"(expected a {HOLDER_KIND[BudgetLevel(level)].value})"))
    return out


async def _provenance(session: AsyncSession) -> list[Finding]:
    """R15a: a reversal moves its original's money (`origin`); an owner's report the Treasury has paid is superseded,
    so no payment counts twice."""
    out: list[Finding] = []
    original = aliased(Disbursement)
    for rid, origin, source in await session.execute(
            select(Disbursement.id, Disbursement.origin, original.source)
            .join(original, original.id == Disbursement.reverses_id).where(Disbursement.origin != original.source)):
        out.append(Finding("r15a_origin", f"disbursement {rid}", f"origin {origin}, reverses a {source} entry"))
    report, reversal = aliased(Disbursement), aliased(Disbursement)
    for tid, rid in await session.execute(
            select(Disbursement.id, report.id)
            .join(report, (report.project_id == Disbursement.project_id)
                  & (report.document_number == Disbursement.owner_document_number))
            .where(report.source == EntrySource.owner.value, report.reverses_id.is_(None),
                   ~exists().where(reversal.reverses_id == report.id))):
        out.append(Finding("r15a_counted_twice", f"disbursement {tid}", f"pays the owner's report {rid}, which "
                           "still counts"))
    return out


async def _next_year_advances(session: AsyncSession) -> list[Finding]:
    """R1a: a year Y+1 pool never repays more than was advanced from it in year Y."""
    repaid = (select(AllocationEntry.project_id, AllocationEntry.plan_year, AllocationEntry.capital_source,
                     AllocationEntry.budget_level, AllocationEntry.budget_holder_id)
              .where(AllocationEntry.kind == AllocationKind.advance_repayment).distinct())
    pools = [PoolKey(p, y, CapitalSource(s), BudgetLevel(level), holder)
             for p, y, s, level, holder in await session.execute(repaid)]
    return [Finding("r1a_repayment", f"project {pool.project_id} plan year {pool.plan_year}",
                    f"repaid {-left:,} more than was advanced from this year's plan")
            for pool, left in (await next_year_advances.unrepaid(session, pools)).items() if left < 0]


async def _plans(session: AsyncSession) -> list[Finding]:
    """R1b: a reallocation moves each provenance zero-sum (an envelope adds its own); R1c: every annual plan sits in
    its project's medium-term plan, within the ceiling."""
    out: list[Finding] = []
    added = dict((await session.execute(
        select(AllocationEntry.reallocation_proposal_id, func.sum(AllocationEntry.added_vnd))
        .where(AllocationEntry.reallocation_proposal_id.is_not(None))
        .group_by(AllocationEntry.reallocation_proposal_id))).all())
    for pid, mode, moved in await session.execute(select(
            ReallocationProposal.id, ReallocationProposal.mode, ReallocationProposal.moved_vnd)
            .where(ReallocationProposal.id.in_(list(added)))):
        allowed = (0, moved) if mode == "envelope" else (0,)
        if int(added[pid]) not in allowed:
            out.append(Finding("r1b_proposal_provenance", f"proposal {pid}", f"added parts sum to "
                               f"{int(added[pid]):,}, not {' or '.join(f'{a:,}' for a in allowed)} ({mode})"))
    keys = [medium_term.key_of_pool(pid, year, CapitalSource(source)) for pid, year, source in await session.execute(
        select(PoolBalance.project_id, PoolBalance.plan_year, PoolBalance.capital_source)
        .where(PoolBalance.plan_vnd > 0))]
    for key, state in (await medium_term.states(session, keys)).items():
        where = f"project {key.project_id} {period_label(key.period_start)} {key.capital_source.value}"
        if state.ceiling_vnd is None:
            out.append(Finding("r1c_medium_term_plan", where, f"annual plans of {state.annual_plans_vnd:,} without "
                               "a medium-term plan"))
        elif state.annual_plans_vnd > state.ceiling_vnd:
            out.append(Finding("r1c_medium_term_ceiling", where, f"annual plans {state.annual_plans_vnd:,} > "
                               f"ceiling {state.ceiling_vnd:,}"))
    return out


async def _investors(session: AsyncSession) -> list[Finding]:
    """DOMAIN.md §5: a project's current investor is the entry of its investor history in force today."""
    in_force = await investors.investors_on(session, today())
    return [Finding("project_investor", f"project {pid}", f"investor {investor_id}, history says {in_force[pid]}")
            for pid, investor_id in await session.execute(select(Project.id, Project.investor_id))
            if in_force.get(pid, investor_id) != investor_id]


async def check_all(session: AsyncSession) -> list[Finding]:
    """Every check; findings in a stable order."""
    return [*await _balances(session), *await _caps(session), *await _one_outstanding_model(session),
            *await _workflows(session), *await _provenance(session), *await _next_year_advances(session),
            *await _plans(session), *await _investors(session)]
