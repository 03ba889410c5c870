"""Login throttling: per client and per (e-mail, client), with one answer whether or not the
e-mail has an account, no lockout of the owner from elsewhere, and no unknown e-mail in the log."""

from __future__ import annotations

import re

import pytest
from app_support import PASSWORD, make_app
from html_client import csrf_token
from sqlalchemy import select

from survey_app.accounts import auth as auth_module
from survey_app.extensions import db
from survey_app.models import AuditEvent

THROTTLED = "Too many attempts. Try again in a few minutes."
WRONG = "The e-mail or password is not right."
WRONG_PASSWORD = "wrong password!"


def from_address(app, address: str):
    """A browser at another address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def slow_app(database_url, app):
    """Windows of a day, so that none passes while a test runs (`app` empties the database)."""
    return make_app(database_url, LOGIN_RATE_LIMIT="8 per day", LOGIN_FAILURES_LIMIT="3 per day")


def comparable(response, email: str) -> tuple[int, str]:
    """The status and the page, less what differs by design: the CSRF token, and the e-mail
    typed, which the form shows again."""
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))
    return response.status_code, html.replace(email, "EMAIL")


def test_a_known_and_an_unknown_e_mail_get_the_same_answers(slow_app, auth):
    auth.ensure_user("monitor")
    answers = {}
    for address, email in (("198.51.100.1", "monitor@example.vn"), ("198.51.100.2", "no@x.vn")):
        client = from_address(slow_app, address)
        tries = [auth.login(email=email, password=WRONG_PASSWORD, client=client) for _ in range(4)]
        answers[email] = [comparable(response, email) for response in tries]
    known, unknown = answers["monitor@example.vn"], answers["no@x.vn"]
    assert [status for status, _page in known] == [400, 400, 400, 429]
    assert known == unknown
    assert WRONG in known[0][1]
    assert THROTTLED in known[-1][1]


def test_a_throttled_attempt_checks_no_password_known_or_not(slow_app, auth, monkeypatch):
    """The same work, so the same time, for a known e-mail and an unknown one."""
    auth.ensure_user("monitor")
    checked = []
    real = auth_module.check_password_hash
    monkeypatch.setattr(
        auth_module, "check_password_hash", lambda *args: checked.append(1) or real(*args)
    )
    for address, email in (("198.51.100.1", "monitor@example.vn"), ("198.51.100.2", "no@x.vn")):
        client = from_address(slow_app, address)
        for _ in range(3):
            auth.login(email=email, password=WRONG_PASSWORD, client=client)
        assert len(checked) == 3
        checked.clear()
        # past the limit even the right password is refused, unchecked
        assert auth.login(email=email, client=client).status_code == 429
        assert checked == []


def test_an_attacker_cannot_lock_the_owner_out_from_elsewhere(slow_app, auth):
    auth.ensure_user("admin")
    attacker = from_address(slow_app, "203.0.113.9")
    for _ in range(3):
        auth.login(email="admin@example.vn", password=WRONG_PASSWORD, client=attacker)
    assert auth.login(email="admin@example.vn", client=attacker).status_code == 429
    owner = from_address(slow_app, "198.51.100.7")
    assert auth.login(email="admin@example.vn", client=owner).status_code == 302


def test_one_client_trying_many_e_mails_is_throttled(slow_app, auth):
    auth.ensure_user("admin")
    client = from_address(slow_app, "203.0.113.9")
    statuses = [
        auth.login(email=f"guess{n}@example.vn", password=WRONG_PASSWORD, client=client).status_code
        for n in range(8)
    ]
    assert statuses == [400] * 8
    refused = auth.login(email="admin@example.vn", client=client)
    assert refused.status_code == 429
    assert THROTTLED in refused.get_data(as_text=True)
    # the limit is the client's: another address still logs in
    other = from_address(slow_app, "198.51.100.7")
    assert auth.login(email="admin@example.vn", client=other).status_code == 302


def test_the_per_client_limit_answers_as_the_per_e_mail_one(slow_app, auth):
    """Whichever limit is reached, the page and status are the same."""
    by_client = from_address(slow_app, "203.0.113.9")
    for n in range(8):
        auth.login(email=f"guess{n}@example.vn", password=WRONG_PASSWORD, client=by_client)
    by_email = from_address(slow_app, "203.0.113.10")
    for _ in range(3):
        auth.login(email="no@x.vn", password=WRONG_PASSWORD, client=by_email)
    first = auth.login(email="no@x.vn", password=WRONG_PASSWORD, client=by_client)
    second = auth.login(email="no@x.vn", password=WRONG_PASSWORD, client=by_email)
    assert comparable(first, "no@x.vn") == comparable(second, "no@x.vn")


def test_the_default_limits_throttle_the_sixth_failure(app, auth):
    auth.ensure_user("monitor")
    for _ in range(5):
        failed = auth.login(email="monitor@example.vn", password=WRONG_PASSWORD)
        assert failed.status_code == 400
        assert WRONG in failed.get_data(as_text=True)
    throttled = auth.login(email="monitor@example.vn")
    assert throttled.status_code == 429
    assert THROTTLED in throttled.get_data(as_text=True)


def test_a_success_forgets_the_failures(slow_app, auth):
    auth.ensure_user("monitor")
    client = from_address(slow_app, "198.51.100.1")
    for _ in range(2):
        auth.login(email="monitor@example.vn", password=WRONG_PASSWORD, client=client)
    assert auth.login(email="monitor@example.vn", client=client).status_code == 302
    for _ in range(2):
        failed = auth.login(email="monitor@example.vn", password=WRONG_PASSWORD, client=client)
        assert failed.status_code == 400


def test_the_log_keeps_a_known_e_mail_and_never_an_unknown_one(app, auth):
    auth.ensure_user("monitor")
    auth.login(email="monitor@example.vn", password=WRONG_PASSWORD)
    auth.login(email="Someone.Typed@Example.vn", password=WRONG_PASSWORD)
    auth.login(email="my secret passphrase", password=WRONG_PASSWORD)
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    failed = [(e.action, e.details) for e in events]
    assert failed == [
        ("login_failed", {"email": "monitor@example.vn"}),
        ("login_failed", {"unknown_email": True}),
        ("login_failed", {"unknown_email": True}),
    ]
    logged = repr([(e.actor, e.details) for e in events]).lower()
    assert "someone.typed" not in logged and "secret passphrase" not in logged
    assert events[0].user_id is not None and events[1].user_id is None


def test_throttled_attempts_are_logged_without_unknown_e_mails(slow_app, auth):
    client = from_address(slow_app, "203.0.113.9")
    for _ in range(4):
        auth.login(email="nobody@example.vn", password=WRONG_PASSWORD, client=client)
    with slow_app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.action, e.details) for e in events][-1] == (
        "login_throttled",
        {"unknown_email": True},
    )
    assert "nobody" not in repr([(e.actor, e.details) for e in events])


def test_the_password_page_is_rate_limited_too(slow_app, auth):
    client = from_address(slow_app, "198.51.100.1")
    auth.login("monitor", client=client)
    token = csrf_token(client.get("/en/admin/password").get_data(as_text=True))
    fields = {"csrf_token": token, "current_password": "not it at all", "new_password": ""}
    statuses = [client.post("/en/admin/password", data=fields).status_code for _ in range(8)]
    assert statuses == [400] * 8  # counted apart from the logins
    page = client.post("/en/admin/password", data=fields)
    assert page.status_code == 429
    assert "Too many requests" in page.get_data(as_text=True)


def test_behind_a_trusted_proxy_each_forwarded_address_counts_apart(database_url, app, auth):
    proxied = make_app(database_url, TRUSTED_PROXIES=1, LOGIN_RATE_LIMIT="8 per day")
    auth.ensure_user("admin")
    client = proxied.test_client()  # every request comes from the proxy's own address

    def login_from(address: str, email: str, password: str = WRONG_PASSWORD):
        page = client.get("/en/admin/login", headers={"X-Forwarded-For": address})
        return client.post(
            "/en/admin/login",
            data={
                "csrf_token": csrf_token(page.get_data(as_text=True)),
                "email": email,
                "password": password,
            },
            headers={"X-Forwarded-For": address},
        ).status_code

    assert [login_from("203.0.113.9", f"guess{n}@x.vn") for n in range(9)] == [400] * 8 + [429]
    assert login_from("198.51.100.7", "admin@example.vn", PASSWORD) == 302
    with proxied.app_context():
        ips = set(db.session.scalars(select(AuditEvent.ip)))
    assert ips == {"203.0.113.9", "198.51.100.7"}
