"""Extension objects, bound to an app in `create_app` with `init_app`."""

from collections.abc import Callable

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .db import Database

db = Database()
csrf = CSRFProtect()
babel = Babel()


class StaffLoginManager(LoginManager):
    """Flask-Login's "strong" session protection, applied to logged-in staff only.

    Out of the box it also runs for a respondent's session (which holds only a resume code),
    finds no identifier there and rewrites the cookie on every page: a needless cookie per
    request on the busiest pages, and the respondent's session emptied of nothing useful.
    """

    def _session_protection_failed(self) -> bool:
        from flask import session

        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


login_manager = StaffLoginManager()


#: Counts requests per client address (`TRUSTED_PROXIES` says whether a proxy gives it) in
#: `RATELIMIT_STORAGE_URI`. Each `init_app` starts a fresh store, which then serves every app of
#: the process: each test's app counts anew. A view takes its limit from the settings:
#: `@limiter.limit(limit_from("START_RATE_LIMIT"), methods=["POST"])`.
limiter = Limiter(get_remote_address)


def limit_from(setting: str) -> Callable[[], str]:
    """A limit read from the app's settings at each request, so that it can differ per app."""
    return lambda: current_app.config[setting]
