"""Every upload form of the site sent the hostile files of issue 10 through HTTP, as the role that
may use it: each is refused with the site's own page (400, or 413 past the size limit), never a
server error, and nothing is stored. A file that hung a worker would hang this test."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from hostile_files import rewritten, sparse_workbook
from html_client import csrf_token
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from survey_app.extensions import db
from survey_app.models import Invitee, QuestionnaireVersion, Quota, StoredFile, Wave

SHEET = "xl/worksheets/sheet1.xml"


def _workbook(header: list[str], rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _hostile_workbooks(header: list[str], row: list[str]) -> dict[str, bytes]:
    plain = _workbook(header, [row])
    entities = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    laughs = (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    first_value = row[0].encode()

    def with_entity(prologue: bytes, reference: bytes):
        def change(xml: bytes) -> bytes:
            xml = re.sub(rb"^<\?xml[^>]*\?>", b"", xml.lstrip())
            return b'<?xml version="1.0"?>' + prologue + xml.replace(first_value, reference)

        return change

    claim = re.compile(rb'<dimension ref="[^"]*"\s*/>')
    return {
        "external-entity.xlsx": rewritten(plain, SHEET, with_entity(entities, b"&e;")),
        "billion-laughs.xlsx": rewritten(plain, SHEET, with_entity(laughs, b"&lol3;")),
        "twenty-million-rows.xlsx": rewritten(
            plain, SHEET, lambda xml: claim.sub(b'<dimension ref="A1:C20000000"/>', xml)
        ),
        "far-row.xlsx": rewritten(
            plain,
            SHEET,
            lambda xml: claim.sub(b"", xml).replace(
                b"</sheetData>", b'<row r="20000000"><c r="A20000000"/></row></sheetData>'
            ),
        ),
        # every row as wide as the 200th column: 2,000,200 cells for openpyxl, 100 KB zipped
        "two-million-cells.xlsx": sparse_workbook(10_001),
        "not-a-workbook.xlsx": _zip_of({"hello.txt": b"not a workbook"}),
        "bad-checksum.xlsx": _flagged(plain, crc=True),
        "encrypted.xlsx": _flagged(plain, encrypted=True),
        "20001-sheets.xlsx": _many_sheets(plain, 20_000),
        "truncated.xlsx": plain[: len(plain) // 2],
        "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
    }


def _flagged(data: bytes, crc: bool = False, encrypted: bool = False) -> bytes:
    """The workbook with its sheet's checksum wrong, or marked encrypted, in the central
    directory (what zipfile reads)."""
    data = bytearray(data)
    name = SHEET.encode()
    entry = 0
    while True:
        entry = data.find(b"PK\x01\x02", entry + 1)
        if data[entry + 46 : entry + 46 + len(name)] == name:
            break
    if crc:
        data[entry + 16] ^= 0xFF
    if encrypted:
        data[entry + 8] |= 0x01
    return bytes(data)


def _many_sheets(data: bytes, many: int) -> bytes:
    """Thousands of sheets naming one small part: openpyxl reads it once for each."""
    kind = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    sheets = b"".join(
        b'<sheet name="s%d" sheetId="%d" r:id="rX%d"/>' % (n, n + 2, n) for n in range(many)
    )
    links = b"".join(
        b'<Relationship Id="rX%d" Type="%s" Target="worksheets/sheet1.xml"/>' % (n, kind)
        for n in range(many)
    )
    data = rewritten(
        data, "xl/workbook.xml", lambda x: x.replace(b"</sheets>", sheets + b"</sheets>")
    )
    return rewritten(
        data,
        "xl/_rels/workbook.xml.rels",
        lambda x: x.replace(b"</Relationships>", links + b"</Relationships>"),
    )


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _hostile_csvs(header: str, row: str) -> dict[str, bytes]:
    return {
        # 400 KB on the wire, under the upload limit: pandas spent minutes on such a header
        "200001-columns.csv": (",".join(["a"] * 200_001) + "\n").encode(),
        "nul.csv": f"{header}\n{row}\n".replace(",", "\x00,", 1).encode(),
        "nul-in-header.csv": f"{header}\n{row}\n".replace(",", ",\x00", 1).encode(),
        "long-cell.csv": f"{header}\n{'x' * 200_000},{row}\n".encode(),
        "not-utf8.csv": f"{header}\n{row}\n".encode() + b"\xff\xfe\xe9\n",
        "unclosed-quote.csv": f'{header}\n"{row}\n'.encode(),
        "empty.csv": b"",
    }


def _post(client, url: str, fields: dict, data: bytes, filename: str):
    boundary, body = encode_multipart(
        {**fields, "file": FileStorage(io.BytesIO(data), filename=filename)}
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _stored(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Invitee, Quota, QuestionnaireVersion, StoredFile)
        )


def _wave_code(app) -> str:
    with app.app_context():
        return db.session.scalars(select(Wave.code).order_by(Wave.id)).first()


def _forms(app) -> list[tuple[str, str, str, dict, dict[str, bytes]]]:
    """(role, page, action, fields, files) of every upload form."""
    wave = _wave_code(app)
    invitees = _hostile_csvs("name,group,agency", "Nguyễn An,leader,Sở Nội vụ")
    invitees |= _hostile_workbooks(["name", "group", "agency"], ["Nguyễn An", "leader", "Sở"])
    quotas = _hostile_csvs("district,sex,target", "can_loc,female,5")
    quotas["superscript-target.csv"] = "district,sex,target\ncan_loc,female,²\n".encode()
    appraisal = _hostile_csvs("unit_code,criterion", "u1,1.1")
    appraisal |= _hostile_workbooks(["unit_code", "criterion"], ["u1", "1.1"])
    targets = _hostile_csvs("variable,level,target", "sex,male,10")
    targets["superscript-target.csv"] = "variable,level,target\nsex,male,²\n".encode()
    previous = _hostile_csvs("unit_code,rank,percent", "u1,1,80")
    xlsforms = _hostile_workbooks(["type", "name", "label"], ["text", "q1", "Question"])
    stats_page = f"/en/stats/waves/{wave}"
    return [
        (
            "admin",
            f"/en/admin/invitations/import?wave={wave}&questionnaire=leader",
            "/en/admin/invitations/import",
            {"wave": wave, "questionnaire": "leader", "lang": "vi"},
            invitees,
        ),
        (
            "admin",
            "/en/admin/quotas/import",
            "/en/admin/quotas/import",
            {"wave": wave, "questionnaire": "citizen", "name": "main", "when_full": "screen_out"},
            quotas,
        ),
        (
            "admin",
            "/en/admin/questionnaires",
            "/en/admin/questionnaires/import",
            {"code": "hostile", "group": "citizen", "access": "open"},
            xlsforms,
        ),
        ("statistician", stats_page, f"{stats_page}/inputs", {"kind": "targets"}, targets),
        ("statistician", stats_page, f"{stats_page}/inputs", {"kind": "appraisal"}, appraisal),
        ("statistician", stats_page, f"{stats_page}/inputs", {"kind": "previous"}, previous),
    ]


@pytest.mark.parametrize(
    "form", range(6), ids=["invitees", "quotas", "xlsform", "targets", "appraisal", "previous"]
)
def test_every_hostile_file_on_every_upload_form_is_refused_with_a_page(app, auth, form):
    role, page, action, fields, files = _forms(app)[form]
    client = app.test_client()
    auth.login(role, client=client)
    shown = client.get(page)
    assert shown.status_code == 200, page
    fields = {"csrf_token": csrf_token(shown.get_data(as_text=True)), **fields}
    before = _stored(app)
    answers = {}
    for filename, data in files.items():
        response = _post(client, action, fields, data, filename)
        answers[filename] = response.status_code
        if response.status_code == 400:
            assert '<html lang="en"' in response.get_data(as_text=True), filename
    assert {name: status for name, status in answers.items() if status not in (400, 413)} == {}
    assert _stored(app) == before
