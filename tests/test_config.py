"""The settings (survey_app/config.py), the engine each app keeps (db.py), and the languages
listed once (analysis/languages.py)."""

from __future__ import annotations

import pytest
from app_support import make_app
from sqlalchemy import text

from analysis.languages import LANGUAGE_NAMES, LANGUAGES, _catalog_languages
from survey_app import create_app
from survey_app.config import SETTINGS, from_environment
from survey_app.extensions import db


def test_settings_come_from_the_environment_parsed_and_defaulted():
    config = from_environment(
        {"SESSION_COOKIE_SECURE": "0", "TIMEZONE": "Asia/Bangkok", "PUBLIC_URL": "https://x.vn"}
    )
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Bangkok"
    assert config["PUBLIC_URL"] == "https://x.vn"
    defaults = from_environment({})
    assert defaults["SESSION_COOKIE_SECURE"] is True
    assert defaults["BABEL_DEFAULT_TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert defaults["DATABASE_URL"] is None and defaults["PUBLIC_URL"] is None
    assert from_environment({"SESSION_COOKIE_SECURE": "yes"})["SESSION_COOKIE_SECURE"] is True
    assert len({s.variable for s in SETTINGS}) == len(SETTINGS)


def test_the_app_reads_the_environment_and_fills_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("TIMEZONE", "Asia/Bangkok")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"TESTING": True})
    try:
        assert app.config["DATABASE_URL"].endswith("env.db")
        assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Bangkok"
        assert app.config["SECRET_KEY"] == "from-the-environment"
        assert app.config["SESSION_COOKIE_SECURE"] is False  # the test client speaks HTTP
        assert app.config["RUN_QUEUE"] == "auto"
    finally:
        db.engine_of(app).dispose()
    # a mapping given to create_app wins over the environment
    app = create_app({"TESTING": True, "TIMEZONE": "x", "BABEL_DEFAULT_TIMEZONE": "Asia/Tokyo"})
    try:
        assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Asia/Tokyo"
    finally:
        db.engine_of(app).dispose()


def test_two_apps_in_one_process_keep_their_own_databases(tmp_path):
    first = make_app(f"sqlite:///{tmp_path / 'first.db'}")
    second = make_app(f"sqlite:///{tmp_path / 'second.db'}")
    for app, value in ((first, 1), (second, 2)):
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE marker (value INTEGER)"))
            conn.execute(text("INSERT INTO marker VALUES (:v)"), {"v": value})
    # the first app still talks to its own file after the second was made
    for app, value in ((first, 1), (second, 2)):
        with app.app_context():
            assert db.session.execute(text("SELECT value FROM marker")).scalar_one() == value
            assert db.engine is db.engine_of(app)
    assert db.engine_of(first) is not db.engine_of(second)


def test_the_languages_are_the_catalogs_vietnamese_first(tmp_path):
    assert LANGUAGES == ("vi", "en")
    assert LANGUAGE_NAMES == {"vi": "Tiếng Việt", "en": "English"}
    for lang in ("en", "km", "vi"):
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / lang / "LC_MESSAGES" / "messages.po").write_text("")
    assert _catalog_languages(tmp_path) == ("vi", "en", "km")
    # a copy installed without its translations still speaks the default and English
    assert _catalog_languages(tmp_path / "none") == ("vi", "en")


def test_wave_titles_are_asked_in_every_language_named_in_the_readers_own(app, client, auth):
    auth.login("admin")
    english = client.get("/en/admin/waves/new").get_data(as_text=True)
    assert "Title in Vietnamese" in english and "Title in English" in english
    vietnamese = client.get("/vi/admin/waves/new").get_data(as_text=True)
    assert "Tiêu đề bằng Tiếng Việt" in vietnamese and "Tiêu đề bằng Tiếng Anh" in vietnamese
    for lang in LANGUAGES:
        assert f'name="title_{lang}"' in english


@pytest.mark.postgresql_only
def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler(database_url):
    """`?prepare_threshold=none` in DATABASE_URL (PgBouncer in transaction mode before 1.21):
    psycopg prepares nothing, libpq never sees the option, and the queue's workers neither."""
    from survey_app.db import make_engine
    from survey_app.stats.queue import conninfo

    url = f"{database_url}?prepare_threshold=none"
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold is None
            for _ in range(8):  # past psycopg's default threshold of 5
                assert conn.execute(text("SELECT 1")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0
    finally:
        engine.dispose()
    app = make_app(url)
    assert "prepare_threshold" not in conninfo(app)


def test_the_job_queue_is_refused_on_sqlite_at_start_up(tmp_path):
    with pytest.raises(
        ValueError, match="RUN_QUEUE=procrastinate needs DATABASE_URL on PostgreSQL"
    ):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}", "RUN_QUEUE": "procrastinate"})
    with pytest.raises(ValueError, match="RUN_QUEUE must be auto, procrastinate or in-process"):
        from_environment({"RUN_QUEUE": "celery"})
