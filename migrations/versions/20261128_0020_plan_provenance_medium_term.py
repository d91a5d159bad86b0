"""R1b plan provenance (the Prime Minister's plan vs capital the province added) and R1c medium-term plans

Revision ID: 0020
Revises: 0018 (re-chained at merge)
Create Date: 2026-11-28

- `allocation_entries.added_vnd`: of the entry's amount (same sign), the capital the province added itself (giao
  tăng); the rest is the plan assigned by the Prime Minister. Existing entries are the Prime Minister's plan, except
  the demo's third tranche (decision 2378/QĐ-UBND of 08/10/2024, đợt 3): new local capital the province decided
  beyond that plan (docs/rules.md, R1b).
- `pool_balances.added_plan_vnd`: the pool's added part, folded from the entries.
- `indicator_snapshots` / `indicator_snapshot_pools`: the added part beside the plan; the stored indicators are
  derived data and are cleared here so that the refresher rebuilds them with it.
- `medium_term_entries` (R1c): the medium-term ceilings per project, period and source. The annual plans already on
  the books were decided under a medium-term plan this service did not hold: each (project, period, source) with a
  plan gets an opening entry equal to the sum of those annual plans — the least ceiling the law allows for them —
  marked as derived; planners record the decided ceiling as an adjustment of it.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OPENING_DECISION = 'migration 0020'
OPENING_AUTHORITY = 'Derived from the annual plans on the books (migration 0020)'


def _demo_third_tranche_is_added() -> None:
    op.execute("UPDATE allocation_entries SET added_vnd = amount_vnd WHERE kind = 'supplement' AND tranche = 3 "
               "AND decision_number = '2378/QĐ-UBND' AND decision_date = '2024-10-08'")
    op.execute("UPDATE pool_balances SET added_plan_vnd = (SELECT COALESCE(SUM(a.added_vnd), 0) "
               "FROM allocation_entries AS a WHERE a.project_id = pool_balances.project_id "
               "AND a.plan_year = pool_balances.plan_year AND a.capital_source = pool_balances.capital_source "
               "AND a.budget_level = pool_balances.budget_level "
               "AND a.budget_holder_id = pool_balances.budget_holder_id)")


def _opening_medium_term_plans() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT project_id, plan_year - ((plan_year - 2021) % 5 + 5) % 5 AS period_start, capital_source, "
        "SUM(plan_vnd) FROM pool_balances GROUP BY project_id, plan_year - ((plan_year - 2021) % 5 + 5) % 5, "
        "capital_source HAVING SUM(plan_vnd) > 0")).all()
    if not rows:
        return
    now = datetime.now(UTC).replace(tzinfo=None) if connection.dialect.name == 'sqlite' else datetime.now(UTC)
    table = sa.table('medium_term_entries', *(sa.column(c) for c in (
        'project_id', 'period_start', 'capital_source', 'kind', 'amount_vnd', 'decision_number', 'decision_date',
        'authority', 'note', 'known_on', 'created_at')))
    op.bulk_insert(table, [
        {'project_id': pid, 'period_start': int(start), 'capital_source': source, 'kind': 'initial',
         'amount_vnd': int(total), 'decision_number': OPENING_DECISION, 'decision_date': date(int(start), 1, 1),
         'authority': OPENING_AUTHORITY, 'note': 'Opening ceiling = the annual plans of the period already recorded; '
         'record the decided medium-term plan as an adjustment', 'known_on': now.date(), 'created_at': now}
        for pid, start, source, total in rows])


def upgrade() -> None:
    with op.batch_alter_table('allocation_entries') as batch_op:
        batch_op.add_column(sa.Column('added_vnd', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            'added_within_amount', "(amount_vnd >= 0 AND added_vnd >= 0 AND added_vnd <= amount_vnd) OR "
            "(amount_vnd < 0 AND added_vnd <= 0 AND added_vnd >= amount_vnd)")
        batch_op.create_check_constraint('extension_has_no_provenance', "kind <> 'extension' OR added_vnd = 0")
    with op.batch_alter_table('pool_balances') as batch_op:
        batch_op.add_column(sa.Column('added_plan_vnd', sa.BigInteger(), server_default='0', nullable=False))
    _demo_third_tranche_is_added()
    with op.batch_alter_table('pool_balances') as batch_op:
        batch_op.create_check_constraint('added_plan_within_plan', 'added_plan_vnd >= 0 AND added_plan_vnd <= plan_vnd')
    for table in ('indicator_snapshots', 'indicator_snapshot_pools'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('added_plan_vnd', sa.BigInteger(), server_default='0', nullable=False))
    for table in ('indicator_snapshots', 'indicator_snapshot_pools', 'indicator_flag_details',
                  'indicator_refresh_state'):
        op.execute(f'DELETE FROM {table}')
    op.create_table(
        'medium_term_entries',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('project_id', BigId, nullable=False),
        sa.Column('period_start', sa.Integer(), nullable=False),
        sa.Column('capital_source', sa.String(length=30), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
        sa.Column('decision_number', sa.String(length=200), nullable=False),
        sa.Column('decision_date', sa.Date(), nullable=False),
        sa.Column('authority', sa.String(length=200), nullable=False),
        sa.Column('note', sa.String(length=1000), nullable=True),
        sa.Column('known_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_key_id', BigId, nullable=True),
        sa.CheckConstraint('(period_start - 2021) % 5 = 0', name='period_start_of_a_period'),
        sa.CheckConstraint("(kind = 'adjustment_out') = (amount_vnd < 0) AND amount_vnd <> 0", name='sign_of_kind'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.ForeignKeyConstraint(['created_by_key_id'], ['api_keys.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'period_start', 'capital_source', 'decision_number'),
    )
    op.create_index('ix_medium_term_entries_project_id', 'medium_term_entries', ['project_id'])
    _opening_medium_term_plans()


def downgrade() -> None:
    op.drop_index('ix_medium_term_entries_project_id', table_name='medium_term_entries')
    op.drop_table('medium_term_entries')
    for table in ('indicator_snapshots', 'indicator_snapshot_pools', 'indicator_flag_details',
                  'indicator_refresh_state'):
        op.execute(f'DELETE FROM {table}')
    for table in ('indicator_snapshot_pools', 'indicator_snapshots'):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('added_plan_vnd')
    with op.batch_alter_table('pool_balances') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_pool_balances_added_plan_within_plan'), type_='check')
        batch_op.drop_column('added_plan_vnd')
    with op.batch_alter_table('allocation_entries') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_allocation_entries_extension_has_no_provenance'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_allocation_entries_added_within_amount'), type_='check')
        batch_op.drop_column('added_vnd')
