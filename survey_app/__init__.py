"""par-survey's web application: respondent pages, admin and statistician pages, CLI commands."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        QUESTIONNAIRE_DIR=os.environ.get("QUESTIONNAIRE_DIR", str(ROOT / "questionnaires")),
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE=os.environ.get("TIMEZONE", "Asia/Ho_Chi_Minh"),
        MAX_CONTENT_LENGTH=512 * 1024,
        MAX_FORM_PARTS=2000,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
    )
    if config:
        app.config.update(config)
    if not app.config["DATABASE_URL"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'par_survey.db'}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)
    if "SESSION_COOKIE_SECURE" not in (config or {}):
        # Secure cookies need HTTPS; SESSION_COOKIE_SECURE=0 serves plain HTTP (the local demo).
        app.config["SESSION_COOKIE_SECURE"] = (
            not app.testing and os.environ.get("SESSION_COOKIE_SECURE", "1") != "0"
        )

    from . import commands, i18n, web
    from .accounts import auth
    from .extensions import csrf, db

    db.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    web.init_app(app)
    commands.init_app(app)
    return app


def _instance_secret(app: Flask) -> str:
    """A secret kept in the instance folder, so sessions survive a restart without configuration."""
    path = Path(app.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
