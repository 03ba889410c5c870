"""`flask --app survey_app privacy seal|erase-expired|erase`: what docs/security.md promises,
kept by the jobs that run daily (cron or a systemd timer; docs/security.md says when)."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..i18n import in_cli_locale
from .support import fail

privacy = AppGroup("privacy", help="Anonymity of answers and the lifetime of personal data.")


@privacy.command("seal")
def seal_command() -> None:
    """Seal every finished invited response not sealed yet (nightly, and before a backup)."""
    from ..respond import sealing

    with in_cli_locale():
        with db.transaction() as tx:
            count = sealing.seal(tx)
        click.echo(ngettext("%(num)s response sealed.", "%(num)s responses sealed.", count))


@privacy.command("erase-expired")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to count from (default: today, UTC).",
)
def erase_expired_command(today: dt.datetime | None) -> None:
    """Erase the names and contacts of invitees kept past their wave's day (daily)."""
    from ..fieldwork import identities

    with in_cli_locale():
        with db.transaction() as tx:
            count = identities.erase_expired(tx, today.date() if today else None)
        click.echo(ngettext("%(num)s identity erased.", "%(num)s identities erased.", count))


@privacy.command("erase")
@click.argument("invitee_id", type=click.IntRange(1, 2**31 - 1))
def erase_command(invitee_id: int) -> None:
    """Erase one invitee's name and contacts, at their request (their id: the invitees page)."""
    from ..fieldwork import identities

    with in_cli_locale():
        try:
            with db.transaction() as tx:
                identities.erase_one(tx, invitee_id)
        except LookupError:
            fail(_("No invitee has the id %(id)s.", id=invitee_id))
        except identities.AlreadyErased as exc:
            fail(str(exc))
        click.echo(_("Identity %(id)s erased.", id=invitee_id))
