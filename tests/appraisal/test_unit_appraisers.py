"""Appraisers assigned a set of units and blocks (a council member given three departments across
blocks), over HTTP on SQLite and PostgreSQL: the admin sets it on the users page; the appraiser
reaches the council pages and evidence of those units and no other's, and what needs a whole
block (finalising, the file of every unit's points) only for a block of the set."""

from __future__ import annotations

import pytest
from appraisal_support import add_evidence, make_units, open_round, scope
from html_client import csrf_token
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from survey_app.extensions import db
from survey_app.models import AppraiserScope, AuditEvent, RatedUnit, User

DISTRICTS = {"X1": "District 1", "X2": "District 2"}


def _row(listing: str, email: str) -> str:
    """The users table's row of `email`."""
    table = listing[listing.index('id="users"') :]
    row = table[table.index(email) :]
    return row[: row.index("</tr>")]


def _scope_rows(app, email: str) -> tuple[set[int], set[str]]:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        rows = db.session.scalars(select(AppraiserScope).where(AppraiserScope.user_id == user.id))
        rows = list(rows)
        return (
            {r.unit_id for r in rows if r.unit_id is not None},
            {r.block for r in rows if r.block is not None},
        )


def test_the_admin_gives_an_appraiser_units_of_several_blocks(app, client, auth):
    units = make_units(app)
    districts = make_units(app, block="districts", units=DISTRICTS)
    auth.login("admin")
    form = client.get("/en/admin/users/new").get_data(as_text=True)
    assert 'name="units"' in form and "Units appraised (appraisers)" in form
    assert "Blocks of the rated units: departments, districts." in form
    new = {
        "csrf_token": csrf_token(form),
        "email": "council.member@example.vn",
        "password": "a long enough password",
        "role": "appraiser",
        "unit": "",
        "units": [units["D1"], units["D3"], districts["X2"]],
        "blocks": "",
    }
    # the officer's one unit is not how an appraiser is given units; a block code is at most 64
    wrong = client.post("/en/admin/users/new", data={**new, "unit": units["D2"]})
    assert wrong.status_code == 400
    assert "An appraiser&#39;s units are ticked under &#34;Units appraised&#34;" in (
        wrong.get_data(as_text=True)
    )
    long = client.post("/en/admin/users/new", data={**new, "blocks": "b" * 65})
    assert long.status_code == 400 and "is longer than 64 characters" in long.get_data(as_text=True)
    made = client.post("/en/admin/users/new", data=new)
    assert made.status_code == 302, made.get_data(as_text=True)
    expected = {units["D1"], units["D3"], districts["X2"]}
    assert _scope_rows(app, new["email"]) == (expected, set())
    row = _row(client.get("/en/admin/users").get_data(as_text=True), new["email"])
    assert "Department of Finance (D1); Department of Health (D3); District 2 (X2)" in row
    assert "every block" not in row

    # the edit page shows the set; a new set replaces it, whole blocks beside single units
    with app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.email == new["email"])).one()
    edit_url = f"/en/admin/users/{user_id}/edit"
    edit = client.get(edit_url).get_data(as_text=True)
    for unit_id in expected:
        assert f'value="{unit_id}" id="units-{unit_id}" checked' in edit
    assert f'value="{units["D2"]}" id="units-{units["D2"]}">' in edit
    saved = client.post(
        edit_url,
        data={
            "csrf_token": csrf_token(edit),
            "role": "appraiser",
            "unit": "",
            "units": [districts["X1"]],
            "blocks": " departments , districts,departments",
        },
    )
    assert saved.status_code == 302
    assert _scope_rows(app, new["email"]) == ({districts["X1"]}, {"departments", "districts"})
    row = _row(client.get("/en/admin/users").get_data(as_text=True), new["email"])
    assert "block departments; block districts; District 1 (X1)" in row
    edit = client.get(edit_url).get_data(as_text=True)
    assert 'value="departments, districts"' in edit

    # another role clears the set: no stale access is left if the user is an appraiser again
    monitor = client.post(
        edit_url,
        data={
            "csrf_token": csrf_token(edit),
            "role": "monitor",
            "unit": "",
            "units": [units["D1"]],
            "blocks": "departments",
        },
    )
    assert monitor.status_code == 302
    assert _scope_rows(app, new["email"]) == (set(), set())
    with app.app_context():
        updates = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user_updated").order_by(AuditEvent.id)
        ).all()
        assert updates[-2].details["units"] == ["X1"]
        assert updates[-2].details["blocks"] == ["departments", "districts"]
        assert updates[-1].details["units"] == [] and updates[-1].details["role"] == "monitor"


def test_an_appraiser_of_d1_and_x1_reaches_those_two_units_only(app, client, auth):
    units = make_units(app)
    districts = make_units(app, block="districts", units=DISTRICTS)
    officers = {"D1": units["D1"], "D2": units["D2"], "X1": districts["X1"], "X2": districts["X2"]}
    for code, unit_id in officers.items():
        auth.ensure_user("officer", f"{code.lower()}@example.vn")
        scope(app, f"{code.lower()}@example.vn", unit_id=unit_id)
    auth.ensure_user("appraiser", "member@example.vn")
    scope(app, "member@example.vn", units=(units["D1"], districts["X1"]))
    departments = open_round(client, auth)
    district_round = open_round(
        client, auth, scheme="districts_appraisal_example.yaml", block="districts"
    )
    evidence = {
        code: add_evidence(
            client,
            auth,
            app,
            f"{code.lower()}@example.vn",
            departments if code.startswith("D") else district_round,
        )
        for code in officers
    }

    auth.login(email="member@example.vn")
    home = client.get("/en/appraisal/").get_data(as_text=True)
    assert f"/rounds/{departments}" in home and f"/rounds/{district_round}" in home
    for round_id, own, other, other_name in (
        (departments, units["D1"], units["D2"], "Department of Justice"),
        (district_round, districts["X1"], districts["X2"], "District 2"),
    ):
        base = f"/en/appraisal/rounds/{round_id}"
        text = client.get(base).get_data(as_text=True)
        assert f"/units/{own}" in text and f"/units/{other}" not in text
        assert other_name not in text
        # no block is whole in the set: neither the file of every unit nor finalising
        assert "appraisal.csv" not in text and "finalise-form" not in text
        page = client.get(f"{base}/units/{own}")
        assert page.status_code == 200
        token = csrf_token(page.get_data(as_text=True))
        assert client.get(f"{base}/units/{other}").status_code == 403
        assert client.post(f"{base}/units/{other}", data={"csrf_token": token}).status_code == 403
        answered = client.post(f"{base}/units/{other}/answer", data={"csrf_token": token})
        assert answered.status_code == 403
        assert client.get(f"{base}/appraisal.csv").status_code == 403
        assert client.post(f"{base}/finalise", data={"csrf_token": token}).status_code == 403
    for code, evidence_id in evidence.items():
        expected = 200 if code in ("D1", "X1") else 404
        assert client.get(f"/en/appraisal/evidence/{evidence_id}").status_code == expected, code


def test_a_whole_block_and_a_unit_of_another(app, client, auth):
    """departments whole (its file, finalising), and X1 of districts only."""
    units = make_units(app)
    districts = make_units(app, block="districts", units=DISTRICTS)
    auth.ensure_user("appraiser", "member@example.vn")
    scope(app, "member@example.vn", units=(districts["X1"],), blocks=("departments",))
    departments = open_round(client, auth)
    district_round = open_round(
        client, auth, scheme="districts_appraisal_example.yaml", block="districts"
    )
    auth.login(email="member@example.vn")
    base = f"/en/appraisal/rounds/{departments}"
    text = client.get(base).get_data(as_text=True)
    assert all(f"/units/{unit_id}" in text for unit_id in units.values())
    assert "appraisal.csv" in text and "finalise-form" in text
    assert client.get(f"{base}/appraisal.csv").status_code == 200
    assert client.get(f"{base}/units/{units['D3']}").status_code == 200
    other = f"/en/appraisal/rounds/{district_round}"
    assert client.get(f"{other}/units/{districts['X1']}").status_code == 200
    assert client.get(f"{other}/units/{districts['X2']}").status_code == 403
    assert client.get(f"{other}/appraisal.csv").status_code == 403


def test_a_unit_in_an_appraisers_set_cannot_be_deleted_from_under_it(app, auth):
    """With the unit gone, an appraiser whose only unit it was would have no row left, which
    reads as every block: the database refuses the deletion instead."""
    units = make_units(app)
    auth.ensure_user("appraiser", "one@example.vn")
    scope(app, "one@example.vn", units=(units["D1"],))
    with app.app_context():
        with pytest.raises(IntegrityError), db.transaction() as tx:
            tx.execute(delete(RatedUnit).where(RatedUnit.id == units["D1"]))
        db.session.remove()
    assert _scope_rows(app, "one@example.vn") == ({units["D1"]}, set())
