"""Every route walked as a unit officer and as an appraiser: each reaches only the parts its role
may (the walk of tests/accounts/test_access.py, for the appraisal roles)."""

from __future__ import annotations

import pytest
from accounts.test_access import protected_rules, sample_url
from appraisal_support import make_units, scope
from html_client import csrf_token

from survey_app.accounts.auth import ACCESS


@pytest.mark.parametrize("who", ["officer", "appraiser"])
def test_the_appraisal_roles_reach_only_what_they_may(app, client, auth, who):
    units = make_units(app)
    email = auth.ensure_user(who)
    scope(app, email, unit_id=units["D1"] if who == "officer" else None)
    auth.login(email=email)
    token = csrf_token(client.get("/en/admin/login").get_data(as_text=True))
    reached = refused = 0
    for rule in protected_rules(app):
        part = app.view_functions[rule.endpoint].required_part
        url = sample_url(rule)
        if "GET" in rule.methods:
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        if who in ACCESS[part]:
            assert response.status_code not in (401, 403), (url, response.status_code)
            reached += 1
        else:
            assert response.status_code == 403, (url, response.status_code)
            refused += 1
        if rule.endpoint == "admin.logout":
            auth.login(email=email)
            token = csrf_token(client.get("/en/admin/login").get_data(as_text=True))
    assert reached >= 4 and refused >= 20
