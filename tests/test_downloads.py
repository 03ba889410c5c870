"""The Content-Disposition of every download: the exact name in filename* (RFC 5987) and an ASCII
filename that no quote, backslash or control character can end early (RFC 6266)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from werkzeug.http import parse_options_header

from survey_app.downloads import content_disposition

FALLBACK = re.compile(r'; filename="([ -~]*)"; ')
ENCODED = re.compile(r"; filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]*)$")


@pytest.mark.parametrize(
    ("name", "ascii_name"),
    [
        ("appraisal_2025_departments.csv", "appraisal_2025_departments.csv"),
        ('Đợt khảo sát "Đà Nẵng" 2025.csv', "Dot khao sat Da Nang 2025.csv"),
        ("a\\b\r\nContent-Type: text/html.pdf", "abContent-Type: text/html.pdf"),
        ("báo cáo; tháng 5.xlsx", "bao cao; thang 5.xlsx"),
        ("отчёт.pdf", "download.pdf"),
        ("报告", "download"),
    ],
)
def test_any_name_gives_a_header_that_parses_to_it(name, ascii_name):
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    shown = "".join(ch for ch in name if ch.isprintable())
    assert parse_options_header(header) == ("attachment", {"filename": shown})
    assert FALLBACK.search(header)[1] == ascii_name
    assert unquote(ENCODED.search(header)[1]) == shown


def test_a_page_to_show_is_inline():
    header = content_disposition("citizen-codebook-vi.html", "inline")
    assert header.split("; ") == [
        "inline",
        'filename="citizen-codebook-vi.html"',
        "filename*=UTF-8''citizen-codebook-vi.html",
    ]
