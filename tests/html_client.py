"""A respondent that knows only HTML: it reads the forms of a page, fills them and submits them."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit


@dataclass
class Control:
    tag: str
    type: str
    name: str
    value: str = ""
    checked: bool = False
    options: list[str] = field(default_factory=list)
    inputmode: str = ""
    maxlength: int | None = None


@dataclass
class Form:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def groups(self) -> dict[str, list[Control]]:
        found: dict[str, list[Control]] = {}
        for control in self.controls:
            found.setdefault(control.name, []).append(control)
        return found


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Control | None = None
        self.textarea: Control | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and a.get("name"):
            self.form.controls.append(
                Control(
                    "input",
                    a.get("type", "text"),
                    a["name"],
                    a.get("value", ""),
                    "checked" in a,
                    inputmode=a.get("inputmode", ""),
                    maxlength=int(a["maxlength"]) if a.get("maxlength") else None,
                )
            )
        elif tag == "button" and a.get("name"):
            self.form.buttons.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = Control("select", "select", a.get("name", ""))
            self.form.controls.append(self.select)
        elif tag == "option" and self.select is not None:
            self.select.options.append(a.get("value", ""))
            if "selected" in a:
                self.select.value = a.get("value", "")
        elif tag == "textarea":
            self.textarea = Control(
                "textarea",
                "textarea",
                a.get("name", ""),
                maxlength=int(a["maxlength"]) if a.get("maxlength") else None,
            )
            self.form.controls.append(self.textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fill(form: Form, rng: random.Random, text: str) -> dict[str, list[str]]:
    """Answers for every question of a page form, the way a careful respondent gives them.

    Radio groups get one of their first four options (never the trailing "don't know"), check
    boxes one option, numeric boxes a small number, text boxes `text`.
    """
    data: dict[str, list[str]] = {}
    for name, controls in form.groups().items():
        first = controls[0]
        if first.type == "hidden":
            data[name] = [first.value]
        elif first.type == "radio":
            values = [c.value for c in controls]
            data[name] = [rng.choice(values[: max(1, min(4, len(values) - 1))])]
        elif first.type == "checkbox":
            data[name] = [controls[0].value]
        elif first.tag == "select":
            data[name] = [rng.choice([o for o in first.options if o])]
        elif first.inputmode == "numeric":
            data[name] = [str(rng.randint(1, 3))]
        else:
            data[name] = [text]
    return data


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@dataclass
class Walk:
    answers: dict[str, list[str]]
    last_post: tuple[str, dict[str, list[str]]]
    pages: int
    done_html: str
    #: (page number, of total) as each page's progress line said it
    progress: list[tuple[int, int]] = field(default_factory=list)


def walk(client, start_path: str, seed: int = 1, text: str = "Ý kiến <b>thử</b>") -> Walk:
    """Start a questionnaire at `start_path` and answer every page until the thank-you page."""
    rng = random.Random(seed)
    # A personal link is exchanged for the session, then redirects to an address without it.
    page = client.get(start_path, follow_redirects=True)
    assert page.status_code == 200, page.status_code
    start_form = parse_forms(page.get_data(as_text=True))[0]
    response = client.post(
        path_of(start_form.action) or page.request.path,
        data={"csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 302, response.status_code
    location = path_of(response.headers["Location"])
    answers: dict[str, list[str]] = {}
    pages = 0
    last_post = ("", {})
    progress = []
    while "/p/" in location:
        page = client.get(location)
        assert page.status_code == 200, (location, page.status_code)
        html = page.get_data(as_text=True)
        bar = re.search(r'<progress max="(\d+)" value="(\d+)"', html)
        progress.append((int(bar[2]), int(bar[1])))
        form = next(f for f in parse_forms(html) if ("action", "next") in f.buttons)
        data = fill(form, rng, text)
        data["action"] = ["next"]
        response = client.post(path_of(form.action), data=data)
        assert response.status_code == 302, (
            location,
            response.status_code,
            re.findall(r'class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True)),
        )
        answers.update({k: v for k, v in data.items() if k not in ("csrf_token", "action")})
        last_post = (path_of(form.action), data)
        location = path_of(response.headers["Location"])
        pages += 1
        assert pages < 100, "the questionnaire never ends"
    done = client.get(location)
    assert done.status_code == 200
    return Walk(answers, last_post, pages, done.get_data(as_text=True), progress)
