"""Every setting of the app, in one place: its environment variable, type, default and meaning.

`create_app` reads them here (a mapping passed to it wins, which is how tests set them); nothing
else reads the environment, except `i18n.cli_locale` for the language of command messages
(`PAR_LANG`, listed below too). The README's configuration table is this list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limits import parse_many

from analysis.languages import DEFAULT_LANGUAGE

ROOT = Path(__file__).resolve().parent.parent


def _flag(text: str) -> bool:
    return text.strip().lower() not in ("0", "false", "no", "off", "")


def _rate_limit(text: str) -> str:
    """A limit in Flask-Limiter's notation ("10 per minute"), refused at start-up if unreadable
    rather than on the first request it would guard."""
    parse_many(text)
    return text.strip()


def _smtp_security(text: str) -> str:
    value = text.strip().lower()
    if value not in ("starttls", "tls", "none"):
        raise ValueError(f"SMTP_SECURITY must be starttls, tls or none, not {text!r}")
    return value


def _readable_file(text: str) -> str:
    """A path refused at start-up if it cannot be read, rather than at the first e-mail."""
    path = Path(text.strip()).expanduser()
    with path.open("rb"):
        pass
    return str(path)


def _run_queue(text: str) -> str:
    value = text.strip().lower()
    if value not in ("auto", "procrastinate", "in-process"):
        raise ValueError(f"RUN_QUEUE must be auto, procrastinate or in-process, not {text!r}")
    return value


@dataclass(frozen=True)
class Setting:
    #: The environment variable (and, unless `key` says otherwise, the app's config key).
    variable: str
    default: Any
    meaning: str
    parse: Callable[[str], Any] = str
    #: The config key when it differs from the variable (Flask-Babel's own names).
    key: str | None = None
    #: The default as the README states it, where it is not a plain value.
    described_default: str | None = None

    @property
    def config_key(self) -> str:
        return self.key or self.variable

    @property
    def default_text(self) -> str:
        if self.described_default is not None:
            return self.described_default
        return "`1`" if self.default is True else f"`{self.default}`"


#: The defaults None are filled in by `create_app` from the instance folder.
SETTINGS = (
    Setting(
        "DATABASE_URL",
        None,
        "The database, e.g. `postgresql+psycopg://user@host/db` in production.",
        described_default="SQLite in `instance/par_survey.db`",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and CSRF tokens; set it when several hosts serve the app.",
        described_default="generated once into `instance/secret_key`",
    ),
    Setting(
        "SESSION_COOKIE_SECURE",
        True,
        "Cookies only over HTTPS (`1`); `make run` sets `0` for plain HTTP on localhost.",
        _flag,
    ),
    Setting(
        "QUESTIONNAIRE_DIR",
        str(ROOT / "questionnaires"),
        "Where `init-db` loads questionnaires from, and where the scoring schemes are found "
        "(its `scoring/` folder).",
        described_default="`questionnaires/`",
    ),
    Setting(
        "PUBLIC_URL",
        None,
        "The site's address in personal links and in site links' QR codes and posters.",
        described_default="the address the admin's request came to (web), "
        "`http://127.0.0.1:5000` (commands)",
    ),
    Setting(
        "TIMEZONE",
        "Asia/Ho_Chi_Minh",
        "The time zone of the dates and times shown to people and typed in by admins.",
        key="BABEL_DEFAULT_TIMEZONE",
    ),
    Setting(
        "RUN_QUEUE",
        "auto",
        "Where weighting runs execute: `procrastinate`, the job queue in the PostgreSQL database, "
        "worked by `flask --app survey_app worker` processes on any host; `in-process`, threads "
        "of the app's process (one host only); `auto`, the queue on PostgreSQL and threads on "
        "SQLite.",
        _run_queue,
    ),
    Setting(
        "RUN_STALE_SECONDS",
        60,
        "A run whose worker has not been heard from for this many seconds lost it: it is "
        "started once more (the queue) or failed (in-process). Workers beat every sixth of it.",
        int,
    ),
    Setting(
        "HSTS_SECONDS",
        0,
        "Sends Strict-Transport-Security for this many seconds (e.g. `31536000`) when the app is "
        "served only over HTTPS; `0` sends none (the TLS proxy may send it instead).",
        int,
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "How many proxies in front of the app add X-Forwarded-For and X-Forwarded-Proto (`1` "
        "behind one TLS proxy): the client's address for rate limits and the audit log is read "
        "from them; `0` trusts none.",
        int,
    ),
    Setting(
        "STAFF_IDLE_MINUTES",
        30,
        "A staff member who sends no request for this many minutes must log in again.",
        int,
    ),
    Setting(
        "STAFF_SESSION_HOURS",
        12,
        "A staff login lasts at most this many hours, however active.",
        int,
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "10 per minute",
        "Login attempts allowed from one client address, whatever the e-mail "
        "(Flask-Limiter's notation); also guards the password change.",
        _rate_limit,
    ),
    Setting(
        "LOGIN_FAILURES_LIMIT",
        "5 per 10 minutes",
        "Failed logins allowed for one e-mail from one client address; past it that address "
        "waits, while the account still opens from others.",
        _rate_limit,
    ),
    Setting(
        "START_RATE_LIMIT",
        "20 per minute",
        "Surveys a client address may start (the respondents' start pages).",
        _rate_limit,
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "Where rate limits are counted: `memory://` counts in each worker apart; "
        "`redis://127.0.0.1:6379` in production with several workers (needs the `redis` package).",
    ),
    Setting(
        "SMTP_HOST",
        "",
        "The SMTP server that sends invitations and reminders by e-mail; empty: no e-mail.",
        described_default="empty (no e-mail)",
    ),
    Setting("SMTP_PORT", 587, "The SMTP server's port (`465` with `SMTP_SECURITY=tls`).", int),
    Setting(
        "SMTP_SECURITY",
        "starttls",
        "How the connection to the SMTP server is protected: `starttls` (upgraded after "
        "connecting, port 587; a server that does not offer it is refused, nothing goes in "
        "clear), `tls` (TLS from the start, port 465) or `none` (a relay on the same host "
        "only). The certificate is checked against the system's CAs or `SMTP_CA_FILE`.",
        _smtp_security,
    ),
    Setting(
        "SMTP_CA_FILE",
        "",
        "A PEM file of the certificate authorities trusted for the SMTP server's certificate "
        "(`starttls` and `tls`), in place of the system's: a server with an internal CA. The "
        "certificate must also name `SMTP_HOST`.",
        _readable_file,
        described_default="empty (the system's CAs)",
    ),
    Setting("SMTP_USER", "", "The SMTP login; empty: no login.", described_default="empty"),
    Setting("SMTP_PASSWORD", "", "The SMTP password.", described_default="empty"),
    Setting(
        "MAIL_SENDER",
        "",
        "The From address of invitations, e.g. `Khảo sát PAR <khaosat@sonoivu.gov.vn>`.",
        described_default="empty (required with `SMTP_HOST`)",
    ),
    Setting(
        "MAIL_STALE_SECONDS",
        300,
        "A sending that has made no progress for this many seconds lost its process (a worker "
        "killed, a host restarted): a worker (PostgreSQL), or the app at its next request "
        "(SQLite), resumes it with the e-mails not yet sent, and an admin may resume it by "
        "hand. Keep it well above the time one e-mail can take (each step of SMTP waits up to "
        "30 s).",
        int,
    ),
    Setting(
        "PAR_LANG",
        None,
        "The language of command-line messages (`vi` or `en`).",
        described_default="from `LANG`, else English",
    ),
)

#: Fixed choices, not meant to differ between installations.
FIXED = {
    "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
    "BABEL_DEFAULT_LOCALE": DEFAULT_LANGUAGE,
    "MAX_CONTENT_LENGTH": 512 * 1024,
    "MAX_FORM_PARTS": 2000,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": False,
}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The app's config from the environment: each setting parsed, or its default."""
    environ = os.environ if environ is None else environ
    config = dict(FIXED)
    for setting in SETTINGS:
        if setting.variable == "PAR_LANG":
            continue  # read per command, by i18n.cli_locale
        raw = environ.get(setting.variable)
        config[setting.config_key] = setting.default if raw in (None, "") else setting.parse(raw)
    return config
