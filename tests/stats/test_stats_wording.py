"""The statisticians' pages as a Vietnamese reader sees them (issue 12's polish): no English
sentence on a /vi/ page (upload errors, failed runs, weighting notes included), names instead of
codes (questionnaires, methods, margins, units, blocks, the wave), and numbers formatted for the
page's language with one style per column (no 6,3E-12 beside 650.000).

The demo wave goes through the pages as in test_stats.py: targets, appraisal scores and last
year's index are uploaded and a rake run builds the index.
"""

from __future__ import annotations

import functools
import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from app_support import ROOT
from test_stats import (  # noqa: F401 - fixtures
    app,
    appraisal_csv,
    finish,
    full_run,
    start_run,
    stats_app,
    targets_csv,
    token,
)
from test_translations import source_messages

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
#: A number as each language writes it: grouped thousands, then the decimals.
NUMBER = {
    "vi": re.compile(r"^-?\d{1,3}(?:\.\d{3})*(?:,(\d+))?$"),
    "en": re.compile(r"^-?\d{1,3}(?:,\d{3})*(?:\.(\d+))?$"),
}
SCIENTIFIC = re.compile(r"\d[eE][-+]?\d")


# ---------------------------------------------------------------------------------------------
# Reading pages


@functools.cache
def english_phrases() -> tuple[str, ...]:
    """The fixed parts of every interface message (the app's and analysis's), in English: long
    enough (15 characters, two words) that finding one on a page means an untranslated sentence."""
    found = set()
    for msgid in source_messages():
        for part in PLACEHOLDER.split(msgid):
            part = " ".join(part.split()).strip(" .,:;()")
            if len(part) >= 15 and " " in part:
                found.add(part)
    return tuple(sorted(found))


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def english_on(page: str) -> list[str]:
    text = visible_text(page)
    return [phrase for phrase in english_phrases() if phrase in text]


class Tables(HTMLParser):
    """Every table of a page: its id and its body rows, each a list of (tag, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[tuple[str, str]]]]] = []
        self._cell: list[str] | None = None
        self._tag = ""
        self._in_svg = 0

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self._in_svg += 1
        elif tag == "table":
            self.tables.append((dict(attrs).get("id") or "", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell, self._tag = [], tag

    def handle_endtag(self, tag):
        if tag == "svg":
            self._in_svg -= 1
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append((self._tag, " ".join("".join(self._cell).split())))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None and not self._in_svg:
            self._cell.append(data)


def tables_of(page: str) -> dict[str, list[list[tuple[str, str]]]]:
    parser = Tables()
    parser.feed(page)
    return {table_id or f"table{n}": rows for n, (table_id, rows) in enumerate(parser.tables)}


def decimals_by_column(rows, lang: str) -> dict[tuple[int, int], set[int]]:
    """For each (column, part) of data cells holding numbers (an interval "a – b" has two
    parts), the numbers of decimals found; every such cell must read as a number of `lang`."""
    found: dict[tuple[int, int], set[int]] = {}
    for row in rows:
        for column, (tag, text) in enumerate(row):
            if tag != "td":
                continue
            for part_number, part in enumerate(text.split(" – ")):
                match = NUMBER[lang].match(part.strip())
                if match:
                    found.setdefault((column, part_number), set()).add(len(match[1] or ""))
    return found


def questionnaire_label(code: str, item: str, option: str | None, lang: str) -> str:
    """A question's (or one of its options') label as the questionnaire file words it."""
    data = yaml.safe_load(Path(ROOT / "questionnaires" / f"{code}.yaml").read_text("utf-8"))

    def walk(node):
        if isinstance(node, dict):
            if node.get("code") == item and "label" in node:
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    question = next(walk(data))
    if option is None:
        return question["label"][lang]
    return next(o["label"][lang] for o in question["options"] if str(o["value"]) == option)


def upload(client, lang: str, kind: str, name: str, content: str):
    return client.post(
        f"/{lang}/stats/waves/demo/inputs",
        data={
            "csrf_token": token(client, f"/{lang}/stats/waves/demo"),
            "kind": kind,
            "file": (io.BytesIO(content.encode("utf-8")), name),
        },
        content_type="multipart/form-data",
    )


# ---------------------------------------------------------------------------------------------


def test_english_phrases_are_found_where_they_are(client, auth):
    """The check itself: an English page is full of them, and an English sentence put into a
    Vietnamese page is caught."""
    auth.login("statistician")
    english = client.get("/en/stats/waves/demo").get_data(as_text=True)
    assert len(english_on(english)) >= 5
    vietnamese = client.get("/vi/stats/waves/demo").get_data(as_text=True)
    assert english_on(vietnamese) == []
    sentence = "the targets name the variable 'religion', not in the citizen responses"
    planted = vietnamese.replace("</body>", f"<p>{sentence}</p></body>")
    assert english_on(planted) == ["the targets name the variable"]


def test_no_english_on_the_vietnamese_pages_of_a_run(client, auth):
    auth.login("statistician")
    run_id, _page = full_run(client)
    pages = [
        "/vi/stats/",
        "/vi/stats/waves/demo",
        f"/vi/stats/runs/{run_id}",
        "/vi/stats/waves/demo/report",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert english_on(response.get_data(as_text=True)) == [], path


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_upload_errors_speak_the_pages_language(client, auth, lang):
    auth.login("statistician")
    bad_totals = targets_csv().replace("sex,female,650000", "sex,female,660000")
    lines = appraisal_csv().splitlines()
    lines[1] = lines[1].replace("provinces", "moon")
    lines[3] = lines[3].rsplit(",", 1)[0] + ",lots"
    refused = [
        ("targets", "t.csv", bad_totals, ["sex", "age_group"]),
        ("targets", "t.csv", "sex,level\n", ["variable,level,target"]),
        ("appraisal", "council.csv", "\n".join(lines) + "\n", ["council.csv:2:", "council.csv:4:"]),
        ("previous", "p.csv", "unit_code,rank\nha_tinh,3\n", ["percent"]),
    ]
    for kind, name, content, named in refused:
        response = upload(client, lang, kind, name, content)
        body = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'class="error-summary"' in body
        for fact in named:  # the reason says what and where, in both languages
            assert html.escape(fact) in body or fact in body, (kind, fact)
        if lang == "vi":
            assert english_on(body) == [], kind
        else:
            assert "The file was not accepted" in body
    # the totals are numbers of the page's language
    body = upload(client, lang, "targets", "t.csv", bad_totals).get_data(as_text=True)
    assert ("1.310.000" if lang == "vi" else "1,310,000") in body


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_failed_run_says_why_in_the_language_of_its_reader(client, auth, lang):
    auth.login("statistician")
    wrong = "variable,level,target\nsex,male,50\nsex,female,50\nreligion,x,100\n"
    assert upload(client, "en", "targets", "t.csv", wrong).status_code == 302
    location = start_run(client, method="rake")  # started from the English page
    finish(client, location)
    page = client.get(location.replace("/en/", f"/{lang}/", 1))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "religion" in body
    if lang == "vi":
        assert english_on(body) == []
    else:
        assert "the targets name the variable" in body


def test_names_instead_of_codes(client, auth):
    auth.login("statistician")
    run_id, _page = full_run(client)
    scheme = yaml.safe_load((ROOT / "questionnaires/scoring/par2022.yaml").read_text("utf-8"))
    citizens = yaml.safe_load((ROOT / "questionnaires/citizen.yaml").read_text("utf-8"))
    for lang in ("vi", "en"):
        run_page = client.get(f"/{lang}/stats/runs/{run_id}").get_data(as_text=True)
        margins = tables_of(run_page)["margins-table"]
        cells = {(row[0][1], row[1][1]) for row in margins[1:]}
        sex = questionnaire_label("citizen", "sex", None, lang)
        age = questionnaire_label("citizen", "age_group", None, lang)
        assert (sex, questionnaire_label("citizen", "sex", "male", lang)) in cells
        assert (age, questionnaire_label("citizen", "age_group", "age18_30", lang)) in cells
        codes = {"sex", "age_group", "male", "age18_30"}
        assert not any(code in codes for pair in cells for code in pair)
        # the group by its questionnaire's title, the method by what it does
        assert citizens["title"][lang] in visible_text(run_page)
        assert ">rake<" not in run_page
        index = tables_of(run_page)["index-table"]
        unit, block = index[1][1][1], index[1][2][1]
        assert unit == "Hà Tĩnh"  # the appraisal file's name, not ha_tinh
        assert block == scheme["blocks"][0]["name"][lang]
        assert scheme["name"][lang] in run_page  # the scheme by its name
        wave_page = client.get(f"/{lang}/stats/waves/demo").get_data(as_text=True)
        rows = tables_of(wave_page)["table0"]
        questionnaires = [row[0][1] for row in rows[1:]]
        assert citizens["title"][lang] in questionnaires and "citizen" not in questionnaires
        report = client.get(f"/{lang}/stats/waves/demo/report").get_data(as_text=True)
        heading = re.search(r"<h1>(.*?)</h1>", report, re.S)[1]
        wave_title = "Đợt khảo sát mẫu" if lang == "vi" else "Demo wave"
        assert wave_title in html.unescape(heading) and "demo<" not in heading


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_numbers_follow_the_locale_with_one_style_per_column(client, auth, lang):
    auth.login("statistician")
    run_id, _page = full_run(client)
    for path in (f"/{lang}/stats/runs/{run_id}", f"/{lang}/stats/waves/demo/report"):
        page = client.get(path).get_data(as_text=True)
        tables = tables_of(page)
        checked = 0
        for table_id, rows in tables.items():
            for row in rows:
                for _tag, text in row:
                    assert not SCIENTIFIC.search(text), (path, table_id, text)
            for column, decimals in decimals_by_column(rows, lang).items():
                assert len(decimals) == 1, (path, table_id, column, decimals)
                checked += 1
        assert checked >= 15, path
        margins = tables["margins-table"]
        assert margins[1][2][1] == ("650.000" if lang == "vi" else "650,000")
        # the fit is exact to 1e-10: fixed decimals, not 6,3E-12
        assert {row[4][1] for row in margins[1:]} == {"0,0000" if lang == "vi" else "0.0000"}
        sipas = tables["sipas-table"]
        assert NUMBER[lang].match(sipas[1][1][1])[1] is not None


def test_index_values_are_shown_as_published(client, auth):
    """Points and percentages with the scheme's decimals, rounded half away from zero as the
    index decides ranks and bands (analysis.index.published): the table shows index.csv's
    published_percent, and the points rounded by the same rule."""
    import pandas as pd

    from analysis.index import published

    auth.login("statistician")
    run_id, _page = full_run(client)
    index = pd.read_csv(io.BytesIO(client.get(f"/en/stats/runs/{run_id}/files/index.csv").data))
    row = tables_of(client.get(f"/en/stats/runs/{run_id}").get_data(as_text=True))["index-table"]
    cells = [text for _tag, text in row[1]]
    unit = index.iloc[0]
    assert cells[6] == f"{unit['published_percent']:.2f}"
    for column, position in (("appraisal_points", 3), ("survey_points", 4), ("total_points", 5)):
        assert cells[position] == f"{float(published(unit[column], 2)):.2f}", column
