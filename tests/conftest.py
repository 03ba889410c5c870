"""Fixtures: an app on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os

import pytest
from app_support import dispose_created_apps, make_app, reset_database
from auth_support import AuthActions
from browser_support import browser  # noqa: F401 - a fixture for the browser tests
from sqlalchemy import text
from sqlalchemy.exc import OperationalError


def _database_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("TEST_DATABASE_URL"):
        # read when the fixture runs: a pytest-xdist worker has its own (pytest_configure)
        params.append(pytest.param("postgresql", id="postgresql"))
    elif os.environ.get("CI"):
        # CI must test on PostgreSQL too: its tests fail saying why rather than not being collected
        params.append(pytest.param(None, id="postgresql"))
    return params


def pytest_configure(config):
    """Under pytest-xdist every worker empties and fills the tables as its tests go, so each
    gets a PostgreSQL database of its own beside TEST_DATABASE_URL's: `<name>_gw0`, `<name>_gw1`...
    (.ci/run drops them with the rest)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("TEST_DATABASE_URL")
    if not worker or not url:
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        return  # the database_url fixture says what is wrong with TEST_DATABASE_URL
    finally:
        server.dispose()
    os.environ["TEST_DATABASE_URL"] = base.set(database=name).render_as_string(False)


#: The files that take longest (CI's --durations), run first: pytest-xdist hands whole files to
#: the workers in the order collected, and one of these started last kept one worker busy alone
#: for minutes at the end.
SLOW_FILES = (
    "tests/security/test_hostile_inputs.py",
    "tests/security/test_hostile_inputs_more_roles.py",
    "tests/test_accessibility.py",
    "tests/stats/test_stats.py",
    "tests/stats/test_stats_wording.py",
    "tests/test_multihost.py",
    "tests/fieldwork/test_quotas.py",
    "tests/respond/test_sites_browser.py",
    "tests/appraisal/test_round_browser.py",
)


@pytest.hookimpl(trylast=True)  # after pytest's own ordering, which groups by fixture values
def pytest_collection_modifyitems(config, items):
    """The slow files first (SLOW_FILES), each file's tests in the order pytest chose for them.
    A test marked postgresql_only is about a server several processes share: its SQLite
    variant is deselected (said in the summary), not skipped."""
    rank = {name: place for place, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    kept, dropped = [], []
    for item in items:
        variant = getattr(item, "callspec", None)
        on_sqlite = variant is not None and variant.params.get("database_url") == "sqlite"
        if on_sqlite and item.get_closest_marker("postgresql_only"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


#: Databases this process has migrated, by the fixture's parameter. pytest keeps one value of a
#: parametrized session fixture at a time, and under pytest-xdist's loadfile each file switches
#: between SQLite and PostgreSQL: without this, every switch emptied and migrated one again.
_MIGRATED: dict[str, str] = {}


@pytest.fixture(scope="session", params=_database_params())
def database_url(request, tmp_path_factory) -> str:
    """A database migrated to the newest schema, once per test session and database."""
    from survey_app.db import make_engine
    from survey_app.schema import upgrade

    url = request.param
    if url in _MIGRATED:
        return _MIGRATED[url]
    if url is None:
        pytest.fail(
            "CI must test on PostgreSQL too but TEST_DATABASE_URL is not set "
            "(.ci/run sets it to a fresh database on the local server)",
            pytrace=False,
        )
    if url == "postgresql":
        url = os.environ["TEST_DATABASE_URL"]
    if url == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        problem = None
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        except OperationalError as exc:
            engine.dispose()
            problem = str(exc.orig or exc).strip()
        if problem:
            pytest.fail(
                f"TEST_DATABASE_URL={engine.url.render_as_string(hide_password=True)} cannot be "
                f"used: {problem}\nIs PostgreSQL running (apt-get install postgresql; "
                'pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start) '
                "and the database created?",
                pytrace=False,
            )
    upgrade(engine)
    engine.dispose()
    _MIGRATED[request.param] = url
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


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
