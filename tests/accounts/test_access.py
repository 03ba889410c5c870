"""Users and roles: every admin and statistician route checks the role; logins are safe."""

from __future__ import annotations

import re

import pytest
from app_support import PASSWORD
from html_client import csrf_token
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from survey_app.accounts.auth import ACCESS
from survey_app.extensions import db
from survey_app.models import AuditEvent, User

ROLES = ("admin", "statistician", "monitor", "interviewer")
#: Routes open to everybody: respondent pages, the login page, static files, health.
PUBLIC_PREFIXES = ("respond.", "static")
PUBLIC = {"admin.login", "root", "healthz", "favicon"}


@pytest.fixture
def users(auth):
    """admin@, statistician@, monitor@ and interviewer@example.vn, before any test logs in."""
    for role in ROLES:
        auth.ensure_user(role)


def sample_url(rule) -> str:
    values = {}
    for argument in rule.arguments:
        number = isinstance(rule._converters[argument], IntegerConverter)
        values[argument] = 1 if number else ("en" if argument == "lang" else "x")
    url = rule.rule
    for key, value in values.items():
        url = re.sub(rf"<(?:[^:>]+:)?{key}>", str(value), url)
    return url


def protected_rules(app):
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint in PUBLIC or endpoint.startswith(PUBLIC_PREFIXES):
            continue
        yield rule


def test_every_non_public_route_declares_its_role(app):
    rules = list(protected_rules(app))
    assert len(rules) >= 8
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "required_part", None) in ACCESS, rule.endpoint


@pytest.mark.parametrize("who", [None, *ROLES])
def test_each_role_reaches_only_what_it_may(app, client, auth, users, who):
    if who:
        assert auth.login(email=f"{who}@example.vn").status_code == 302
    token = csrf_token(client.get("/en/admin/login").get_data(as_text=True))
    checked = 0
    for rule in protected_rules(app):
        url = sample_url(rule)
        part = app.view_functions[rule.endpoint].required_part
        method = "GET" if "GET" in rule.methods else "POST"
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        if who is None:
            assert response.status_code == 302, (url, response.status_code)
            assert "/admin/login" in response.headers["Location"], url
        elif who in ACCESS[part]:
            assert response.status_code not in (401, 403), (who, url, response.status_code)
            if response.status_code == 302 and rule.endpoint != "admin.logout":
                assert "/admin/login" not in response.headers["Location"], (who, url)
        else:
            assert response.status_code == 403, (who, url, response.status_code)
        checked += 1
        if rule.endpoint == "admin.logout" and who:
            auth.login(who)
            token = csrf_token(client.get("/en/admin/login").get_data(as_text=True))
    assert checked >= 8


def test_login_is_case_insensitive_and_audited(app, auth, users):
    response = auth.login(email="  ADMIN@Example.VN ")
    assert response.status_code == 302
    with app.app_context():
        events = [(e.action, e.actor) for e in db.session.scalars(select(AuditEvent))]
    assert ("login", "admin@example.vn") in events


def test_a_wrong_password_is_refused_in_the_pages_language(app, auth, users):
    failed = auth.login(email="monitor@example.vn", password="wrong password!")
    assert failed.status_code == 400
    assert "The e-mail or password is not right." in failed.get_data(as_text=True)
    vietnamese = auth.login(
        email="monitor@example.vn", password="sai mật khẩu", lang="vi", client=app.test_client()
    )
    assert "không đúng" in vietnamese.get_data(as_text=True)
    assert auth.login(email="monitor@example.vn").status_code == 302


def test_unknown_user_gets_the_same_answer(auth, users):
    response = auth.login(email="nobody@example.vn")
    assert response.status_code == 400
    assert "The e-mail or password is not right." in response.get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client, users):
    page = client.get("/en/admin/login")
    response = client.post(
        "/en/admin/login?next=https://evil.example/x",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": "admin@example.vn",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_session_cookie_flags(database_url, users):
    from app_support import make_app

    app = make_app(database_url, TESTING=False, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    page = client.get("/en/admin/login")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_logout_ends_the_session(app, client, auth, users):
    auth.login("statistician")
    assert client.get("/en/stats/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/en/stats/").status_code == 302


def test_passwords_are_hashed(app, users):
    with app.app_context():
        hashes = db.session.scalars(select(User.password_hash)).all()
    assert all(h.startswith("scrypt:") and PASSWORD not in h for h in hashes)


def test_users_cli(app, runner):
    created = runner.invoke(
        args=["users", "create", "Chief@Example.vn", "--role", "admin", "--password"],
        input=PASSWORD + "\n",
        env={"PAR_LANG": "en"},
    )
    assert created.exit_code == 0, created.output
    assert "chief@example.vn" in created.output
    short = runner.invoke(
        args=["users", "create", "x@example.vn", "--role", "monitor", "--password"],
        input="short\n",
        env={"PAR_LANG": "en"},
    )
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output
    again = runner.invoke(
        args=["users", "create", "chief@example.vn", "--role", "admin", "--password"],
        input=PASSWORD + "\n",
        env={"PAR_LANG": "en"},
    )
    assert again.exit_code == 2
    listed = runner.invoke(args=["users", "list"])
    assert "chief@example.vn\tadmin" in listed.output
    prompted = runner.invoke(
        args=["users", "create", "p@example.vn", "--role", "monitor"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output


def test_statistician_export_is_audited_and_has_no_secrets(app, client, auth, runner, users):
    runner.invoke(args=["seed-demo", "--responses", "20"])
    auth.login("statistician")
    page = client.get("/en/stats/waves/demo").get_data(as_text=True)
    link = re.search(r'href="(/en/stats/waves/demo/responses/citizen\.csv)"', page)
    assert link, page
    download = client.get(link.group(1))
    assert download.status_code == 200
    text = download.get_data(as_text=True)
    assert text.count("\n") == 21
    with app.app_context():
        keys = db.session.execute(select(User.password_hash)).scalars().all()
        events = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "export_responses" in events
    assert not any(k in text for k in keys)
