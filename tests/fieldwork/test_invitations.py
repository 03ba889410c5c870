"""Invitations: import invitees (CSV or Excel, all or nothing), links handed over once, revoke,
reissue, follow-up with reminders; tokens and names never leak; only admins get in."""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import random
import re
import stat
import unicodedata

import pytest
from html_client import csrf_token, fill, parse_forms, path_of, walk
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from survey_app.extensions import db
from survey_app.fieldwork import invitations as service
from survey_app.fieldwork import invitee_file
from survey_app.models import AuditEvent, Invitation, Invitee, Response, StoredFile

WAVE = f"wave-{__import__('datetime').date.today().year}"

#: Vietnamese names and agencies, with every kind of diacritic.
PEOPLE = [
    ("Nguyễn Thị Hồng Nhung", "leader", "Sở Nội vụ", "Phòng Cải cách hành chính"),
    ("Trần Văn Đức", "leader", "Sở Tư pháp", ""),
    ("Lê Hoàng Yến", "leader", "UBND huyện Kỳ Anh", "Văn phòng HĐND và UBND"),
    ("Phạm Quốc Việt", "leader", "Sở Tài chính", ""),
]


@pytest.fixture(autouse=True)
def public_url(app):
    app.config["PUBLIC_URL"] = "https://khaosat.example.vn"


def kept_links(app) -> list:
    """The links files waiting in the database, as stored."""
    with app.app_context():
        return db.session.scalars(
            select(StoredFile).where(StoredFile.key.startswith("links/"))
        ).all()


@pytest.fixture
def admin(client, auth):
    """A browser logged in as admin@example.vn."""
    auth.login("admin")
    return client


def csv_bytes(rows, header=("name", "group", "agency", "unit", "email", "phone"), bom=True):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def clean_rows():
    return [
        (name, group, agency, unit, f"nguoi{i}@hatinh.gov.vn", f"0912 345 67{i}")
        for i, (name, group, agency, unit) in enumerate(PEOPLE)
    ]


def xlsx_bytes(rows, header):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def multipart(fields: dict, data: bytes, filename: str) -> dict:
    """A multipart body built in memory (the test client would spool a big one to a temporary
    file that it never closes)."""
    boundary, body = encode_multipart(
        {**fields, "file": FileStorage(io.BytesIO(data), filename=filename)}
    )
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(client, data: bytes, filename: str, questionnaire="leader", lang="vi"):
    page = client.get(f"/en/admin/invitations/import?wave={WAVE}&questionnaire={questionnaire}")
    assert page.status_code == 200
    fields = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "wave": WAVE,
        "questionnaire": questionnaire,
        "lang": lang,
    }
    return client.post("/en/admin/invitations/import", **multipart(fields, data, filename))


def links_id_of(html: str) -> str:
    match = re.search(r"/admin/invitations/links/([0-9a-f]{32})", html)
    assert match, "no download link on the page"
    return match.group(1)


def download_links(client, links_id: str):
    return client.get(f"/en/admin/invitations/links/{links_id}")


def read_links(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the Vietnamese right
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def cli_import(runner, tmp_path, data: bytes, name="invitees.csv", out="links.csv", *extra):
    source = tmp_path / name
    source.write_bytes(data)
    links = tmp_path / out
    result = runner.invoke(
        args=[
            "invitations",
            "import",
            str(source),
            "--wave",
            WAVE,
            "--questionnaire",
            "leader",
            "--links-out",
            str(links),
            "--base-url",
            "https://khaosat.example.vn/",
            *extra,
        ],
        env={"PAR_LANG": "en"},
    )
    return result, links


def imported_links(runner, tmp_path) -> list[dict[str, str]]:
    result, links = cli_import(runner, tmp_path, csv_bytes(clean_rows()))
    assert result.exit_code == 0, result.output
    return read_links(links.read_bytes())


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Invitee.id))),
            db.session.scalar(select(func.count(Invitation.id))),
        )


def status_of(app, name: str) -> Invitation:
    with app.app_context():
        return db.session.scalars(
            select(Invitation)
            .join(Invitee, Invitee.id == Invitation.invitee_id)
            .where(Invitee.name == name)
        ).one()


BAD_ROWS = [
    ("Nguyễn Văn An", "leader", "Sở Nội vụ", "", "an@hatinh.gov.vn", "0912345678"),  # row 2: fine
    ("Trần Thị Bình", "leader", "", "", "", ""),  # row 3: no agency
    ("Lê Văn Cường", "leader", "Sở Y tế", "", "cuong-at-hatinh", ""),  # row 4: e-mail
    ("Phạm Thị Dung", "leader", "Sở Xây dựng", "", "", "09x2 345"),  # row 5: phone
    ("Đ" * 201, "leader", "Sở Công Thương", "", "", ""),  # row 6: name too long
    ("nguyễn văn  an", "leader", "SỞ NỘI VỤ", "", "AN@hatinh.gov.vn", ""),  # row 7: row 2 again
    ("", "", "Sở Giáo dục", "", "", ""),  # row 8: no name, no group
]


def expected_errors() -> dict[int, list[str]]:
    return {
        3: ["agency"],
        4: ["cuong-at-hatinh", "not an e-mail address"],
        5: ["09x2 345", "not a phone number"],
        6: ["201 characters", "at most 200"],
        7: ["as row 2"],
        8: ["name", "group"],
    }


# --- files with errors --------------------------------------------------------------------------


def test_cli_reports_every_bad_row_and_stores_nothing(app, runner, tmp_path):
    result, links = cli_import(runner, tmp_path, csv_bytes(BAD_ROWS))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "invitees.csv:" in line]
    by_row: dict[int, list[str]] = {}
    for line in lines:
        match = re.match(r".*invitees\.csv:(\d+): (.*)$", line)
        assert match, line
        by_row.setdefault(int(match.group(1)), []).append(match.group(2))
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8]
    for row, fragments in expected_errors().items():
        text = " ".join(by_row[row])
        for fragment in fragments:
            assert fragment in text, (row, fragment, text)
    assert len(by_row[8]) == 2  # both empty columns, not only the first
    assert "7 problems found; nothing was imported" in result.output
    assert counts(app) == (0, 0)
    assert not links.exists()
    assert not list(tmp_path.glob("*.partial"))


def test_web_lists_every_bad_row_with_status_400_and_stores_nothing(app, admin):
    response = upload(admin, csv_bytes(BAD_ROWS), "danh-sach.csv")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'role="alert"' in html
    assert "The file has 7 problems, so nothing was imported." in html
    cells = re.findall(r'<th scope="row" class="num">(\d+)</th><td>(.*?)</td>', html)
    assert sorted({int(row) for row, _message in cells}) == [3, 4, 5, 6, 7, 8]
    for row, fragments in expected_errors().items():
        text = " ".join(m for r, m in cells if int(r) == row)
        for fragment in fragments:
            assert fragment in text.replace("&#34;", '"'), (row, fragment, text)
    assert counts(app) == (0, 0)
    with app.app_context():
        assert not db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "invitations_imported")
        ).all()


def test_header_problems_and_file_kinds():
    no_agency = csv_bytes([("A", "leader")], header=("Name", "Group"))
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(no_agency, "x.csv")
    assert caught.value.problems[0].row == 1
    assert "agency" in caught.value.problems[0].message
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(b"name,group,agency\n\xd0\xf2c,a,b\n", "x.csv")
    assert "not UTF-8" in caught.value.problems[0].message
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls")
    assert ".xlsx" in caught.value.problems[0].message
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(b"PK\x03\x04 broken", "broken.xlsx")
    assert "cannot be opened" in caught.value.problems[0].message
    with pytest.raises(invitee_file.InviteeFileInvalid):
        invitee_file.read_invitee_file(b"", "empty.csv")
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(b"name,group,agency,Name\n", "twice.csv")
    assert "twice" in caught.value.problems[0].message


def test_headers_are_forgiving_and_text_is_kept_exactly():
    # Excel set to Vietnamese: ";" between columns; a Mac: decomposed diacritics; an "STT" column;
    # Vietnamese headers; blank lines that still count in the row numbers.
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    text = (
        "STT; Họ và tên ;NHÓM;Cơ quan;E-Mail;Số điện thoại\n"
        f"1;{decomposed};leader;Sở Nội vụ;nhung@hatinh.gov.vn;+84 912 345 678\n"
        "\n"
        "2;Trần Văn Đức;leader;;;\n"
    )
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(text.encode("utf-8"), "list.csv")
    assert [e.row for e in caught.value.problems] == [4]
    assert "Cơ quan" in caught.value.problems[0].message  # the column as the file names it
    parsed = invitee_file.read_invitee_file(text.replace(";;;", ";Sở Tư pháp;;").encode(), "l.csv")
    assert parsed.ignored_columns == ["STT"]
    first = parsed.rows[0]
    assert first.name == "Nguyễn Thị Hồng Nhung"  # NFC, as typed on Windows
    assert (first.group, first.agency, first.email) == (
        "leader",
        "Sở Nội vụ",
        "nhung@hatinh.gov.vn",
    )
    assert first.phone == "+84 912 345 678"
    assert parsed.rows[1].row == 4 and parsed.rows[1].email is None


# --- clean imports ------------------------------------------------------------------------------


def test_clean_csv_on_the_cli_gives_private_working_links(app, runner, tmp_path):
    result, links_path = cli_import(runner, tmp_path, csv_bytes(clean_rows()))
    assert result.exit_code == 0, result.output
    assert "4 invitees imported into leader" in result.output
    assert stat.S_IMODE(os.stat(links_path).st_mode) == 0o600
    links = read_links(links_path.read_bytes())
    assert [r["name"] for r in links] == [p[0] for p in PEOPLE]
    assert links[0]["agency"] == "Sở Nội vụ" and links[0]["unit"] == "Phòng Cải cách hành chính"
    assert list(links[0]) == ["name", "group", "agency", "unit", "email", "link"]
    tokens = [r["link"].rsplit("/", 1)[1] for r in links]
    assert all(r["link"].startswith("https://khaosat.example.vn/vi/i/") for r in links)
    assert len(set(tokens)) == 4 and all(len(t) >= 43 for t in tokens)
    with app.app_context():
        stored = db.session.scalars(select(Invitee.name).order_by(Invitee.id)).all()
        assert stored == [p[0] for p in PEOPLE]
        hashes = db.session.scalars(select(Invitation.token_hash)).all()
        assert sorted(hashes) == sorted(service.token_hash(t) for t in tokens)
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "invitations_imported")
        ).one()
        assert event.actor == "cli" and event.details["count"] == 4
        assert not any(t in json.dumps(event.details) for t in tokens)
    # Each link opens the questionnaire's start page.
    client = app.test_client()
    for link in links:
        page = client.get(path_of(link["link"]), follow_redirects=True)
        assert page.status_code == 200
        assert "Phiếu khảo sát ý kiến lãnh đạo" in page.get_data(as_text=True)
    # The same file again is refused row by row: nobody is invited twice.
    again, _out = cli_import(runner, tmp_path, csv_bytes(clean_rows()), out="again.csv")
    assert again.exit_code == 2
    assert "invitees.csv:2:" in again.output and "already invited" in again.output
    assert counts(app) == (4, 4)


def test_cli_does_not_overwrite_links_without_force(app, runner, tmp_path):
    (tmp_path / "links.csv").write_text("precious")
    result, links_path = cli_import(runner, tmp_path, csv_bytes(clean_rows()))
    assert result.exit_code == 2
    assert "--force" in result.output
    assert links_path.read_text() == "precious"
    assert counts(app) == (0, 0)
    forced, links_path = cli_import(
        runner, tmp_path, csv_bytes(clean_rows()), "i.csv", "links.csv", "--force"
    )
    assert forced.exit_code == 0, forced.output
    assert len(read_links(links_path.read_bytes())) == 4
    assert stat.S_IMODE(os.stat(links_path).st_mode) == 0o600


def test_cli_refuses_unknown_wave_and_open_questionnaire(app, runner, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(csv_bytes(clean_rows()))
    for wave, questionnaire, message in [
        ("nope", "leader", "does not exist"),
        (WAVE, "citizen", "open link"),
        (WAVE, "nope", "Unknown questionnaire"),
    ]:
        result = runner.invoke(
            args=["invitations", "import", str(source), "--wave", wave]
            + ["--questionnaire", questionnaire, "--links-out", str(tmp_path / "l.csv")],
            env={"PAR_LANG": "en"},
        )
        assert result.exit_code == 2 and message in result.output, result.output
        assert not (tmp_path / "l.csv").exists()
    assert counts(app) == (0, 0)


def test_clean_xlsx_on_the_web_links_downloadable_once_by_their_owner(app, auth, admin):
    header = ("Name", "Group", "Agency", "Unit", "Email", "Phone")
    rows = [
        (n, g, a, u or None, f"x{i}@hatinh.gov.vn", 912345670 + i)
        for i, (n, g, a, u) in enumerate(PEOPLE)
    ]
    response = upload(admin, xlsx_bytes(rows, header), "Danh sách lãnh đạo.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert "4 invitees were imported into leader" in html
    assert "once, by you only, within 60 minutes" in html
    assert "/i/" not in html  # the page itself shows no link
    links_id = links_id_of(html)
    # one file waits in the database, encrypted: neither a name nor a link shows in a dump
    (kept,) = kept_links(app)
    assert kept.key.endswith(links_id)
    for clear in (b"/i/", PEOPLE[0][0].encode(), PEOPLE[1][2].encode(), b"khaosat"):
        assert clear not in kept.content
    # Another admin cannot take it, and trying does not use it up.
    other = app.test_client()
    auth.login("admin", email="admin2@example.vn", client=other)
    assert download_links(other, links_id).status_code == 404
    first = download_links(admin, links_id)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in first.headers["Content-Disposition"]
    assert "no-store" in first.headers["Cache-Control"]
    links = read_links(first.data)
    assert [r["name"] for r in links] == [p[0] for p in PEOPLE]
    assert all(r["link"].startswith("https://khaosat.example.vn/vi/i/") for r in links)
    second = download_links(admin, links_id)
    assert second.status_code == 404
    assert "no longer available" in second.get_data(as_text=True)
    assert kept_links(app) == []
    with app.app_context():
        phones = db.session.scalars(select(Invitee.phone).order_by(Invitee.id)).all()
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert phones[0] == "912345670"  # a number cell comes in as its digits
    assert actions.count("invitations_imported") == 1
    assert actions.count("invitation_links_downloaded") == 1
    client = app.test_client()
    page = client.get(path_of(links[2]["link"]), follow_redirects=True)
    assert page.status_code == 200
    assert "Phiếu khảo sát ý kiến lãnh đạo" in page.get_data(as_text=True)


def test_links_file_expires_after_an_hour(app, admin):
    response = upload(admin, csv_bytes(clean_rows()), "list.csv")
    links_id = links_id_of(response.get_data(as_text=True))
    others = [(f"Người được mời số {i}", "leader", f"Cơ quan {i}", "", "", "") for i in range(3)]
    second = links_id_of(upload(admin, csv_bytes(others), "more.csv").get_data(as_text=True))
    with app.app_context(), db.transaction() as tx:
        (kept,) = [k for k in kept_links(app) if k.key.endswith(links_id)]
        tx.execute(
            update(StoredFile)
            .where(StoredFile.key == kept.key)
            .values(created_at=datetime.datetime(2000, 1, 1))
        )
    assert admin.get("/en/admin/invitations").status_code == 200  # sweeps old files
    assert [k.key.rsplit("/", 1)[1] for k in kept_links(app)] == [second]
    assert download_links(admin, links_id).status_code == 404
    assert download_links(admin, "../../etc/passwd").status_code == 404
    assert download_links(admin, second).status_code == 200


def test_upload_above_the_app_limit_is_taken_and_too_large_refused(app, admin):
    # ~700 KB: more than the app's 512 KiB for other forms, well inside this route's 5 MB.
    rows = [
        (f"Người được mời số {i}", "leader", f"Cơ quan {i} " + "ở tỉnh Hà Tĩnh " * 8, "", "", "")
        for i in range(3000)
    ]
    data = csv_bytes(rows)
    assert len(data) > 600 * 1024
    response = upload(admin, data, "big.csv")
    assert response.status_code == 200
    assert counts(app) == (3000, 3000)
    huge = upload(admin, b"name,group,agency\n" + b"x,y,z\n" * (1024 * 1024), "huge.csv")
    assert huge.status_code == 413
    assert "larger than 5 MB" in huge.get_data(as_text=True)
    assert counts(app) == (3000, 3000)


def test_import_needs_csrf_and_a_known_file_kind(app, admin):
    fields = {"wave": WAVE, "questionnaire": "leader", "lang": "vi"}
    response = admin.post(
        "/en/admin/invitations/import", **multipart(fields, csv_bytes(clean_rows()), "l.csv")
    )
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    wrong = upload(admin, b"%PDF-1.4", "list.pdf")
    assert wrong.status_code == 400
    assert "Upload a CSV file (.csv) or an Excel workbook (.xlsx)." in wrong.get_data(as_text=True)
    delegate_wave = upload(admin, csv_bytes(clean_rows()), "l.csv", questionnaire="citizen")
    assert delegate_wave.status_code == 400
    assert counts(app) == (0, 0)


# --- revoke and reissue -------------------------------------------------------------------------


def post_action(client, path: str, **data):
    page = client.get("/en/admin/invitations")
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data})


def test_revoked_link_is_not_valid(app, admin, runner, tmp_path):
    links = imported_links(runner, tmp_path)
    link = path_of(links[0]["link"])
    invitation = status_of(app, PEOPLE[0][0])
    response = post_action(admin, f"/en/admin/invitations/{invitation.id}/revoke")
    assert response.status_code == 302
    assert f"/en/admin/invitations/{WAVE}/leader" in response.headers["Location"]
    assert status_of(app, PEOPLE[0][0]).status == "revoked"
    page = app.test_client().get(link)
    assert page.status_code == 404
    english = app.test_client().get(link.replace("/vi/", "/en/"))
    assert "This link is not valid" in english.get_data(as_text=True)
    # Revoking twice says so and changes nothing.
    again = post_action(admin, f"/en/admin/invitations/{invitation.id}/revoke")
    assert again.status_code == 302
    listed = admin.get(again.headers["Location"]).get_data(as_text=True)
    assert "revoked already" in listed
    # Without the CSRF token nothing happens.
    other = status_of(app, PEOPLE[1][0])
    refused = admin.post(f"/en/admin/invitations/{other.id}/revoke")
    assert refused.status_code == 400
    assert status_of(app, PEOPLE[1][0]).status == "issued"
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("invitation_revoked") == 1


def test_reissue_kills_the_old_link_and_the_new_one_works(app, admin, runner, tmp_path):
    links = imported_links(runner, tmp_path)
    old = path_of(links[1]["link"])
    client = app.test_client()
    assert client.get(old, follow_redirects=True).status_code == 200
    invitation = status_of(app, PEOPLE[1][0])
    assert invitation.status == "opened"
    response = post_action(admin, f"/en/admin/invitations/{invitation.id}/reissue", link_lang="en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert PEOPLE[1][0] in html and "shown only this once" in html
    new_link = re.search(r'value="(https://khaosat\.example\.vn/en/i/[^"]+)"', html).group(1)
    new_token = new_link.rsplit("/", 1)[1]
    assert new_token != old.rsplit("/", 1)[1]
    assert app.test_client().get(old).status_code == 404
    fresh = app.test_client().get(path_of(new_link), follow_redirects=True)
    assert fresh.status_code == 200
    assert "Survey of leaders and managers" in fresh.get_data(as_text=True)
    again = status_of(app, PEOPLE[1][0])
    assert again.token_hash == service.token_hash(new_token) and again.status == "opened"
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "invitation_reissued")
        ).one()
        assert new_token not in json.dumps(event.details)
    # A revoked link can be reissued; a complete one cannot.
    revoked = status_of(app, PEOPLE[2][0])
    post_action(admin, f"/en/admin/invitations/{revoked.id}/revoke")
    assert post_action(admin, f"/en/admin/invitations/{revoked.id}/reissue").status_code == 200
    assert status_of(app, PEOPLE[2][0]).status == "issued"
    walk(app.test_client(), path_of(new_link), seed=2)
    done = status_of(app, PEOPLE[1][0])
    assert done.status == "complete"
    refused = post_action(admin, f"/en/admin/invitations/{done.id}/reissue")
    assert refused.status_code == 302
    assert "answered already" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    refused = post_action(admin, f"/en/admin/invitations/{done.id}/revoke")
    assert status_of(app, PEOPLE[1][0]).status == "complete"
    assert post_action(admin, "/en/admin/invitations/999999/reissue").status_code == 404


# --- following up -------------------------------------------------------------------------------


def test_list_counts_and_reminder_filter(app, admin, runner, tmp_path):
    links = [path_of(r["link"]) for r in imported_links(runner, tmp_path)]
    respondent = app.test_client()
    respondent.get(links[1])  # opened
    started = app.test_client()
    start_page = started.get(links[2], follow_redirects=True)
    first = started.post(
        start_page.request.path,
        data={"csrf_token": csrf_token(start_page.get_data(as_text=True))},
    )
    assert first.status_code == 302
    page_one = started.get(path_of(first.headers["Location"])).get_data(as_text=True)
    form = next(f for f in parse_forms(page_one) if ("action", "next") in f.buttons)
    answers = {**fill(form, random.Random(1), "ý kiến"), "action": ["next"]}
    assert started.post(path_of(form.action), data=answers).status_code == 302  # on page 2
    walk(app.test_client(), links[3], seed=5)  # complete
    base = f"/en/admin/invitations/{WAVE}/leader"
    page = admin.get(base)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name, *_rest in PEOPLE:
        assert name in html
    # Answering does not show on the invitation (it is never written with the answers): the
    # invitee part-way through is "opened", like the one who only followed the link.
    assert "Page reached" not in html
    statuses = re.findall(r"<td>(not opened|opened|in progress|complete|revoked)</td>", html)
    assert sorted(statuses) == ["complete", "not opened", "opened", "opened"]
    reminder = admin.get(base + "?reminder=1").get_data(as_text=True)
    assert "3 invitations shown" in reminder
    assert PEOPLE[3][0] not in reminder.split("<tbody>", 2)[2]  # the complete one is left out
    for name in (PEOPLE[0][0], PEOPLE[1][0], PEOPLE[2][0]):
        assert name in reminder
    only_complete = admin.get(base + "?status=complete").get_data(as_text=True)
    assert "1 invitation shown" in only_complete
    home = admin.get("/en/admin/invitations").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr>.*?</tr>", home, re.S) if "<td>leader</td>" in r)
    numbers = re.findall(r'<td class="num">(\d+)</td>', row)
    # not opened, opened, complete, revoked, need a reminder, total
    assert numbers == ["1", "2", "1", "0", "3", "4"]
    with app.app_context():
        assert service.status_counts(
            db.session, status_of(app, PEOPLE[0][0]).wave_id, "leader"
        ) == {
            "issued": 1,
            "opened": 2,
            "complete": 1,
            "revoked": 0,
            "reminder": 3,
            "total": 4,
        }
    assert admin.get(f"/en/admin/invitations/{WAVE}/citizen").status_code == 404
    assert admin.get("/en/admin/invitations/nope/leader").status_code == 404


def test_no_token_on_admin_pages_no_name_in_exports(app, admin, runner, tmp_path):
    links = [path_of(r["link"]) for r in imported_links(runner, tmp_path)]
    tokens = [link.rsplit("/", 1)[1] for link in links]
    walk(app.test_client(), links[0], seed=1)
    walk(app.test_client(), links[1], seed=4)
    revoked = status_of(app, PEOPLE[2][0])
    post_action(admin, f"/en/admin/invitations/{revoked.id}/revoke")
    pages = [
        "/en/admin/invitations",
        "/vi/admin/invitations",
        f"/en/admin/invitations/{WAVE}/leader",
        f"/vi/admin/invitations/{WAVE}/leader?reminder=1",
        f"/en/admin/invitations/{WAVE}/leader?status=complete",
        "/en/admin/invitations/import",
        f"/en/admin/invitations/import?wave={WAVE}&questionnaire=leader",
        "/en/admin/audit",
    ]
    for url in pages:
        html = admin.get(url).get_data(as_text=True)
        assert not any(token in html for token in tokens), url
        assert "/i/" not in html, url
    out = tmp_path / "leader.csv"
    exported = runner.invoke(
        args=["export-responses", "--questionnaire", "leader", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    text = out.read_text(encoding="utf-8")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 2
    for token in tokens:
        assert token not in text
        assert service.token_hash(token) not in text
    for name, _group, agency, _unit in PEOPLE:
        assert name not in text
        assert agency not in text
    assert "@hatinh.gov.vn" not in text
    # The invitation and the response share no column or value.
    with app.app_context():
        hashes = set(db.session.scalars(select(Invitation.token_hash)))
        keys = set(db.session.scalars(select(Response.key_hash)))
    assert hashes.isdisjoint(keys)


# --- who may ------------------------------------------------------------------------------------


ROUTES = [
    ("GET", "/en/admin/invitations"),
    ("GET", f"/en/admin/invitations/{WAVE}/leader"),
    ("GET", f"/en/admin/invitations/{WAVE}/leader?reminder=1"),
    ("GET", "/en/admin/invitations/import"),
    ("POST", "/en/admin/invitations/import"),
    ("GET", "/en/admin/invitations/links/" + "0" * 32),
    ("POST", "/en/admin/invitations/1/revoke"),
    ("POST", "/en/admin/invitations/1/reissue"),
]


def test_every_route_refuses_anonymous_and_other_roles(app, auth, runner, tmp_path):
    links = imported_links(runner, tmp_path)
    invitation = status_of(app, PEOPLE[0][0])
    routes = [(m, u.replace("/1/", f"/{invitation.id}/")) for m, u in ROUTES]
    anonymous = app.test_client()
    token = csrf_token(anonymous.get("/en/admin/login").get_data(as_text=True))
    for method, url in routes:
        response = anonymous.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (url, response.status_code)
        assert "/admin/login" in response.headers["Location"], url
    for role in ("statistician", "monitor"):
        client = app.test_client()
        auth.login(role, client=client)
        token = csrf_token(client.get("/en/admin/login").get_data(as_text=True))
        for method, url in routes:
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 403, (role, url, response.status_code)
            assert PEOPLE[0][0] not in response.get_data(as_text=True)
    assert status_of(app, PEOPLE[0][0]).status == "issued"
    opened = app.test_client().get(path_of(links[0]["link"]), follow_redirects=True)
    assert opened.status_code == 200
    assert counts(app) == (4, 4)


def test_the_invitee_list_export_is_for_admins_confirmed_audited_and_formula_safe(app, admin, auth):
    people = [*clean_rows(), ('=HYPERLINK("http://x")', "leader", "@Sở Y tế", "", "", "")]
    assert upload(admin, csv_bytes(people), "list.csv").status_code == 200
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    export = f"/en/admin/invitations/{WAVE}/leader/invitees.csv"
    assert f'action="{export}"' in listing
    unticked = admin.post(export, data={"csrf_token": csrf_token(listing)})
    assert unticked.status_code == 302 and "Nguy" not in unticked.get_data(as_text=True)
    ticked = admin.post(export, data={"csrf_token": csrf_token(listing), "confirm": "y"})
    assert ticked.status_code == 200
    assert ticked.headers["Cache-Control"] == "no-store"
    assert ticked.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = ticked.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["name"] for r in rows[:4]] == [p[0] for p in PEOPLE]
    assert rows[0]["email"] == "nguoi0@hatinh.gov.vn" and rows[0]["phone"] == "0912 345 670"
    # a spreadsheet shows these as text, never runs them
    assert rows[4]["name"] == '\'=HYPERLINK("http://x")' and rows[4]["agency"] == "'@Sở Y tế"
    assert not {"token", "token_hash", "link"} & set(rows[0])
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export_invitees")
        ).all()
    assert [(e.details["count"], e.details["personal_data"]) for e in events] == [(5, True)]

    other = app.test_client()
    auth.login("statistician", client=other)
    page = other.get("/en/admin/login").get_data(as_text=True)
    refused = other.post(export, data={"csrf_token": csrf_token(page), "confirm": "y"})
    assert refused.status_code == 403
    missing = f"/en/admin/invitations/{WAVE}/citizen/invitees.csv"
    assert (
        admin.post(missing, data={"csrf_token": csrf_token(listing), "confirm": "y"}).status_code
        == 404
    )


def test_hostile_invitee_files_are_refused_with_a_reason_not_a_server_error():
    from hostile_files import rewritten

    header = ("name", "group", "agency")
    nul = csv_bytes([("Nguyễn\x00An", "leader", "Sở Nội vụ")], header=header)
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(nul, "list.csv")
    assert caught.value.problems[0].row == 2 and "NUL" in caught.value.problems[0].message

    book = xlsx_bytes(clean_rows(), ("name", "group", "agency", "unit", "email", "phone"))
    claims = rewritten(
        book,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:F5" />', b'<dimension ref="A1:F20000000" />'),
    )
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(claims, "list.xlsx")
    assert "too large to read" in caught.value.problems[0].message
    entity = rewritten(
        book,
        "xl/worksheets/sheet1.xml",
        lambda xml: b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + xml,
    )
    with pytest.raises(invitee_file.InviteeFileInvalid) as caught:
        invitee_file.read_invitee_file(entity, "list.xlsx")
    assert "cannot be opened" in caught.value.problems[0].message
