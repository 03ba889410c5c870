"""A criterion's own step and guidance from the scheme file, on the officer's and the appraiser's
pages (Flask test client, SQLite and PostgreSQL): the departments appraisal example gives 4.1 and
4.2 a step of 0.5; its other criteria move in the round's 0.25."""

from __future__ import annotations

from appraisal_support import BLOCK, make_units, open_round, scope
from html_client import csrf_token

from survey_app.appraisal.criteria import appraisal_criteria

SCHEME = "departments_appraisal_example.yaml"


def _data(app, token: str, points: dict[str, str], texts: dict[str, str] | None = None) -> dict:
    with app.app_context():
        codes = [c.code for c in appraisal_criteria(SCHEME)]
    data = {"csrf_token": token, "action": "draft"}
    for i, code in enumerate(codes):
        data[f"points_{i}"] = points.get(code, "")
        data[f"text_{i}"] = (texts or {}).get(code, "")
    return data


def test_the_officer_sees_the_guidance_and_the_step_is_the_criterions(app, client, auth):
    units = make_units(app)
    auth.ensure_user("officer", "o1@example.vn")
    scope(app, "o1@example.vn", unit_id=units["D1"])
    round_id = open_round(client, auth, scheme=SCHEME)
    url = f"/en/appraisal/rounds/{round_id}/unit"

    auth.login(email="o1@example.vn")
    text = client.get(url).get_data(as_text=True)
    assert "The council scores the number of recognised initiatives and their effect" in text
    assert "The document recognising each initiative or solution applied in the year" in text
    assert text.count("in steps of 0.5") == 2
    token = csrf_token(text)
    # 0.25 is a step of the round but not of 4.1
    refused = client.post(url, data=_data(app, token, {"4.1": "4.25"}))
    assert refused.status_code == 400
    assert "Criterion 4.1: 4.25 is not 0 to 5 in steps of 0.5" in refused.get_data(as_text=True)
    # criteria without a step of their own keep the round's
    saved = client.post(url, data=_data(app, token, {"1.2": "1.25", "4.1": "4.5", "4.2": "5"}))
    assert saved.status_code == 302, saved.get_data(as_text=True)

    vi = client.get(f"/vi/appraisal/rounds/{round_id}/unit").get_data(as_text=True)
    assert "Hội đồng cho điểm theo số sáng kiến được công nhận" in vi
    assert vi.count("0,5</span>") == 2  # the step in the reader's number style


def test_the_appraiser_is_held_to_the_criterions_step(app, client, auth):
    units = make_units(app)
    auth.ensure_user("appraiser", "council@example.vn")
    scope(app, "council@example.vn", block=BLOCK)
    round_id = open_round(client, auth, scheme=SCHEME)
    url = f"/en/appraisal/rounds/{round_id}/units/{units['D2']}"

    auth.login(email="council@example.vn")
    text = client.get(url).get_data(as_text=True)
    assert "0.5 less for each subordinate unit not yet reorganised as required" in text
    token = csrf_token(text)
    refused = client.post(url, data=_data(app, token, {"4.2": "2.75"}))
    assert refused.status_code == 400
    assert "Criterion 4.2: 2.75 is not 0 to 5 in steps of 0.5" in refused.get_data(as_text=True)
    points = {"4.2": "2.5", "1.2": "0.75"}
    saved = client.post(url, data=_data(app, token, points, {c: "minutes" for c in points}))
    assert saved.status_code == 302, saved.get_data(as_text=True)
