"""The service switcher narrows every section of the home page to the chosen service."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from involve.extensions import db
from involve.meetings.models import Action
from involve.people.models import Role, Service
from involve.permissions import load_actor
from tests.conftest import login
from tests.factories import make_person, make_service, make_strangers


def _overdue(service, owner, text):
    db.session.add(Action(organisation_id=owner.organisation_id, service_id=service.id,
                           you_said="People said", we_will=text,
                          owner_id=owner.id, due_on=date.today() - timedelta(days=3)))


def test_narrowed_actor_keeps_only_what_covers_the_service(app, world):
    person = make_person(world.org, "Org And Home", roles=[(Role.board, None),
                                                           (Role.manager, world.away)])
    actor = load_actor(person).narrowed_to(world.home.id)
    assert actor.has_role([Role.board], world.home.id)
    assert not actor.has_role([Role.board], world.away.id)
    assert not actor.has_role([Role.manager])
    assert actor.service_ids() == {world.home.id}


def test_home_sections_follow_the_chosen_service(app, client, world):
    manager = make_person(world.org, "Two Homes", roles=[(Role.manager, world.home),
                                                         (Role.manager, world.away)])
    owner = world.people["staff"]
    _overdue(world.home, owner, "Fix the Rose Court lift")
    _overdue(world.away, owner, "Repaint the Willow House lounge")
    db.session.commit()
    login(client, manager)
    both = client.get("/").text
    assert "Fix the Rose Court lift" in both and "Repaint the Willow House lounge" in both

    client.post("/switch-service", data={"service": str(world.away.id)})
    narrowed = client.get("/").text
    assert "Repaint the Willow House lounge" in narrowed
    assert "Fix the Rose Court lift" not in narrowed

    client.post("/switch-service", data={"service": ""})
    assert "Fix the Rose Court lift" in client.get("/").text


def test_organisation_wide_roles_pick_a_service_by_search_not_from_every_service(
        app, client, world):
    for n in range(30):
        make_service(world.org, f"Cedar Lodge {n:02}")
    admin = make_person(world.org, "Whole Organisation", roles=[(Role.admin, None)])
    db.session.commit()
    login(client, admin)
    home = client.get("/").text
    assert "Cedar Lodge" not in home and "/switch-service" in home

    picker = client.get("/switch-service").text
    assert picker.count("Cedar Lodge") == 25 and "Next page" in picker  # a page at a time
    found = client.get("/switch-service?q=lodge 29").text
    assert "Cedar Lodge 29" in found and "Rose Court" not in found

    lodge = db.session.scalar(select(Service).where(Service.name == "Cedar Lodge 29"))
    client.post("/switch-service", data={"service": str(lodge.id)})
    assert "You are looking at <strong>Cedar Lodge 29</strong>" in client.get("/").text


def test_a_service_outside_ones_own_cannot_be_chosen(app, client, world):
    strangers = make_strangers(world)
    elsewhere = db.session.scalar(select(Service).where(
        Service.organisation_id == strangers["admin"].organisation_id))
    admin = make_person(world.org, "Whole Organisation", roles=[(Role.admin, None)])
    db.session.commit()
    for person, service in ((admin, elsewhere.id), (world.people["manager"], world.away.id),
                            (admin, "9" * 40)):
        login(client, person)
        client.post("/switch-service", data={"service": str(service)})
        assert "Choose one of your services." in client.get("/").text
        with client.session_transaction() as session:
            assert "current_service_id" not in session
