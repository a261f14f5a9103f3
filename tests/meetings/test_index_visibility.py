"""The meetings list decides in SQL who sees a series, exactly as the policy decides for one
series, and never reaches another organisation."""

from __future__ import annotations

from sqlalchemy import select

from involve.extensions import db, utcnow
from involve.meetings import queries
from involve.meetings.models import MeetingSeries, SeriesKind
from involve.people.models import Role
from involve.permissions import can, load_actor
from tests.conftest import login
from tests.factories import make_ambassador, make_person, make_strangers
from tests.meetings.helpers import make_meeting, make_series


def _every_kind_of_series(world) -> None:
    make_series(world)  # residents of the home service, shared with families
    make_series(world, service=world.away, partners=True, families=False)
    make_series(world, service=None, kind=SeriesKind.board, roles=[Role.board, Role.admin],
                ambassadors=True, families=False, name="Board")
    make_series(world, service=world.away, roles=[Role.staff], ambassadors=True,
                families=False, name="Away ambassadors")
    make_series(world, service=None, roles=[Role.partner], partners=True, families=False,
                name="Partners' forum")
    named = make_series(world, service=world.away, roles=[], families=False, name="By name")
    make_meeting(world, named, named=[world.people["family"]])
    gone = make_series(world, name="Archived")
    gone.archived_at = utcnow()
    strangers = make_strangers(world)
    db.session.add(MeetingSeries(organisation_id=strangers["admin"].organisation_id,
                                 service_id=None, name="Elsewhere board",
                                 kind=SeriesKind.board, invited_roles=list(Role),
                                 invite_ambassadors=True, share_with_families=True,
                                 share_with_partners=True))
    db.session.commit()


def test_the_list_shows_exactly_the_series_the_policy_lets_each_person_see(world):
    _every_kind_of_series(world)
    organisation_ambassador = make_person(world.org, "Org Ambassador",
                                          roles=[(Role.service_user, world.away)])
    make_ambassador(organisation_ambassador, None)
    wide = {role: make_person(world.org, f"Whole {role.value}", roles=[(role, None)])
            for role in Role}
    db.session.commit()
    everyone = [*world.people.values(), *world.outsiders.values(), world.ambassador,
                organisation_ambassador, *wide.values(), *world.strangers.values()]
    every_series = db.session.scalars(select(MeetingSeries)).all()
    assert len(every_series) == 8
    for person in everyone:
        actor = load_actor(person)
        expected = sorted(s.name for s in every_series
                          if s.archived_at is None and can("meetings.view", s, actor))
        assert sorted(s.name for s in queries.series_for(actor)) == expected, person.full_name
    # The rule is not empty-handed: each kind of reach is there.
    assert {s.name for s in queries.series_for(load_actor(world.people["family"]))} >= {
        "By name"}
    assert "Away ambassadors" in {s.name for s in queries.series_for(
        load_actor(organisation_ambassador))}
    assert "Elsewhere board" not in {s.name for s in queries.series_for(
        load_actor(wide[Role.admin]))}
    assert [s.name for s in queries.series_for(load_actor(world.strangers["admin"]))] == [
        "Elsewhere board"]


def test_the_index_pages_its_series_and_searches_them(client, world):
    for number in range(30):
        make_series(world, name=f"Series {number:02}")
    db.session.commit()
    login(client, world.people["manager"])
    first = client.get("/meetings/").get_data(as_text=True)
    assert "Series 00" in first and "Series 29" not in first
    assert 'label for="q"' in first and "Next page" in first
    second = client.get("/meetings/?page=2").get_data(as_text=True)
    assert "Series 29" in second and "Series 00" not in second
    found = client.get("/meetings/?q=series 29").get_data(as_text=True)
    assert "Series 29" in found and "Series 28" not in found
    login(client, world.outsiders["manager"])
    assert "Series 00" not in client.get("/meetings/?q=series").get_data(as_text=True)
