"""Searches match what was typed: ``%`` and ``_`` are letters like any other, not wildcards."""

from __future__ import annotations

from sqlalchemy import select

from involve import audit
from involve.extensions import db
from involve.people.models import Person, Role
from involve.people.queries import contains_text, people_query
from tests.conftest import login
from tests.factories import make_person

NAMES = ["Ann 100% Smith", "Ann 1000 Smith", "Bob_Jones", "Bobxjones", "Cy \\ Dee", "Cy x Dee"]


def _people(world):
    return {name: make_person(world.org, name, roles=[(Role.service_user, world.home)])
            for name in NAMES}


def _found(search: str) -> set[str]:
    from involve.people.models import Organisation

    people = set()
    for org_id in db.session.scalars(db.select(Organisation.id)):
        people |= {p.full_name for p in db.session.scalars(
            people_query(organisation_id=org_id, search=search))}
    return people & set(NAMES)


def test_percent_underscore_and_backslash_match_themselves(world):
    _people(world)
    assert _found("100%") == {"Ann 100% Smith"}
    assert _found("%") == {"Ann 100% Smith"}
    assert _found("b_j") == {"Bob_Jones"}
    assert _found("_") == {"Bob_Jones"}
    assert _found("y \\ d") == {"Cy \\ Dee"}
    assert _found("ann 10") == {"Ann 100% Smith", "Ann 1000 Smith"}  # still "contains"
    assert _found("BOB") == {"Bob_Jones", "Bobxjones"}  # and ignores case


def test_contains_text_works_on_any_column(world):
    _people(world)
    names = db.session.scalars(select(Person.full_name).where(
        contains_text(Person.full_name, "0%"))).all()
    assert names == ["Ann 100% Smith"]


def test_people_list_search_box(client, world):
    _people(world)
    login(client, world.people["manager"])
    page = client.get("/people", query_string={"q": "b_j"}).text
    assert "Bob_Jones" in page and "Bobxjones" not in page
    page = client.get("/people", query_string={"q": "%"}).text
    assert "Ann 100% Smith" in page and "Ann 1000 Smith" not in page


def test_audit_log_person_filter(client, world):
    people = _people(world)
    for name in ("Bob_Jones", "Bobxjones"):
        audit.record("person.edited", actor=world.people["admin"], subject=people[name],
                     obj=people[name])
    login(client, world.people["admin"])
    page = client.get("/audit", query_string={"person": "b_j"}).text
    assert "Bob_Jones" in page and "Bobxjones" not in page
