"""Every route, as anonymous and as each role, with hostile values in its path, query and form:
no answer is a server error. On PostgreSQL too, where a NUL byte or a number past 64 bits in a
query is an error of the database, not of the page; when both databases are tested, SQLite gets
only the values the two take differently."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from html_client import csrf_token

from survey_app.models.people import ROLES

#: Values a hostile client puts wherever the page takes text or a number.
HOSTILE = [
    "x\x00y",  # a NUL byte: PostgreSQL refuses it in any text
    "99999999999999999999",  # beyond 64 bits
    "9223372036854775807",  # the largest 64-bit integer: beyond PostgreSQL's integer
    "-1",
    "",  # an optional field left empty: the run form's confidence level was float(None)
    "²",  # a digit to str.isdigit(), not to int()
    "0001-01-01",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "ü" * 300,
]
#: How many of the roles this file walks (the rest: test_hostile_inputs_more_roles.py)
FIRST_ROLES = 2
#: Those each database takes differently (PostgreSQL refuses a NUL, an integer past its column's,
#: a string past its length; SQLite's driver overflows past 64 bits); the rest reach the same
#: Python on both.
DATABASE_SENSITIVE = ["x\x00y", "99999999999999999999", "9223372036854775807", "ü" * 300]
WAVE = f"wave-{dt.date.today().year}"
QUERY_NAMES = ("page", "run", "status", "labels", "action", "wave", "questionnaire", "district")


FORM_FIELDS = ("method", "bounds", "trim", "strata", "cluster", "lonely_psu", "level", "unit")
FORM_FIELDS += ("unit_code", "interval", "df", "kind", "identities_kept_until", "closes_at")


def _urls(rule, value: str) -> list[str]:
    """The rule's path with `value` in each variable in turn (the others given plausible values),
    and with `value` in the common query parameters."""
    # the wave every test database has: a made-up code stopped each wave's page at its 404
    plausible = {"lang": "en", "code": "citizen", "wave_code": WAVE, "questionnaire": "citizen"}
    plausible |= {"fmt": "csv", "name": "scores.csv", "index": "0", "token": "a" * 43}
    for name in ("run_id", "quota_id", "invitation_id", "wave_id"):
        plausible[name] = "1"
    urls = []
    for variable in rule.arguments:
        values = {v: plausible.get(v, "1") for v in rule.arguments}
        values[variable] = value
        path = rule.rule
        for name, text in values.items():
            path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", text, path)
        urls.append(path)
    base = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m: plausible.get(m[1], "1"), rule.rule)
    urls.append(base + "?" + "&".join(f"{n}={value}" for n in QUERY_NAMES))
    return urls


def _status(send, url: str, **options) -> int:
    """The answer's status; an exception the app let through (the tests see them) counts as 500."""
    try:
        response = send(url, **options)
    except Exception:  # noqa: BLE001 - any exception here is the server error the test looks for
        return 500
    response.close()  # a file sent whole (the favicon) is closed, not left to the collector
    return response.status_code


def _refused(client, rule, token: str) -> bool:
    """Whether the logged-in role is refused the route outright: 403 with plausible values.
    The role is checked before a view reads anything of the URL, so no value does more there;
    the anonymous walk and the admin's take every route with every value."""
    url = _urls(rule, "1")[-1].split("?")[0]
    if "GET" in rule.methods:
        return _status(client.get, url) == 403
    return _status(client.post, url, data={"csrf_token": token}) == 403


def _walk(app, client, token: str, values: list[str], staff: bool):
    """(failures, the endpoints walked)."""
    failures, walked = [], set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "admin.logout"):
            continue
        if staff and _refused(client, rule, token):
            continue  # the other roles' pages: most of them, for all but the admin
        walked.add(rule.endpoint)
        for value in values:
            for url in _urls(rule, value):
                if "GET" in rule.methods:
                    status = _status(client.get, url)
                    if status >= 500:
                        failures.append(("GET", url, status))
                if "POST" in rule.methods:
                    fields = {"csrf_token": token, **{n: value for n in QUERY_NAMES}}
                    fields |= {"email": value, "password": value, "code": value}
                    fields |= {"title_vi": value, "title_en": value, "opens_at": value}
                    fields |= {"resume_code": value, "target-1": value, "when_full": value}
                    # the other staff forms: runs, waves, uploads
                    fields |= dict.fromkeys(FORM_FIELDS, value) | {"scheme": "par2022.yaml"}
                    status = _status(client.post, url, data=fields)
                    if status >= 500:
                        failures.append(("POST", url, status))
    return failures, walked


def walk_as(app, client, auth, who: str | None, database_url: str) -> list[tuple[str, str, int]]:
    """Every route `who` may open (None: anonymous, every route) walked with the hostile
    values; the failures."""
    # Past the rate limits every POST would be a 429 before its view ran: lift them, so each
    # hostile value reaches the code it is meant for.
    app.config["START_RATE_LIMIT"] = app.config["LOGIN_RATE_LIMIT"] = "1000000 per minute"
    if who:
        auth.login(who)
    token = csrf_token(client.get("/en/admin/login").get_data(as_text=True))
    # every value on PostgreSQL, the production database; on SQLite beside it, those it takes
    # differently (the walks were a fifth of the suite's time)
    beside = database_url.startswith("sqlite") and os.environ.get("TEST_DATABASE_URL")
    values = DATABASE_SENSITIVE if beside else HOSTILE
    failures, walked = _walk(app, client, token, values, staff=bool(who))
    # a role's own pages are walked, beside the respondents' that every role may open
    own = {"admin": "admin.", "statistician": "stats.", "monitor": "admin.monitor"}
    own |= {"interviewer": "admin.paper", "officer": "appraisal.", "appraiser": "appraisal."}
    assert any(e.startswith(own.get(who, "respond.")) for e in walked), sorted(walked)
    assert any(e.startswith("respond.") for e in walked), sorted(walked)
    return failures


# Anonymous and the first roles here, the others in test_hostile_inputs_more_roles.py: two files,
# so that pytest-xdist (whole files to a worker) walks them side by side.
@pytest.mark.parametrize("who", [None, *ROLES[:FIRST_ROLES]])
def test_no_hostile_value_anywhere_gives_a_server_error(app, client, auth, who, database_url):
    assert walk_as(app, client, auth, who, database_url) == []


def test_a_nul_byte_in_the_login_e_mail_is_a_wrong_login(app, client, auth):
    auth.ensure_user("admin")
    response = auth.login(email="admin@example.vn\x00", password="whatever password")
    assert response.status_code in (400, 429)
