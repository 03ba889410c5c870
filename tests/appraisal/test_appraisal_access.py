"""Every route walked as a unit officer and as an appraiser: each reaches only the parts its role
may (the walk of tests/accounts/test_access.py, for the appraisal roles)."""

from __future__ import annotations

import pytest
from accounts.test_access import protected_rules, sample_url
from appraisal_support import add_evidence, make_units, open_round, scope
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


def test_the_walk_with_real_ids_for_an_appraiser_of_a_set(app, client, auth):
    """Every appraisal route that names a unit or an evidence, for every unit of two blocks in
    their own round and in the other block's: an appraiser of D1 and X1 reaches those two units
    and no other (another unit's page 403, its evidence 404, a unit outside the round's block
    404); every round route of the two rounds, only what needs a whole block refused."""
    departments = make_units(app)
    districts = make_units(app, block="districts", units={"X1": "District 1", "X2": "District 2"})
    everyone = {**departments, **districts}
    for code, unit_id in everyone.items():
        auth.ensure_user("officer", f"{code.lower()}@example.vn")
        scope(app, f"{code.lower()}@example.vn", unit_id=unit_id)
    auth.ensure_user("appraiser", "member@example.vn")
    scope(app, "member@example.vn", units=(departments["D1"], districts["X1"]))
    rounds = {
        "departments": open_round(client, auth),
        "districts": open_round(
            client, auth, scheme="districts_appraisal_example.yaml", block="districts"
        ),
    }
    block_of = {code: "districts" if code.startswith("X") else "departments" for code in everyone}
    evidence = {
        code: add_evidence(client, auth, app, f"{code.lower()}@example.vn", rounds[block_of[code]])
        for code in everyone
    }
    mine = {"D1", "X1"}

    auth.login(email="member@example.vn")
    token = csrf_token(client.get("/en/appraisal/").get_data(as_text=True))
    walked = 0
    for rule in protected_rules(app):
        if not rule.endpoint.startswith("appraisal."):
            continue
        arguments = set(rule.arguments) - {"lang"}
        method = "GET" if "GET" in rule.methods else "POST"
        cases = []
        if arguments == {"evidence_id"}:
            for code, evidence_id in evidence.items():
                cases.append(({"evidence_id": evidence_id}, 200 if code in mine else 404))
        elif arguments == {"round_id", "unit_id"}:
            for block, round_id in rounds.items():
                for code, unit_id in everyone.items():
                    if block_of[code] != block:
                        expected = 404
                    else:
                        expected = "reached" if code in mine else 403
                    cases.append(({"round_id": round_id, "unit_id": unit_id}, expected))
        elif arguments == {"round_id"}:
            part = app.view_functions[rule.endpoint].required_part
            for round_id in rounds.values():
                if part in ("admin", "officer") or rule.endpoint in (
                    "appraisal.round_export",
                    "appraisal.round_finalise",
                ):
                    expected = 403  # an admin's, an officer's, or a whole block's
                else:
                    expected = "reached"
                cases.append(({"round_id": round_id}, expected))
        for values, expected in cases:
            url = rule.rule.replace("<lang>", "en")
            for key, value in values.items():
                url = url.replace(f"<int:{key}>", str(value))
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            if expected == "reached":
                assert response.status_code not in (401, 403, 404), (url, response.status_code)
            else:
                assert response.status_code == expected, (url, response.status_code)
            walked += 1
    # evidence 5 + 3 unit routes x 2 rounds x 5 units + the round routes of two rounds
    assert walked >= 5 + 30 + 2 * 8
