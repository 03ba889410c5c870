"""`flask --app survey_app check-questionnaires [DIR]` and `questionnaires import-xlsform FILE`,
`questionnaires export-xlsform CODE --out FILE.xlsx`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..i18n import in_cli_locale
from ..questionnaire.definition import ACCESS
from ..questionnaire.validate import load_directory
from .database import SYNC_ACTIONS
from .support import fail


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
            fail(
                ngettext(
                    "%(num)s problem found in %(dir)s.",
                    "%(num)s problems found in %(dir)s.",
                    len(problems),
                    dir=directory,
                ),
                1,
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
            for section, enabled in questionnaire.sections.items():
                if enabled:
                    said = _(
                        "%(code)s: the optional section %(section)s is switched on.",
                        code=questionnaire.code,
                        section=section,
                    )
                else:
                    said = _(
                        "%(code)s: the optional section %(section)s is switched off "
                        "(enabled: false); its pages are not asked.",
                        code=questionnaire.code,
                        section=section,
                    )
                click.echo(said)


questionnaires = AppGroup("questionnaires", help="Questionnaires to and from XLSForm.")


@questionnaires.command("import-xlsform")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", help="The questionnaire's code (default: the form_id of the settings).")
@click.option("--group", default="citizen", show_default=True, help="The respondent group.")
@click.option("--access", type=click.Choice(ACCESS), default="open", show_default=True)
@click.option("--replace", is_flag=True, help="Make it the next version of an existing code.")
def import_xlsform_command(
    file: Path, code: str | None, group: str, access: str, replace: bool
) -> None:
    """Import an XLSForm (.xlsx: survey, choices, settings sheets). All or nothing: every
    construct that does not map is named by sheet and row."""
    from ..fieldwork.xlsform_import import import_xlsform
    from ..questionnaire.xlsform_read import XLSFormInvalid

    with in_cli_locale():
        try:
            with db.transaction() as tx:
                done = import_xlsform(
                    tx, file.read_bytes(), file.name, code, group, access, replace
                )
        except XLSFormInvalid as exc:
            for problem in exc.problems:
                click.echo(str(problem.located(file.name)), err=True)
            fail(_("Nothing was imported."))
        for notice in done.notices:
            click.echo(_("note: %(text)s", text=notice.located(file.name)), err=True)
        click.echo(
            _(
                "Questionnaire %(code)s version %(version)s: %(action)s.",
                code=done.result.code,
                version=done.result.version,
                action=SYNC_ACTIONS[done.result.action],
            )
        )


@questionnaires.command("export-xlsform")
@click.argument("code")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_xlsform_command(code: str, out: Path) -> None:
    """Write the newest version of questionnaire CODE as an XLSForm (.xlsx)."""
    from ..questionnaire.store import definition, latest_version
    from ..questionnaire.xlsform_write import write_xlsform

    with in_cli_locale():
        version = latest_version(db.session, code)
        if version is None:
            fail(_("Unknown questionnaire %(code)s.", code=code))
        with out.open("wb") as target:
            write_xlsform(definition(version), target)
        click.echo(_("%(code)s written to %(file)s.", code=code, file=out))
