"""Fixtures: an app on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
TABLES = ["analysis_run", "audit_event", "answer", "response", "quota_cell", "quota", "invitation",
          "invitee", "app_user", "wave_questionnaire", "wave", "questionnaire_version"]


def _database_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("TEST_DATABASE_URL"):
        params.append(pytest.param(os.environ["TEST_DATABASE_URL"], id="postgresql"))
    return params


@pytest.fixture(scope="session", params=_database_params())
def database_url(request, tmp_path_factory) -> str:
    """A database migrated to the newest schema, once per test session and database."""
    from survey_app.db import make_engine
    from survey_app.schema import upgrade

    url = request.param
    if url == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return url


def make_app(database_url: str, **config):
    from survey_app import create_app

    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "SESSION_COOKIE_SECURE": False,
        "QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
    }
    settings.update(config)
    return create_app(settings)


def reset_database(app) -> None:
    from survey_app.extensions import db
    from survey_app.questionnaire.store import sync_questionnaires
    from survey_app.waves import ensure_default_wave

    with app.app_context():
        with db.engine.begin() as conn:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        with db.transaction() as session:
            sync_questionnaires(session, app.config["QUESTIONNAIRE_DIR"])
            ensure_default_wave(session)


@pytest.fixture
def app(database_url):
    app = make_app(database_url)
    reset_database(app)
    yield app
    from survey_app.extensions import db

    db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
