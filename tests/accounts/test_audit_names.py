"""The audit log reads in the reader's language: every action the code records has a name, and
details show as words and values (lists joined, yes/no, numbers in the locale), not as codes
and Python reprs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app_support import ROOT

from survey_app.accounts import audit
from survey_app.accounts.audit_names import ACTIONS, DETAILS
from survey_app.extensions import db


def recorded() -> tuple[set[str], set[str]]:
    """Every action code `audit.record` is called with in survey_app (constants, both sides
    of a conditional, and `_audit_export("what", ...)` as `export_what`), and the detail keys
    written out at those calls."""
    found, keys = set(), set()
    for path in Path(ROOT, "survey_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name == "record" and len(node.args) >= 2:
                argument = node.args[1]
                options = (
                    [argument.body, argument.orelse]
                    if isinstance(argument, ast.IfExp)
                    else [argument]
                )
                found |= {o.value for o in options if isinstance(o, ast.Constant)}
                if len(node.args) >= 3 and isinstance(node.args[2], ast.Dict):
                    keys |= {k.value for k in node.args[2].keys if isinstance(k, ast.Constant)}
            elif name == "_audit_export" and node.args and isinstance(node.args[0], ast.Constant):
                found.add("export_" + node.args[0].value)
                keys |= {k.arg for k in node.keywords if k.arg}
    return found, keys


def test_every_recorded_action_and_detail_has_a_name():
    actions, keys = recorded()
    assert {"login", "quota_imported", "identity_erased", "export_responses"} <= actions
    assert sorted(actions - set(ACTIONS)) == []
    assert {"cells", "file", "questionnaire"} <= keys
    assert sorted(keys - set(DETAILS)) == []


def test_the_audit_page_names_actions_and_details_in_each_language(app, client, auth):
    auth.ensure_user("admin")
    with app.app_context(), db.transaction() as tx:
        audit.record(
            tx,
            "wave_saved",
            {"wave": "w1", "questionnaires": ["citizen", "leader"], "status": "open"},
        )
        audit.record(tx, "export_invitees", {"count": 12345, "personal_data": True})
        audit.record(tx, "identity_erased", {"invitee": 7, "reason": "request"})
    auth.login("admin")
    pages = {
        lang: client.get(f"/{lang}/admin/audit").get_data(as_text=True) for lang in ("en", "vi")
    }
    english, vietnamese = pages["en"], pages["vi"]
    assert "Wave saved" in english and "Invitee list exported" in english
    assert "questionnaires: citizen, leader" in english
    assert "count: 12,345" in english and "personal data: yes" in english
    assert "reason: the person&#39;s request" in english
    assert "Đã lưu đợt khảo sát" in vietnamese
    assert "số lượng: 12.345" in vietnamese
    for page in pages.values():
        cells = re.findall(r"<td>(.*?)</td>", page, re.S)
        text = " ".join(cells)
        assert "['citizen'" not in text and "True" not in text
        assert not re.search(r">\s*(wave_saved|export_invitees|identity_erased)\s*<", page)
