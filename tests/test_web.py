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


def test_a_nul_byte_or_an_id_past_the_database_is_refused_not_a_server_error(client, auth):
    refused = client.get("/en/s/citizen%00")
    assert refused.status_code == 400
    assert "The request could not be understood" in refused.get_data(as_text=True)
    assert client.get("/en/s/citizen?x=%00").status_code == 400
    assert client.post("/en/admin/login", data={"email": "a\x00b"}).status_code == 400
    auth.login("statistician")
    assert client.get("/en/stats/runs/99999999999999999999").status_code == 404
    assert client.get("/en/stats/runs/2147483648").status_code == 404


def test_a_server_error_gets_the_sites_own_page_in_its_language(database_url):
    from app_support import make_app

    app = make_app(database_url, TESTING=False)

    @app.get("/vi/broken")
    def broken():
        raise RuntimeError("a fault of the program")

    response = app.test_client().get("/vi/broken")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Hệ thống gặp sự cố" in page and "a fault of the program" not in page


def test_strict_transport_security_is_sent_only_when_set(database_url):
    from app_support import make_app

    plain = make_app(database_url).test_client().get("/en/")
    assert "Strict-Transport-Security" not in plain.headers
    secure = make_app(database_url, HSTS_SECONDS=31536000).test_client().get("/en/")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
