"""``flask --app survey_app score-wave``: the whole chain for a wave, from the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import format_decimal
from flask_babel import gettext as _

from analysis.choices import DF, INTERVALS, LONELY_PSU, METHODS

from ..extensions import db
from ..fieldwork.waves import wave_by_code
from ..i18n import in_cli_locale, say
from ..stats.chain import ChainError, Parameters, compute
from ..stats.services import DEFAULT_SCHEME
from .support import fail


def _pair(text: str | None, option: str) -> tuple[float, float] | None:
    from analysis import pipeline  # numpy, pandas and scipy: only when a command scores

    try:
        return pipeline.parse_bounds(text)
    except pipeline.BoundsError:
        fail(_("error: %(option)s takes two numbers L,U with L < U, e.g. 0.5,3.", option=option))


@click.command("score-wave")
@with_appcontext
@click.option("--wave", "wave_code", required=True, help="Wave code.")
@click.option(
    "--targets",
    type=click.Path(dir_okay=False, path_type=Path),
    help="variable,level,target (CSV).",
)
@click.option("--method", type=click.Choice(METHODS), help="Weighting method (needs --targets).")
@click.option("--bounds", help="L,U bounds on the weight adjustment (linear, raking, logit).")
@click.option("--trim", help="L,U bounds on the final weights.")
@click.option("--strata", help="Stratum question (design weights N/n, standard errors).")
@click.option("--cluster", help="Cluster (PSU) question of the citizens, nested in the strata.")
@click.option(
    "--lonely-psu",
    type=click.Choice(LONELY_PSU),
    default="fail",
    show_default=True,
    help="A stratum with one PSU: as R's survey.lonely.psu.",
)
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level.")
@click.option(
    "--interval",
    type=click.Choice(INTERVALS),
    default="logit",
    show_default=True,
    help="Intervals of shares and SIPAS.",
)
@click.option(
    "--df",
    type=click.Choice(DF),
    default="normal",
    show_default=True,
    help="Normal quantiles, or Student's t with the design's degrees of freedom.",
)
@click.option(
    "--scheme",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scoring scheme (default: questionnaires/scoring/par2022.yaml).",
)
@click.option(
    "--appraisal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Appraisal scores (CSV or .xlsx).",
)
@click.option(
    "--previous", type=click.Path(dir_okay=False, path_type=Path), help="Last year's index.csv."
)
@click.option(
    "--unit",
    help="Question naming the rated unit of each response (e.g. district): every unit is "
    "scored, ranked and banded.",
)
@click.option(
    "--unit-code", help="Code of the rated unit (default: the appraisal file's unit, or all)."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files.",
)
def score_wave(
    wave_code,
    targets,
    method,
    bounds,
    trim,
    strata,
    cluster,
    lonely_psu,
    level,
    interval,
    df,
    scheme,
    appraisal,
    previous,
    unit,
    unit_code,
    out_dir,
) -> None:
    """Weight, score and index a wave: scores.csv, weights.csv, index.csv and a workbook."""
    from analysis import pipeline

    from ..accounts import audit

    with in_cli_locale():
        for option, path in (
            ("--targets", targets),
            ("--scheme", scheme),
            ("--appraisal", appraisal),
            ("--previous", previous),
        ):
            if path is not None and not path.is_file():
                fail(_("error: %(option)s %(path)s: no such file.", option=option, path=path))
        if method and not targets:
            fail(_("error: --method needs --targets."))
        if targets and not method:
            fail(
                _(
                    "error: --targets needs --method (one of %(methods)s).",
                    methods=", ".join(METHODS),
                )
            )
        if out_dir.exists() and not out_dir.is_dir():
            fail(_("error: --out %(path)s is not a folder.", path=out_dir))
        wave = wave_by_code(db.session, wave_code)
        if wave is None:
            fail(_("error: there is no wave %(code)s.", code=wave_code))
        questionnaires = current_app.config["QUESTIONNAIRE_DIR"]
        params = Parameters(
            scheme=str(scheme or Path(questionnaires) / "scoring" / DEFAULT_SCHEME),
            targets=str(targets) if targets else None,
            appraisal=str(appraisal) if appraisal else None,
            previous=str(previous) if previous else None,
            options=pipeline.Parameters(
                method=method,
                bounds=_pair(bounds, "--bounds"),
                trim=_pair(trim, "--trim"),
                strata=strata,
                cluster=cluster,
                lonely_psu=lonely_psu,
                unit=unit,
                unit_code=unit_code,
                level=level,
                interval=interval,
                df=df,
            ),
        )
        try:
            summary = compute(db.session, wave, params, out_dir, questionnaires)
        except ChainError as exc:
            fail(_("error: %(reason)s", reason="; ".join(say(r) for r in exc.reasons)))
        with db.transaction() as session:
            audit.record(
                session,
                "score_wave",
                {"wave": wave.code, "out": str(out_dir), **params.as_json()},
            )
        for name in summary["files"]:
            click.echo(_("Wrote %(path)s.", path=out_dir / name))
        if summary.get("sipas") is not None:
            sipas = format_decimal(summary["sipas"], "0.00")  # 71,25 in Vietnamese
            click.echo(_("SIPAS: %(value)s%%.", value=sipas))
        if summary.get("no_data"):
            click.echo(
                _(
                    "No valid answers, so no value (never 0) and no rank: %(parts)s.",
                    parts="; ".join(summary["no_data"]),
                )
            )


@click.command("import-run-files")
@with_appcontext
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_run_files(folder: Path) -> None:
    """Store the run files and input files that versions before migration 0007 kept in FOLDER
    (their STATS_DIR: the instance folder unless set), so those runs show on every host."""
    from ..stats.runs import import_folder

    with in_cli_locale():
        with db.transaction() as session:
            runs, inputs = import_folder(session, folder)
        click.echo(
            _(
                "Runs whose files were stored: %(runs)s; input files stored: %(inputs)s.",
                runs=runs,
                inputs=inputs,
            )
        )
