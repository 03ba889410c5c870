"""The monitoring dashboard: every figure against direct counts, in both languages, as HTML and
JSON; the quota filter; who may see it."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_percent
from flask_babel import force_locale, gettext
from html_client import walk
from sqlalchemy import func, insert, select

from survey_app.extensions import db
from survey_app.models import Invitation, Quota, QuotaCell, Response, Wave, utcnow
from survey_app.questionnaire.store import definition, latest_version

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Known:
    """One response as inserted, so the expected figures are worked out apart from the app."""

    status: str
    page_index: int = 0
    duration: int | None = None
    straightlined: int = 0
    cell: str | None = None
    completed_ago: dt.timedelta | None = None


CELLS = {  # cell_key: (target, complete, over_target)
    "can_loc|female|age18_30": (5, 2, 0),
    "can_loc|male|age31_45": (4, 4, 1),
    "duc_tho|female|age18_30": (3, 0, 0),
}

KNOWN = [
    Known("complete", 11, 30, 0, "can_loc|female|age18_30", dt.timedelta(hours=2)),
    Known("complete", 11, 100, 1, "can_loc|female|age18_30", dt.timedelta(days=1)),
    Known("complete", 11, 400, 0, "can_loc|male|age31_45", dt.timedelta(days=1, hours=3)),
    Known("complete", 11, 600, 2, "can_loc|male|age31_45", dt.timedelta(days=3)),
    Known("complete", 11, 620, 0, "can_loc|male|age31_45", dt.timedelta(days=3, hours=5)),
    Known("complete", 11, 700, 0, "can_loc|male|age31_45", dt.timedelta(days=10)),
    Known("complete", 11, 900, 1, "can_loc|male|age31_45", dt.timedelta(days=29)),
    Known("complete", 11, 1000, 0, None, dt.timedelta(days=40)),  # outside the chart's 30 days
    Known("in_progress", 0),
    Known("in_progress", 0),
    Known("in_progress", 3, None, 1),  # not complete: never a straight-liner
    Known("in_progress", 11, cell="can_loc|female|age18_30"),
    Known("in_progress", 11, cell="can_loc|female|age18_30"),
    Known("in_progress", 11, cell="duc_tho|female|age18_30"),
    Known("screened_out", 11, cell="can_loc|male|age31_45", completed_ago=dt.timedelta(hours=1)),
    Known("screened_out", 0, completed_ago=dt.timedelta(days=2)),
]


def translated(app, lang: str, msgid: str, **variables) -> str:
    """A message as the page in `lang` shows it (the catalog may or may not have it yet)."""
    with app.test_request_context(f"/{lang}/admin/"), force_locale(lang):
        return gettext(msgid, **variables)


def local_day(moment: dt.datetime) -> dt.date:
    return (moment + ZONE.utcoffset(moment)).date()


@pytest.fixture
def known(app):
    """The default wave's citizen questionnaire with KNOWN responses and a three-cell quota."""
    now = utcnow()
    with app.app_context(), db.transaction() as tx:
        wave = tx.scalars(select(Wave)).one()
        version = latest_version(tx, "citizen")
        quota = Quota(
            wave_id=wave.id,
            questionnaire_code="citizen",
            name="District x sex x age",
            variables=["district", "sex", "age_group"],
            when_full="flag",
        )
        quota.cells = [
            QuotaCell(cell_key=key, target=t, complete=c, over_target=o)
            for key, (t, c, o) in CELLS.items()
        ]
        tx.add(quota)
        tx.flush()
        cell_ids = {cell.cell_key: cell.id for cell in quota.cells}
        rows = []
        for i, r in enumerate(KNOWN):
            completed = now - r.completed_ago if r.completed_ago else None
            started = (completed or now) - dt.timedelta(seconds=r.duration or 60)
            rows.append(
                {
                    "wave_id": wave.id,
                    "questionnaire_code": "citizen",
                    "questionnaire_version_id": version.id,
                    "key_hash": f"known-{i:058d}",  # never a SHA-256 in hex
                    "status": r.status,
                    "language": "vi",
                    "page_index": r.page_index,
                    "furthest_page": r.page_index,
                    "started_at": started,
                    "updated_at": completed or now,
                    "completed_at": completed,
                    "quota_cell_id": cell_ids.get(r.cell),
                    "duration_seconds": r.duration,
                    "straightlined_grids": r.straightlined,
                }
            )
        tx.execute(insert(Response), rows)
        return {"wave": wave.code, "now": now, "cell_ids": cell_ids}


# --- reading the page ---------------------------------------------------------------------------


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def figure(page: str, name: str) -> str | None:
    match = re.search(rf'data-figure="{name}"><dt>.*?</dt><dd>(.*?)</dd>', page, re.S)
    return text_of(match.group(1)) if match else None


def rows(page: str, attribute: str) -> dict[str, list[str]]:
    found = {}
    for key, body in re.findall(rf'<tr {attribute}="([^"]*)"[^>]*>(.*?)</tr>', page, re.S):
        found[html.unescape(key)] = [
            text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
        ]
    return found


def pct(value: float | None, lang: str) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%", locale=lang)


def expected_figures(now: dt.datetime) -> dict:
    complete = [r for r in KNOWN if r.status == "complete"]
    durations = sorted(r.duration for r in complete)
    middle = len(durations) // 2
    median = (durations[middle - 1] + durations[middle]) / 2  # an even count here
    today = local_day(now)
    per_day = {today - dt.timedelta(days=i): 0 for i in range(30)}
    for r in complete:
        day = local_day(now - r.completed_ago)
        if day in per_day:
            per_day[day] += 1
    in_progress = [r for r in KNOWN if r.status == "in_progress"]
    pages: dict[int, int] = {}
    for r in in_progress:
        pages[r.page_index] = pages.get(r.page_index, 0) + 1
    cells_in_progress: dict[str, int] = {}
    for r in in_progress:
        if r.cell:
            cells_in_progress[r.cell] = cells_in_progress.get(r.cell, 0) + 1
    return {
        "started": len(KNOWN),
        "complete": len(complete),
        "in_progress": len(in_progress),
        "screened_out": sum(r.status == "screened_out" for r in KNOWN),
        "median": median,
        "speeders": sum(r.duration < median / 3 for r in complete),
        "straightliners": sum(r.straightlined > 0 for r in complete),
        "per_day": per_day,
        "pages": pages,
        "cells_in_progress": cells_in_progress,
    }


# --- the figures --------------------------------------------------------------------------------


def test_expected_figures_are_not_trivial(app, known):
    """The data set exercises every figure: speeders, straight-liners, days outside the chart."""
    want = expected_figures(known["now"])
    assert want["median"] == 610
    assert want["speeders"] == 2
    assert want["straightliners"] == 3
    assert sum(want["per_day"].values()) == 7
    # And the direct counts in the database say the same as the list that was inserted.
    with app.app_context():
        counted = dict(
            db.session.execute(
                select(Response.status, func.count()).group_by(Response.status)
            ).all()
        )
    assert counted == {"complete": 8, "in_progress": 6, "screened_out": 2}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_dashboard_figures_match_direct_counts(app, client, auth, known, lang):
    auth.login("monitor")
    url = f"/{lang}/admin/monitor/{known['wave']}/citizen"
    page = client.get(url)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    want = expected_figures(known["now"])

    for name in ("started", "complete", "in_progress", "screened_out"):
        assert figure(body, name) == str(want[name]), name
    assert figure(body, "invited") is None  # the citizen questionnaire is answered by open link
    assert figure(body, "completion_rate") == pct(want["complete"] / want["started"], lang)
    assert figure(body, "median_duration") == translated(  # 610 s
        app, lang, "%(minutes)s min %(seconds)s s", minutes="10", seconds=10
    )

    quality = rows(body, "data-flag")
    assert quality["speeders"][1:] == [str(want["speeders"]), pct(2 / 8, lang)]
    assert quality["straightliners"][1:] == [str(want["straightliners"]), pct(3 / 8, lang)]

    per_day = rows(body, "data-day")
    assert len(per_day) == 30
    assert {dt.date.fromisoformat(k): int(v[1]) for k, v in per_day.items()} == want["per_day"]
    assert body.count('class="bar"') == sum(1 for n in want["per_day"].values() if n)

    with app.app_context():
        questionnaire = definition(latest_version(db.session, "citizen"))
    dropoff = rows(body, "data-page")
    assert [int(k) for k in dropoff] == [p.index for p in questionnaire.pages]
    for page_def in questionnaire.pages:
        number, title, count, _share = dropoff[str(page_def.index)]
        assert number == str(page_def.index + 1)
        assert title == page_def.title[lang]
        assert int(count) == want["pages"].get(page_def.index, 0)

    cells = rows(body, "data-cell")
    labels = {
        "can_loc|female|age18_30": {
            "vi": ["Huyện Can Lộc", "Nữ", "Từ 18 đến 30 tuổi"],
            "en": ["Can Loc District", "Female", "18 to 30"],
        },
    }
    assert cells["can_loc|female|age18_30"][:3] == labels["can_loc|female|age18_30"][lang]
    for key, (target, complete, over) in CELLS.items():
        in_progress = want["cells_in_progress"].get(key, 0)
        remaining = target - complete
        assert cells[key][3:] == [
            str(target),
            str(complete),
            str(in_progress),
            str(remaining),
            pct(complete / target, lang),
            str(over),
        ], key
    totals = cells["total"]
    assert totals[1:5] == ["12", "6", "3", "6"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_json_agrees_with_the_page(app, client, auth, known, lang):
    auth.login("statistician")
    url = f"/{lang}/admin/monitor/{known['wave']}/citizen"
    body = client.get(url).get_data(as_text=True)
    data = client.get(url + "/data")
    assert data.status_code == 200
    assert data.mimetype == "application/json"
    figures = data.get_json()
    for name in ("started", "complete", "in_progress", "screened_out"):
        assert str(figures[name]) == figure(body, name)
    assert figures["median_duration_seconds"] == 610
    assert figures["speeders"]["count"] == 2
    assert figures["straightliners"]["count"] == 3
    assert figures["completion_rate"] == pytest.approx(8 / 16)
    per_day = rows(body, "data-day")
    assert {d["date"]: str(d["complete"]) for d in figures["per_day"]} == {
        k: v[1] for k, v in per_day.items()
    }
    dropoff = rows(body, "data-page")
    assert {str(p["index"]): str(p["in_progress"]) for p in figures["dropoff"]} == {
        k: v[2] for k, v in dropoff.items()
    }
    (quota,) = figures["quotas"]
    cells = rows(body, "data-cell")
    for cell in quota["cells"]:
        shown = cells[cell["cell_key"]]
        assert shown[3:7] == [
            str(cell[k]) for k in ("target", "complete", "in_progress", "remaining")
        ]
        assert shown[8] == str(cell["over_target"])
        assert cell["labels"] == shown[:3]
    # The refreshable parts carry the same figures as the full page.
    fragments = figures["html"]
    assert rows(fragments["monitor-quotas"], "data-cell") == cells
    assert rows(fragments["monitor-summary"], "data-page") == dropoff
    assert figure(fragments["monitor-summary"], "complete") == figure(body, "complete")


def test_walked_response_is_counted(app, client, auth, known):
    """A response made through the real pages shows up: complete, its day, its page count."""
    walk(app.test_client(), "/en/s/citizen", seed=11)
    with app.app_context():
        walked = db.session.scalars(
            select(Response).where(Response.key_hash.not_like("known-%"))
        ).one()
        assert walked.status == "complete"
    auth.login("admin")
    figures = client.get(f"/en/admin/monitor/{known['wave']}/citizen/data").get_json()
    assert figures["complete"] == 9
    assert figures["started"] == 17
    # Nine durations now, the walked one the shortest: the median is the fifth, 600 s.
    assert walked.duration_seconds < 30
    assert figures["median_duration_seconds"] == 600
    assert figures["speeders"]["count"] == 3  # under 200 s: the walk, 30 s and 100 s
    today = {d["date"]: d["complete"] for d in figures["per_day"]}[
        local_day(walked.completed_at).isoformat()
    ]
    assert today == expected_figures(known["now"])["per_day"][local_day(walked.completed_at)] + 1


def test_district_filter(app, client, auth, known):
    auth.login("monitor")
    url = f"/vi/admin/monitor/{known['wave']}/citizen"
    body = client.get(url, query_string={"district": "can_loc"}).get_data(as_text=True)
    cells = rows(body, "data-cell")
    assert set(cells) == {"can_loc|female|age18_30", "can_loc|male|age31_45", "total"}
    assert cells["total"][1:5] == ["9", "6", "2", "3"]
    assert 'value="can_loc" selected' in body
    assert (
        translated(app, "vi", "Showing %(shown)s of %(total)s cells.", shown="2", total="3") in body
    )
    # The headline figures are about the whole questionnaire, not the filtered cells.
    assert figure(body, "complete") == "8"
    data = client.get(url + "/data", query_string={"district": "duc_tho"}).get_json()
    assert [c["cell_key"] for c in data["quotas"][0]["cells"]] == ["duc_tho|female|age18_30"]
    assert data["filter"] == {"district": "duc_tho"}
    # Any quota variable filters, and filters combine.
    data = client.get(url + "/data", query_string={"sex": "female", "age_group": "age18_30"})
    keys = [c["cell_key"] for c in data.get_json()["quotas"][0]["cells"]]
    assert keys == ["can_loc|female|age18_30", "duc_tho|female|age18_30"]
    # An unknown value is no filter at all.
    data = client.get(url + "/data", query_string={"district": "nowhere"}).get_json()
    assert len(data["quotas"][0]["cells"]) == 3
    # The data URL the page polls keeps the filter.
    body = client.get(url, query_string={"district": "can_loc"}).get_data(as_text=True)
    assert re.search(r'data-monitor-data="[^"]*/data\?district=can_loc"', body)


def test_invited_questionnaire_shows_invitations(app, client, auth, known):
    with app.app_context(), db.transaction() as tx:
        wave = tx.scalars(select(Wave)).one()
        for i, status in enumerate(["issued", "opened", "complete", "revoked"]):
            tx.add(
                Invitation(
                    wave_id=wave.id,
                    questionnaire_code="leader",
                    token_hash=f"{i:064x}",
                    status=status,
                )
            )
    auth.login("monitor")
    body = client.get(f"/en/admin/monitor/{known['wave']}/leader").get_data(as_text=True)
    assert figure(body, "invited") == "3"
    assert figure(body, "complete") == "0"
    assert figure(body, "median_duration") == "—"
    assert translated(app, "en", "This questionnaire has no quota in this wave.") in body


def test_home_lists_every_wave_and_questionnaire(app, client, auth, known):
    auth.login("monitor")
    body = client.get("/vi/admin/monitor").get_data(as_text=True)
    for code in ("citizen", "leader", "delegate"):
        assert f"/vi/admin/monitor/{known['wave']}/{code}" in body
    row = re.search(rf'monitor/{known["wave"]}/citizen".*?</tr>', body, re.S).group(0)
    assert [text_of(c) for c in re.findall(r'<td class="num">(.*?)</td>', row)] == ["16", "8"]


def test_page_works_without_javascript_and_under_csp(app, client, auth, known):
    auth.login("monitor")
    page = client.get(f"/en/admin/monitor/{known['wave']}/citizen")
    body = page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)  # no inline script
    assert " style=" not in body and "<style" not in body  # no inline style either
    assert re.search(r"<svg[^>]*role=\"img\"", body)
    assert "<caption>" in body and 'scope="col"' in body
    assert body.count("<progress") == 4  # three cells and the total
    for asset in ("monitor.js", "admin.css"):
        with client.get(f"/static/{asset}") as served:
            assert served.status_code == 200


def test_access_by_role(app, client, auth, known):
    paths = [
        "/en/admin/monitor",
        f"/en/admin/monitor/{known['wave']}/citizen",
        f"/en/admin/monitor/{known['wave']}/citizen/data",
    ]
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert "/en/admin/login" in answer.headers["Location"]
    for role in ("monitor", "statistician", "admin"):
        browser = app.test_client()
        auth.login(role, client=browser)
        for path in paths:
            assert browser.get(path).status_code == 200, (role, path)
        assert browser.get("/en/admin/monitor/no-such-wave/citizen").status_code == 404
        assert browser.get(f"/en/admin/monitor/{known['wave']}/nothing").status_code == 404
