"""`flask --app survey_app users create|list|set-password|disable|enable`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..accounts import audit
from ..accounts.auth import (
    MIN_PASSWORD_LENGTH,
    EmailTaken,
    all_users,
    change_password,
    create_user,
    set_active,
    user_by_email,
)
from ..extensions import db
from ..i18n import in_cli_locale
from ..models import ROLES, User
from .support import fail

users = AppGroup("users", help="People who run the survey: admins, statisticians, monitors.")

password_from_stdin = click.option(
    "--password",
    "password_stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting.",
)


def _new_password(from_stdin: bool) -> str:
    """A password from standard input, or asked twice; never an argument, which would stay in
    the shell's history and the list of processes."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(
            _("Password"), hide_input=True, confirmation_prompt=_("Repeat the password")
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        fail(_("The password needs at least %(num)s characters.", num=MIN_PASSWORD_LENGTH))
    return password


def _existing_user(session: Session, email: str) -> User:
    user = user_by_email(session, email)
    if user is None:
        fail(_("There is no user with the e-mail %(email)s.", email=email))
    return user


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@password_from_stdin
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is asked twice (or read from stdin), never an argument."""
    with in_cli_locale():
        if "@" not in email or len(email) > 254:
            fail(_("%(email)s is not an e-mail address.", email=email))
        password = _new_password(password_stdin)
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


@users.command("set-password")
@click.argument("email")
@password_from_stdin
def set_password_command(email: str, password_stdin: bool) -> None:
    """Give a user a new password; every session of theirs ends."""
    with in_cli_locale():
        _existing_user(db.session, email)  # before asking for a password for nobody
        password = _new_password(password_stdin)
        with db.transaction() as session:
            user = _existing_user(session, email)
            change_password(session, user, password)
        click.echo(_("The password of %(email)s is changed.", email=user.email))


@users.command("disable")
@click.argument("email")
def disable_user_command(email: str) -> None:
    """Stop a user from logging in; every session of theirs ends at once."""
    with in_cli_locale():
        with db.transaction() as session:
            user = _existing_user(session, email)
            set_active(session, user, False)
        click.echo(_("User %(email)s is disabled.", email=user.email))


@users.command("enable")
@click.argument("email")
def enable_user_command(email: str) -> None:
    """Let a disabled user log in again."""
    with in_cli_locale():
        with db.transaction() as session:
            user = _existing_user(session, email)
            set_active(session, user, True)
        click.echo(_("User %(email)s is enabled.", email=user.email))
