"""`flask --app survey_app users create|list`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from ..accounts import audit
from ..accounts.auth import MIN_PASSWORD_LENGTH, EmailTaken, all_users, create_user
from ..extensions import db
from ..i18n import in_cli_locale
from ..models import ROLES
from .support import fail

users = AppGroup("users", help="People who run the survey: admins, statisticians, monitors.")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--password",
    "password_stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting.",
)
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is asked twice (or read from stdin), never an argument."""
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
        try:
            with db.transaction() as session:
                user = create_user(session, email, password, role)
                audit.record(session, "user_created", {"email": user.email, "role": role})
        except EmailTaken:
            fail(_("A user with the e-mail %(email)s exists already.", email=email))
        click.echo(_("User %(email)s created with the role %(role)s.", email=user.email, role=role))


@users.command("list")
def list_users_command() -> None:
    """List users with their role and last login."""
    with in_cli_locale():
        for user in all_users(db.session):
            last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "-"
            state = "" if user.active else " " + _("(disabled)")
            click.echo(f"{user.email}\t{user.role}\t{last}{state}")
