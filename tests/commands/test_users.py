"""`flask users set-password|disable|enable`: each takes effect at once and is audited."""

from __future__ import annotations

from app_support import PASSWORD
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent

NEW = "a much longer new passphrase"
EN = {"PAR_LANG": "en"}


def audit_trail(app) -> list[tuple[str, str, dict]]:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.actor, e.action, e.details) for e in events]


def test_set_password_prompts_twice_and_ends_the_sessions(app, client, auth, runner):
    auth.login("monitor")
    assert client.get("/en/admin/password").status_code == 200
    result = runner.invoke(
        args=["users", "set-password", "Monitor@Example.vn"], input=f"{NEW}\n{NEW}\n", env=EN
    )
    assert result.exit_code == 0, result.output
    assert "The password of monitor@example.vn is changed." in result.output
    assert client.get("/en/admin/password").status_code == 302
    assert auth.login(email="monitor@example.vn").status_code == 400
    assert auth.login(email="monitor@example.vn", password=NEW).status_code == 302
    assert ("cli", "password_changed", {"email": "monitor@example.vn"}) in audit_trail(app)


def test_set_password_refuses_a_mismatch_a_short_one_and_an_unknown_user(app, auth, runner):
    auth.ensure_user("monitor")
    mismatch = runner.invoke(
        args=["users", "set-password", "monitor@example.vn"],
        input=f"{NEW}\n{NEW}x\n{NEW}\n{NEW}\n",
        env=EN,
    )
    # click asks again after a mismatch; the second pair matches
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output
    short = runner.invoke(
        args=["users", "set-password", "monitor@example.vn", "--password"], input="short\n", env=EN
    )
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output
    unknown = runner.invoke(args=["users", "set-password", "nobody@example.vn"], env=EN)
    assert unknown.exit_code == 2
    assert "There is no user with the e-mail nobody@example.vn." in unknown.output
    assert "Password" not in unknown.output  # said before asking for a password for nobody
    actions = [action for _actor, action, _details in audit_trail(app)]
    assert actions.count("password_changed") == 1


def test_disable_and_enable(app, client, auth, runner):
    auth.login("statistician")
    disabled = runner.invoke(args=["users", "disable", "statistician@example.vn"], env=EN)
    assert disabled.exit_code == 0, disabled.output
    assert "User statistician@example.vn is disabled." in disabled.output
    assert client.get("/en/admin/password").status_code == 302
    listed = runner.invoke(args=["users", "list"], env=EN)
    assert "statistician@example.vn\tstatistician" in listed.output
    assert "(disabled)" in listed.output
    assert auth.login(email="statistician@example.vn").status_code == 400
    enabled = runner.invoke(args=["users", "enable", "statistician@example.vn"], env=EN)
    assert enabled.exit_code == 0, enabled.output
    assert "User statistician@example.vn is enabled." in enabled.output
    assert auth.login(email="statistician@example.vn", password=PASSWORD).status_code == 302
    trail = audit_trail(app)
    assert ("cli", "user_disabled", {"email": "statistician@example.vn"}) in trail
    assert ("cli", "user_enabled", {"email": "statistician@example.vn"}) in trail


def test_disable_an_unknown_user_fails(runner):
    for command in ("disable", "enable"):
        result = runner.invoke(args=["users", command, "nobody@example.vn"], env=EN)
        assert result.exit_code == 2
        assert "There is no user with the e-mail nobody@example.vn." in result.output
