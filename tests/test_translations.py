"""Every interface string has its Vietnamese translation; pages speak their URL's language."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    """What pybabel extract would find now, straight from the code and templates."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(lang: str):
    with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_interface_string_is_translated_into_vietnamese():
    vi = catalog("vi")
    missing = []
    for msgid in sorted(source_messages()):
        message = vi.get(msgid)
        translation = message.string if message is not None else None
        if isinstance(translation, tuple | list):
            translation = translation[0]
        if not translation or (message is not None and message.fuzzy):
            missing.append(msgid)
    assert missing == [], (
        "untranslated (run make translations-update and translate):\n" + "\n".join(missing)
    )


def test_translations_keep_their_placeholders():
    for lang in ("vi", "en"):
        for message in catalog(lang):
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
            strings = (
                message.string if isinstance(message.string, tuple | list) else (message.string,)
            )
            wanted = set(PLACEHOLDER.findall(ids[-1]))
            for text in strings:
                if text:
                    assert set(PLACEHOLDER.findall(text)) == wanted, (lang, message.id)


def test_pages_speak_the_language_of_their_url(client):
    vi = client.get("/vi/").get_data(as_text=True)
    en = client.get("/en/").get_data(as_text=True)
    assert '<html lang="vi">' in vi and '<html lang="en">' in en
    assert "Khảo sát" in vi or "khảo sát" in vi
    assert "Surveys open now" in en
    assert "Surveys open now" not in vi
    start_vi = client.get("/vi/s/citizen").get_data(as_text=True)
    assert "Bắt đầu" in start_vi
    assert ">Start<" not in start_vi


def test_dates_and_numbers_follow_the_locale(app, client):
    import datetime as dt

    from sqlalchemy import select

    from survey_app.extensions import db
    from survey_app.models import Wave

    with app.app_context():
        wave = db.session.scalars(select(Wave)).one()
        wave.closes_at = dt.datetime(2099, 12, 31, 10, 0)
        db.session.commit()
    en = client.get("/en/").get_data(as_text=True)
    vi = client.get("/vi/").get_data(as_text=True)
    assert "December 31, 2099" in en
    assert "31 tháng 12, 2099" in vi or "31 tháng 12 năm 2099" in vi
