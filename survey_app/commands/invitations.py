"""`flask --app survey_app invitations issue|import`: personal links."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, in_cli_locale
from .support import fail


def _public_url(given: str | None) -> str:
    return given or current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000"


invitations = AppGroup("invitations", help="Personal links for the invited questionnaires.")


@invitations.command("issue")
@click.option("--questionnaire", "code", required=True, help="Questionnaire code, e.g. leader.")
@click.option("--count", type=click.IntRange(1, 100_000), required=True)
@click.option("--wave", "wave_code", help="Wave code (default: the newest carrying it).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option(
    "--base-url",
    default=None,
    help="The site's public address (default: PUBLIC_URL, else http://127.0.0.1:5000).",
)
def issue_invitations(
    code: str, count: int, wave_code: str | None, lang: str, base_url: str | None
) -> None:
    """Print COUNT new personal links, one a line. Tokens are stored only as hashes."""
    from ..fieldwork import invitations as service

    with in_cli_locale():
        try:
            with db.transaction() as session:
                wave = service.invitation_wave(session, wave_code, code)
                links = service.issue_links(session, wave, code, count, _public_url(base_url), lang)
        except service.InvitationError as exc:
            fail(str(exc))
        for link in links:
            click.echo(link)


@invitations.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--wave", "wave_code", required=True, help="Wave code.")
@click.option("--questionnaire", "code", required=True, help="Questionnaire code, e.g. leader.")
@click.option(
    "--links-out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the personal links (CSV, readable only by you).",
)
@click.option("--lang", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option(
    "--base-url",
    default=None,
    help="The site's public address (default: PUBLIC_URL, else http://127.0.0.1:5000).",
)
@click.option("--force", is_flag=True, help="Overwrite LINKS_OUT if it exists.")
def import_invitations(
    file: Path,
    wave_code: str,
    code: str,
    links_out: Path,
    lang: str,
    base_url: str | None,
    force: bool,
) -> None:
    """Import invitees from FILE (CSV or .xlsx): all rows or none; write their links."""
    import tempfile

    from ..fieldwork import invitations as service
    from ..fieldwork import invitee_file

    with in_cli_locale():
        if links_out.exists() and not force:
            fail(
                _(
                    "%(path)s exists already; choose another file or add --force to overwrite "
                    "it. Nothing was imported.",
                    path=links_out,
                ),
                2,
            )
        if not links_out.parent.is_dir():
            fail(_("The folder of %(path)s does not exist.", path=links_out))
        try:
            invitees = invitee_file.read_invitee_file(file.read_bytes(), file.name)
        except invitee_file.InviteeFileInvalid as exc:
            for problem in exc.problems:
                click.echo(str(problem.located(str(file))), err=True)
            fail(_problems_not_imported(len(exc.problems)))
        # The links go to a private file first; it takes its name only once the import is
        # committed, so a failed import leaves no links behind and a written file never lacks them.
        handle, partial_name = tempfile.mkstemp(
            prefix=f".{links_out.name}.", suffix=".partial", dir=links_out.parent
        )
        os.close(handle)
        partial = Path(partial_name)
        try:
            try:
                with db.transaction() as session:
                    wave = service.invitation_wave(session, wave_code, code)
                    links = service.import_invitees(
                        session, wave, code, invitees, _public_url(base_url), lang, file.name
                    )
                    with partial.open("w", encoding="utf-8-sig", newline="") as out:
                        out.writelines(service.links_csv_chunks(links))
            except invitee_file.InviteeFileInvalid as exc:
                for problem in exc.problems:
                    click.echo(str(problem.located(str(file))), err=True)
                fail(_problems_not_imported(len(exc.problems)))
            except service.InvitationError as exc:
                fail(str(exc))
            partial.replace(links_out)
        finally:
            partial.unlink(missing_ok=True)
        for column in invitees.ignored_columns:
            click.echo(_("Column %(column)s was not imported.", column=column))
        click.echo(
            ngettext(
                "%(num)s invitee imported into %(code)s in wave %(wave)s; the links are in "
                "%(path)s. They are stored nowhere else: keep the file safe.",
                "%(num)s invitees imported into %(code)s in wave %(wave)s; the links are in "
                "%(path)s. They are stored nowhere else: keep the file safe.",
                len(links),
                code=code,
                wave=wave.code,
                path=links_out,
            )
        )


def _problems_not_imported(count: int) -> str:
    return ngettext(
        "%(num)s problem found; nothing was imported. Correct the file and import it again.",
        "%(num)s problems found; nothing was imported. Correct the file and import it again.",
        count,
    )
