"""The languages of par-survey, listed once: one per catalog in `translations/`, default first.

A third language is a new catalog (`pybabel init -l xx`) and its label in every questionnaire and
scheme file; no code names the languages.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
#: The language of the published index, of a page asked for in no known language, and of the
#: interface when no catalog is found (an installed copy without the translations folder).
DEFAULT_LANGUAGE = "vi"


def _catalog_languages(folder: Path) -> tuple[str, ...]:
    found = sorted(p.parent.parent.name for p in folder.glob("*/LC_MESSAGES/messages.po"))
    others = [lang for lang in found if lang != DEFAULT_LANGUAGE]
    return (DEFAULT_LANGUAGE, *others) if others else (DEFAULT_LANGUAGE, "en")


LANGUAGES: tuple[str, ...] = _catalog_languages(TRANSLATIONS)

#: Each language named in itself, so a reader finds their own ("Tiếng Việt", "English").
LANGUAGE_NAMES = {lang: Locale.parse(lang).get_display_name(lang) for lang in LANGUAGES}


def in_language(label: dict[str, str] | None, lang: str, fallback: str = "") -> str:
    """A text given per language ({"vi": ..., "en": ...}) in `lang`; where it lacks that language
    (a file written before a third one was added), the default language's, then any."""
    if not label:
        return fallback
    return label.get(lang) or label.get(DEFAULT_LANGUAGE) or next(iter(label.values()), fallback)
