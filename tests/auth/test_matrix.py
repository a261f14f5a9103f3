"""Permission matrix for auth endpoints."""

import pytest

from tests.permission_matrix import ANONYMOUS, EVERYONE, Case, check_case

ALL = EVERYONE | {ANONYMOUS}

CASES = [
    Case("auth.sign_in", lambda w, c: "/sign-in", ALL),
    Case("auth.sign_out", lambda w, c: "/sign-out", EVERYONE, method="POST", away="allow"),
    Case("auth.sign_out_everywhere", lambda w, c: "/sign-out-everywhere", EVERYONE,
         method="POST", away="allow"),
    Case("auth.accept_link", lambda w, c: "/invitation/not-a-token", ALL, deny=400),
    Case("auth.accept_code", lambda w, c: "/invitation", ALL),
    Case("auth.accept_card", lambda w, c: "/invitation/set-password", ALL),
    Case("auth.reset_request", lambda w, c: "/reset-password", ALL),
    Case("auth.reset", lambda w, c: "/reset-password/bad", ALL, deny=400),
    Case("auth.display", lambda w, c: "/display", ALL),
    # Not an auth page, but public like these: the load balancers' health check.
    Case("healthz", lambda w, c: "/healthz", ALL),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)
