"""R15: a paid dossier links the Treasury-confirmed disbursement it posted

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dossiers') as batch_op:
        batch_op.add_column(sa.Column('disbursement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_disbursement_id_disbursements'), 'disbursements',
                                    ['disbursement_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('dossiers') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dossiers_disbursement_id_disbursements'), type_='foreignkey')
        batch_op.drop_column('disbursement_id')
