"""Routes outside any audience (survey_app/web.py): the health check, the language redirect."""

from __future__ import annotations


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_says_when_the_database_is_down(tmp_path):
    from app_support import make_app

    app = make_app("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_root_redirects_by_accept_language(client):
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.headers["Location"].endswith("/en/")
    vietnamese = client.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"})
    assert vietnamese.headers["Location"].endswith("/vi/")
    other = client.get("/", headers={"Accept-Language": "fr-FR"})
    assert other.headers["Location"].endswith("/vi/")
    assert client.get("/de/").status_code == 404
