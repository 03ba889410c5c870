"""The app as tests build it: settings, and an emptied database with the questionnaires loaded."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
#: The password of every user the tests make (the `auth` fixture's users among them).
PASSWORD = "correct horse battery"
#: Children before parents, so rows can be deleted in this order.
TABLES = [
    "mail_delivery",
    "mailing",
    "mail_link",
    "mail_opt_out",
    "evidence",
    "point_change",
    "criterion_score",
    "appraisal_return",
    "appraisal_round",
    "stored_file",
    "analysis_run",
    "audit_event",
    "answer",
    "response",
    "site_link",
    "quota_cell",
    "quota",
    "invitation",
    "invitee",
    "appraiser_scope",
    "app_user",
    "rated_unit",
    "wave_questionnaire",
    "wave",
    "questionnaire_version",
]


#: Every app made during the current test; conftest disposes their engines after it.
CREATED_APPS: list = []


def dispose_created_apps(since: int = 0) -> None:
    """Dispose the engines of the apps made after the first `since` ones, and forget them."""
    from survey_app.extensions import db

    while len(CREATED_APPS) > since:
        db.engine_of(CREATED_APPS.pop()).dispose()


def make_app(database_url: str, **config):
    from survey_app import create_app

    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "SESSION_COOKIE_SECURE": False,
        "QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
    }
    settings.update(config)
    app = create_app(settings)
    CREATED_APPS.append(app)
    return app


def reset_database(app) -> None:
    from survey_app.extensions import db
    from survey_app.fieldwork.waves import ensure_default_wave
    from survey_app.questionnaire.store import sync_questionnaires

    with app.app_context():
        with db.engine.begin() as conn:
            for table in TABLES:
                conn.execute(text(f"DELETE FROM {table}"))
        with db.transaction() as session:
            sync_questionnaires(session, app.config["QUESTIONNAIRE_DIR"])
            ensure_default_wave(session)
