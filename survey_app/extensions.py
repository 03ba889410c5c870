"""Extension objects, bound to an app in `create_app` with `init_app`."""

from flask_babel import Babel
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
