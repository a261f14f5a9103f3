"""The service switcher narrows every section of the home page to the chosen service."""

from __future__ import annotations

from datetime import date, timedelta

from involve.extensions import db
from involve.meetings.models import Action
from involve.people.models import Role
from involve.permissions import load_actor
from tests.conftest import login
from tests.factories import make_person


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
