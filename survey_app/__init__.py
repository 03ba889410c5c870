"""par-survey's web application: respondent pages, admin and statistician pages, CLI commands."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app, configured from the environment (`config.SETTINGS`); `config` overrides it."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.update(config)
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'par_survey.db'}"
    if app.config["RUN_QUEUE"] == "procrastinate" and not app.config["DATABASE_URL"].startswith(
        "postgresql"
    ):
        # refused at start-up, not at the first run a statistician starts
        raise ValueError(
            "RUN_QUEUE=procrastinate needs DATABASE_URL on PostgreSQL (the queue is there)"
        )
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)
    if app.testing and "SESSION_COOKIE_SECURE" not in (config or {}):
        # The test client speaks plain HTTP.
        app.config["SESSION_COOKIE_SECURE"] = False

    if app.config["TRUSTED_PROXIES"]:
        # Else every client behind the proxy is one address to the rate limits and the log.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from . import commands, i18n, jobs, web
    from .accounts import auth, throttle
    from .extensions import csrf, db, limiter

    db.init_app(app)
    jobs.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    throttle.init_app(app)
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
