"""Forms that start something for a service (an election, a series of meetings, a briefing, a
newsletter issue) offer the first few services and a search, never another organisation's,
and take a service found by the search."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from involve.elections.models import Election
from involve.extensions import db
from involve.feedback.models import Briefing
from involve.meetings.models import MeetingSeries
from involve.newsletters.models import Issue
from involve.people.models import Role, RoleGrant
from involve.pickers import PICKER_SIZE
from tests.conftest import login
from tests.factories import make_person, make_service, make_strangers

FORMS = {  # address: (the field, who opens it, what it makes, the rest of a good form)
    "/elections/new": ("service_id", Role.admin, Election, {
        "title": "Spring ambassadors", "seats": 1, "term_months": 12, "method": "block"}),
    "/meetings/series/new": ("scope", Role.admin, MeetingSeries, {
        "name": "Residents' meeting", "kind": "residents", "invited_roles": ["staff"],
        "default_room": "Lounge"}),
    "/feedback/briefings/new": ("service_id", Role.board, Briefing, {
        "title": "Visiting times", "body": "From 10am."}),
    "/newsletters/new": ("scope", Role.admin, Issue, {
        "title": "Summer", "summary": "Our news", "audiences": ["families"], "body": "Hello"}),
}


def _options(page: str, field: str) -> str:
    part = page[page.index(f'id="{field}"'):]
    return part[:part.index("</select>")]


@pytest.mark.parametrize("address", FORMS)
def test_a_few_services_a_search_and_never_another_organisations(client, world, address):
    field, role, model, good = FORMS[address]
    made = [make_service(world.org, f"Xeno House {n:02}") for n in range(PICKER_SIZE + 5)]
    wide = make_person(world.org, "Wide Person", roles=[(role, None)])
    strangers = make_strangers(world)
    lodge = db.session.scalar(select(RoleGrant.service_id).where(
        RoleGrant.person_id == strangers["staff"].id))
    db.session.commit()
    login(client, wide)
    options = _options(client.get(address).text, field)
    assert options.count("<option") == PICKER_SIZE + 1  # and the whole organisation
    assert "Xeno House 24" not in options
    found = client.get(f"{address}?service_q=house 24").text
    assert f'value="{made[24].id}">Xeno House 24' in _options(found, field)
    assert 'label for="service_q">Find a service' in found
    assert "Elsewhere" not in _options(client.get(f"{address}?service_q=else").text, field)
    count = db.session.scalar(select(func.count()).select_from(model))
    for service in (lodge, 2**31, "nonsense"):
        response = client.post(address, data={**good, field: str(service)})
        assert response.status_code == 200, service
        assert "choice" in response.text.lower() or "Choose" in response.text, service
    assert db.session.scalar(select(func.count()).select_from(model)) == count
    response = client.post(address, data={**good, field: str(made[24].id)})
    assert response.status_code == 302
    assert db.session.scalar(select(model.service_id).order_by(model.id.desc()).limit(1)) \
        == made[24].id
