"""Alembic: the migrations build the same schema as the models, and downgrade cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from survey_app.db import make_engine
from survey_app.models import Base
from survey_app.schema import downgrade, include_name, upgrade


def _fresh(url: str, tmp_path, purpose: str = "migrate"):
    if url.startswith("sqlite"):
        return make_engine(f"sqlite:///{tmp_path / f'{purpose}.db'}")
    server = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"{server.url.database}_{purpose}"
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


def _constraints_and_defaults(engine) -> dict[str, dict]:
    """What compare_metadata does not compare, and a table's copy on SQLite could lose: CHECK
    constraints, server defaults, what foreign keys do on delete, unique constraints."""
    inspector = inspect(engine)
    described = {}
    for table in inspector.get_table_names():
        if not include_name(table, "table") or table == "alembic_version":
            continue
        described[table] = {
            "checks": sorted(
                (c["name"], " ".join(c["sqltext"].split()))
                for c in inspector.get_check_constraints(table)
            ),
            "defaults": sorted(
                (c["name"], str(c["default"]))
                for c in inspector.get_columns(table)
                if c["default"] is not None and "nextval(" not in str(c["default"])
            ),
            "foreign keys": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["options"].get("ondelete"))
                for fk in inspector.get_foreign_keys(table)
            ),
            "uniques": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
        }
    return described


def test_migrations_keep_the_constraints_and_defaults_of_the_models(database_url, tmp_path):
    migrated = _fresh(database_url, tmp_path)
    upgrade(migrated)
    made = _fresh(database_url, tmp_path, "models")
    Base.metadata.create_all(made)
    expected = _constraints_and_defaults(made)
    assert expected["response"]["checks"] and expected["app_user"]["defaults"]
    assert _constraints_and_defaults(migrated) == expected
    migrated.dispose()
    made.dispose()


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


#: Values migrations change on purpose: 0006 gives invited responses keys owing nothing to a token.
REWRITTEN = {("response", "key_hash")}


def _rows(engine) -> dict[str, list[dict]]:
    """Every row of every table, with every value but those rewritten on purpose, so that a row
    lost, a reference emptied or a value changed by a table's copy shows as a difference."""
    found = {}
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        if not include_name(table, "table") or table == "alembic_version":
            continue
        key = inspector.get_pk_constraint(table)["constrained_columns"][0]
        columns = [
            c["name"] for c in inspector.get_columns(table) if (table, c["name"]) not in REWRITTEN
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        with engine.connect() as conn:
            rows = conn.execute(text(f'SELECT {listed} FROM {table} ORDER BY "{key}"')).all()
        found[table] = [dict(zip(columns, row, strict=True)) for row in rows]
    return found


def _kept_and_found(before: dict[str, list[dict]], engine) -> tuple[dict, dict]:
    """`before`, and what the database has now, both cut to the tables and the columns that were
    there before and still are."""
    inspector = inspect(engine)
    now = _rows(engine)
    kept, found = {}, {}
    for table, rows in before.items():
        if inspector.has_table(table):
            columns = {c["name"] for c in inspector.get_columns(table)}
            columns &= set(rows[0]) if rows else set()
            kept[table] = [{k: v for k, v in row.items() if k in columns} for row in rows]
            found[table] = [{k: v for k, v in row.items() if k in columns} for row in now[table]]
    return kept, found


def test_upgrades_and_downgrades_keep_every_row_and_reference(database_url, tmp_path):
    """On SQLite a batch migration rebuilds a table; the copy's original must not be dropped
    while foreign keys are on, or dropping it deletes the answers of every response (ON DELETE
    CASCADE) and empties the references to users (SET NULL)."""
    engine = _fresh(database_url, tmp_path)
    seeded: dict[str, list[dict]] = {}
    for revision, statements in SEEDS.items():
        upgrade(engine, revision)
        kept, found = _kept_and_found(seeded, engine)
        assert found == kept, f"rows or references lost up to {revision}"
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        seeded = _rows(engine)
    assert len(seeded["answer"]) == 5 and seeded["response"][2]["entered_by_id"] == 2

    upgrade(engine)
    at_head = _rows(engine)
    kept, found = _kept_and_found(seeded, engine)
    assert found == kept
    assert at_head["answer"] == seeded["answer"]
    assert [e["user_id"] for e in at_head["audit_event"]] == [1, 2]

    downgrade(engine, "0002")
    # 0008's downgrade deletes the users of the roles it added, and with them their user ids in
    # the audit log, as their foreign key says (SET NULL); nothing else goes.
    expected, found = _kept_and_found(at_head, engine)
    expected["app_user"] = [u for u in expected["app_user"] if u["id"] == 1]
    expected["audit_event"][1]["user_id"] = None
    assert found == expected
    assert len(expected["answer"]) == 5
    upgrade(engine)
    assert len(_rows(engine)["answer"]) == 5
    engine.dispose()


def test_sqlite_upgrade_refuses_to_leave_references_dangling(tmp_path):
    """Foreign keys are off while migrating on SQLite; what they would have refused is refused
    after the migrations, before anything is committed, and they are on again afterwards."""
    from app_support import make_app

    from survey_app.extensions import db

    url = f"sqlite:///{tmp_path / 'dangling.db'}"
    engine = make_engine(url)
    upgrade(engine, "0009_h_sites")
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA foreign_keys=OFF")
        raw.driver_connection.execute(
            "INSERT INTO answer (id, response_id, item_code, value) VALUES (7, 99, 'q1', '1')"
        )
        raw.driver_connection.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()

    app = make_app(url)
    result = app.test_cli_runner().invoke(args=["init-db"], env={"PAR_LANG": "en"})
    assert result.exit_code == 1
    assert "The database was not changed" in result.output
    assert "answer row 7 refers to a missing row of response" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
            "0009_h_sites"
        )
    with db.engine_of(app).connect() as conn:  # the connection that migrated, back in the pool
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert "mailing" not in inspect(engine).get_table_names()

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM answer WHERE id = 7"))
    result = app.test_cli_runner().invoke(args=["init-db"], env={"PAR_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert "mailing" in inspect(engine).get_table_names()
    engine.dispose()
