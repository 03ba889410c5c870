"""`flask --app survey_app export-responses`: complete responses as CSV."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import format_decimal
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
@click.option(
    "--all-waves",
    is_flag=True,
    help="Every wave together (the wave is a column); needed when several waves have responses.",
)
def export_responses(code: str, out_path: Path, wave_code: str | None, all_waves: bool) -> None:
    """Write complete responses as CSV: one row each, coded values, missing left empty."""
    from ..fieldwork.responses_export import waves_with_responses, write_csv

    with in_cli_locale():
        if latest_version(db.session, code) is None:
            fail(_("Unknown questionnaire %(code)s.", code=code))
        if wave_code and all_waves:
            fail(_("Give either --wave or --all-waves, not both."))
        counts = waves_with_responses(db.session, code)
        if wave_code and wave_code not in counts:
            fail(
                _(
                    "The wave %(wave)s has no complete responses to %(code)s.",
                    wave=wave_code,
                    code=code,
                )
            )
        if not wave_code and not all_waves and len(counts) > 1:
            # mixing waves silently put the demo wave's rows among real ones
            listed = ", ".join(
                _("%(wave)s (%(count)s)", wave=wave, count=format_decimal(count))
                for wave, count in counts.items()
            )
            fail(
                _(
                    "Responses to %(code)s come from several waves: %(waves)s. "
                    "Choose one with --wave CODE, or take them together with --all-waves.",
                    code=code,
                    waves=listed,
                )
            )
        partial = out_path.with_name(out_path.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            count = write_csv(db.session, code, handle, wave_code)
        partial.replace(out_path)
        click.echo(_("%(count)s responses written to %(path)s.", count=count, path=out_path))
