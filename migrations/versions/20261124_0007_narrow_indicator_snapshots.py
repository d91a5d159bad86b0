"""Narrow indicator snapshots: grouping keys copied in, flag details moved to their own table.

The stored indicators are derived data: they are emptied here and rebuilt by the refresher.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 21:18:35.057240
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401 - used by rendered JSONB types

import app.models.base  # noqa: F401 - custom column types
from sqlalchemy.dialects import postgresql, sqlite

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("indicator_snapshot_pools", "indicator_snapshots", "indicator_refresh_state"):
        op.execute(f"DELETE FROM {table}")
    op.create_table('indicator_flag_details',
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('flags', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql').with_variant(sqlite.JSON(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('plan_year', 'project_id', name=op.f('pk_indicator_flag_details'))
    )
    with op.batch_alter_table('indicator_snapshot_pools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_mask', sa.Integer(), nullable=False))
    with op.batch_alter_table('indicator_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('investor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False))
        batch_op.add_column(sa.Column('sector', sa.String(length=60), nullable=False))
        batch_op.add_column(sa.Column('location', sa.String(length=120), nullable=False))
        batch_op.add_column(sa.Column('working_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('lead_official', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('watch_mask', sa.Integer(), nullable=False))
        batch_op.drop_column('flags')



def downgrade() -> None:
    for table in ("indicator_snapshot_pools", "indicator_snapshots", "indicator_refresh_state"):
        op.execute(f"DELETE FROM {table}")
    with op.batch_alter_table('indicator_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False))
        batch_op.drop_column('watch_mask')
        batch_op.drop_column('lead_official')
        batch_op.drop_column('working_group_id')
        batch_op.drop_column('location')
        batch_op.drop_column('sector')
        batch_op.drop_column('investor_id')

    with op.batch_alter_table('indicator_snapshot_pools', schema=None) as batch_op:
        batch_op.drop_column('flag_mask')
    op.drop_table('indicator_flag_details')
