"""snapshot versions (O(1) ETag of the Treasury's overdue snapshot)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 21:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('snapshot_versions',
    sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('shard', name=op.f('pk_snapshot_versions'))
    )


def downgrade() -> None:
    op.drop_table('snapshot_versions')
