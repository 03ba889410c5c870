"""`flask --app survey_app users create|list`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..i18n import in_cli_locale
from .support import fail

users = AppGroup("users", help="People who run the survey: admins, statisticians, monitors.")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "statistician", "monitor"]), required=True)
@click.option(
    "--password",
    "password_stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting.",
)
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is asked twice (or read from stdin), never an argument."""
    from ..accounts.auth import MIN_PASSWORD_LENGTH, create_user, normalize_email
    from ..models import User

    with in_cli_locale():
        if "@" not in email or len(email) > 254:
            fail(_("%(email)s is not an e-mail address.", email=email))
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt(
                _("Password"), hide_input=True, confirmation_prompt=_("Repeat the password")
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            fail(_("The password needs at least %(num)s characters.", num=MIN_PASSWORD_LENGTH))
        from sqlalchemy import select

        from ..accounts import audit

        with db.transaction() as session:
            if session.scalars(select(User).where(User.email == normalize_email(email))).first():
                fail(_("A user with the e-mail %(email)s exists already.", email=email))
            user = create_user(session, email, password, role)
            audit.record(session, "user_created", {"email": user.email, "role": role})
        click.echo(_("User %(email)s created with the role %(role)s.", email=user.email, role=role))


@users.command("list")
def list_users_command() -> None:
    """List users with their role and last login."""

    from ..models import User

    with in_cli_locale():
        for user in db.session.scalars(select(User).order_by(User.email)):
            last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "-"
            state = "" if user.active else " " + _("(disabled)")
            click.echo(f"{user.email}\t{user.role}\t{last}{state}")
