"""Forms that put someone in a service offer a few services at a time, found by a search,
and take only a service the actor may give roles in."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.extensions import db
from involve.people.models import Person, Role, RoleGrant
from involve.pickers import PICKER_SIZE
from tests.conftest import login
from tests.factories import make_person, make_service, make_strangers


def _many_services(world, n: int = PICKER_SIZE + 5) -> list:
    return [make_service(world.org, f"Zeta House {number:02}") for number in range(n)]


def test_add_person_offers_a_page_of_services_and_finds_the_rest(client, world):
    extra = _many_services(world)
    admin = make_person(world.org, "Wide Admin", roles=[(Role.admin, None)])
    db.session.commit()
    login(client, admin)
    page = client.get("/people/new").text
    services = page[page.index('id="service"'):]
    services = services[:services.index("</select>")]
    assert services.count("<option") == PICKER_SIZE + 1  # and "whole organisation"
    assert "Zeta House 24" not in page
    assert 'label for="service_q">Find a service' in page
    found = client.get("/people/new?service_q=house 24").text
    assert f'value="{extra[24].id}">Zeta House 24' in found and "Zeta House 23" not in found
    # A service the first page does not offer is still taken when it is sent.
    response = client.post("/people/new", data={"full_name": "Norah Far", "role": "staff",
                                                "service": str(extra[24].id)},
                           follow_redirects=True)
    assert "Norah Far has been added." in response.text
    norah = db.session.scalar(select(Person).where(Person.full_name == "Norah Far"))
    assert [g.service_id for g in norah.grants] == [extra[24].id]


def test_the_search_never_offers_a_service_outside_the_actors_scope(client, world):
    _many_services(world)
    strangers = make_strangers(world)
    db.session.commit()
    login(client, world.people["manager"])  # manages Rose Court only
    page = client.get("/people/new?service_q=zeta").text
    assert "Zeta House" not in page
    assert "Rose Court" in client.get("/people/new?service_q=rose").text
    login(client, strangers["admin"])  # another organisation's admin, organisation-wide
    page = client.get("/people/new?service_q=e").text
    assert "Zeta House" not in page and "Rose Court" not in page and "Willow" not in page


def test_a_service_not_offered_is_refused_and_nothing_changes(client, world):
    strangers = make_strangers(world)
    lodge = db.session.scalar(select(RoleGrant.service_id).where(
        RoleGrant.person_id == strangers["staff"].id))
    login(client, world.people["manager"])
    before = db.session.scalar(select(func.count(Person.id)))
    for service in (world.away.id, lodge, "2147483648", "nonsense", "\u00b2"):
        response = client.post("/people/new", data={"full_name": "Sneaky", "role": "staff",
                                                    "service": str(service)})
        assert response.status_code == 200, service
        assert "Choose one of the options in the list." in response.text, service
        response = client.post(f"/people/{world.people['service_user'].id}/roles",
                               data={"role": "staff", "service": str(service)},
                               follow_redirects=True)
        assert "Choose one of your services" in response.text, service
    assert db.session.scalar(select(func.count(Person.id))) == before
    assert not db.session.scalar(select(RoleGrant.id).where(
        RoleGrant.person_id == world.people["service_user"].id, RoleGrant.role == Role.staff))
