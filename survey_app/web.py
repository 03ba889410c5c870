"""Routes outside any audience: the language redirect, health check, errors (a passing database
fault among them), response headers."""

from __future__ import annotations

import copy

from flask import (
    Flask,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import text

from .db import Fault, passing_fault
from .extensions import db
from .i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, in_language
from .respond.services import format_resume_code
from .urls import IdConverter

#: The methods whose request may run twice: they ask for a page and change nothing.
RETRIED_METHODS = frozenset({"GET", "HEAD"})
#: How long a client is asked to wait after a passing database fault.
RETRY_AFTER_SECONDS = 5


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values)


def _survive_database_faults(app: Flask) -> None:
    """Around every request, once: a passing database fault (db.passing_fault) ends the session
    on a sound connection; then a GET or HEAD runs again from the start, and anything else gets
    a 503 asking to send the form again.

    A POST is never run again here: its transaction was rolled back whole by db.transaction(),
    but whether the request committed some other transaction first (an invitation claimed, a
    login recorded) is known only to its view. The person who sent it knows what they meant,
    and their browser still holds the form.
    """
    dispatch = app.full_dispatch_request

    def attempt(outcome: str):
        """The response, or None after a passing fault (logged with `outcome`, session ended)."""
        try:
            return dispatch()
        except Exception as error:
            fault = passing_fault(error)
            if fault is None:
                raise
            db.discard_session(fault)
            _log_fault(app, fault, error, outcome)
            return None

    def full_dispatch_request():
        if request.method not in RETRIED_METHODS:
            response = attempt("not saved; the client is asked to send it again")
            if response is None:
                return app.finalize_request(_not_saved_page(), from_error_handler=True)
            return response
        restore = _request_state()
        response = attempt("retried on a fresh connection")
        if response is None:
            restore()
            response = attempt("failed again; answered 503")
        if response is None:
            page = render_template("respond/message.html", kind="server_error")
            return app.finalize_request(_unavailable(page), from_error_handler=True)
        return response

    app.full_dispatch_request = full_dispatch_request


def _request_state():
    """A function that puts back what an attempt at the request may have changed of it, so that
    a second attempt runs as the first did: `g` (the first one's logged-in user and rows belong
    to the session that was ended), the URL's values (the language is taken out of them) and the
    cookie session (a view may have taken a key out of it before it failed)."""
    globals_ = dict(vars(g))
    view_args = None if request.view_args is None else dict(request.view_args)
    cookie = copy.deepcopy(dict(session))

    def restore() -> None:
        vars(g).clear()
        vars(g).update(globals_)
        request.view_args = None if view_args is None else dict(view_args)
        if dict(session) != cookie:
            session.clear()
            session.update(copy.deepcopy(cookie))

    return restore


def _log_fault(app: Flask, fault: Fault, error: Exception, outcome: str) -> None:
    # The endpoint, not the path: a personal link carries its token in the path. The driver's
    # first line, not the whole error: SQLAlchemy's adds the statement's parameters (answers).
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    app.logger.warning(
        "database fault (%s) during %s %s: %s: %s; %s",
        fault,
        request.method,
        request.endpoint,
        type(cause).__name__,
        lines[0] if lines else "",
        outcome,
    )


def _unavailable(page: str):
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _not_saved_page():
    rule = request.url_rule
    # The same address shows the page again where it has a GET (a respondent's pages do).
    again = request.full_path.rstrip("?") if rule is not None and "GET" in rule.methods else None
    page = render_template(
        "not_saved.html", respondent=request.blueprint == "respond", again_url=again
    )
    return _unavailable(page)


def init_app(app: Flask) -> None:
    _survive_database_faults(app)
    app.url_map.converters["int"] = IdConverter
    from .admin import bp as admin_bp
    from .appraisal import bp as appraisal_bp
    from .respond import bp as respond_bp
    from .stats import bp as stats_bp

    app.register_blueprint(respond_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(appraisal_bp)

    @app.get("/")
    def root():
        lang = request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
        return redirect(url_for("respond.home", lang=lang))

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for it whatever the page says; without this route it would fall into
        # the /<lang>/ prefix and end as a 404.
        return app.send_static_file("favicon.svg"), 200, {"Content-Type": "image/svg+xml"}

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
            return jsonify(status="ok", database="ok")
        except Exception as exc:  # noqa: BLE001 - any failure means the database is unhealthy
            app.logger.warning("health check: database unavailable: %s", exc)
            return jsonify(status="error", database="unavailable"), 503

    @app.before_request
    def refuse_nul_bytes():
        # No address takes a NUL byte, and PostgreSQL refuses it in any text: such a request is
        # refused here, whole, rather than failing in a query. The respondent's forms say which
        # answer holds one (a field message is kinder than an error page); multipart bodies are
        # uploads, whose fields must be among their choices and whose files the readers check.
        urlencoded = request.mimetype == "application/x-www-form-urlencoded"
        form = request.form.values() if urlencoded and request.blueprint != "respond" else ()
        if _has_nul([request.path]) or _has_nul(request.args.values()) or _has_nul(form):
            abort(400)

    @app.errorhandler(400)
    def bad_request(_error):
        return render_template("respond/message.html", kind="bad_request"), 400

    @app.errorhandler(500)
    def server_error(_error):
        return render_template("respond/message.html", kind="server_error"), 500

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_template("respond/message.html", kind="csrf"), 400

    @app.errorhandler(403)
    def forbidden(_error):
        return render_template("respond/message.html", kind="forbidden"), 403

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("respond/message.html", kind="not_found"), 404

    @app.errorhandler(413)
    def too_large(_error):
        kind = "too_large" if request.blueprint == "respond" else "file_too_large"
        return render_template("respond/message.html", kind=kind), 413

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Personal links carry their token in the path: never leak it to another site.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        if app.config.get("HSTS_SECONDS"):
            hsts = f"max-age={int(app.config['HSTS_SECONDS'])}; includeSubDomains"
            headers.setdefault("Strict-Transport-Security", hsts)
        if request.blueprint in LANGUAGE_PREFIXED:
            # Answers, personal links and results are never kept by a shared cache.
            headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def template_helpers():
        lang = getattr(g, "lang", None) or DEFAULT_LANGUAGE
        return {
            "lang": lang,
            "t": lambda label: in_language(label, lang),
            "language_names": LANGUAGE_NAMES,
            "switch_language_url": switch_language_url,
            "format_resume_code": format_resume_code,
            "role_names": {
                "admin": _("administrator"),
                "statistician": _("statistician"),
                "monitor": _("monitor"),
                "interviewer": _("interviewer"),
                "officer": _("unit officer"),
                "appraiser": _("appraiser"),
            },
            "status_names": {"draft": _("draft"), "open": _("open"), "closed": _("closed")},
        }


#: Blueprints whose routes start with /<lang>/.
LANGUAGE_PREFIXED = ("respond", "admin", "stats", "appraisal")


def switch_language_url(other: str) -> str:
    """The same page in another language (a GET: an unsent form is not carried over)."""
    rule = request.url_rule
    if rule is not None and "GET" in rule.methods and request.blueprint in LANGUAGE_PREFIXED:
        values = {**(request.view_args or {}), **request.args.to_dict(), "lang": other}
        return url_for(request.endpoint, **values)
    return url_for("respond.home", lang=other)
