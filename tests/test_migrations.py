"""Alembic: the migrations build the same schema as the models, and downgrade cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from survey_app.db import make_engine
from survey_app.models import Base
from survey_app.schema import downgrade, include_name, upgrade


def _fresh(url: str, tmp_path):
    if url.startswith("sqlite"):
        return make_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
    server = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"{server.url.database}_migrate"
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_engine(make_engine(url).url.set(database=name).render_as_string(False))


def test_upgrade_matches_models_and_downgrade_removes_everything(database_url, tmp_path):
    engine = _fresh(database_url, tmp_path)
    upgrade(engine)
    with engine.connect() as conn:
        # the job queue's tables (PostgreSQL) are procrastinate's, not the models'
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    if engine.dialect.name == "postgresql":  # procrastinate's types and functions went too
        with engine.connect() as conn:
            left = conn.execute(
                text(
                    "SELECT proname FROM pg_proc WHERE proname LIKE 'procrastinate%' UNION ALL "
                    "SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%'"
                )
            ).all()
        assert left == []
    upgrade(engine)
    assert {"response", "answer", "invitation"} <= set(inspect(engine).get_table_names())
    engine.dispose()


#: Rows made at each revision before going on: every table that a foreign key leads from gets
#: some, pointing at rows of the tables later migrations rebuild (on SQLite a batch migration
#: copies a table, drops it and renames the copy). Users of the roles 0008 brings in are made
#: after it, since its downgrade deletes them.
SEEDS = {
    "0002": [
        "INSERT INTO questionnaire_version (id, code, version, respondent_group, access, "
        "content_hash, definition, loaded_at) VALUES "
        "(1, 'citizen', 1, 'citizen', 'open', 'h1', '{}', CURRENT_TIMESTAMP), "
        "(2, 'officials', 1, 'officials', 'invitation', 'h2', '{}', CURRENT_TIMESTAMP)",
        "INSERT INTO wave (id, code, title, status, created_at) "
        "VALUES (1, 'W1', '{}', 'open', CURRENT_TIMESTAMP)",
        "INSERT INTO wave_questionnaire (wave_id, questionnaire_code) VALUES (1, 'citizen')",
        "INSERT INTO invitee (id, wave_id, questionnaire_code, name, invitee_group, agency, "
        "created_at) VALUES (1, 1, 'officials', 'Nguyen Van A', 'leaders', 'DOHA', "
        "CURRENT_TIMESTAMP)",
        "INSERT INTO invitation (id, wave_id, questionnaire_code, token_hash, status, issued_at, "
        "invitee_id) VALUES (1, 1, 'officials', 't1', 'issued', CURRENT_TIMESTAMP, 1)",
        "INSERT INTO quota (id, wave_id, questionnaire_code, name, variables, when_full, "
        "created_at) VALUES (1, 1, 'citizen', 'sex', '[]', 'flag', CURRENT_TIMESTAMP)",
        "INSERT INTO quota_cell (id, quota_id, cell_key, target, complete, over_target) "
        "VALUES (1, 1, 'f', 10, 1, 0)",
        "INSERT INTO response (id, wave_id, questionnaire_code, questionnaire_version_id, "
        "key_hash, status, language, page_index, furthest_page, started_at, updated_at, "
        "completed_at, quota_cell_id, over_quota, straightlined_grids) VALUES "
        "(1, 1, 'citizen', 1, 'k1', 'complete', 'vi', 2, 2, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, false, 0), "
        "(2, 1, 'officials', 2, 'k2', 'in_progress', 'vi', 0, 1, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, NULL, NULL, false, 0)",
        "INSERT INTO answer (id, response_id, item_code, value) VALUES "
        "(1, 1, 'q1', '1'), (2, 1, 'q2', '2'), (3, 2, 'q1', '3')",
        "INSERT INTO app_user (id, email, password_hash, role, active, failed_logins, "
        "created_at) VALUES (1, 'admin@example.vn', 'x', 'admin', true, 0, CURRENT_TIMESTAMP)",
        "INSERT INTO audit_event (id, at, user_id, actor, action, details) VALUES "
        "(1, CURRENT_TIMESTAMP, 1, 'admin@example.vn', 'login', '{}')",
    ],
    "0007": [
        "INSERT INTO analysis_run (id, wave_id, kind, status, progress, message, parameters, "
        "result, created_by, created_at) VALUES "
        "(1, 1, 'weighting', 'done', 100, '', '{}', '{}', 'admin@example.vn', CURRENT_TIMESTAMP)",
    ],
    "0009_h_paper": [
        "INSERT INTO app_user (id, email, password_hash, role, active, session_generation, "
        "created_at) VALUES "
        "(2, 'interviewer@example.vn', 'x', 'interviewer', true, 0, CURRENT_TIMESTAMP)",
        "INSERT INTO audit_event (id, at, user_id, actor, action, details) VALUES "
        "(2, CURRENT_TIMESTAMP, 2, 'interviewer@example.vn', 'login', '{}')",
        "INSERT INTO response (id, wave_id, questionnaire_code, questionnaire_version_id, "
        "key_hash, status, language, page_index, furthest_page, started_at, updated_at, "
        "completed_at, over_quota, straightlined_grids, sealed, mode, entered_by_id) VALUES "
        "(3, 1, 'citizen', 1, 'k3', 'complete', 'vi', 1, 1, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, 0, false, 'paper', 2)",
        "INSERT INTO answer (id, response_id, item_code, value) VALUES (4, 3, 'q1', '4')",
    ],
    "0009_h_sites": [
        "INSERT INTO site_link (id, wave_id, questionnaire_code, code, name, site_value, "
        "created_at) VALUES (1, 1, 'citizen', 'S1', 'One-stop shop', 'oss1', CURRENT_TIMESTAMP)",
        "INSERT INTO response (id, wave_id, questionnaire_code, questionnaire_version_id, "
        "key_hash, status, language, page_index, furthest_page, started_at, updated_at, "
        "over_quota, straightlined_grids, sealed, mode, test, site_link_id) VALUES "
        "(4, 1, 'citizen', 1, 'k4', 'in_progress', 'en', 0, 0, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, false, 0, false, 'web', false, 1)",
        "INSERT INTO answer (id, response_id, item_code, value) VALUES (5, 4, 'q1', '5')",
    ],
    "0009_h_email": [
        "INSERT INTO mailing (id, wave_id, questionnaire_code, kind, language, subject, body, "
        "per_minute, status, created_at, base_url) VALUES (1, 1, 'officials', 'invitation', "
        "'vi', '{}', '{}', 60, 'done', CURRENT_TIMESTAMP, 'https://par.example.vn')",
        "INSERT INTO mail_delivery (id, mailing_id, invitation_id, status) "
        "VALUES (1, 1, 1, 'sent')",
        "INSERT INTO mail_link (invitation_id, token_hash, sealed) VALUES (1, 't1', 'x')",
        "INSERT INTO mail_opt_out (invitee_id, opted_out_on) VALUES (1, CURRENT_DATE)",
    ],
    "0009_h_appraisal": [
        "INSERT INTO rated_unit (id, code, name, block) VALUES (1, 'D1', 'Finance', 'depts')",
        "INSERT INTO app_user (id, email, password_hash, role, active, session_generation, "
        "created_at, unit_id) VALUES "
        "(3, 'officer@example.vn', 'x', 'officer', true, 0, CURRENT_TIMESTAMP, 1)",
        "INSERT INTO appraisal_round (id, year, block, scheme, points_step, status, "
        "self_deadline, created_at) VALUES "
        "(1, 2026, 'depts', 'par2026', 0.25, 'open', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO appraisal_return (id, round_id, unit_id) VALUES (1, 1, 1)",
        "INSERT INTO criterion_score (id, return_id, criterion, self_points) "
        "VALUES (1, 1, '1.1', 1.5)",
        "INSERT INTO point_change (id, score_id, kind, after, actor, at) "
        "VALUES (1, 1, 'self', 1.5, 'officer@example.vn', CURRENT_TIMESTAMP)",
        "INSERT INTO evidence (id, score_id, stage, url, added_by, added_at) "
        "VALUES (1, 1, 'self', 'https://example.vn/a', 'officer@example.vn', CURRENT_TIMESTAMP)",
    ],
}


def _keys_and_references(engine) -> dict[str, list[tuple]]:
    """Every row of every table, by its primary key and its foreign-key columns, so that a row
    lost or a reference emptied shows as a difference."""
    found = {}
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        if not include_name(table, "table") or table == "alembic_version":
            continue
        columns = list(inspector.get_pk_constraint(table)["constrained_columns"])
        for fk in inspector.get_foreign_keys(table):
            columns += [c for c in fk["constrained_columns"] if c not in columns]
        with engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}")
            ).all()
        found[table] = [dict(zip(columns, row, strict=True)) for row in rows]
    return found


def _as_now(before: dict[str, list[dict]], engine) -> dict[str, list[dict]]:
    """`before` cut to the tables and columns the database has now."""
    inspector = inspect(engine)
    kept = {}
    for table, rows in before.items():
        if inspector.has_table(table):
            columns = {c["name"] for c in inspector.get_columns(table)}
            kept[table] = [{k: v for k, v in row.items() if k in columns} for row in rows]
    return kept


def test_upgrades_and_downgrades_keep_every_row_and_reference(database_url, tmp_path):
    """On SQLite a batch migration rebuilds a table; the copy's original must not be dropped
    while foreign keys are on, or dropping it deletes the answers of every response (ON DELETE
    CASCADE) and empties the references to users (SET NULL)."""
    engine = _fresh(database_url, tmp_path)
    seeded: dict[str, list[dict]] = {}
    for revision, statements in SEEDS.items():
        upgrade(engine, revision)
        kept = _as_now(seeded, engine)
        now = _keys_and_references(engine)
        assert {t: now[t] for t in kept} == kept, f"rows or references lost up to {revision}"
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        seeded = _keys_and_references(engine)
    assert len(seeded["answer"]) == 5 and seeded["response"][2]["entered_by_id"] == 2

    upgrade(engine)
    at_head = _keys_and_references(engine)
    assert _as_now(seeded, engine) == {t: at_head[t] for t in seeded}
    assert at_head["answer"] == seeded["answer"]
    assert [e["user_id"] for e in at_head["audit_event"]] == [1, 2]

    downgrade(engine, "0002")
    # 0008's downgrade deletes the users of the roles it added, and with them their user ids in
    # the audit log, as their foreign key says (SET NULL); nothing else goes.
    expected = _as_now(at_head, engine)
    expected["app_user"] = [u for u in expected["app_user"] if u["id"] == 1]
    expected["audit_event"] = [{"id": 1, "user_id": 1}, {"id": 2, "user_id": None}]
    now = _keys_and_references(engine)
    assert {t: now[t] for t in expected} == expected
    assert len(expected["answer"]) == 5
    upgrade(engine)
    assert len(_keys_and_references(engine)["answer"]) == 5
    engine.dispose()
