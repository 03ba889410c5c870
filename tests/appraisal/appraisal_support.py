"""A block of rated units with their officers and an appraiser, and a round opened on the web."""

from __future__ import annotations

import datetime as dt
import io

from html_client import csrf_token
from sqlalchemy import select

from survey_app.accounts.auth import assign
from survey_app.extensions import db
from survey_app.models import AppraisalRound, Evidence, RatedUnit, User

SCHEME = "departments_example.yaml"
BLOCK = "departments"
#: The example scheme's appraisal criteria, each out of 10.
CRITERIA = ["1.1", "2.1", "3.1", "4.1", "5.1", "6.1", "7.1"]
UNITS = {"D1": "Department of Finance", "D2": "Department of Justice", "D3": "Department of Health"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_units(app, block: str = BLOCK, units: dict[str, str] = UNITS) -> dict[str, int]:
    with app.app_context(), db.transaction() as tx:
        made = {}
        for code, name in units.items():
            unit = RatedUnit(code=code, name=name, block=block)
            tx.add(unit)
            tx.flush()
            made[code] = unit.id
        return made


def scope(
    app,
    email: str,
    unit_id: int | None = None,
    block: str | None = None,
    units: tuple[int, ...] = (),
    blocks: tuple[str, ...] = (),
) -> None:
    """An officer's unit (`unit_id`), or an appraiser's set: `unit_id` and `units`, `block` and
    `blocks`."""
    with app.app_context(), db.transaction() as tx:
        user = tx.scalars(select(User).where(User.email == email)).one()
        if user.role == "appraiser":
            units = (*units, unit_id) if unit_id is not None else units
            blocks = (*blocks, block) if block is not None else blocks
        assign(tx, user, user.role, unit_id, units, blocks)


def open_round(
    client,
    auth,
    year: int = 2025,
    deadline: dt.datetime | None = None,
    scheme: str = SCHEME,
    block: str = BLOCK,
) -> int:
    """Open a round as the admin through the page; returns its id (and logs the admin out)."""
    auth.login("admin")
    page = client.get("/en/appraisal/rounds/new")
    assert page.status_code == 200
    deadline = deadline or dt.datetime.now() + dt.timedelta(days=30)
    response = client.post(
        "/en/appraisal/rounds/new",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "year": str(year),
            "scheme": scheme,
            "block": block,
            "points_step": "0.25",
            "self_deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    round_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    auth.logout()
    return round_id


def points_data(token: str, points: dict[str, str], texts: dict[str, str] | None = None) -> dict:
    texts = texts or {}
    data = {"csrf_token": token}
    for i, code in enumerate(CRITERIA):
        data[f"points_{i}"] = points.get(code, "")
        data[f"text_{i}"] = texts.get(code, "")
    return data


def the_round(app, round_id: int) -> AppraisalRound:
    with app.app_context():
        found = db.session.get(AppraisalRound, round_id)
        db.session.expunge(found)
        return found


def add_evidence(client, auth, app, email: str, round_id: int, criterion: str = "1.1") -> int:
    """A PDF the officer `email` adds to a criterion of their unit, through the page; its id."""
    auth.login(email=email)
    url = f"/en/appraisal/rounds/{round_id}/unit"
    token = csrf_token(client.get(url).get_data(as_text=True))
    added = client.post(
        f"{url}/evidence",
        data={"csrf_token": token, "criterion": criterion, "file": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    auth.logout()
    with app.app_context():
        return db.session.scalars(select(Evidence.id).order_by(Evidence.id.desc())).first()
