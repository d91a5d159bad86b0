"""Keys record who issued them, the person holding them, and an optional expiry

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27

- `holder`: the person the key is issued to (R19 separation of duties compares holders); existing keys take
  their `name`.
- `issued_by_key_id`: the key that issued this one through the API; null for keys made by the command line,
  the bootstrap or the demo (and for every key that existed before).
- `expires_at`: optional; an expired key answers 401 `expired_api_key`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('issued_by_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('expires_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_keys SET holder = name")
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.alter_column('holder', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_foreign_key('fk_api_keys_issued_by_key_id_api_keys', 'api_keys', ['issued_by_key_id'],
                                    ['id'])
        batch_op.create_index('ix_api_keys_issued_by_key_id', ['issued_by_key_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_keys') as batch_op:
        batch_op.drop_index('ix_api_keys_issued_by_key_id')
        batch_op.drop_constraint('fk_api_keys_issued_by_key_id_api_keys', type_='foreignkey')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('issued_by_key_id')
        batch_op.drop_column('holder')
