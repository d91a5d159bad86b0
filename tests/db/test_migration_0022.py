"""Migration 0022 (R21): the watch-list booleans, the lead-official texts and the working groups' leader names become
lists with dated members, people and dated assignments; downgrading gives the booleans and texts back."""

from __future__ import annotations

import sqlite3

from alembic import command

from tests.conftest import alembic_config

PROJECT = ("INSERT INTO projects (id, code, name, investor_id, sector, location, \"group\", stage, "
           "total_investment_vnd, start_year, end_year, on_app1, on_app2, on_app3, is_key_project, lead_official, "
           "status, version, created_at, updated_at, search_text) VALUES (?, ?, 'Dự án', 1, 'transport', 'Vĩnh Yên', "
           "'B', 'ongoing', 1000, 2023, 2026, ?, ?, ?, 0, ?, 'active', 1, ?, ?, 'du an')")


def test_migration_0022_carries_lists_leads_and_leaders_over_and_back(tmp_path):
    path = tmp_path / "before-0022.db"
    config = alembic_config()
    config.attributes["url"] = f"sqlite+aiosqlite:///{path}"
    command.upgrade(config, "0017")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO organisations (id, code, name, kind, valid_from, created_at) "
                   "VALUES (1, 'SKHDT', 'Sở KH&ĐT', 'department', '2000-01-01', '2024-01-01')")
        db.execute("INSERT INTO working_groups (id, code, name, leader_name) VALUES (1, 'TCT-1', 'Tổ 1', 'Ông A')")
        # (id, code, app1, app2, app3, lead, registered on)
        for row in ((1, "P-1", 0, 1, 1, "Ông A", "2024-01-02 09:00:00.000000"),
                    (2, "P-2", 1, 0, 0, "Bà B", "2024-03-05 09:00:00.000000"),
                    (3, "P-3", 0, 0, 0, None, "2024-03-05 09:00:00.000000")):
            db.execute(PROJECT, (*row, row[-1]))
    command.upgrade(config, "0022")
    with sqlite3.connect(path) as db:
        lists = dict(db.execute("SELECT code, id FROM watch_lists").fetchall())
        assert sorted(lists) == ["app1", "app2", "app3"]
        assert db.execute("SELECT report_to_organisation_id, project_funding FROM watch_lists WHERE code = 'app1'"
                          ).fetchone() == (1, "non_budget")
        joins = db.execute("SELECT w.code, c.project_id, c.action, c.effective_on FROM watch_list_changes c "
                           "JOIN watch_lists w ON w.id = c.watch_list_id ORDER BY w.code, c.project_id").fetchall()
        # each member joins on the day its project was registered
        assert joins == [("app1", 2, "join", "2024-03-05"), ("app2", 1, "join", "2024-01-02"),
                         ("app3", 1, "join", "2024-01-02")]
        people = dict(db.execute("SELECT full_name, id FROM people").fetchall())
        assert sorted(people) == ["Bà B", "Ông A"]  # one person per distinct name, the leader's included
        assert db.execute("SELECT project_id, person_id, effective_on FROM project_leads ORDER BY project_id"
                          ).fetchall() == [(1, people["Ông A"], "2024-01-02"), (2, people["Bà B"], "2024-03-05")]
        assert db.execute("SELECT working_group_id, person_id, role, action FROM working_group_changes").fetchall() \
            == [(1, people["Ông A"], "leader", "join")]
        columns = {r[1] for r in db.execute("PRAGMA table_info(projects)")}
        assert "funding" in columns and not columns & {"on_app1", "on_app2", "on_app3", "lead_official"}
        assert db.execute("SELECT DISTINCT funding FROM projects").fetchall() == [("public",)]
    command.downgrade(config, "0017")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT id, on_app1, on_app2, on_app3, lead_official FROM projects ORDER BY id").fetchall() \
            == [(1, 0, 1, 1, "Ông A"), (2, 1, 0, 0, "Bà B"), (3, 0, 0, 0, None)]
        assert db.execute("SELECT leader_name FROM working_groups").fetchall() == [("Ông A",)]


def test_migration_0022_on_an_empty_database_sets_up_no_list(tmp_path):
    path = tmp_path / "empty.db"
    config = alembic_config()
    config.attributes["url"] = f"sqlite+aiosqlite:///{path}"
    command.upgrade(config, "0022")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM watch_lists").fetchone() == (0,)
