"""Evidence named in Vietnamese, and with a quote in its name, downloads under that name: the
Content-Disposition parses back to it and the document is the one uploaded."""

from __future__ import annotations

import io
from urllib.parse import quote

from appraisal_support import make_units, open_round, scope
from html_client import csrf_token
from sqlalchemy import select
from werkzeug.http import parse_options_header

from survey_app.extensions import db
from survey_app.models import Evidence

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_vietnamese_name_with_a_quote_downloads_under_its_name(app, client, auth):
    units = make_units(app)
    auth.ensure_user("officer", "o1@example.vn")
    scope(app, "o1@example.vn", unit_id=units["D1"])
    round_id = open_round(client, auth)
    auth.login(email="o1@example.vn")
    url = f"/en/appraisal/rounds/{round_id}/unit"
    name = "Đề án cải cách hành chính.pdf"
    added = client.post(
        f"{url}/evidence",
        data={
            "csrf_token": csrf_token(client.get(url).get_data(as_text=True)),
            "criterion": "1.1",
            "file": (io.BytesIO(PDF), name),
        },
        content_type="multipart/form-data",
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    with app.app_context():
        evidence_id = db.session.scalars(select(Evidence.id)).one()
    download = client.get(f"/en/appraisal/evidence/{evidence_id}")
    assert download.status_code == 200 and download.data == PDF
    header = download.headers["Content-Disposition"]
    assert parse_options_header(header) == ("attachment", {"filename": name})
    assert header.split("; ") == [
        "attachment",
        'filename="De an cai cach hanh chinh.pdf"',
        f"filename*=UTF-8''{quote(name)}",
    ]

    # a name that kept a quote (uploads drop quotes now; an older row need not have)
    quoted = 'Đợt "2" báo cáo.pdf'
    with app.app_context(), db.transaction() as tx:
        tx.get(Evidence, evidence_id).filename = quoted
    download = client.get(f"/en/appraisal/evidence/{evidence_id}")
    assert download.status_code == 200 and download.data == PDF
    header = download.headers["Content-Disposition"]
    assert parse_options_header(header) == ("attachment", {"filename": quoted})
    assert 'filename="Dot 2 bao cao.pdf"; ' in header
    assert download.headers["X-Content-Type-Options"] == "nosniff"
