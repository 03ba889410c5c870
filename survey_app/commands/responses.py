"""`flask --app survey_app export-responses`: complete responses as CSV."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..extensions import db
from ..i18n import in_cli_locale
from ..questionnaire.store import latest_version
from .support import fail


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
            fail(_("Unknown questionnaire %(code)s.", code=code))
        partial = out_path.with_name(out_path.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            count = write_csv(db.session, code, handle, wave_code)
        partial.replace(out_path)
        click.echo(_("%(count)s responses written to %(path)s.", count=count, path=out_path))
