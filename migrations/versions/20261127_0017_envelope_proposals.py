"""R19 envelope mode: a proposal distributes new capital (a tranche) instead of moving it between projects

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reallocation_proposals') as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=20), server_default='zero_sum', nullable=False))
        batch_op.add_column(sa.Column('envelope_vnd', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('tranche', sa.Integer(), nullable=True))
        batch_op.alter_column('decision_number', type_=sa.String(length=200), existing_type=sa.String(length=100))
        batch_op.create_check_constraint('mode_known', "mode IN ('zero_sum', 'envelope')")
        batch_op.create_check_constraint('envelope_with_its_mode',
                                         "(mode = 'envelope') = (envelope_vnd IS NOT NULL AND envelope_vnd > 0)")
        batch_op.create_check_constraint('moved_within_envelope', "envelope_vnd IS NULL OR moved_vnd <= envelope_vnd")
    with op.batch_alter_table('reallocation_transfers') as batch_op:
        batch_op.alter_column('donor_project_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM reallocation_transfers WHERE donor_project_id IS NULL")
    with op.batch_alter_table('reallocation_transfers') as batch_op:
        batch_op.alter_column('donor_project_id', existing_type=sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                              nullable=False)
    with op.batch_alter_table('reallocation_proposals') as batch_op:
        batch_op.drop_constraint('ck_reallocation_proposals_moved_within_envelope', type_='check')
        batch_op.drop_constraint('ck_reallocation_proposals_envelope_with_its_mode', type_='check')
        batch_op.drop_constraint('ck_reallocation_proposals_mode_known', type_='check')
        batch_op.alter_column('decision_number', type_=sa.String(length=100), existing_type=sa.String(length=200))
        batch_op.drop_column('tranche')
        batch_op.drop_column('envelope_vnd')
        batch_op.drop_column('mode')
