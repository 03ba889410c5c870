"""Migration 0010_h_appraisal3 on a database of 0009_h_appraisal with users in it: each appraiser's
one unit or block becomes their set, officers keep their unit, nothing that refers to the users
is touched (the audit log's user ids); and back."""

from __future__ import annotations

from sqlalchemy import inspect, text
from test_migrations import _fresh

from survey_app.schema import downgrade, upgrade


def test_single_assignments_become_sets(database_url, tmp_path):
    engine = _fresh(database_url, tmp_path)
    upgrade(engine, "0009_h_appraisal")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rated_unit (id, code, name, block) VALUES "
                "(1, 'D1', 'Finance', 'departments'), (2, 'X1', 'District 1', 'districts')"
            )
        )
        users = [
            (1, "unit.appraiser@example.vn", "appraiser", 1, None),
            (2, "block.appraiser@example.vn", "appraiser", None, "districts"),
            (3, "every.appraiser@example.vn", "appraiser", None, None),
            (4, "officer@example.vn", "officer", 2, None),
        ]
        for user_id, email, role, unit_id, block in users:
            conn.execute(
                text(
                    "INSERT INTO app_user (id, email, password_hash, role, active, "
                    "session_generation, created_at, unit_id, block) VALUES "
                    "(:id, :email, 'x', :role, true, 0, CURRENT_TIMESTAMP, :unit, :block)"
                ),
                {"id": user_id, "email": email, "role": role, "unit": unit_id, "block": block},
            )
        conn.execute(
            text(
                "INSERT INTO audit_event (at, user_id, actor, action, details) VALUES "
                "(CURRENT_TIMESTAMP, 1, 'unit.appraiser@example.vn', 'login', '{}')"
            )
        )

    upgrade(engine)
    with engine.connect() as conn:
        scopes = conn.execute(
            text("SELECT user_id, unit_id, block FROM appraiser_scope ORDER BY user_id")
        ).all()
        assert [tuple(row) for row in scopes] == [(1, 1, None), (2, None, "districts")]
        units = conn.execute(text("SELECT id, unit_id FROM app_user ORDER BY id")).all()
        assert [tuple(row) for row in units] == [(1, None), (2, None), (3, None), (4, 2)]
        assert conn.execute(text("SELECT user_id FROM audit_event")).scalar_one() == 1
    assert "block" not in {c["name"] for c in inspect(engine).get_columns("app_user")}
    assert {"reopened_at", "reopen_reason"} <= {
        c["name"] for c in inspect(engine).get_columns("appraisal_round")
    }

    # back: one unit or one block again (the first of a set)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO appraiser_scope (user_id, block) VALUES (1, 'districts')"))
    downgrade(engine, "0009_h_appraisal")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, unit_id, block FROM app_user ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [
            (1, 1, None),
            (2, None, "districts"),
            (3, None, None),
            (4, 2, None),
        ]
        assert conn.execute(text("SELECT user_id FROM audit_event")).scalar_one() == 1
    assert "appraiser_scope" not in inspect(engine).get_table_names()
    engine.dispose()
