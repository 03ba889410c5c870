"""Site links: an admin makes one per one-stop shop or district; whoever opens it answers the
open questionnaire without being asked the district, which the link records; quotas by district
count them; exports carry the site; QR codes and A4 posters in both languages."""

from __future__ import annotations

import csv
import re

import pytest
from app_support import make_app
from html_client import csrf_token, path_of, walk
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.fieldwork import monitoring, site_links
from survey_app.models import AuditEvent, Quota, QuotaCell, Response, SiteLink, Wave


def default_wave(app) -> Wave:
    with app.app_context():
        wave = db.session.scalars(select(Wave)).one()
        db.session.expunge(wave)
        return wave


def make_link(client, wave_code: str, site_value="cam_xuyen", name="Một cửa huyện Cẩm Xuyên"):
    page = client.get(f"/en/admin/waves/{wave_code}/sites")
    assert page.status_code == 200
    return client.post(
        f"/en/admin/waves/{wave_code}/sites",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "questionnaire": "citizen",
            "site_value": site_value,
            "name": name,
        },
    )


def only_link(app) -> SiteLink:
    with app.app_context():
        link = db.session.scalars(select(SiteLink)).one()
        db.session.expunge(link)
        return link


def export(runner, tmp_path) -> list[dict[str, str]]:
    out = tmp_path / "citizen.csv"
    result = runner.invoke(
        args=["export-responses", "--questionnaire", "citizen", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_site_link_answers_the_district_and_the_export_names_the_site(
    app, client, auth, runner, tmp_path, lang
):
    auth.login("admin")
    wave = default_wave(app)
    made = make_link(client, wave.code)
    assert made.status_code == 302, made.get_data(as_text=True)
    link = only_link(app)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", link.code)
    listing = client.get(f"/en/admin/waves/{wave.code}/sites").get_data(as_text=True)
    assert f"/en/v/{site_links.format_code(link.code)}" in listing
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "site_link_created")
        ).one()
        assert event.details["site"] == "Một cửa huyện Cẩm Xuyên"
        assert event.actor == "admin@example.vn"

    respondent = app.test_client()  # another phone, nobody logged in
    path = f"/{lang}/v/{site_links.format_code(link.code)}"
    start = respondent.get(path)
    assert start.status_code == 200
    assert "Một cửa huyện Cẩm Xuyên" in start.get_data(as_text=True)
    result = walk(respondent, path, seed=11)
    assert "district" not in result.answers, "the district question is not asked"
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        assert response.status == "complete"
        assert response.site_link_id == link.id and response.test is False
        # Counted as any response: by the site's row and on the dashboard.
        assert [(x.id, n) for x, n in site_links.links_of(db.session, wave.id)] == [(link.id, 1)]
        board = monitoring.build_dashboard(db.session, wave.id, "citizen", lang, "Asia/Bangkok")
        assert board.complete == 1
    rows = export(runner, tmp_path)
    assert len(rows) == 1
    assert rows[0]["district"] == "cam_xuyen"
    assert rows[0]["site"] == "Một cửa huyện Cẩm Xuyên"
    assert rows[0]["language"] == lang


def test_the_first_page_asks_sex_and_age_but_not_the_district(app, client, auth):
    auth.login("admin")
    wave = default_wave(app)
    make_link(client, wave.code)
    link = only_link(app)
    respondent = app.test_client()
    path = f"/en/v/{site_links.format_code(link.code)}"
    page = respondent.get(path)
    started = respondent.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    first = respondent.get(path_of(started.headers["Location"]))
    html = first.get_data(as_text=True)
    assert 'name="sex"' in html and 'name="age_group"' in html
    assert 'name="district"' not in html
    # A district sent anyway (a crafted form) is not what is stored: the link's is.
    sent = respondent.post(
        path_of(started.headers["Location"]),
        data={
            "csrf_token": csrf_token(html),
            "district": "hong_linh",
            "sex": "female",
            "age_group": "age18_30",
            "action": "next",
        },
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        stored = {a.item_code: a.value for a in response_answers(response.id)}
        assert stored["district"] == "cam_xuyen"


def response_answers(response_id: int):
    from survey_app.models import Answer

    return db.session.scalars(select(Answer).where(Answer.response_id == response_id)).all()


def test_quotas_by_district_count_site_responses_and_screen_out_when_full(app, client, auth):
    auth.login("admin")
    wave = default_wave(app)
    make_link(client, wave.code)
    link = only_link(app)
    with app.app_context(), db.transaction() as tx:
        quota = Quota(
            wave_id=wave.id,
            questionnaire_code="citizen",
            name="district",
            variables=["district"],
            when_full="screen_out",
        )
        quota.cells = [QuotaCell(cell_key="cam_xuyen", target=1, complete=0)]
        tx.add(quota)
    path = f"/en/v/{site_links.format_code(link.code)}"
    walk(app.test_client(), path, seed=2)
    with app.app_context():
        assert db.session.scalars(select(QuotaCell)).one().complete == 1
    # The cell is full: the next respondent at the same counter is told after the first page.
    second = app.test_client()
    page = second.get(path)
    started = second.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    first = path_of(started.headers["Location"])
    html = second.get(first).get_data(as_text=True)
    sent = second.post(
        first,
        data={
            "csrf_token": csrf_token(html),
            "sex": "male",
            "age_group": "age31_45",
            "action": "next",
        },
    )
    assert sent.status_code == 302
    done = second.get(path_of(sent.headers["Location"]))
    with app.app_context():
        statuses = sorted(db.session.scalars(select(Response.status)))
    assert statuses == ["complete", "screened_out"], done.get_data(as_text=True)[:300]


def test_codes_typed_loosely_lead_to_the_link_and_unknown_codes_say_so(app, client, auth):
    auth.login("admin")
    make_link(client, default_wave(app).code)
    link = only_link(app)
    typed = client.get(f"/vi/v/{link.code.lower()}")
    assert typed.status_code == 301
    assert path_of(typed.headers["Location"]) == f"/vi/v/{site_links.format_code(link.code)}"
    unknown = client.get("/en/v/ZZZZ-ZZZZ" if link.code != "ZZZZZZZZ" else "/en/v/YYYY-YYYY")
    assert unknown.status_code == 404
    assert "the code has 8 letters and digits" in unknown.get_data(as_text=True)
    assert client.get("/en/v/not-a-code").status_code == 404


def test_a_closed_wave_closes_its_site_links(app, client, auth):
    auth.login("admin")
    wave = default_wave(app)
    make_link(client, wave.code)
    link = only_link(app)
    with app.app_context(), db.transaction() as tx:
        tx.get(Wave, wave.id).status = "closed"
    assert client.get(f"/en/v/{site_links.format_code(link.code)}").status_code == 410


def test_qr_codes_and_posters_in_both_languages(app, client, auth):
    auth.login("admin")
    wave = default_wave(app)
    make_link(client, wave.code)
    link = only_link(app)
    written = site_links.format_code(link.code)
    svg = client.get(f"/en/admin/waves/{wave.code}/sites/{link.id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and "attachment" in svg.headers["Content-Disposition"]
    png = client.get(f"/en/admin/waves/{wave.code}/sites/{link.id}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    # The PNG holds the QR code of the link itself (version and size as segno makes it).
    import segno

    expected = segno.make_qr(f"http://localhost/en/v/{written}", error="m")
    width = int.from_bytes(png.data[16:20], "big")
    assert width == (expected.symbol_size(scale=10, border=4))[0]
    for lang in ("vi", "en"):
        poster = client.get(f"/{lang}/admin/waves/{wave.code}/sites/{link.id}/poster")
        html = poster.get_data(as_text=True)
        assert poster.status_code == 200
        assert f'<html lang="{lang}">' in html
        assert f"localhost/{lang}/v/{written}" in html  # the typed link, in the poster's language
        assert "<svg" in html and "poster.css" in html
        assert "Một cửa huyện Cẩm Xuyên" in html
    assert "Scan the code" in client.get(
        f"/en/admin/waves/{wave.code}/sites/{link.id}/poster"
    ).get_data(as_text=True)


def test_site_link_form_refuses_bad_input_with_the_field_named(app, client, auth):
    auth.login("admin")
    wave = default_wave(app)
    bad_value = make_link(client, wave.code, site_value="atlantis")
    assert bad_value.status_code == 400
    assert "Choose one of the answers listed." in bad_value.get_data(as_text=True)
    no_name = make_link(client, wave.code, name="   ")
    assert no_name.status_code == 400
    assert re.search(r"Enter the site\S{1,6}s name", no_name.get_data(as_text=True))
    no_csrf = client.post(
        f"/en/admin/waves/{wave.code}/sites",
        data={"questionnaire": "citizen", "site_value": "cam_xuyen", "name": "X"},
    )
    assert no_csrf.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(SiteLink.id))) == 0


@pytest.mark.parametrize("role", ["statistician", "monitor"])
def test_site_pages_are_for_admins_only(app, client, auth, role):
    admin = app.test_client()
    auth.login("admin", client=admin)
    wave = default_wave(app)
    make_link(admin, wave.code)
    link = only_link(app)
    anonymous = app.test_client()
    base = f"/en/admin/waves/{wave.code}/sites"
    assert anonymous.get(base).status_code == 302
    auth.login(role)
    for path in (base, f"{base}/{link.id}/qr.svg", f"{base}/{link.id}/qr.png"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"{base}/{link.id}/poster").status_code == 403
    assert client.post(base, data={}).status_code in (400, 403)


@pytest.fixture
def limited_app(database_url, app):
    return make_app(database_url, START_RATE_LIMIT="3 per day")


def test_starting_by_a_site_link_is_rate_limited_as_the_open_link(limited_app):
    admin = limited_app.test_client()
    from auth_support import AuthActions

    AuthActions(admin).login("admin")
    make_link(admin, default_wave(limited_app).code)
    link = only_link(limited_app)
    path = f"/en/v/{site_links.format_code(link.code)}"
    client = limited_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    statuses = []
    for _ in range(4):
        page = client.get(path)
        statuses.append(
            client.post(
                path, data={"csrf_token": csrf_token(page.get_data(as_text=True))}
            ).status_code
        )
    assert statuses == [302, 302, 302, 429]
