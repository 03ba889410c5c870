"""`flask --app survey_app quotas import FILE --wave CODE --questionnaire CODE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from ..extensions import db
from ..fieldwork.quota_file import QuotaInvalid, import_quota
from ..fieldwork.quotas import WHEN_FULL
from ..fieldwork.waves import wave_by_code
from ..i18n import in_cli_locale
from ..questionnaire.store import definition, latest_version
from .support import fail

quotas = AppGroup("quotas", help="Quota targets per cell of profile answers.")


@quotas.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--wave", "wave_code", required=True)
@click.option("--questionnaire", "code", required=True)
@click.option("--name", default="main", show_default=True, help="The quota's name.")
@click.option(
    "--when-full",
    type=click.Choice(WHEN_FULL),
    default="screen_out",
    show_default=True,
)
def import_quotas(file: Path, wave_code: str, code: str, name: str, when_full: str) -> None:
    """Import targets: one column per cell variable and a target column. All or nothing."""
    with in_cli_locale():
        wave = wave_by_code(db.session, wave_code)
        version = latest_version(db.session, code)
        if wave is None or version is None:
            fail(_("Unknown wave %(wave)s or questionnaire %(code)s.", wave=wave_code, code=code))
        try:
            with db.transaction() as tx:
                _quota, count = import_quota(
                    tx, wave, definition(version), name, when_full, file.read_bytes(), file.name
                )
        except QuotaInvalid as exc:
            for problem in exc.problems:
                click.echo(str(problem.located(file.name)), err=True)
            fail(_("Nothing was imported."))
        click.echo(_("%(num)s cells imported into the quota %(name)s.", num=count, name=name))
