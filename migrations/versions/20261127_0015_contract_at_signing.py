"""R4: a contract keeps its value at signing and the advance level it agreed

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27

An amendment changes `value_vnd` (R3, R8 use it) but never `value_at_signing_vnd`, on which R4's ceiling is
computed; `agreed_advance_rate_pct` is the advance level written in the contract (≤ the ceiling unless a higher
rate was approved). Existing contracts are taken as unamended: value at signing = today's value.
Contract, decision and misuse document numbers widen to the 200 characters the API accepts (PostgreSQL refused 101–200).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('allocation_entries') as batch_op:
        batch_op.alter_column('decision_number', type_=sa.String(length=200), existing_type=sa.String(length=100))
    with op.batch_alter_table('advances') as batch_op:
        batch_op.alter_column('misuse_document_number', type_=sa.String(length=200),
                              existing_type=sa.String(length=100))
    with op.batch_alter_table('contracts') as batch_op:
        batch_op.alter_column('number', type_=sa.String(length=200), existing_type=sa.String(length=100))
        batch_op.add_column(sa.Column('value_at_signing_vnd', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('agreed_advance_rate_pct', sa.Integer(), nullable=True))
    op.execute("UPDATE contracts SET value_at_signing_vnd = value_vnd")
    with op.batch_alter_table('contracts') as batch_op:
        batch_op.alter_column('value_at_signing_vnd', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_check_constraint('value_at_signing_positive', 'value_at_signing_vnd > 0')
        batch_op.create_check_constraint('agreed_advance_rate_in_range',
                                         'agreed_advance_rate_pct IS NULL OR agreed_advance_rate_pct BETWEEN 1 AND 100')


def downgrade() -> None:
    with op.batch_alter_table('contracts') as batch_op:
        batch_op.drop_constraint('ck_contracts_agreed_advance_rate_in_range', type_='check')
        batch_op.drop_constraint('ck_contracts_value_at_signing_positive', type_='check')
        batch_op.drop_column('agreed_advance_rate_pct')
        batch_op.drop_column('value_at_signing_vnd')
        batch_op.alter_column('number', type_=sa.String(length=100), existing_type=sa.String(length=200))
    with op.batch_alter_table('advances') as batch_op:
        batch_op.alter_column('misuse_document_number', type_=sa.String(length=100),
                              existing_type=sa.String(length=200))
    with op.batch_alter_table('allocation_entries') as batch_op:
        batch_op.alter_column('decision_number', type_=sa.String(length=100), existing_type=sa.String(length=200))
