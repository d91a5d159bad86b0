"""R11: an `other` advance's extension records the decision that granted it

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('advances') as batch_op:
        batch_op.add_column(sa.Column('extension_decision_number', sa.String(length=200), nullable=True))
        batch_op.create_check_constraint('extension_only_for_other',
                                         "extended_until IS NULL OR kind = 'other'")


def downgrade() -> None:
    with op.batch_alter_table('advances') as batch_op:
        batch_op.drop_constraint('ck_advances_extension_only_for_other', type_='check')
        batch_op.drop_column('extension_decision_number')
