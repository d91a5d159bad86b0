"""R1 budget holders: a pool is (project, plan year, capital source, budget holder)

Every row keyed by a pool gains `budget_holder_id` (the organisation whose council decides the budget: the
province's people's committee, or one named district or commune government). Existing rows are attributed the
way the API defaults an omitted holder (docs/rules.md, R1): the nearest organisation of the level's kind up the
project's investor's parent chain (central and province levels: a people's committee — or, when the chain has
none, the only top-level people's committee; district: a district; commune: a commune). A pool that cannot be
attributed stops the upgrade with its project and level (nothing is guessed). The derived indicator store is
emptied and rebuilds itself (as in 0007).

Downgrade drops the holder; it fails (unique constraints) when one project held two pools that differ only in
their holder — merging two governments' budgets is not something a downgrade should do silently.

Revision ID: 0018
Revises: 0022 (after the watch-lists migration at merge)
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# Tables keyed by a pool, and the column naming the project whose pool it is.
POOL_TABLES = {'allocation_entries': 'project_id', 'disbursements': 'project_id', 'pool_balances': 'project_id',
               'advances': 'project_id', 'dossiers': 'project_id', 'extra_needs': 'project_id',
               'reallocation_transfers': 'recipient_project_id'}
HOLDER_KIND = {'central': 'people_committee', 'province': 'people_committee', 'district': 'district',
               'commune': 'commune'}
OLD_POOL = ['project_id', 'plan_year', 'capital_source', 'budget_level']
NEW_POOL = [*OLD_POOL, 'budget_holder_id']
INDICATOR_TABLES = ('indicator_snapshot_pools', 'indicator_snapshots', 'indicator_refresh_state')


def _holder_of(orgs: dict, investor_id: int, level: str) -> int | None:
    kind = HOLDER_KIND[level]
    org_id, seen = investor_id, set()
    while org_id is not None and org_id in orgs and org_id not in seen:
        seen.add(org_id)
        if orgs[org_id][0] == kind:
            return org_id
        org_id = orgs[org_id][1]
    if kind == 'people_committee':
        roots = [i for i, (k, parent) in orgs.items() if k == kind and parent is None]
        return roots[0] if len(roots) == 1 else None
    return None


def _backfill(bind) -> None:
    orgs = {r[0]: (r[1], r[2]) for r in bind.execute(sa.text('SELECT id, kind, parent_id FROM organisations'))}
    investors = dict(bind.execute(sa.text('SELECT id, investor_id FROM projects')).all())
    for table, project_column in POOL_TABLES.items():
        pairs = bind.execute(sa.text(f'SELECT DISTINCT {project_column}, budget_level FROM {table}')).all()
        updates, missing = [], []
        for project_id, level in pairs:
            holder = _holder_of(orgs, investors[project_id], level)
            if holder is None:
                missing.append((project_id, level))
            updates.append({'h': holder, 'p': project_id, 'l': level})
        if missing:
            raise RuntimeError(f'R1: no budget holder can be attributed to the pools of {table} for (project, level) '
                               f'{missing[:10]}: give each investor a parent organisation of its level\'s kind '
                               f'({HOLDER_KIND}), then upgrade again.')
        if updates:
            bind.execute(sa.text(f'UPDATE {table} SET budget_holder_id = :h '
                                 f'WHERE {project_column} = :p AND budget_level = :l'), updates)


def _unique_name(table: str, columns: list[str]) -> str | None:
    for uq in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if uq['column_names'] == columns:
            return uq['name']
    return None


def _indicator_pools(holder: bool) -> None:
    key = ['plan_year', 'project_id', 'capital_source', 'budget_level'] + (['budget_holder_id'] if holder else [])
    op.drop_table('indicator_snapshot_pools')
    op.create_table('indicator_snapshot_pools',
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('project_id', BIG_ID, nullable=False),
    sa.Column('capital_source', sa.String(length=30), nullable=False),
    sa.Column('budget_level', sa.String(length=20), nullable=False),
    *([sa.Column('budget_holder_id', BIG_ID, nullable=False)] if holder else []),
    sa.Column('plan_vnd', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_vnd', sa.BigInteger(), nullable=False),
    sa.Column('forecast_vnd', sa.BigInteger(), nullable=False),
    sa.Column('low_vnd', sa.BigInteger(), nullable=False),
    sa.Column('high_vnd', sa.BigInteger(), nullable=False),
    sa.Column('at_risk_vnd', sa.BigInteger(), nullable=False),
    sa.Column('absorbable_vnd', sa.BigInteger(), nullable=False),
    sa.Column('computed_for', sa.Date(), nullable=False),
    sa.Column('flag_mask', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(*key, name=op.f('pk_indicator_snapshot_pools'))
    )


def upgrade() -> None:
    for table in INDICATOR_TABLES:
        op.execute(f'DELETE FROM {table}')
    _indicator_pools(holder=True)
    for table in POOL_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('budget_holder_id', BIG_ID, nullable=True))
    _backfill(op.get_bind())
    old_unique = {t: _unique_name(t, cols) for t, cols in (
        ('allocation_entries', [*OLD_POOL, 'kind', 'decision_number']), ('pool_balances', OLD_POOL))}
    for table in POOL_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column('budget_holder_id', existing_type=BIG_ID, nullable=False)
            batch_op.create_foreign_key(op.f(f'fk_{table}_budget_holder_id_organisations'), 'organisations',
                                        ['budget_holder_id'], ['id'])
            if table == 'allocation_entries':
                batch_op.drop_constraint(old_unique[table], type_='unique')
                batch_op.create_unique_constraint('uq_allocation_entries_pool_kind_decision',
                                                  [*NEW_POOL, 'kind', 'decision_number'])
                batch_op.drop_index('ix_allocation_entries_pool')
                batch_op.create_index('ix_allocation_entries_pool', NEW_POOL, unique=False)
            elif table == 'pool_balances':
                batch_op.drop_constraint(old_unique[table], type_='unique')
                batch_op.create_unique_constraint('uq_pool_balances_pool', NEW_POOL)
            elif table == 'disbursements':
                batch_op.drop_index('ix_disbursements_pool')
                batch_op.create_index('ix_disbursements_pool', NEW_POOL, unique=False)


def downgrade() -> None:
    for table in INDICATOR_TABLES:
        op.execute(f'DELETE FROM {table}')
    _indicator_pools(holder=False)
    for table in POOL_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f'fk_{table}_budget_holder_id_organisations'), type_='foreignkey')
            if table == 'allocation_entries':
                batch_op.drop_constraint('uq_allocation_entries_pool_kind_decision', type_='unique')
                batch_op.create_unique_constraint(
                    op.f('uq_allocation_entries_project_id_plan_year_capital_source_budget_level_kind_decision_number'),
                    [*OLD_POOL, 'kind', 'decision_number'])
                batch_op.drop_index('ix_allocation_entries_pool')
                batch_op.create_index('ix_allocation_entries_pool', OLD_POOL, unique=False)
            elif table == 'pool_balances':
                batch_op.drop_constraint('uq_pool_balances_pool', type_='unique')
                batch_op.create_unique_constraint(
                    op.f('uq_pool_balances_project_id_plan_year_capital_source_budget_level'), OLD_POOL)
            elif table == 'disbursements':
                batch_op.drop_index('ix_disbursements_pool')
                batch_op.create_index('ix_disbursements_pool', OLD_POOL, unique=False)
            batch_op.drop_column('budget_holder_id')
