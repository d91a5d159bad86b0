"""R15a provenance: every disbursement records its source (the Treasury's record or an owner's report)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

Rows already in the ledger were Treasury vouchers (the demo and imports load the Treasury's records), hence the
server default 'treasury'; the API always writes the source itself.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('disbursements') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='treasury', nullable=False))
        batch_op.create_check_constraint('source_known', "source IN ('treasury', 'owner')")


def downgrade() -> None:
    with op.batch_alter_table('disbursements') as batch_op:
        batch_op.drop_constraint('ck_disbursements_source_known', type_='check')
        batch_op.drop_column('source')
