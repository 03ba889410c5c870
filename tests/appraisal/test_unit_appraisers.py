"""An appraiser assigned to one unit (issue 11: "assigned to blocks or units"), over HTTP on
SQLite and PostgreSQL: the admin sets it on the users page; the appraiser reaches that unit's
council page and evidence and no other unit's, nor what needs the whole block (finalising, the
file of every unit's points)."""

from __future__ import annotations

import io

from appraisal_support import make_units, open_round, scope
from html_client import csrf_token
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Evidence, User

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _evidence(client, auth, app, email: str, round_id: int) -> int:
    """A document the officer `email` adds to 1.1 of their unit; its id."""
    auth.login(email=email)
    url = f"/en/appraisal/rounds/{round_id}/unit"
    token = csrf_token(client.get(url).get_data(as_text=True))
    added = client.post(
        f"{url}/evidence",
        data={"csrf_token": token, "criterion": "1.1", "file": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    auth.logout()
    with app.app_context():
        return db.session.scalars(select(Evidence.id).order_by(Evidence.id.desc())).first()


def test_the_admin_assigns_an_appraiser_one_unit(app, client, auth):
    units = make_units(app)
    auth.login("admin")
    token = csrf_token(client.get("/en/admin/users/new").get_data(as_text=True))
    new = {
        "csrf_token": token,
        "email": "unit.council@example.vn",
        "password": "a long enough password",
        "role": "appraiser",
        "unit": units["D1"],
        "block": "departments",
    }
    both = client.post("/en/admin/users/new", data=new)
    assert both.status_code == 400
    assert "Give an appraiser a unit or a block, not both." in both.get_data(as_text=True)
    made = client.post("/en/admin/users/new", data={**new, "block": ""})
    assert made.status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == new["email"])).one()
        assert (user.role, user.unit_id, user.block) == ("appraiser", units["D1"], None)
    listing = client.get("/en/admin/users").get_data(as_text=True)
    table = listing[listing.index('id="users"') :]
    row = table[table.index("unit.council@example.vn") :]
    assert "Department of Finance (D1)" in row[: row.index("</tr>")]
    # the edit page shows the unit chosen
    edit = client.get(f"/en/admin/users/{user.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{units["D1"]}">' in edit or (
        f'value="{units["D1"]}" selected' in edit
    )


def test_an_appraiser_of_unit_d1_cannot_open_unit_d2(app, client, auth):
    units = make_units(app)
    make_units(app, block="districts", units={"X1": "District 1"})
    for who, unit in (("o1@example.vn", "D1"), ("o2@example.vn", "D2")):
        auth.ensure_user("officer", who)
        scope(app, who, unit_id=units[unit])
    auth.ensure_user("appraiser", "d1.council@example.vn")
    scope(app, "d1.council@example.vn", unit_id=units["D1"])
    round_id = open_round(client, auth)
    districts = open_round(
        client, auth, scheme="districts_appraisal_example.yaml", block="districts"
    )
    own_evidence = _evidence(client, auth, app, "o1@example.vn", round_id)
    other_evidence = _evidence(client, auth, app, "o2@example.vn", round_id)

    auth.login(email="d1.council@example.vn")
    base = f"/en/appraisal/rounds/{round_id}"
    home = client.get("/en/appraisal/").get_data(as_text=True)
    assert f"/rounds/{round_id}" in home and f"/rounds/{districts}" not in home
    progress = client.get(base)
    assert progress.status_code == 200
    text = progress.get_data(as_text=True)
    assert f"/units/{units['D1']}" in text and f"/units/{units['D2']}" not in text
    assert "Department of Justice" not in text
    assert "appraisal.csv" not in text and "finalise-form" not in text

    own = client.get(f"{base}/units/{units['D1']}")
    assert own.status_code == 200 and "Department of Finance" in own.get_data(as_text=True)
    token = csrf_token(own.get_data(as_text=True))
    assert client.get(f"{base}/units/{units['D2']}").status_code == 403
    posted = client.post(f"{base}/units/{units['D2']}", data={"csrf_token": token})
    assert posted.status_code == 403
    answered = client.post(f"{base}/units/{units['D2']}/answer", data={"csrf_token": token})
    assert answered.status_code == 403
    assert client.get(f"/en/appraisal/evidence/{own_evidence}").status_code == 200
    assert client.get(f"/en/appraisal/evidence/{other_evidence}").status_code == 404
    # what needs every unit of the block, and another block's round
    assert client.get(f"{base}/appraisal.csv").status_code == 403
    assert client.post(f"{base}/finalise", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/en/appraisal/rounds/{districts}").status_code == 403
    auth.logout()

    # the block's appraiser still reaches both units
    auth.ensure_user("appraiser", "council@example.vn")
    scope(app, "council@example.vn", block="departments")
    auth.login(email="council@example.vn")
    assert client.get(f"{base}/units/{units['D2']}").status_code == 200
    assert client.get(f"/en/appraisal/evidence/{other_evidence}").status_code == 200
    assert client.get(f"{base}/appraisal.csv").status_code == 200
