"""Permission matrix for the people and administration endpoints."""

import pytest

from tests.permission_matrix import EVERYONE, Case, check_case

CASES = [
    Case("people.home", lambda w, c: "/", EVERYONE, away="allow"),
    Case("people.people_list", lambda w, c: "/people", {"admin", "manager"}, away="allow"),
    Case("people.person", lambda w, c: f"/people/{w.people['service_user'].id}",
         {"admin", "manager"}),
    Case("people.services", lambda w, c: "/services", {"admin"}, away="allow"),
    Case("people.audit_log", lambda w, c: "/audit", {"admin"}, away="allow"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)
