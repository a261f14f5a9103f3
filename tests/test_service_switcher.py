"""The service switcher narrows every section of the home page to the chosen service."""

from __future__ import annotations

from datetime import date, timedelta

from involve.extensions import db
from involve.meetings.models import Action
from involve.people.demo import bulk_insert
from involve.people.models import Role, Service, ServiceKind
from involve.permissions import load_actor
from tests.conftest import login
from tests.factories import make_org, make_person, make_service


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


def _many_services(org, count: int) -> list[int]:
    """``count`` more services for ``org``, written in bulk as ``flask demo --scale`` does."""
    return bulk_insert(Service, [{"organisation_id": org.id, "name": f"Extra Home {n:02d}",
                                  "slug": f"extra-home-{org.id}-{n}",
                                  "kind": ServiceKind.care_home} for n in range(count)])


def test_many_services_are_chosen_from_a_paged_search_not_a_list(app, client, world):
    ids = _many_services(world.org, 30)
    strangers = make_org("Another Trust")
    elsewhere = make_service(strangers, "Extra Home Elsewhere")
    board = make_person(world.org, "Org Board", roles=[(Role.board, None)])
    db.session.commit()
    login(client, board)

    home = client.get("/").text
    assert "<select" not in home and "Extra Home" not in home  # not one option per service
    assert 'href="/switch-service"' in home and "all your services" in home

    first = client.get("/switch-service").text
    assert first.count("Show Extra Home") == 25 and "Page 1 of 2" in first
    assert "Extra Home 29" not in first and "Elsewhere" not in first
    assert "Show Extra Home 29" in client.get("/switch-service?page=2").text
    found = client.get("/switch-service?q=home 07").text
    assert found.count("Show Extra Home") == 1 and "Show Extra Home 07" in found
    assert "Show Extra Home" not in client.get("/switch-service?q=Elsewhere").text

    client.post("/switch-service", data={"service": str(ids[29])})
    assert "You are looking at <strong>Extra Home 29</strong>" in client.get("/").text
    refused = client.post("/switch-service", data={"service": str(elsewhere.id)},
                          follow_redirects=True).text
    assert "Choose one of your services." in refused
    assert "You are looking at <strong>Extra Home 29</strong>" in client.get("/").text
    client.post("/switch-service", data={"service": ""})
    assert "You are looking at all your services" in client.get("/").text


def test_a_few_services_keep_the_list(app, client, world):
    manager = make_person(world.org, "Two Homes", roles=[(Role.manager, world.home),
                                                         (Role.manager, world.away)])
    db.session.commit()
    login(client, manager)
    home = client.get("/").text
    assert "<select" in home and "Willow House</option>" in home
    assert 'href="/switch-service"' not in home


def test_services_list_is_paged_and_searchable(app, client, world):
    _many_services(world.org, 30)
    make_service(make_org("Another Trust"), "Extra Home Elsewhere")
    admin = make_person(world.org, "Org Admin", roles=[(Role.admin, None)])
    db.session.commit()
    login(client, admin)
    first = client.get("/services").text
    assert "32 services" in first and "Page 1 of 2" in first
    assert first.count('<li class="card">') == 25 and "Elsewhere" not in first
    second = client.get("/services?page=2").text
    assert second.count('<li class="card">') == 7 and "Willow House" in second
    found = client.get("/services?q=rose").text
    assert "1 service match" in found and "Rose Court" in found and "Extra Home" not in found
