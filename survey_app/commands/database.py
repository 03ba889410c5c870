"""`flask --app survey_app init-db` and `seed-demo`: the schema, the questionnaires, demo data."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import in_cli_locale
from ..questionnaire.store import sync_questionnaires
from ..questionnaire.validate import QuestionnaireInvalid
from .support import fail

SYNC_ACTIONS = {
    "unchanged": _l("unchanged"),
    "created": _l("created"),
    "new version": _l("new version"),
    "updated": _l("updated"),
}


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the schema, load the questionnaires, open a default wave if none."""
    from ..fieldwork.waves import ensure_default_wave
    from ..schema import DanglingReferences, upgrade

    with in_cli_locale():
        try:
            upgrade(db.engine)
        except DanglingReferences as exc:
            fail(str(exc), 1)
        try:
            with db.transaction() as session:
                results = sync_questionnaires(session, current_app.config["QUESTIONNAIRE_DIR"])
                wave = ensure_default_wave(session)
        except QuestionnaireInvalid as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            fail(
                _(
                    "The questionnaires were not loaded: fix the problems above and run "
                    "init-db again. Nothing was changed."
                ),
                1,
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


@click.command("seed-demo")
@with_appcontext
@click.option("--responses", type=click.IntRange(1, 1_000_000), default=300, show_default=True)
@click.option("--seed", type=int, default=2025, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo wave has responses.")
def seed_demo_command(responses: int, seed: int, if_empty: bool) -> None:
    """Add a demo wave with synthetic, seeded responses, skewed the way field samples are, and a
    demo appraisal round (once)."""
    from ..appraisal.demo import seed_demo_round
    from .demo_data import demo_response_count, seed_demo

    with in_cli_locale():
        # the demo round adds itself once, whatever the flags: a database seeded before it
        # existed gets it on its next `make run`
        with db.transaction() as session:
            demo_round = seed_demo_round(session)
        if demo_round is not None:
            click.echo(
                _(
                    "Demo appraisal round %(year)s of the block %(block)s opened, with five "
                    "units; three have submitted their self-assessment.",
                    year=demo_round.year,
                    block=demo_round.block,
                )
            )
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
