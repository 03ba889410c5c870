"""Question HTML, cached: a page of thirty questions is mostly the same bytes for everyone.

An item's HTML depends only on the stored version, the language and its own answer(s), so it is
made once per (version, language, item, answer) and reused. Items with an error are never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import get_template_attribute
from markupsafe import Markup

from ..questionnaire.definition import Item

CACHE_SIZE = 50_000
#: Free-text answers would fill the cache with one-off entries; these render cheaply anyway.
UNCACHED = ("integer", "text", "longtext")
_cache: OrderedDict[tuple, Markup] = OrderedDict()
_lock = threading.Lock()


def hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def item_html(version_key: tuple, item: Item, shown: dict, error_map: dict, lang: str) -> Markup:
    if item.type == "grid":
        codes = [row.code for row in item.rows]
        if any(code in error_map for code in codes):
            return get_template_attribute("respond/_items.html", "item")(
                item, shown, error_map, lang
            )
        key = (version_key, lang, item.code, *(hashable(shown.get(code)) for code in codes))
    else:
        if item.type in UNCACHED or item.code in error_map:
            return get_template_attribute("respond/_items.html", "item")(
                item, shown, error_map, lang
            )
        key = (version_key, lang, item.code, hashable(shown.get(item.code)))
    found = _cache.get(key)
    if found is not None:
        return found
    html = get_template_attribute("respond/_items.html", "item")(item, shown, {}, lang)
    with _lock:
        _cache[key] = html
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return html


#: Markers for the values that differ between respondents on an otherwise identical page. They
#: contain no character that HTML escaping changes, and nothing a questionnaire could contain.
CSRF_MARK = "__par_csrf_9d61f0c2__"
RESUME_MARK = "__par_resume_9d61f0c2__"
ITEMS_MARK = "__par_items_9d61f0c2__"
ITEMS_MARKUP = Markup(ITEMS_MARK)
PAGE_CACHE_SIZE = 2_000
_pages: OrderedDict[tuple, str] = OrderedDict()


def page_html(key: tuple) -> str | None:
    """A page kept for reuse: same questionnaire version, page, language, address, relevance
    everywhere and questions shown, so the same bytes but for the markers (the questions, with
    their answers, among them)."""
    return _pages.get(key)


def keep_page_html(key: tuple, html: str) -> None:
    with _lock:
        _pages[key] = html
        if len(_pages) > PAGE_CACHE_SIZE:
            _pages.popitem(last=False)
