"""Factories for election tests: real elections moved through their stages by the services."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from involve.elections import services
from involve.elections.models import Candidate, Channel, Election, Method, RollEntry, Status
from involve.extensions import db
from involve.people.models import Person, Role
from tests.factories import World, make_person

# The STV reference data lives beside the repository (CI checks out shared/ next to it).
STV_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "stv"
GLASGOW = STV_DATA / "glasgow-2007"
EXPECTED_FILE = GLASGOW / "expected.json"
EXPECTED: dict = json.loads(EXPECTED_FILE.read_text()) if EXPECTED_FILE.is_file() else {}
needs_data = pytest.mark.skipif(
    not EXPECTED, reason=f"STV reference data not found: {EXPECTED_FILE} is missing"
)

ORDER = [Status.draft, Status.nominations_open, Status.nominations_closed, Status.voting_open,
         Status.voting_closed, Status.counted, Status.results_published]


@dataclass
class Setup:
    election: Election
    candidates: list[Candidate] = field(default_factory=list)
    manager: Person | None = None
    key: str = ""

    def entry(self, person: Person) -> RollEntry:
        return db.session.scalar(db.select(RollEntry).where(
            RollEntry.election_id == self.election.id, RollEntry.person_id == person.id))


def make_election(world: World, *, status: Status = Status.voting_open, seats: int = 1,
                  method: Method = Method.block, candidates: int = 3, service=None,
                  title: str = "Rose Court ambassador election") -> Setup:
    """An election in the home service moved to ``status`` with ``candidates`` standing."""
    manager = world.people["manager"]
    service = world.home if service is None else service
    election = services.create_election(
        organisation_id=world.org.id, service_id=service.id, title=title, seats=seats,
        method=method, by=manager)
    setup = Setup(election, manager=manager)
    target = ORDER.index(status)
    if target >= 1:
        services.open_nominations(election, by=manager)
        for i in range(candidates):
            person = make_person(world.org, f"Candidate {chr(65 + i)} Standing",
                                 roles=[(Role.service_user, service)])
            setup.candidates.append(services.nominate(election, person, by=manager,
                                                      consent=True, on_behalf=True))
    if target >= 2:
        services.close_nominations(election, by=manager)
    if target >= 3:
        open_box(setup)
    if target >= 4:
        services.close_voting(election, by=manager)
    if target >= 5:
        services.count_votes(election, setup.key, by=manager, seed=1)
    if target >= 6:
        services.publish_results(election, by=manager)
    db.session.commit()
    return setup


def organisation_wide_election(world: World, by: Person) -> tuple[Election, int]:
    """An organisation-wide election with voting open, the home and away service users
    standing; returns it with the size of its roll."""
    election = services.create_election(organisation_id=world.org.id, service_id=None,
                                        title="Board ambassador", seats=1,
                                        method=Method.block, by=by)
    services.open_nominations(election, by=by)
    home_su, away_su = world.people["service_user"], world.outsiders["service_user"]
    services.nominate(election, home_su, by=home_su)
    services.nominate(election, away_su, by=away_su)
    services.close_nominations(election, by=by)
    size = services.open_voting(election, services.make_ballot_box(election, by=by), by=by)
    db.session.commit()
    return election, size


def open_box(setup: Setup) -> int:
    """Make the ballot box key, keep it on the setup (the test's "card"), and open voting."""
    setup.key = services.make_ballot_box(setup.election, by=setup.manager)
    return services.open_voting(setup.election, setup.key, by=setup.manager)


def vote(setup: Setup, person: Person, choices: list[int]) -> str:
    """Cast a ballot for ``person`` online and commit; returns the receipt."""
    receipt = services.cast_ballot(setup.election, setup.entry(person).id, choices,
                                   channel=Channel.online)
    db.session.commit()
    return receipt
