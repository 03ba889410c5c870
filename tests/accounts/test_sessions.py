"""Staff sessions end: a copied cookie stops working after logout, a password change or a
disabled account; every session ends after its idle timeout and its absolute lifetime; a
respondent's session is left alone."""

from __future__ import annotations

import time

from app_support import PASSWORD
from html_client import csrf_token
from sqlalchemy import select

from survey_app.accounts.sessions import SEEN, STARTED
from survey_app.extensions import db
from survey_app.models import AuditEvent

#: A page every staff role may open, and nobody else.
STAFF_PAGE = "/en/admin/password"
NEW_PASSWORD = "a much longer new passphrase"


def copy_of(app, client):
    """Another browser holding the same session cookie, as a thief who copied it would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def is_in(client) -> bool:
    response = client.get(STAFF_PAGE)
    if response.status_code == 302:
        assert "/admin/login" in response.headers["Location"]
        return False
    assert response.status_code == 200, response.status_code
    return True


def test_a_copied_cookie_stops_working_after_logout(app, client, auth):
    auth.login("statistician")
    thief = copy_of(app, client)
    assert is_in(thief)
    assert auth.logout().status_code == 302
    assert not is_in(client)
    assert not is_in(thief)
    # the message says why, on the login page it was sent to
    assert "Your session has ended" in thief.get("/en/admin/login").get_data(as_text=True)


def test_logout_ends_the_other_browsers_of_the_same_user(app, client, auth):
    auth.login("monitor")
    laptop = app.test_client()
    auth.login("monitor", client=laptop)
    auth.logout()
    assert not is_in(laptop)


def test_a_password_change_ends_every_other_session_but_keeps_this_one(app, client, auth):
    auth.login("admin")
    thief = copy_of(app, client)
    assert is_in(thief)
    token = csrf_token(client.get(STAFF_PAGE).get_data(as_text=True))
    changed = client.post(
        STAFF_PAGE,
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert is_in(client)
    assert not is_in(thief)
    assert auth.login(email="admin@example.vn", client=app.test_client()).status_code == 400
    new = auth.login(email="admin@example.vn", password=NEW_PASSWORD, client=app.test_client())
    assert new.status_code == 302
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "password_changed")
        )
        assert [(e.actor, e.details) for e in events] == [
            ("admin@example.vn", {"email": "admin@example.vn"})
        ]


def test_a_disabled_account_loses_its_sessions_and_cannot_log_in(app, client, auth, runner):
    auth.login("monitor")
    thief = copy_of(app, client)
    result = runner.invoke(args=["users", "disable", "monitor@example.vn"], env={"PAR_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert not is_in(client)
    assert not is_in(thief)
    refused = auth.login(email="monitor@example.vn")
    assert refused.status_code == 400
    assert "The e-mail or password is not right." in refused.get_data(as_text=True)
    assert runner.invoke(args=["users", "enable", "monitor@example.vn"]).exit_code == 0
    assert auth.login(email="monitor@example.vn").status_code == 302
    # enabling brings back no session that disabling ended
    assert not is_in(thief)


def age(client, key: str, seconds: int) -> None:
    """Move a timestamp of the stored session `seconds` into the past."""
    with client.session_transaction() as stored:
        stored[key] -= seconds


def test_an_idle_session_ends_after_the_configured_minutes(app, client, auth):
    assert app.config["STAFF_IDLE_MINUTES"] == 30
    auth.login("monitor")
    age(client, SEEN, 29 * 60)
    assert is_in(client)
    # that request counted as activity: the idle time starts again from it
    with client.session_transaction() as stored:
        assert stored[SEEN] >= int(time.time()) - 60
    age(client, SEEN, 31 * 60)
    assert not is_in(client)


def test_the_idle_timeout_is_a_setting(database_url, auth):
    from app_support import make_app

    app = make_app(database_url, STAFF_IDLE_MINUTES=5)
    client = app.test_client()
    auth.login("monitor", client=client)
    age(client, SEEN, 4 * 60)
    assert is_in(client)
    age(client, SEEN, 6 * 60)
    assert not is_in(client)


def test_a_busy_session_still_ends_after_its_absolute_lifetime(database_url, auth):
    from app_support import make_app

    app = make_app(database_url, STAFF_SESSION_HOURS=2)
    client = app.test_client()
    auth.login("admin", client=client)
    age(client, STARTED, 119 * 60)
    assert is_in(client)
    age(client, STARTED, 2 * 60)
    assert not is_in(client)


def test_the_default_lifetime_is_twelve_hours(app, client, auth):
    auth.login("admin")
    age(client, STARTED, 11 * 3600)
    assert is_in(client)
    age(client, STARTED, 3600)
    assert not is_in(client)


def test_a_session_from_before_generations_is_refused(app, client, auth):
    auth.login("admin")
    with client.session_transaction() as stored:
        del stored["staff_generation"]
    assert not is_in(client)


def test_ending_a_staff_session_keeps_the_respondents_resume_codes(app, client, auth):
    auth.login("monitor")
    with client.session_transaction() as stored:
        stored["responses"] = {"citizen": "resume-code"}
    age(client, SEEN, 31 * 60)
    assert not is_in(client)
    with client.session_transaction() as stored:
        assert stored["responses"] == {"citizen": "resume-code"}
        assert "_user_id" not in stored


def test_a_respondents_session_is_untouched_by_staff_timeouts(app, client):
    with client.session_transaction() as stored:
        stored["responses"] = {"citizen": "resume-code"}
    # a respondent's page, then a staff page the respondent may not open
    assert client.get("/en/").status_code == 200
    assert client.get(STAFF_PAGE).status_code == 302
    with client.session_transaction() as stored:
        assert dict(stored) == {"responses": {"citizen": "resume-code"}}
