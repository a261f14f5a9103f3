"""The admin and manager home panel's head counts: people per role, in SQL, by scope."""

from __future__ import annotations

from datetime import date, timedelta

from involve.people import queries
from involve.people.models import Role
from tests.factories import grant, make_person, make_strangers


def test_people_are_counted_once_per_role_in_force_within_the_scope(app, world):
    make_strangers(world)  # another organisation's people never count
    make_person(world.org, "Two Grants", roles=[(Role.staff, world.home),
                                                       (Role.staff, world.away)])
    ended = make_person(world.org, "Left Last Year")
    grant(ended, Role.staff, world.home, starts_on=date.today() - timedelta(days=400),
          ends_on=date.today() - timedelta(days=30))
    everywhere = queries.people_counts(world.org.id, None)
    at_home = queries.people_counts(world.org.id, {world.home.id})
    # The world has one person per role in each service, and an ambassador (a service user).
    assert everywhere["staff"] == 3 and at_home["staff"] == 2  # "Two Grants" once each
    assert at_home["service_user"] == 2 and everywhere["service_user"] == 3
    assert queries.people_counts(world.org.id, set()) == {}
