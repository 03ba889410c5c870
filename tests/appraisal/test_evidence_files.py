"""Evidence uploads: the type read from the content, the size checked, hostile files refused."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from survey_app.appraisal.evidence_file import MAX_EVIDENCE_BYTES, EvidenceRefused, check_evidence

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PDF = b"%PDF-1.7\n%%EOF\n"


def _xlsx() -> bytes:
    out = io.BytesIO()
    book = openpyxl.Workbook()
    book.active["A1"] = "evidence"
    book.save(out)
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.fixture
def ctx(app):
    with app.test_request_context("/en/"):
        yield


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (PDF, "plan.pdf", "application/pdf"),
        (PNG, "photo.PNG", "image/png"),
        (JPEG, "scan.jpeg", "image/jpeg"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.doc", "application/msword"),
        (
            _xlsx(),
            "table.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}),
            "report.odt",
            "application/vnd.oasis.opendocument.text",
        ),
    ],
)
def test_documents_are_kept_with_the_type_of_their_content(ctx, content, name, kind):
    assert check_evidence(content, name) == (name, kind)


@pytest.mark.parametrize(
    ("content", "name", "says"),
    [
        (b"<html><script>alert(1)</script></html>", "plan.pdf", "is not a .pdf file inside"),
        (PNG, "plan.pdf", "is not a .pdf file inside"),
        (PDF, "evil.html", "is not one of them"),
        (PDF, "noextension", "is not one of them"),
        (_zip({"word/document.xml": b"<x/>"}), "letter.docx", "is not a .docx file inside"),
        (_xlsx(), "letter.docx", "is not a .docx file inside"),
        (b"PK\x03\x04 broken zip", "table.xlsx", "is not a .xlsx file inside"),
        (_zip({"content.xml": b"<x/>"}), "report.odt", "is not a .odt file inside"),
        (b"", "empty.pdf", "The file is empty."),
        (b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES, "big.pdf", "larger than 10 MB"),
    ],
)
def test_other_files_are_refused_with_the_reason(ctx, content, name, says):
    with pytest.raises(EvidenceRefused, match=says):
        check_evidence(content, name)


def test_a_path_in_the_name_is_dropped(ctx):
    assert check_evidence(PDF, "C:\\Users\\x\\..\\plan.pdf")[0] == "plan.pdf"
    assert check_evidence(PDF, '../../a";b.pdf')[0] == "ab.pdf"
