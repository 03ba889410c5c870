"""Starting a survey makes no row until a page is saved, and one client address may start only
so many in a while (START_RATE_LIMIT), on the open link and on a personal one alike."""

from __future__ import annotations

import pytest
from app_support import make_app
from html_client import csrf_token, path_of
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response


def response_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Response.id)))


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def press_start(client, path: str):
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200, page.status_code
    return client.post(
        page.request.path, data={"csrf_token": csrf_token(page.get_data(as_text=True))}
    )


@pytest.fixture
def limited_app(database_url, app):
    """A window of a day, so that none passes while the test runs (`app` empties the database)."""
    return make_app(database_url, START_RATE_LIMIT="3 per day")


def test_a_double_click_on_start_leaves_no_orphan_response(app, client):
    first = press_start(client, "/en/s/citizen")
    second = press_start(client, "/en/s/citizen")
    assert first.status_code == second.status_code == 302
    assert response_count(app) == 0, "pressing Start stores nothing by itself"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_starts_past_the_limit_get_a_translated_429_and_store_nothing(limited_app, lang):
    client = from_address(limited_app, "198.51.100.7")
    statuses = [press_start(client, f"/{lang}/s/citizen").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    refused = press_start(client, f"/{lang}/s/citizen")
    html = refused.get_data(as_text=True)
    heading = {"vi": "Quá nhiều yêu cầu", "en": "Too many requests"}[lang]
    assert refused.status_code == 429
    assert heading in html
    assert f'lang="{lang}"' in html
    assert response_count(limited_app) == 0
    # Reading the pages is not limited, and another address starts as before.
    assert client.get(f"/{lang}/s/citizen").status_code == 200
    other = from_address(limited_app, "198.51.100.8")
    assert press_start(other, f"/{lang}/s/citizen").status_code == 302


def test_a_personal_link_is_limited_too(limited_app):
    runner = limited_app.test_cli_runner()
    result = runner.invoke(
        args=["invitations", "issue", "--questionnaire", "leader", "--count", "1"]
    )
    assert result.exit_code == 0, result.output
    link = path_of(result.output.strip())
    client = from_address(limited_app, "198.51.100.9")
    statuses = [press_start(client, link).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
