"""Logging in through the admin login form, for the `auth` fixture and for tests that log in a
second browser (a module of its own: `from conftest import ...` finds whichever conftest was
imported first when the whole suite runs)."""

from __future__ import annotations

from app_support import PASSWORD
from html_client import csrf_token
from sqlalchemy import select


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
