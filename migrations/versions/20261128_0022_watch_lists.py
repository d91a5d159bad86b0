"""Watch-lists as data, people and working-group members, lead officials, physical progress and milestones,
non-budget projects (issue #11 item 6)

The three watch-list booleans (`projects.on_app1..3`) become the lists app1/app2/app3 and a `join` change per
member, effective on the day the project was registered (when it joined is not known; it was on the list at
least since). Each distinct `projects.lead_official` text becomes a person and an assignment effective the same
day; each working group's `leader_name` a person who leads it since 2000-01-01 (the earliest business date).
Stored indicators are derived data: they are emptied and rebuilt by the refresher with the new keys.

Revision ID: 0022
Revises: 0017
Create Date: 2026-11-28
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = '0022'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PROGRAMME = "Chương trình hành động của UBND tỉnh (10/2024)"
DUTY = "định kỳ báo cáo nhanh tiến độ về Sở Kế hoạch và Đầu tư để tổng hợp, theo dõi, tham mưu báo cáo UBND tỉnh"
LISTS = [  # code, name, project funding, appendix
    ("app1", "Phụ lục 1: Dự án đầu tư ngoài ngân sách cần tháo gỡ khó khăn, vướng mắc", "non_budget", 1),
    ("app2", "Phụ lục 2: Dự án đầu tư công lớn, trọng điểm", "public", 2),
    ("app3", "Phụ lục 3: Dự án lớn có khả năng hoàn thành năm 2025, khánh thành chào mừng Đại hội Đảng bộ tỉnh",
     "public", 3),
]
SINCE_ALWAYS = date(2000, 1, 1)


def _day(value) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _run(sql: str, params: dict | None = None) -> sa.CursorResult:
    """Raw SQL with dates and times bound as each driver wants them (SQLite: text, as SQLAlchemy stores them)."""
    bind, params = op.get_bind(), params or {}
    if bind.dialect.name == "sqlite":
        params = {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else
                  v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
    return bind.execute(sa.text(sql), params)


def _keys(table: str) -> list:
    return [sa.ForeignKeyConstraint(['key_id'], ['api_keys.id'], name=f'fk_{table}_key_id_api_keys')]


def _create_tables() -> None:
    op.create_table('watch_lists',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('decision_ref', sa.String(length=300), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('project_funding', sa.String(length=20), nullable=True),
        sa.Column('reporter', sa.String(length=300), nullable=True),
        sa.Column('report_frequency', sa.String(length=20), nullable=True),
        sa.Column('report_to_organisation_id', BigId, nullable=True),
        sa.Column('report_duty', sa.String(length=1000), nullable=True),
        sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_key_id', BigId, nullable=True),
        sa.ForeignKeyConstraint(['created_by_key_id'], ['api_keys.id'],
                                name='fk_watch_lists_created_by_key_id_api_keys'),
        sa.ForeignKeyConstraint(['report_to_organisation_id'], ['organisations.id'],
                                name='fk_watch_lists_report_to_organisation_id_organisations'),
        sa.PrimaryKeyConstraint('id', name='pk_watch_lists'),
        sa.UniqueConstraint('code', name='uq_watch_lists_code'))
    op.create_table('people',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=True),
        sa.Column('organisation_id', BigId, nullable=True),
        sa.Column('created_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name='fk_people_organisation_id_organisations'),
        sa.PrimaryKeyConstraint('id', name='pk_people'))
    op.create_table('watch_list_changes',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('watch_list_id', BigId, nullable=False),
        sa.Column('project_id', BigId, nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('decision_ref', sa.String(length=100), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('key_id', BigId, nullable=True),
        sa.CheckConstraint("action IN ('join', 'leave')", name='ck_watch_list_changes_action_known'),
        *_keys('watch_list_changes'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name='fk_watch_list_changes_project_id_projects'),
        sa.ForeignKeyConstraint(['watch_list_id'], ['watch_lists.id'],
                                name='fk_watch_list_changes_watch_list_id_watch_lists'),
        sa.PrimaryKeyConstraint('id', name='pk_watch_list_changes'))
    op.create_index('ix_watch_list_changes_list_project', 'watch_list_changes',
                    ['watch_list_id', 'project_id', 'effective_on'])
    op.create_index('ix_watch_list_changes_project', 'watch_list_changes', ['project_id'])
    op.create_table('project_leads',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('project_id', BigId, nullable=False),
        sa.Column('person_id', BigId, nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('decision_ref', sa.String(length=100), nullable=True),
        sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('key_id', BigId, nullable=True),
        *_keys('project_leads'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name='fk_project_leads_person_id_people'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name='fk_project_leads_project_id_projects'),
        sa.PrimaryKeyConstraint('id', name='pk_project_leads'))
    op.create_index('ix_project_leads_project', 'project_leads', ['project_id', 'effective_on'])
    op.create_index('ix_project_leads_person_id', 'project_leads', ['person_id'])
    op.create_table('working_group_changes',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('working_group_id', BigId, nullable=False),
        sa.Column('person_id', BigId, nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('key_id', BigId, nullable=True),
        sa.CheckConstraint("action IN ('join', 'leave')", name='ck_working_group_changes_action_known'),
        sa.CheckConstraint("role IN ('leader', 'deputy', 'member')", name='ck_working_group_changes_role_known'),
        *_keys('working_group_changes'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name='fk_working_group_changes_person_id_people'),
        sa.ForeignKeyConstraint(['working_group_id'], ['working_groups.id'],
                                name='fk_working_group_changes_working_group_id_working_groups'),
        sa.PrimaryKeyConstraint('id', name='pk_working_group_changes'))
    op.create_index('ix_working_group_changes_group', 'working_group_changes',
                    ['working_group_id', 'person_id', 'effective_on'])
    op.create_index('ix_working_group_changes_person_id', 'working_group_changes', ['person_id'])
    op.create_table('progress_reports',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('project_id', BigId, nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('physical_pct', sa.Float(), nullable=False),
        sa.Column('note', sa.String(length=1000), nullable=True),
        sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('key_id', BigId, nullable=True),
        sa.CheckConstraint('physical_pct >= 0 AND physical_pct <= 100', name='ck_progress_reports_pct_range'),
        *_keys('progress_reports'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name='fk_progress_reports_project_id_projects'),
        sa.PrimaryKeyConstraint('id', name='pk_progress_reports'))
    op.create_index('ix_progress_reports_project', 'progress_reports', ['project_id', 'reported_on'])
    op.create_table('milestone_reports',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('project_id', BigId, nullable=False),
        sa.Column('milestone', sa.String(length=20), nullable=False),
        sa.Column('planned_on', sa.Date(), nullable=True),
        sa.Column('actual_on', sa.Date(), nullable=True),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('note', sa.String(length=1000), nullable=True),
        sa.Column('recorded_at', app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('key_id', BigId, nullable=True),
        sa.CheckConstraint("milestone IN ('start', 'completion', 'inauguration')",
                           name='ck_milestone_reports_milestone_known'),
        sa.CheckConstraint('planned_on IS NOT NULL OR actual_on IS NOT NULL', name='ck_milestone_reports_some_date'),
        *_keys('milestone_reports'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name='fk_milestone_reports_project_id_projects'),
        sa.PrimaryKeyConstraint('id', name='pk_milestone_reports'))
    op.create_index('ix_milestone_reports_project', 'milestone_reports', ['project_id', 'milestone', 'reported_on'])


def _migrate_data(now: datetime) -> None:
    """The lists are created where there are projects to carry over (a new, empty database starts without them)."""
    if _run("SELECT id FROM projects LIMIT 1").first() is None:
        _migrate_leaders(now, {})
        return
    department = _run("SELECT id FROM organisations WHERE code = 'SKHDT'").scalar()
    list_ids: dict[int, int] = {}
    for code, name, funding, n in LISTS:
        _run(
            "INSERT INTO watch_lists (code, name, decision_ref, project_funding, reporter, report_frequency, "
            "report_to_organisation_id, report_duty, created_at) VALUES (:code, :name, :ref, :funding, :reporter, "
            "'ad_hoc', :to, :duty, :now)", {
                "code": code, "name": name, "ref": f"{PROGRAMME}, Phụ lục số {n}", "funding": funding,
                "reporter": "Các sở, ban, ngành, UBND các huyện, thành phố, chủ đầu tư", "to": department,
                "duty": DUTY, "now": now})
        list_ids[n] = _run("SELECT id FROM watch_lists WHERE code = :c", {"c": code}).scalar_one()
    people: dict[str, int] = {}

    rows = _run("SELECT id, on_app1, on_app2, on_app3, lead_official, created_at FROM projects ORDER BY id").all()
    for pid, app1, app2, app3, lead, created in rows:
        since = _day(created)
        for n, on in ((1, app1), (2, app2), (3, app3)):
            if on:
                _run(
                    "INSERT INTO watch_list_changes (watch_list_id, project_id, action, effective_on, note, "
                    "recorded_at) VALUES (:w, :p, 'join', :d, :note, :now)",
                    {"w": list_ids[n], "p": pid, "d": since, "note": f"migrated from projects.on_app{n}", "now": now})
        if lead and lead.strip():
            _run("INSERT INTO project_leads (project_id, person_id, effective_on, recorded_at) "
                 "VALUES (:p, :who, :d, :now)", {"p": pid, "who": _person(lead.strip(), people, now), "d": since,
                                                 "now": now})
    _migrate_leaders(now, people)


def _person(name: str, people: dict[str, int], now: datetime) -> int:
    """One person per distinct name."""
    if name not in people:
        _run("INSERT INTO people (full_name, created_at) VALUES (:n, :now)", {"n": name, "now": now})
        people[name] = _run("SELECT max(id) FROM people").scalar_one()
    return people[name]


def _migrate_leaders(now: datetime, people: dict[str, int]) -> None:
    for gid, leader in _run("SELECT id, leader_name FROM working_groups ORDER BY id").all():
        if leader and leader.strip():
            _run(
                "INSERT INTO working_group_changes (working_group_id, person_id, action, role, effective_on, "
                "recorded_at) VALUES (:g, :who, 'join', 'leader', :d, :now)",
                {"g": gid, "who": _person(leader.strip(), people, now), "d": SINCE_ALWAYS, "now": now})


def _empty_indicators() -> None:  # derived data: the refresher rebuilds it (README, Design)
    for table in ("indicator_flag_details", "indicator_snapshot_pools", "indicator_snapshots",
                  "indicator_refresh_state"):
        op.execute(f"DELETE FROM {table}")


def upgrade() -> None:
    _create_tables()
    with op.batch_alter_table('projects', recreate='never') as batch_op:  # others reference it: no copy
        batch_op.add_column(sa.Column('funding', sa.String(length=20), server_default='public', nullable=False))
    _migrate_data(datetime.now(UTC))
    with op.batch_alter_table('projects', recreate='never') as batch_op:  # others reference it: no copy
        for column in ('on_app1', 'on_app2', 'on_app3', 'lead_official'):
            batch_op.drop_column(column)
    with op.batch_alter_table('working_groups', recreate='never') as batch_op:
        batch_op.drop_column('leader_name')
    _empty_indicators()
    with op.batch_alter_table('indicator_snapshots') as batch_op:
        batch_op.drop_column('watch_mask')
        batch_op.drop_column('lead_official')
        batch_op.add_column(sa.Column('lead_person_id', BigId, nullable=True))


def downgrade() -> None:
    """Back to the booleans and texts as they stand today (history before today is lost; non-budget projects,
    which the old schema cannot keep apart from public ones, become public projects without a plan)."""
    _empty_indicators()
    with op.batch_alter_table('indicator_snapshots') as batch_op:
        batch_op.drop_column('lead_person_id')
        batch_op.add_column(sa.Column('lead_official', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('watch_mask', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('working_groups', recreate='never') as batch_op:
        batch_op.add_column(sa.Column('leader_name', sa.String(length=200), nullable=True))
    with op.batch_alter_table('projects', recreate='never') as batch_op:  # others reference it: no copy
        for n in (1, 2, 3):
            batch_op.add_column(sa.Column(f'on_app{n}', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('lead_official', sa.String(length=200), nullable=True))
    today = datetime.now(UTC).date()
    state: dict[tuple[int, int], bool] = {}
    for wl, pid, action in _run(
            "SELECT w.code, c.project_id, c.action FROM watch_list_changes c JOIN watch_lists w "
            "ON w.id = c.watch_list_id WHERE c.effective_on <= :d ORDER BY c.effective_on, c.id", {"d": today}):
        if wl in ("app1", "app2", "app3"):
            state[(int(wl[-1]), pid)] = action == "join"
    for (n, pid), on in state.items():
        if on:
            _run(f"UPDATE projects SET on_app{n} = :t WHERE id = :p", {"t": True, "p": pid})
    for pid, name in _run(
            "SELECT l.project_id, p.full_name FROM project_leads l JOIN people p ON p.id = l.person_id "
            "WHERE l.effective_on <= :d ORDER BY l.effective_on, l.id", {"d": today}).all():
        _run("UPDATE projects SET lead_official = :n WHERE id = :p", {"n": name, "p": pid})
    for gid, name in _run(
            "SELECT c.working_group_id, p.full_name FROM working_group_changes c JOIN people p ON p.id = c.person_id "
            "WHERE c.role = 'leader' AND c.action = 'join' AND c.effective_on <= :d ORDER BY c.effective_on, c.id",
            {"d": today}).all():
        _run("UPDATE working_groups SET leader_name = :n WHERE id = :g", {"n": name, "g": gid})
    with op.batch_alter_table('projects', recreate='never') as batch_op:  # others reference it: no copy
        batch_op.drop_column('funding')
    for index, table in (('ix_milestone_reports_project', 'milestone_reports'),
                         ('ix_progress_reports_project', 'progress_reports'),
                         ('ix_working_group_changes_person_id', 'working_group_changes'),
                         ('ix_working_group_changes_group', 'working_group_changes'),
                         ('ix_project_leads_person_id', 'project_leads'),
                         ('ix_project_leads_project', 'project_leads'),
                         ('ix_watch_list_changes_project', 'watch_list_changes'),
                         ('ix_watch_list_changes_list_project', 'watch_list_changes')):
        op.drop_index(index, table_name=table)
    for table in ('milestone_reports', 'progress_reports', 'working_group_changes', 'project_leads',
                  'watch_list_changes', 'people', 'watch_lists'):
        op.drop_table(table)
