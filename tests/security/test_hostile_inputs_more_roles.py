"""The hostile-value walk of test_hostile_inputs.py, as the roles that file leaves: every role
the schema knows from FIRST_ROLES on, so a role added later is walked too."""

from __future__ import annotations

import pytest
from test_hostile_inputs import FIRST_ROLES, walk_as

from survey_app.models.people import ROLES


@pytest.mark.parametrize("who", ROLES[FIRST_ROLES:])
def test_no_hostile_value_anywhere_gives_a_server_error(app, client, auth, who, database_url):
    assert walk_as(app, client, auth, who, database_url) == []
