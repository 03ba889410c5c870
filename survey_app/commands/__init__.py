"""`flask --app survey_app ...` commands. Messages follow PAR_LANG or LANG (vi or en)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, in_cli_locale
from ..models import Invitation
from ..questionnaire.store import latest_version, sync_questionnaires
from ..questionnaire.validate import QuestionnaireInvalid, load_directory

SYNC_ACTIONS = {
    "unchanged": _l("unchanged"),
    "created": _l("created"),
    "new version": _l("new version"),
    "updated": _l("updated"),
}


def _fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@click.command("check-questionnaires")
@with_appcontext
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def check_questionnaires(directory: Path | None) -> None:
    """Validate questionnaire files; print every problem as file:line: key: message."""
    directory = directory or Path(current_app.config["QUESTIONNAIRE_DIR"])
    with in_cli_locale():
        questionnaires, problems = load_directory(directory)
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            _fail(
                ngettext(
                    "%(num)s problem found in %(dir)s.",
                    "%(num)s problems found in %(dir)s.",
                    len(problems),
                    dir=directory,
                )
            )
        for questionnaire in questionnaires:
            click.echo(
                _(
                    "%(code)s is valid: %(pages)s, %(questions)s.",
                    code=questionnaire.code,
                    pages=ngettext("%(num)s page", "%(num)s pages", len(questionnaire.pages)),
                    questions=ngettext(
                        "%(num)s question", "%(num)s questions", len(questionnaire.questions)
                    ),
                )
            )


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the schema, load the questionnaires, open a default wave if none."""
    from ..fieldwork.waves import ensure_default_wave
    from ..schema import upgrade

    with in_cli_locale():
        upgrade(db.engine)
        try:
            with db.transaction() as session:
                results = sync_questionnaires(session, current_app.config["QUESTIONNAIRE_DIR"])
                wave = ensure_default_wave(session)
        except QuestionnaireInvalid as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            _fail(
                _(
                    "The questionnaires were not loaded: fix the problems above and run "
                    "init-db again. Nothing was changed."
                )
            )
        click.echo(_("Database schema is up to date."))
        for result in results:
            click.echo(
                _(
                    "Questionnaire %(code)s version %(version)s: %(action)s.",
                    code=result.code,
                    version=result.version,
                    action=SYNC_ACTIONS[result.action],
                )
            )
        if wave is not None:
            click.echo(_("Opened wave %(code)s with every questionnaire.", code=wave.code))


invitations = AppGroup("invitations", help="Personal links for the invited questionnaires.")


@invitations.command("issue")
@click.option("--questionnaire", "code", required=True, help="Questionnaire code, e.g. leader.")
@click.option("--count", type=click.IntRange(1, 100_000), required=True)
@click.option("--wave", "wave_code", help="Wave code (default: the newest carrying it).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option(
    "--base-url",
    default=lambda: os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
    help="The site's public address (default: $PUBLIC_URL).",
)
def issue_invitations(
    code: str, count: int, wave_code: str | None, lang: str, base_url: str
) -> None:
    """Print COUNT new personal links, one a line. Tokens are stored only as hashes."""
    from ..fieldwork.waves import wave_for
    from ..respond.services import new_token, token_hash

    with in_cli_locale():
        with db.transaction() as session:
            version = latest_version(session, code)
            if version is None:
                _fail(_("Unknown questionnaire %(code)s.", code=code), 2)
            if version.access != "invitation":
                _fail(
                    _(
                        "Questionnaire %(code)s is answered through its open link, not by "
                        "invitation.",
                        code=code,
                    ),
                    2,
                )
            wave = wave_for(session, code, wave_code)
            if wave is None:
                _fail(
                    _(
                        "Wave %(wave)s does not exist or does not carry questionnaire %(code)s.",
                        wave=wave_code,
                        code=code,
                    )
                    if wave_code
                    else _("No wave carries questionnaire %(code)s.", code=code),
                    2,
                )
            tokens = [new_token() for _ in range(count)]
            session.add_all(
                Invitation(wave_id=wave.id, questionnaire_code=code, token_hash=token_hash(t))
                for t in tokens
            )
        base = base_url.rstrip("/")
        for token in tokens:
            click.echo(f"{base}/{lang}/i/{token}")


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
    default=lambda: os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
    help="The site's public address (default: $PUBLIC_URL).",
)
@click.option("--force", is_flag=True, help="Overwrite LINKS_OUT if it exists.")
def import_invitations(
    file: Path,
    wave_code: str,
    code: str,
    links_out: Path,
    lang: str,
    base_url: str,
    force: bool,
) -> None:
    """Import invitees from FILE (CSV or .xlsx): all rows or none; write their links."""
    import tempfile

    from ..accounts import audit
    from ..fieldwork import invitations as service

    with in_cli_locale():
        if links_out.exists() and not force:
            _fail(
                _(
                    "%(path)s exists already; choose another file or add --force to overwrite "
                    "it. Nothing was imported.",
                    path=links_out,
                ),
                2,
            )
        if not links_out.parent.is_dir():
            _fail(_("The folder of %(path)s does not exist.", path=links_out), 2)
        try:
            invitees = service.read_invitee_file(file.read_bytes(), file.name)
        except service.InviteeFileInvalid as exc:
            for error in exc.errors:
                where = f"{file}:{error.row}" if error.row is not None else str(file)
                click.echo(f"{where}: {error.message}", err=True)
            _fail(_problems_not_imported(len(exc.errors)), 2)
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
                    links = service.import_invitees(session, wave, code, invitees, base_url, lang)
                    audit.record(
                        session,
                        "invitations_imported",
                        {
                            "wave": wave.code,
                            "questionnaire": code,
                            "count": len(links),
                            "file": file.name,
                        },
                    )
                    with partial.open("w", encoding="utf-8-sig", newline="") as out:
                        service.write_links_csv(links, out)
            except service.InviteeFileInvalid as exc:
                for error in exc.errors:
                    click.echo(f"{file}:{error.row}: {error.message}", err=True)
                _fail(_problems_not_imported(len(exc.errors)), 2)
            except service.InvitationError as exc:
                _fail(str(exc), 2)
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


@click.command("seed-demo")
@with_appcontext
@click.option("--responses", type=click.IntRange(1, 1_000_000), default=300, show_default=True)
@click.option("--seed", type=int, default=2025, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo wave has responses.")
def seed_demo_command(responses: int, seed: int, if_empty: bool) -> None:
    """Add a demo wave with synthetic, seeded responses, skewed the way field samples are."""
    from ..fieldwork.demo import demo_response_count, seed_demo

    with in_cli_locale():
        with db.transaction() as session:
            if if_empty and demo_response_count(session):
                click.echo(_("The demo wave has responses already; nothing added."))
                return
            made = seed_demo(session, responses, seed)
        for code, n in made.items():
            click.echo(
                _(
                    "%(count)s synthetic %(code)s responses added to the demo wave.",
                    count=n,
                    code=code,
                )
            )


@click.command("export-responses")
@with_appcontext
@click.option("--questionnaire", "code", required=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wave", "wave_code", help="Only this wave.")
def export_responses(code: str, out_path: Path, wave_code: str | None) -> None:
    """Write complete responses as CSV: one row each, coded values, missing left empty."""
    from ..fieldwork.responses_export import write_csv

    with in_cli_locale():
        if latest_version(db.session, code) is None:
            _fail(_("Unknown questionnaire %(code)s.", code=code), 2)
        partial = out_path.with_name(out_path.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            count = write_csv(db.session, code, handle, wave_code)
        partial.replace(out_path)
        click.echo(_("%(count)s responses written to %(path)s.", count=count, path=out_path))


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
            _fail(_("%(email)s is not an e-mail address.", email=email), 2)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt(
                _("Password"), hide_input=True, confirmation_prompt=_("Repeat the password")
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            _fail(_("The password needs at least %(num)s characters.", num=MIN_PASSWORD_LENGTH), 2)
        from sqlalchemy import select

        from ..accounts import audit

        with db.transaction() as session:
            if session.scalars(select(User).where(User.email == normalize_email(email))).first():
                _fail(_("A user with the e-mail %(email)s exists already.", email=email), 2)
            user = create_user(session, email, password, role)
            audit.record(session, "user_created", {"email": user.email, "role": role})
        click.echo(_("User %(email)s created with the role %(role)s.", email=user.email, role=role))


@users.command("list")
def list_users_command() -> None:
    """List users with their role and last login."""
    from sqlalchemy import select

    from ..models import User

    with in_cli_locale():
        for user in db.session.scalars(select(User).order_by(User.email)):
            last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "-"
            state = "" if user.active else " " + _("(disabled)")
            click.echo(f"{user.email}\t{user.role}\t{last}{state}")


def init_app(app: Flask) -> None:
    for command in (
        check_questionnaires,
        init_db,
        invitations,
        seed_demo_command,
        export_responses,
        users,
        score_wave,
        quotas,
    ):
        app.cli.add_command(command)


from .quotas import quotas  # noqa: E402 - registered in init_app above
from .scoring import score_wave  # noqa: E402 - registered in init_app above
