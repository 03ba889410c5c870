"""A staff member changes their own password: current password, length, confirmation, CSRF."""

from __future__ import annotations

import pytest
from app_support import PASSWORD
from html_client import csrf_token
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, User

PAGE = "/en/admin/password"
NEW = "a much longer new passphrase"


def change(client, token=None, **fields):
    data = {"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW}
    data |= fields
    if token is not False:
        data["csrf_token"] = token or csrf_token(client.get(PAGE).get_data(as_text=True))
    return client.post(PAGE, data=data)


def password_hash(app, email: str) -> str:
    with app.app_context():
        return db.session.scalars(select(User.password_hash).where(User.email == email)).one()


@pytest.mark.parametrize("role", ["admin", "statistician", "monitor"])
def test_every_role_finds_the_page_from_the_navigation(client, auth, role):
    auth.login(role)
    page = client.get("/en/admin/").headers["Location"]
    assert 'href="/en/admin/password"' in client.get(page).get_data(as_text=True)
    assert client.get(PAGE).status_code == 200


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"current_password": "not my password"}, "This is not your current password."),
        ({"new_password": "short", "confirm_password": "short"}, "at least 10 characters"),
        ({"confirm_password": NEW + "!"}, "The two new passwords differ."),
        ({"current_password": ""}, "Enter your current password."),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(app, client, auth, fields, message):
    auth.login("monitor")
    before = password_hash(app, "monitor@example.vn")
    response = change(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert password_hash(app, "monitor@example.vn") == before
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "password_changed" not in actions


def test_the_form_needs_its_csrf_token(app, client, auth):
    auth.login("monitor")
    before = password_hash(app, "monitor@example.vn")
    assert change(client, token=False).status_code == 400
    assert change(client, token="forged").status_code == 400
    assert password_hash(app, "monitor@example.vn") == before


def test_a_change_is_audited_and_the_new_password_works(app, client, auth):
    auth.login("statistician")
    response = change(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True)
    assert "Your password is changed." in page.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "password_changed")
        ).one()
    assert event.actor == "statistician@example.vn"
    assert event.details == {"email": "statistician@example.vn"}
    auth.logout()
    assert auth.login(email="statistician@example.vn", password=NEW).status_code == 302


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_the_login_form_needs_its_csrf_token(client, auth):
    auth.ensure_user("admin")
    response = client.post(
        "/en/admin/login", data={"email": "admin@example.vn", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert client.get(PAGE).status_code == 302
