"""Fixtures: an app on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os

import pytest
from app_support import dispose_created_apps, make_app, reset_database
from browser_support import browser  # noqa: F401 - a fixture for the browser tests
from sqlalchemy import text


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


@pytest.fixture
def app(database_url):
    app = make_app(database_url)
    reset_database(app)
    return app


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close the pooled connections of every app a test made, so none is left to the GC."""
    from app_support import CREATED_APPS

    made_before = len(CREATED_APPS)
    yield
    dispose_created_apps(made_before)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
