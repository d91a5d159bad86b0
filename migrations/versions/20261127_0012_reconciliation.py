"""R15a: a Treasury entry names the owner's document it confirms; every row says whose money it is

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27

- `owner_document_number`: on a Treasury entry, the owner's document (payment request) it pays; the owner's
  report of that number is superseded when the entry is posted (docs/rules.md, R15a reconciliation).
- `origin`: whose record the row's money is — the row's own source, or for a reversal the source of the entry
  it reverses — so "how much is confirmed" is one SUM.
- Document numbers widen to the 200 characters the API accepts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('disbursements') as batch_op:
        batch_op.alter_column('document_number', type_=sa.String(length=200), existing_type=sa.String(length=100))
        batch_op.add_column(sa.Column('owner_document_number', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('origin', sa.String(length=20), server_default='treasury', nullable=False))
    op.execute("UPDATE disbursements SET origin = source WHERE reverses_id IS NULL")
    op.execute("UPDATE disbursements SET origin = (SELECT o.source FROM disbursements AS o "
               "WHERE o.id = disbursements.reverses_id) WHERE reverses_id IS NOT NULL")
    with op.batch_alter_table('disbursements') as batch_op:
        batch_op.create_unique_constraint('uq_disbursements_project_id_owner_document_number',
                                          ['project_id', 'owner_document_number'])
        batch_op.create_check_constraint('origin_known', "origin IN ('treasury', 'owner')")
        batch_op.create_check_constraint('origin_of_original_is_source', "reverses_id IS NOT NULL OR origin = source")
        batch_op.create_check_constraint('owner_document_on_treasury_entry',
                                         "owner_document_number IS NULL OR (source = 'treasury' "
                                         "AND reverses_id IS NULL)")
    with op.batch_alter_table('dossiers') as batch_op:
        batch_op.alter_column('document_number', type_=sa.String(length=200), existing_type=sa.String(length=100))


def downgrade() -> None:
    with op.batch_alter_table('dossiers') as batch_op:
        batch_op.alter_column('document_number', type_=sa.String(length=100), existing_type=sa.String(length=200))
    with op.batch_alter_table('disbursements') as batch_op:
        batch_op.drop_constraint('ck_disbursements_owner_document_on_treasury_entry', type_='check')
        batch_op.drop_constraint('ck_disbursements_origin_of_original_is_source', type_='check')
        batch_op.drop_constraint('ck_disbursements_origin_known', type_='check')
        batch_op.drop_constraint('uq_disbursements_project_id_owner_document_number', type_='unique')
        batch_op.drop_column('origin')
        batch_op.drop_column('owner_document_number')
        batch_op.alter_column('document_number', type_=sa.String(length=100), existing_type=sa.String(length=200))
