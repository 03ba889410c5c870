"""The simulated respondents of `benchmarks/soak.py`: a small browser and a person walking the
questionnaire with it.

The browser keeps a cookie jar, follows redirects and sends a failed request again the way a
person presses reload or "submit" a second time. The respondent reads whatever form a page holds
and fills it with valid random answers: no page sequence, field name or question type is known in
advance, so the script keeps working while the answering flow changes. Only the standard library:
the load generator depends on nothing the project does not.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import Request

#: A resume code as pages show it: four groups of four (Crockford base32 has no lower case).
RESUME_CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
REDIRECTS = (301, 302, 303, 307, 308)
#: Words for free-text answers: Vietnamese letters, and the characters that escaping, URL
#: encoding or a formula guard could change on the way to the database.
WORDS = (
    "thủ tục",
    "nhanh gọn",
    "chậm",
    "cán bộ",
    "hồ sơ",
    "một cửa",
    "đất đai",
    "nhiệt tình",
    "R&D",
    "<b>không</b>",
    "50%",
    "a+b=c",
    "“ngoặc”",
    "O'Neil",
    "#1",
    "x;y",
)


# --- pages and forms ----------------------------------------------------------------------------


@dataclass
class Control:
    """One answer in a form: the radios or checkboxes sharing a name, a select, a text input or a
    textarea, with what the page shows in it."""

    name: str
    kind: str  # radio, checkbox, select, number, text, textarea
    options: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    max_length: int | None = None


@dataclass
class Button:
    name: str | None
    value: str


@dataclass
class Form:
    action: str
    method: str
    hidden: list[tuple[str, str]] = field(default_factory=list)
    controls: dict[str, Control] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)

    def button(self, value: str) -> Button | None:
        return next((b for b in self.buttons if b.value == value), None)

    def has_hidden(self, name: str) -> bool:
        return any(n == name for n, _ in self.hidden)

    def shown_values(self) -> dict[str, str | list[str]]:
        """What the form sends when nobody touches it."""
        values: dict[str, str | list[str]] = {}
        for name, control in self.controls.items():
            if control.kind == "checkbox":
                values[name] = list(control.shown)
            elif control.kind == "radio":
                values[name] = control.shown[0] if control.shown else ""
            elif control.kind == "select":
                first = control.options[0] if control.options else ""
                values[name] = control.shown[0] if control.shown else first
            else:
                values[name] = control.shown[0] if control.shown else ""
        return values

    def body(self, values: dict[str, str | list[str]], button: Button | None) -> str:
        pairs = list(self.hidden)
        for name, value in values.items():
            if isinstance(value, list):
                pairs += [(name, v) for v in value]
            elif value or self.controls[name].kind not in ("radio", "checkbox"):
                pairs.append((name, value))
        if button is not None and button.name:
            pairs.append((button.name, button.value))
        return urlencode(pairs)


def stored_form(values: dict[str, str | list[str]]) -> dict[str, str]:
    """The answers as the app stores them: trimmed, CRLF as LF, choices joined by spaces, and
    nothing for an empty answer."""
    stored = {}
    for name, value in values.items():
        text = " ".join(value) if isinstance(value, list) else value.replace("\r\n", "\n").strip()
        if text:
            stored[name] = text
    return stored


@dataclass
class Page:
    forms: list[Form]
    #: Field name -> the error message the page shows beside it.
    errors: dict[str, str]
    resume_code: str | None
    heading: str

    def post_form(self) -> Form | None:
        return next((f for f in self.forms if f.method == "POST"), None)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.errors: dict[str, str] = {}
        self.text: list[str] = []
        self.heading: list[str] | None = None
        self._form: Form | None = None
        self._select: Control | None = None
        self._option: list | None = None  # value, selected, text
        self._textarea: list | None = None  # control, text
        self._button: list | None = None  # name, value, type
        self._error: str | None = None
        self._in_h1 = False

    def _control(self, name: str, kind: str, attrs: dict) -> Control:
        control = self._form.controls.get(name)
        if control is None:
            length = attrs.get("maxlength")
            control = Control(name, kind, max_length=int(length) if length else None)
            self._form.controls[name] = control
        return control

    def handle_starttag(self, tag: str, attr_list) -> None:
        attrs = dict(attr_list)
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            self._form = Form(attrs.get("action") or "", method)
            self.forms.append(self._form)
        elif tag == "p" and (attrs.get("id") or "").startswith("err-"):
            self._error = attrs["id"][4:]
            self.errors[self._error] = ""
        elif tag == "h1" and self.heading is None:
            self.heading, self._in_h1 = [], True
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            value = attrs.get("value")
            if kind == "hidden" and name:
                self._form.hidden.append((name, value or ""))
            elif kind in ("submit", "image"):
                self._form.buttons.append(Button(name, value or ""))
            elif kind in ("radio", "checkbox") and name:
                control = self._control(name, kind, attrs)
                control.options.append(value if value is not None else "on")
                if "checked" in attrs:
                    control.shown.append(value if value is not None else "on")
            elif name and kind not in ("button", "reset", "file"):
                numeric = kind == "number" or attrs.get("inputmode") == "numeric"
                control = self._control(name, "number" if numeric else "text", attrs)
                control.shown = [value or ""]
        elif tag == "select" and name:
            self._select = self._control(name, "select", attrs)
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value"), "selected" in attrs, []]
        elif tag == "textarea" and name:
            self._textarea = [self._control(name, "textarea", attrs), []]
        elif tag == "button":
            self._button = [name, attrs.get("value") or "", (attrs.get("type") or "submit").lower()]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "p":
            self._error = None
        elif tag == "h1":
            self._in_h1 = False
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None and self._select is not None:
            value, selected, text = self._option
            value = value if value is not None else "".join(text).strip()
            self._select.options.append(value)
            if selected:
                self._select.shown = [value]
            self._option = None
        elif tag == "textarea" and self._textarea is not None:
            control, text = self._textarea
            content = "".join(text)
            # As in a browser: a line break right after <textarea> is not part of the value.
            control.shown = [content[1:] if content.startswith("\n") else content]
            self._textarea = None
        elif tag == "button" and self._button is not None:
            name, value, kind = self._button
            if kind == "submit" and self._form is not None:
                self._form.buttons.append(Button(name, value))
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
            return
        self.text.append(data)
        if self._error is not None:
            self.errors[self._error] += data
        if self._in_h1:
            self.heading.append(data)
        if self._option is not None:
            self._option[2].append(data)


def parse_page(html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    # Codes are looked for in the text people read, never in attributes (CSRF tokens).
    codes = RESUME_CODE.findall(" ".join(parser.text))
    heading = " ".join("".join(parser.heading or []).split())
    errors = {name: " ".join(message.split()) for name, message in parser.errors.items()}
    return Page(parser.forms, errors, codes[-1] if codes else None, heading)


# --- the browser --------------------------------------------------------------------------------


@dataclass
class Reply:
    method: str
    #: The status of the first answered request (303 for a saved page, 400 for a refused one),
    #: and of the last, once the redirects are followed.
    first_status: int
    status: int
    path: str
    text: str
    _page: Page | None = None

    def page(self) -> Page:
        if self._page is None:
            self._page = parse_page(self.text)
        return self._page

    @property
    def accepted(self) -> bool:
        return self.first_status in REDIRECTS


class _Headers:
    """What CookieJar needs of a response."""

    def __init__(self, message) -> None:
        self._message = message

    def info(self):
        return self._message


class Browser:
    """One person's browser. Every request opens its own connection (`Connection: close`), so a
    keep-alive socket that a killed worker left behind never shows up as a failure of its own."""

    def __init__(
        self, host: str, port: int, plan: Plan, rng: random.Random, record, language: str
    ) -> None:
        self.host, self.port, self.plan, self.rng = host, port, plan, rng
        self.record = record
        self.language = language
        self.jar = CookieJar()

    def _hop(self, method: str, path: str, body: str | None):
        request = Request(f"http://{self.host}:{self.port}{path}", method=method)
        self.jar.add_cookie_header(request)
        headers = {
            "Connection": "close",
            "User-Agent": "par-survey soak",
            "Accept-Language": self.language,
        }
        cookie = request.get_header("Cookie")
        if cookie:
            headers["Cookie"] = cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.plan.timeout)
        started = time.monotonic()
        try:
            connection.request(method, path, body.encode() if body is not None else None, headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.record(started, time.monotonic(), method, 0, type(exc).__name__)
            return 0, None, b""
        finally:
            connection.close()
        self.record(started, time.monotonic(), method, response.status, "")
        self.jar.extract_cookies(_Headers(response.headers), request)
        return response.status, response.headers, data

    def _answered(self, method: str, path: str, body: str | None):
        """The request, sent again after a failure (no answer, 5xx, 429) like a person who
        presses reload or submit once more, until the run's end."""
        while True:
            status, headers, data = self._hop(method, path, body)
            if status and status < 500 and status != 429:
                return status, headers, data
            pause = self.plan.retry_pause * (0.5 + self.rng.random())
            if time.monotonic() + pause >= self.plan.deadline:
                return None
            time.sleep(pause)

    def send(self, method: str, path: str, body: str | None = None) -> Reply | None:
        """One action (open an address, press a button) with its redirects followed; None when
        the run ended before it was answered."""
        first_method, first_status = method, 0
        for _ in range(10):
            answered = self._answered(method, path, body)
            if answered is None:
                return None
            status, headers, data = answered
            first_status = first_status or status
            location = headers.get("Location") if status in REDIRECTS else None
            if not location:
                break
            target = urlsplit(urljoin(f"http://{self.host}:{self.port}{path}", location))
            path = target.path + (f"?{target.query}" if target.query else "")
            if status in (301, 302, 303):
                method, body = "GET", None
        text = data.decode("utf-8", "replace")
        return Reply(first_method, first_status, status, path, text)


# --- the respondent -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    host: str
    port: int
    questionnaire: str
    languages: tuple[str, ...]
    #: time.monotonic() moments (system-wide on Linux, so shared by the client processes).
    start: float
    deadline: float
    seed: int
    retry_pause: float
    back_rate: float
    #: The share of pages on which a question to choose from is skipped: if it is required, the
    #: page comes back with its error and the answer is given then.
    slip_rate: float
    think: float
    timeout: float


@dataclass
class Walk:
    """One pass through the questionnaire, and what it left on the server."""

    client: int
    language: str
    #: complete, cut (the run ended first), sent_to_start, stuck
    outcome: str = "cut"
    resume_code: str | None = None
    code_changes: int = 0
    #: Page address -> the answers its last accepted POST stored.
    posted: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The pages whose answers count, in order: going forward from a page drops those after it.
    path: list[str] = field(default_factory=list)
    pages_sent: int = 0
    refused: int = 0
    backs: int = 0
    prefill_checked: int = 0
    prefill_wrong: int = 0
    note: str = ""

    def answers(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for page in self.path:
            merged.update(self.posted[page])
        return merged


class Respondent:
    def __init__(self, ident: int, plan: Plan, records: list) -> None:
        self.ident, self.plan = ident, plan
        self.rng = random.Random(plan.seed * 100_003 + ident)
        self.language = plan.languages[ident % len(plan.languages)]
        self.start_path = f"/{self.language}/s/{plan.questionnaire}"

        def record(started: float, ended: float, method: str, status: int, error: str) -> None:
            records.append((ident, started, ended, method, status, error))

        self.browser = Browser(plan.host, plan.port, plan, self.rng, record, self.language)
        #: What this person learnt of number bounds from error messages, by field name.
        self.bounds: dict[str, tuple[int, int]] = {}

    def run(self) -> list[Walk]:
        walks: list[Walk] = []
        action = ("GET", self.start_path, None)
        while time.monotonic() < self.plan.deadline:
            walk = Walk(self.ident, self.language)
            walks.append(walk)
            action = self.walk(walk, action)
        return walks

    def _think(self) -> None:
        if self.plan.think > 0:
            time.sleep(self.rng.expovariate(1 / self.plan.think))

    def walk(self, walk: Walk, action: tuple) -> tuple:
        """Walk until the done page; returns the first action of the next walk."""
        reply = self.browser.send(*action)
        last: dict | None = None
        while reply is not None:
            # What the last answer says is noted even past the deadline: a response the server
            # made or completed is then known to its walk.
            page = reply.page()
            if page.resume_code:
                if walk.resume_code and page.resume_code != walk.resume_code:
                    walk.code_changes += 1
                walk.resume_code = page.resume_code
            form = page.post_form()
            target = urlsplit(urljoin(reply.path, form.action if form else "")).path
            if reply.status == 200 and urlsplit(reply.path).path.endswith("/done"):
                walk.outcome = "complete"
                # The done page's button for the next person, when it has one.
                if form is not None and form.has_hidden("new") and form.buttons:
                    return ("POST", target, form.body({}, form.buttons[0]))
                return ("GET", self.start_path, None)
            if time.monotonic() >= self.plan.deadline:
                break
            if form is not None and (form.controls or target != self.start_path):
                if walk.refused > 20:
                    walk.outcome, walk.note = "stuck", f"refused again and again at {reply.path}"
                    break
                reply, last = self._answer(walk, reply, page, form, target, last)
                continue
            if form is not None and reply.status == 200 and not walk.pages_sent:
                # The start page: a new response rather than continuing an old one.
                button = next((b for b in form.buttons if b.name == "new"), None)
                button = button or (form.buttons[0] if form.buttons else None)
                reply = self.browser.send("POST", target, form.body({}, button))
                continue
            walk.outcome = "sent_to_start" if target == self.start_path else "stuck"
            walk.note = f"{reply.status} {reply.path}: {page.heading}"
            return ("GET", self.start_path, None)
        return ("GET", self.start_path, None)

    def _answer(self, walk: Walk, reply: Reply, page: Page, form: Form, target: str, last):
        shown = form.shown_values()
        if reply.status == 200 and target in walk.posted:
            # A page seen again (after Back) shows what was stored for it, nobody else's. Only
            # the questions it asks now: earlier pages answered anew may hide some.
            walk.prefill_checked += 1
            before = {k: v for k, v in walk.posted[target].items() if k in form.controls}
            if stored_form(shown) != before:
                walk.prefill_wrong += 1
                walk.note = f"{target} shown with other answers"
        back = form.button("back")
        forward = next((b for b in form.buttons if b is not back), None)
        button = forward
        if reply.status == 400 and last is not None and last["target"] == target:
            walk.refused += 1
            values = self._repaired(form, last["values"], page.errors)
        elif back is not None and self.rng.random() < self.plan.back_rate:
            # Back without touching the page: what is stored for it stays as it was.
            values, button = shown, back
            walk.backs += 1
        else:
            values = {name: self._answer_for(c) for name, c in form.controls.items()}
            choices = [c for c in form.controls.values() if c.kind in ("radio", "checkbox")]
            if choices and self.rng.random() < self.plan.slip_rate:
                skipped = self.rng.choice(choices)
                values[skipped.name] = [] if skipped.kind == "checkbox" else ""
        self._think()
        result = self.browser.send("POST", target, form.body(values, button))
        walk.pages_sent += 1
        if result is not None and result.accepted:
            walk.posted[target] = stored_form(values)
            if button is not back:
                if target in walk.path:
                    del walk.path[walk.path.index(target) :]
                walk.path.append(target)
        return result, {"target": target, "values": values}

    def _answer_for(self, control: Control) -> str | list[str]:
        rng = self.rng
        if control.kind == "radio":
            return rng.choice(control.options)
        if control.kind == "checkbox":
            chosen = set(rng.sample(control.options, rng.randint(1, min(3, len(control.options)))))
            return [option for option in control.options if option in chosen]
        if control.kind == "select":
            choices = [option for option in control.options if option]
            return rng.choice(choices) if choices else ""
        if control.kind == "number":
            return str(rng.randint(*self.bounds.get(control.name, (1, 10))))
        if rng.random() < 0.3:
            return ""  # optional text is often left empty
        limit = control.max_length or 200
        if control.kind == "textarea":
            lines = [" ".join(rng.sample(WORDS, 4)) for _ in range(rng.randint(1, 3))]
            return "\r\n".join(lines)[:limit].strip()
        return " ".join(rng.sample(WORDS, rng.randint(1, 5)))[:limit].strip()

    def _repaired(self, form: Form, values: dict, errors: dict[str, str]) -> dict:
        """The answers sent again after the page came back with errors: those in error changed,
        as a person reads the message and corrects them."""
        repaired = {name: values.get(name, "") for name in form.controls}
        for name, message in errors.items():
            control = form.controls.get(name)
            if control is None:
                continue
            if control.kind == "checkbox":
                repaired[name] = [self.rng.choice(control.options)]
            elif control.kind == "number":
                self._learn_bounds(name, str(values.get(name, "")), message)
                repaired[name] = self._answer_for(control)
            elif control.kind in ("text", "textarea"):
                repaired[name] = ""
            else:
                repaired[name] = self._answer_for(control)
        return repaired

    def _learn_bounds(self, name: str, sent: str, message: str) -> None:
        # The message names the bound in either language ("at least 1", "ít nhất 1").
        numbers = [int(n) for n in re.findall(r"\d+", message.replace(".", "").replace(",", ""))]
        low, high = self.bounds.get(name, (1, 10))
        if numbers and sent.lstrip("+-").isdigit():
            bound, value = numbers[0], int(sent)
            if value < bound:
                low, high = bound, max(high, bound)
            elif value > bound:
                low, high = min(low, bound), bound
        else:
            low, high = 1, 1
        self.bounds[name] = (low, high)


def run_clients(plan: Plan, first: int, count: int) -> tuple[list, list[Walk]]:
    """`count` respondents on threads of this process, from `plan.start` to `plan.deadline`.

    Returns every request as (client, started, ended, method, status, error) (status 0 and the
    exception's name when no answer came) and every walk."""
    records: list = []
    walks: list[Walk] = []
    lock = threading.Lock()

    def respondent(ident: int) -> None:
        own: list = []
        done = Respondent(ident, plan, own).run()
        with lock:
            records.extend(own)
            walks.extend(done)

    threads = [threading.Thread(target=respondent, args=(first + i,)) for i in range(count)]
    time.sleep(max(0.0, plan.start - time.monotonic()))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records, walks
