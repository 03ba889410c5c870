"""Users on the web: an admin creates, edits, disables and resets users, gives officers their
unit and appraisers their blocks, and imports unit officers from a CSV or Excel list, all or
nothing."""

from __future__ import annotations

import io

import openpyxl
from app_support import PASSWORD
from appraisal_support import make_units
from html_client import csrf_token
from sqlalchemy import func, select

from survey_app.appraisal.access import scope_of
from survey_app.extensions import db
from survey_app.models import AuditEvent, RatedUnit, User


def _user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            db.session.expunge(user)
        return user


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_create_edit_disable_and_reset(app, client, auth):
    units = make_units(app)
    auth.login("admin")
    token = csrf_token(client.get("/en/admin/users/new").get_data(as_text=True))
    new = {
        "csrf_token": token,
        "email": "Officer.One@Example.vn",
        "password": PASSWORD,
        "role": "officer",
        "unit": "",
        "blocks": "",
    }
    no_unit = client.post("/en/admin/users/new", data=new)
    assert no_unit.status_code == 400 and "Choose the officer" in no_unit.get_data(as_text=True)
    short = client.post("/en/admin/users/new", data={**new, "unit": units["D1"], "password": "x"})
    assert short.status_code == 400 and "At least 10 characters" in short.get_data(as_text=True)
    made = client.post("/en/admin/users/new", data={**new, "unit": units["D1"]})
    assert made.status_code == 302
    officer = _user(app, "officer.one@example.vn")
    assert (officer.role, officer.unit_id) == ("officer", units["D1"])
    taken = client.post("/en/admin/users/new", data={**new, "unit": units["D1"]})
    assert taken.status_code == 400 and "Another user has this e-mail" in taken.get_data(
        as_text=True
    )
    listing = client.get("/en/admin/users").get_data(as_text=True)
    assert "officer.one@example.vn" in listing and "Department of Finance (D1)" in listing

    # the officer logs in elsewhere; becoming an appraiser ends that session and clears the unit
    other = app.test_client()
    assert auth.login(email="officer.one@example.vn", client=other).status_code == 302
    assert other.get("/en/appraisal/").status_code == 200
    edit_url = f"/en/admin/users/{officer.id}/edit"
    token = csrf_token(client.get(edit_url).get_data(as_text=True))
    edited = client.post(
        edit_url,
        data={
            "csrf_token": token,
            "role": "appraiser",
            "unit": "",
            "blocks": "departments",
        },
    )
    assert edited.status_code == 302
    changed = _user(app, "officer.one@example.vn")
    assert (changed.role, changed.unit_id) == ("appraiser", None)
    with app.app_context():
        assert scope_of(db.session, changed.id).blocks == {"departments"}
    assert "/admin/login" in other.get("/en/appraisal/").headers["Location"]

    # a password reset lets the user in with the new password only
    reset = client.post(
        f"/en/admin/users/{officer.id}/password",
        data={"csrf_token": token, "password": "a brand new password"},
    )
    assert reset.status_code == 302
    assert auth.login(email="officer.one@example.vn", client=other).status_code == 400
    logged = auth.login(
        email="officer.one@example.vn", password="a brand new password", client=other
    )
    assert logged.status_code == 302

    # disabling ends it again, and the admin cannot disable themselves
    off = client.post(f"/en/admin/users/{officer.id}/active", data={"csrf_token": token})
    assert off.status_code == 302 and _user(app, "officer.one@example.vn").active is False
    assert "/admin/login" in other.get("/en/appraisal/").headers["Location"]
    admin = _user(app, "admin@example.vn")
    client.post(f"/en/admin/users/{admin.id}/active", data={"csrf_token": token})
    assert _user(app, "admin@example.vn").active is True
    own = client.post(
        f"/en/admin/users/{admin.id}/edit",
        data={"csrf_token": token, "role": "monitor", "unit": "", "blocks": ""},
    )
    assert own.status_code == 400 and _user(app, "admin@example.vn").role == "admin"
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user_created", "user_updated", "password_changed", "user_disabled"} <= actions


def _import(client, content: bytes, name: str):
    token = csrf_token(client.get("/en/admin/users/import").get_data(as_text=True))
    return client.post(
        "/en/admin/users/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_import_officers_all_or_nothing(app, client, auth):
    make_units(app)
    auth.ensure_user("monitor", "taken@example.vn")
    auth.login("admin")
    users_before, units_before = _count(app, User), _count(app, RatedUnit)
    bad = (
        b"email,unit_code,unit_name,block\n"
        b"a@example.vn,D1,,\n"
        b"not-an-email,D2,,\n"
        b"b@example.vn,X9,,\n"
        b"a@example.vn,D2,,\n"
        b"taken@example.vn,D3,,\n"
    )
    refused = _import(client, bad, "officers.csv")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "not-an-email is not an e-mail address" in text
    assert "a@example.vn is also on row 2" in text
    assert (_count(app, User), _count(app, RatedUnit)) == (users_before, units_before)
    # the rows that read well but cannot be imported are named too, still nothing kept
    later = _import(client, b"email,unit_code\nb@example.vn,X9\ntaken@example.vn,D3\n", "o.csv")
    body = later.get_data(as_text=True)
    assert later.status_code == 400
    assert "The unit X9 is new: give its unit_name and block." in body
    assert "taken@example.vn has an account already." in body
    assert '<th scope="row" class="num">3</th>' in body
    assert (_count(app, User), _count(app, RatedUnit)) == (users_before, units_before)

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email", "Unit code", "Unit name", "Block"])
    sheet.append(["c@example.vn", "D1", None, None])
    sheet.append(["d@example.vn", "X9", "District 9", "districts"])
    out = io.BytesIO()
    book.save(out)
    done = _import(client, out.getvalue(), "officers.xlsx")
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    page = done.get_data(as_text=True)
    password = page.split("<td>d@example.vn</td><td>X9</td><td><code>")[1].split("<")[0]
    assert _user(app, "d@example.vn").role == "officer"
    with app.app_context():
        unit = db.session.scalars(select(RatedUnit).where(RatedUnit.code == "X9")).one()
        assert (unit.name, unit.block) == ("District 9", "districts")
        assert _user(app, "d@example.vn").unit_id == unit.id
    auth.logout()
    assert auth.login(email="d@example.vn", password=password).status_code == 302
