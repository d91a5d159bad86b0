"""A normalised search column (case- and diacritic-insensitive) filled at write time

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.kernel.search_text import project_search_text

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    op.add_column('projects', sa.Column('search_text', sa.Text(), nullable=True))
    bind = op.get_bind()
    projects = sa.table('projects', sa.column('id', sa.BigInteger()), sa.column('code', sa.String()),
                        sa.column('name', sa.String()), sa.column('search_text', sa.Text()))
    after = 0
    while True:  # existing rows, in id batches
        rows = bind.execute(sa.select(projects.c.id, projects.c.code, projects.c.name)
                            .where(projects.c.id > after).order_by(projects.c.id).limit(_BATCH)).all()
        if not rows:
            break
        bind.execute(projects.update().where(projects.c.id == sa.bindparam('pid'))
                     .values(search_text=sa.bindparam('folded')),
                     [{'pid': r.id, 'folded': project_search_text(r.code, r.name)} for r in rows])
        after = rows[-1].id
    with op.batch_alter_table('projects') as batch:
        batch.alter_column('search_text', existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('search_text')
