"""Every `flask --app survey_app ...` command, one module per domain, in the README's order.

Messages follow PAR_LANG or LANG (vi or en)."""

from __future__ import annotations

from flask import Flask

from .database import init_db, seed_demo_command
from .invitations import invitations
from .privacy import privacy
from .questionnaires import check_questionnaires, questionnaires
from .quotas import quotas
from .responses import export_responses
from .scoring import import_run_files, score_wave
from .users import users
from .worker import worker_command

COMMANDS = (
    init_db,
    check_questionnaires,
    questionnaires,
    invitations,
    privacy,
    seed_demo_command,
    export_responses,
    users,
    quotas,
    score_wave,
    import_run_files,
    worker_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
