"""Recording ambassador feedback: the services and (for staff) the ambassadors are the first
few and a search, in one statement each whatever their number, never another
organisation's; someone not offered is never recorded as the ambassador."""

from __future__ import annotations

from sqlalchemy import select

from involve.extensions import db
from involve.feedback.models import AmbassadorFeedback
from involve.people.models import Role
from involve.pickers import PICKER_SIZE
from tests.conftest import count_queries, login
from tests.factories import make_ambassador, make_person, make_service, make_strangers
from tests.feedback.helpers import theme


def _options(page: str, field: str) -> str:
    part = page[page.index(f'id="{field}"'):]
    return part[:part.index("</select>")]


def test_staff_find_the_service_and_the_ambassador_by_name(client, world):
    services = [make_service(world.org, f"Quay House {n:02}") for n in range(PICKER_SIZE + 5)]
    ambassadors = []
    for n, service in enumerate(services):
        person = make_person(world.org, f"Quinn Ambassador {n:02}",
                             roles=[(Role.service_user, service)])
        make_ambassador(person, service)
        ambassadors.append(person)
    staff = make_person(world.org, "Wide Staff", roles=[(Role.staff, None)])
    strangers = make_strangers(world)
    food = theme(world, "Food")
    db.session.commit()
    login(client, staff)
    client.get("/feedback/ambassador/new")
    with count_queries() as few:
        page = client.get("/feedback/ambassador/new").text
    assert _options(page, "service_id").count("<option") == PICKER_SIZE
    assert _options(page, "ambassador_id").count("<option") == PICKER_SIZE
    found = client.get("/feedback/ambassador/new?service_q=house 24&person_q=ambassador 24").text
    assert f'value="{services[24].id}">Quay House 24' in _options(found, "service_id")
    assert f'value="{ambassadors[24].id}">Quinn Ambassador 24' in _options(found,
                                                                          "ambassador_id")
    elsewhere = client.get("/feedback/ambassador/new?service_q=else&person_q=else").text
    assert "Elsewhere" not in elsewhere
    data = {"service_id": services[24].id, "theme_id": food.id, "kind": "suggestion",
            "what_was_said": "A bench by the door.", "people_count": "3"}
    # Another organisation's ambassador is never the one recorded (staff who are not
    # ambassadors themselves are refused, and nothing is saved).
    client.post("/feedback/ambassador/new",
                data={**data, "ambassador_id": strangers["service_user"].id})
    assert db.session.scalars(select(AmbassadorFeedback.ambassador_id)).all() == []
    client.post("/feedback/ambassador/new", data={**data, "ambassador_id": ambassadors[24].id})
    assert db.session.scalars(select(AmbassadorFeedback.ambassador_id)).all() == [
        ambassadors[24].id]
    # As many statements as with a handful of services (one per service before).
    assert few.count < 15


def test_an_organisation_wide_ambassador_finds_the_service_people_spoke_about(client, world):
    from involve.feedback import services as feedback

    services = [make_service(world.org, f"Quay House {n:02}") for n in range(PICKER_SIZE + 5)]
    wide = make_person(world.org, "Wide Ambassador", roles=[(Role.service_user, world.home)])
    make_ambassador(wide, None)
    make_strangers(world)
    briefing = feedback.post_briefing(org=world.org, service=None, title="Visiting",
                                      body="Times change.", by=world.people["board"])
    db.session.commit()
    login(client, wide)
    url = f"/feedback/briefings/{briefing.id}/said-back"
    assert _options(client.get(url).text, "service_id").count("<option") == PICKER_SIZE
    found = client.get(f"{url}?service_q=house 24").text
    assert f'value="{services[24].id}">Quay House 24' in _options(found, "service_id")
    assert "Elsewhere" not in _options(client.get(f"{url}?service_q=else").text, "service_id")
