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
