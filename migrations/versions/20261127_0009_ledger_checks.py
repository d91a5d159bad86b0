"""Invariants of the books held by the database: CHECK constraints on balance rows and ledger rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

A bug in Python that would commit bad money fails the transaction instead (docs/rules.md, "Invariants").
Batch mode so that SQLite (which cannot ALTER a constraint) gets the same constraints by table copy.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "pool_balances": {
        "disbursed_within_plan": "disbursed_vnd <= plan_vnd",
        "amounts_non_negative": "plan_vnd >= 0 AND extended_vnd >= 0 AND late_capital_vnd >= 0 AND "
                                "disbursed_vnd >= 0 AND advanced_vnd >= 0 AND advance_recovered_vnd >= 0 AND "
                                "paid_vnd >= 0 AND late_disbursed_vnd >= 0",
    },
    "project_balances": {
        "amounts_non_negative": "planned_total_vnd >= 0 AND disbursed_total_vnd >= 0 AND "
                                "advance_outstanding_vnd >= 0",
    },
    "contract_balances": {
        "outstanding_is_advanced_less_recovered": "outstanding_vnd = advanced_vnd - recovered_vnd",
        "recovered_within_advanced": "recovered_vnd >= 0 AND recovered_vnd <= advanced_vnd AND paid_vnd >= 0",
    },
    "advances": {
        "outstanding_is_amount_less_recovered": "outstanding_vnd = amount_vnd - recovered_vnd",
        "recovered_within_amount": "recovered_vnd >= 0 AND recovered_vnd <= amount_vnd",
    },
    "disbursements": {
        "net_is_amount_less_recovered": "net_vnd = amount_vnd - advance_recovered_vnd",
        "contract_advance_names_contract": "NOT (kind = 'advance' AND advance_kind = 'contract' AND "
                                           "contract_id IS NULL)",
    },
}


def upgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for name, condition in checks.items():
                batch_op.create_check_constraint(name, condition)


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            for name in checks:
                batch_op.drop_constraint(f"ck_{table}_{name}", type_="check")
