"""`flask --app survey_app check-questionnaires [DIR]`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from ..i18n import in_cli_locale
from ..questionnaire.validate import load_directory
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
