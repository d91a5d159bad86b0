"""R8 by contract kind (equipment supply completion, joint-venture members) and a project's investor history

Revision ID: 0019
Revises: 0020 (re-chained at merge)
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = '0019'
down_revision: str | Sequence[str] | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'contract_members',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('contract_id', _ID, nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('share_vnd', sa.BigInteger(), nullable=False),
        sa.Column('advanced_vnd', sa.BigInteger(), nullable=False),
        sa.Column('recovered_vnd', sa.BigInteger(), nullable=False),
        sa.Column('outstanding_vnd', sa.BigInteger(), nullable=False),
        sa.Column('paid_vnd', sa.BigInteger(), nullable=False),
        sa.Column('supply_completions', sa.BigInteger(), nullable=False),
        sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('share_vnd > 0', name=op.f('ck_contract_members_share_positive')),
        sa.CheckConstraint('outstanding_vnd = advanced_vnd - recovered_vnd',
                           name=op.f('ck_contract_members_outstanding_is_advanced_less_recovered')),
        sa.CheckConstraint('recovered_vnd >= 0 AND recovered_vnd <= advanced_vnd AND paid_vnd >= 0 '
                           'AND supply_completions >= 0', name=op.f('ck_contract_members_recovered_within_advanced')),
        sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_members_contract_id_contracts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_members')),
        sa.UniqueConstraint('contract_id', 'name', name=op.f('uq_contract_members_contract_id_name')),
    )
    op.create_index(op.f('ix_contract_members_contract_id'), 'contract_members', ['contract_id'])
    with op.batch_alter_table('disbursements') as batch_op:
        batch_op.add_column(sa.Column('completes_supply', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('contract_member_id', _ID, nullable=True))
        batch_op.create_foreign_key('fk_disbursements_contract_member_id_contract_members', 'contract_members',
                                    ['contract_member_id'], ['id'])
        batch_op.create_check_constraint('supply_completion_is_contract_payment',
                                         "NOT completes_supply OR (kind = 'payment' AND contract_id IS NOT NULL)")
        batch_op.create_check_constraint('member_under_its_contract',
                                         'contract_member_id IS NULL OR contract_id IS NOT NULL')
    with op.batch_alter_table('advances') as batch_op:
        batch_op.add_column(sa.Column('contract_member_id', _ID, nullable=True))
        batch_op.create_foreign_key('fk_advances_contract_member_id_contract_members', 'contract_members',
                                    ['contract_member_id'], ['id'])
    with op.batch_alter_table('contract_balances') as batch_op:
        batch_op.add_column(sa.Column('supply_completions', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_check_constraint('supply_completions_non_negative', 'supply_completions >= 0')
    op.create_table(
        'project_investors',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('project_id', _ID, nullable=False),
        sa.Column('investor_id', _ID, nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=True),
        sa.Column('decision_ref', sa.String(length=200), nullable=True),
        sa.Column('known_on', sa.Date(), nullable=False),
        sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_key_id', _ID, nullable=True),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_investors_project_id_projects')),
        sa.ForeignKeyConstraint(['investor_id'], ['organisations.id'],
                                name=op.f('fk_project_investors_investor_id_organisations')),
        sa.ForeignKeyConstraint(['created_by_key_id'], ['api_keys.id'],
                                name=op.f('fk_project_investors_created_by_key_id_api_keys')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_project_investors')),
    )
    op.create_index('ix_project_investors_project', 'project_investors', ['project_id', 'effective_from'])
    # Every existing project: its investor since it was registered (the entry with no start date).
    day = 'date(created_at)' if op.get_bind().dialect.name == 'sqlite' else 'CAST(created_at AS DATE)'
    op.execute("INSERT INTO project_investors (project_id, investor_id, effective_from, known_on, created_at) "
               f"SELECT id, investor_id, NULL, {day}, created_at FROM projects ORDER BY id")


def downgrade() -> None:
    op.drop_index('ix_project_investors_project', table_name='project_investors')
    op.drop_table('project_investors')
    with op.batch_alter_table('contract_balances') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_contract_balances_supply_completions_non_negative'), type_='check')
        batch_op.drop_column('supply_completions')
    with op.batch_alter_table('advances') as batch_op:
        batch_op.drop_constraint('fk_advances_contract_member_id_contract_members', type_='foreignkey')
        batch_op.drop_column('contract_member_id')
    with op.batch_alter_table('disbursements') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_disbursements_member_under_its_contract'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_disbursements_supply_completion_is_contract_payment'), type_='check')
        batch_op.drop_constraint('fk_disbursements_contract_member_id_contract_members', type_='foreignkey')
        batch_op.drop_column('contract_member_id')
        batch_op.drop_column('completes_supply')
    op.drop_index(op.f('ix_contract_members_contract_id'), table_name='contract_members')
    op.drop_table('contract_members')
