"""SQL for the national data set: column lists, index drop/rebuild, set-based balance rebuild."""

from __future__ import annotations

import asyncpg

from app.rulesets.model import DEFAULT_RULE_SETS

DISBURSEMENT_COLUMNS = (
    "project_id",
    "plan_year",
    "capital_source",
    "budget_level",
    "kind",
    "advance_kind",
    "contract_id",
    "amount_vnd",
    "advance_recovered_vnd",
    "net_vnd",
    "value_date",
    "document_number",
    "reverses_id",
    "note",
    "known_on",
    "created_at",
    "created_by_key_id",
    "budget_holder_id",
)
ALLOCATION_COLUMNS = (
    "project_id",
    "plan_year",
    "capital_source",
    "budget_level",
    "kind",
    "amount_vnd",
    "tranche",
    "decision_number",
    "decision_date",
    "authority",
    "extended_until",
    "note",
    "known_on",
    "created_at",
    "budget_holder_id",
)
PROJECT_COLUMNS = (
    "id",
    "code",
    "name",
    "investor_id",
    "sector",
    "location",
    "group",
    "stage",
    "total_investment_vnd",
    "decision_ref",
    "decision_date",
    "start_year",
    "end_year",
    "is_key_project",
    "working_group_id",
    "status",
    "version",
    "created_at",
    "updated_at",
    "search_text",
)


async def drop_secondary_indexes(conn: asyncpg.Connection, table: str) -> list[str]:
    """Drop a table's non-primary indexes and unique constraints; return the DDL that rebuilds them."""
    ddl = []
    for name, definition in await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass "
        "AND contype = 'u'",
        table,
    ):
        ddl.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, definition in await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = $1 AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        table,
    ):
        ddl.append(definition)
        await conn.execute(f'DROP INDEX "{name}"')
    return ddl


def late_capital_sql() -> str:
    """R14 late capital (nd254) as SQL, from the rule sets themselves."""
    terms = []
    for rs in DEFAULT_RULE_SETS:
        if rs.late_capital_after is None:
            continue
        month, day = rs.late_capital_after
        until = f" AND decision_date < DATE '{rs.effective_to}'" if rs.effective_to else ""
        terms.append(
            f"(decision_date >= DATE '{rs.effective_from}'{until} "
            f"AND decision_date > make_date(plan_year, {month}, {day}))"
        )
    return " OR ".join(terms) or "false"


REBUILD_SQL = """
DELETE FROM pool_balances;
DELETE FROM project_balances;
INSERT INTO pool_balances (project_id, plan_year, capital_source, budget_level, budget_holder_id, plan_vnd,
    extended_vnd,
    extended_until, late_capital_vnd, disbursed_vnd, advanced_vnd, advance_recovered_vnd, paid_vnd,
    late_disbursed_vnd, last_value_date, updated_at)
SELECT project_id, plan_year, capital_source, budget_level, budget_holder_id, coalesce(a.plan, 0), coalesce(a.ext, 0),
       a.until, coalesce(a.late, 0), coalesce(d.net, 0), coalesce(d.adv, 0), coalesce(d.rec, 0),
       coalesce(d.paid, 0), 0, d.last, now()
FROM (SELECT project_id, plan_year, capital_source, budget_level, budget_holder_id,
             sum(amount_vnd) FILTER (WHERE kind <> 'extension') AS plan,
             sum(amount_vnd) FILTER (WHERE kind = 'extension') AS ext,
             max(extended_until) FILTER (WHERE kind = 'extension') AS until,
             sum(amount_vnd) FILTER (WHERE kind <> 'extension' AND amount_vnd > 0 AND ({late})) AS late
      FROM allocation_entries GROUP BY 1, 2, 3, 4, 5) a
FULL JOIN (SELECT project_id, plan_year, capital_source, budget_level, budget_holder_id, sum(net_vnd) AS net,
             sum(amount_vnd) FILTER (WHERE kind = 'advance') AS adv, sum(advance_recovered_vnd) AS rec,
             sum(amount_vnd) FILTER (WHERE kind = 'payment') AS paid, max(value_date) AS last
      FROM disbursements GROUP BY 1, 2, 3, 4, 5) d
  USING (project_id, plan_year, capital_source, budget_level, budget_holder_id);
INSERT INTO project_balances (project_id, planned_total_vnd, disbursed_total_vnd, advance_outstanding_vnd,
    updated_at)
SELECT p.id, coalesce(sum(b.plan_vnd), 0), coalesce(sum(b.disbursed_vnd), 0),
       coalesce(sum(b.advanced_vnd - b.advance_recovered_vnd), 0), now()
FROM projects p LEFT JOIN pool_balances b ON b.project_id = p.id GROUP BY p.id;
"""

# One advance per pool in this data set, so the pool's recoveries all apply to it (FIFO is trivial).
ADVANCES_SQL = """
INSERT INTO advances (disbursement_id, project_id, contract_id, kind, plan_year, capital_source,
    budget_level, budget_holder_id, advanced_on, amount_vnd, recovered_vnd, outstanding_vnd, held_for_disputes_vnd,
    extended_until, version, updated_at)
SELECT d.id, d.project_id, NULL, d.advance_kind, d.plan_year, d.capital_source, d.budget_level,
       d.budget_holder_id, d.value_date,
       d.amount_vnd, b.advance_recovered_vnd, d.amount_vnd - b.advance_recovered_vnd, 0, NULL, 1, now()
FROM disbursements d JOIN pool_balances b
  USING (project_id, plan_year, capital_source, budget_level, budget_holder_id)
WHERE d.kind = 'advance'
"""
