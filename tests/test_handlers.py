"""handlers.wave_view: the role first, then the wave the URL names, then the questionnaire."""

from __future__ import annotations

import pytest

from survey_app.fieldwork.waves import all_waves
from survey_app.handlers import wave_view


@pytest.fixture
def wave_code(app):
    with app.app_context():
        from survey_app.extensions import db

        return all_waves(db.session)[0].code


def test_someone_logged_out_is_sent_to_log_in_before_anything_is_looked_up(client, wave_code):
    for path in (f"/en/stats/waves/{wave_code}", "/en/stats/waves/no-such-wave"):
        response = client.get(path)
        assert response.status_code == 302 and "/en/admin/login" in response.headers["Location"]


def test_a_role_without_access_is_refused_whether_the_wave_exists_or_not(client, auth, wave_code):
    auth.login("monitor")
    assert client.get(f"/en/stats/waves/{wave_code}").status_code == 403
    assert client.get("/en/stats/waves/no-such-wave").status_code == 403


def test_the_wave_and_the_questionnaire_must_exist_and_belong_together(client, auth, wave_code):
    auth.login("statistician")
    assert client.get(f"/en/stats/waves/{wave_code}").status_code == 200
    assert client.get("/en/stats/waves/no-such-wave").status_code == 404
    codebook = f"/en/stats/waves/{wave_code}/codebook/citizen.csv"
    assert client.get(codebook).status_code == 200
    assert client.get(codebook.replace("citizen", "nonesuch")).status_code == 404
    monitor = client.get(f"/en/admin/monitor/{wave_code}/nonesuch")
    assert monitor.status_code == 404


def test_the_view_receives_the_wave_and_keeps_the_role_for_the_route_walk():
    @wave_view("statistician", questionnaire=True)
    def view(wave, questionnaire):
        return wave, questionnaire

    assert view.required_part == "statistician"
