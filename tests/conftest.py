"""Fixtures: an app on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os

import pytest
from app_support import PASSWORD, dispose_created_apps, make_app, reset_database
from browser_support import browser  # noqa: F401 - a fixture for the browser tests
from html_client import csrf_token
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError


def _database_params() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get("TEST_DATABASE_URL"):
        params.append(pytest.param(os.environ["TEST_DATABASE_URL"], id="postgresql"))
    elif os.environ.get("CI"):
        # CI must test on PostgreSQL too: its tests fail saying why rather than not being collected
        params.append(pytest.param(None, id="postgresql"))
    return params


def pytest_collection_modifyitems(config, items):
    """A test marked postgresql_only is about a server several processes share: its SQLite
    variant is deselected (said in the summary), not skipped."""
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


@pytest.fixture(scope="session", params=_database_params())
def database_url(request, tmp_path_factory) -> str:
    """A database migrated to the newest schema, once per test session and database."""
    from survey_app.db import make_engine
    from survey_app.schema import upgrade

    url = request.param
    if url is None:
        pytest.fail(
            "CI must test on PostgreSQL too but TEST_DATABASE_URL is not set "
            "(.ci/run sets it to a fresh database on the local server)",
            pytrace=False,
        )
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


class AuthActions:
    """Logging in and out through the admin login form, as Flask's tutorial does it.

    `login("admin")` (or "statistician", "monitor") logs in as a user of that role, made first if
    there is none (`admin@example.vn`, or `email=` for another one), and asserts that it worked.
    `login(email=..., password=...)` only fills in the form and returns the answer, for the tests
    of logging in itself. Both act on the `client` fixture, or on `client=` (another browser).
    """

    def __init__(self, client) -> None:
        self._client = client

    def ensure_user(self, role: str, email: str | None = None, password: str = PASSWORD) -> str:
        """The e-mail of a user of `role` (`{role}@example.vn` unless given), made if missing."""
        from survey_app.accounts.auth import create_user, normalize_email
        from survey_app.extensions import db
        from survey_app.models import User

        email = normalize_email(email or f"{role}@example.vn")
        with self._client.application.app_context(), db.transaction() as tx:
            user = tx.scalars(select(User).where(User.email == email)).first()
            if user is None:
                create_user(tx, email, password, role)
            else:
                assert user.role == role, f"{email} is a {user.role}, not a {role}"
        return email

    def login(
        self,
        role: str | None = None,
        *,
        email: str | None = None,
        password: str = PASSWORD,
        lang: str = "en",
        client=None,
    ):
        """Post the login form; with a role, make the user if needed and assert it logged in."""
        client = self._client if client is None else client
        if role is not None:
            email = AuthActions(client).ensure_user(role, email, password)
        assert email is not None, "login() needs a role or an e-mail"
        page = client.get(f"/{lang}/admin/login")
        assert page.status_code == 200
        response = client.post(
            f"/{lang}/admin/login",
            data={
                "csrf_token": csrf_token(page.get_data(as_text=True)),
                "email": email,
                "password": password,
            },
        )
        if role is not None:
            assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self, *, lang: str = "en", client=None):
        client = self._client if client is None else client
        token = csrf_token(client.get(f"/{lang}/admin/login").get_data(as_text=True))
        return client.post(f"/{lang}/admin/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)
