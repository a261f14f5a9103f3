"""The permission matrix: every role against every endpoint, in its own service, in another
service, and in another organisation (where every object answers 404, as if it did not exist).

Each domain lists its endpoints as :class:`Case` rows in ``tests/<domain>/test_matrix.py`` (a
module-level ``CASES`` list) and runs them with :func:`check_case`; ``tests/test_permissions.py``
fails for any endpoint that no domain lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from tests.conftest import login
from tests.factories import ROLE_NAMES, World, make_strangers

ANONYMOUS = "anonymous"
AMBASSADOR = "ambassador"
EVERYONE = {*ROLE_NAMES, AMBASSADOR}


@dataclass
class Case:
    """One endpoint's expectations.

    ``url`` builds the address from the world (and whatever ``setup`` returned) for objects in
    the home service. ``allow`` is the set of roles (plus "ambassador" and "anonymous") that may
    use it there. A role not allowed gets ``deny`` (403, or 404 where the page hides that the
    object exists); anonymous visitors are sent to sign in unless allowed. ``away`` is what a
    holder of the same role in the other service gets: "deny" (the same as a stranger), or
    "allow" for endpoints that are not about one service.
    """

    endpoint: str
    url: Callable[[World, Any], str]
    allow: set[str]
    method: str = "GET"
    data: dict[str, Any] | Callable[[World, Any], dict[str, Any]] | None = None
    setup: Callable[[World], Any] | None = None
    deny: int = 403
    away: str = "deny"
    id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _person(world: World, role: str, away: bool):
    if role == AMBASSADOR:
        return None if away else world.ambassador
    return (world.outsiders if away else world.people)[role]


def check_case(client_factory: Callable[[], Any], world: World, case: Case) -> None:
    """Ask the endpoint as every role at home and away, and as an anonymous visitor."""
    context = case.setup(world) if case.setup else None
    url = case.url(world, context)
    data = case.data(world, context) if callable(case.data) else case.data
    failures: list[str] = []

    def ask(who: str, person) -> int:
        client = client_factory()
        if person is not None:
            login(client, person)
        response = client.open(url, method=case.method, data=data or {})
        return response.status_code

    status = ask(ANONYMOUS, None)
    if ANONYMOUS in case.allow:
        if status in (401, 403, 404):
            failures.append(f"anonymous got {status}, expected allowed")
    elif status not in (302, 401, case.deny):
        failures.append(f"anonymous got {status}, expected a redirect to sign in")

    for role in sorted(EVERYONE):
        for away in (False, True):
            person = _person(world, role, away)
            if person is None:
                continue
            allowed = role in case.allow and (not away or case.away == "allow")
            if ANONYMOUS in case.allow:
                allowed = True
            status = ask(role, person)
            where = "away" if away else "home"
            if allowed and status in (403, 404):
                failures.append(f"{role} ({where}) got {status}, expected allowed")
            if not allowed and status != case.deny:
                failures.append(f"{role} ({where}) got {status}, expected {case.deny}")

    # Another organisation: holders of every role there (board, admin and partner for the
    # whole of it) never reach an object of this one.
    view = current_app.view_functions[case.endpoint]
    strangers = make_strangers(world)
    before = _row_counts()
    for role, person in sorted(strangers.items()):
        status = ask(role, person)
        if getattr(view, "loads_object", False) and status != 404:
            failures.append(f"{role} of another organisation got {status}, expected 404")
        elif status >= 500:
            failures.append(f"{role} of another organisation got {status}")
    if getattr(view, "loads_object", False) and _row_counts() != before:
        failures.append("another organisation's refused requests changed the database")
    assert not failures, f"{case.method} {url} ({case.endpoint}): " + "; ".join(failures)


def _row_counts() -> dict[str, int]:
    """How many rows each table holds (a refused request must change none). Sessions are left
    out: signing the strangers in makes them."""
    from sqlalchemy import func, select

    from involve.extensions import db

    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables if table.name != "user_session"}
