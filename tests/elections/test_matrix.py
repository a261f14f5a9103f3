"""Permission matrix for every election endpoint."""

from __future__ import annotations

import pytest

from involve.elections import services
from involve.elections.models import Status
from involve.extensions import db
from tests.elections.helpers import make_election, vote
from tests.permission_matrix import ANONYMOUS, Case, check_case

READERS = {"service_user", "ambassador", "family", "staff", "manager", "board", "admin"}
MANAGERS = {"manager", "board", "admin"}
# The roll (who voted, who was helped) is for those running the election, not the board.
RUNNERS = {"manager", "admin"}
PUBLIC = {ANONYMOUS}


def voting(world):
    return make_election(world, status=Status.voting_open)


def nominating(world):
    return make_election(world, status=Status.nominations_open)


def with_photo(world):
    setup = voting(world)
    setup.candidates[0].photo = b"\xff\xd8 not really a jpeg"
    setup.candidates[0].has_photo = True
    db.session.commit()
    return setup


def counted(world):
    setup = voting(world)
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    db.session.commit()
    return setup


def published(world):
    setup = counted(world)
    services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    return setup


def closed(world):
    setup = voting(world)
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    services.close_voting(setup.election, by=setup.manager)
    db.session.commit()
    return setup


def nominations_closed(world):
    return make_election(world, status=Status.nominations_closed)


def e(path: str = ""):
    return lambda w, c: f"/elections/{c.election.id}{path}"


def cand(path: str = ""):
    return lambda w, c: f"/elections/candidates/{c.candidates[0].id}{path}"


CASES = [
    Case("elections.index", lambda w, c: "/elections/", READERS, away="allow"),
    Case("elections.new", lambda w, c: "/elections/new", MANAGERS, away="allow"),
    Case("elections.election", e(), READERS, setup=voting),
    Case("elections.move", e("/move"), MANAGERS, method="POST", data={"action": "nothing"},
         setup=voting),
    Case("elections.edit", e("/edit"), MANAGERS, setup=voting),
    Case("elections.ballot_box", e("/ballot-box"), MANAGERS, setup=nominations_closed),
    Case("elections.open_voting", e("/open-voting"), MANAGERS, setup=nominations_closed),
    Case("elections.count", e("/count"), MANAGERS, setup=closed),
    Case("elections.cancel", e("/cancel"), MANAGERS, setup=voting),
    Case("elections.nominate", e("/nominate"),
         {"service_user", "ambassador", "staff", "manager", "admin"}, setup=nominating),
    Case("elections.candidate", cand(), READERS, setup=voting),
    Case("elections.candidate_edit", cand("/edit"), {"staff", "manager", "admin"},
         setup=voting),
    Case("elections.consent", cand("/consent"), {"staff", "manager", "admin"}, method="POST",
         setup=voting),
    Case("elections.withdraw", cand("/withdraw"), {"staff", "manager", "admin"}, method="POST",
         setup=voting),
    Case("elections.candidate_photo", cand("/photo"), PUBLIC, setup=with_photo),
    Case("elections.roll", e("/roll"), RUNNERS, setup=voting),
    Case("elections.roll_ineligible", e("/roll/ineligible"), RUNNERS, method="POST",
         setup=voting),
    Case("elections.roll_eligible", e("/roll/eligible"), RUNNERS, method="POST",
         setup=voting),
    Case("elections.roll_paper", e("/roll/paper"), RUNNERS, method="POST", setup=voting),
    Case("elections.roll_paper_undo", e("/roll/paper/undo"), RUNNERS, method="POST",
         setup=voting),
    Case("elections.cards", e("/cards"), RUNNERS, method="POST", setup=voting),
    Case("elections.ballot", e("/ballot"), PUBLIC, setup=voting),
    Case("elections.confirm", e("/ballot/confirm"), PUBLIC, method="POST", setup=voting),
    Case("elections.cast", e("/ballot/cast"), PUBLIC, method="POST", setup=voting),
    Case("elections.display", e("/ballot/display"), PUBLIC, method="POST", setup=voting),
    Case("elections.leave", e("/ballot/leave"), PUBLIC, method="POST", setup=voting),
    Case("elections.code", e("/code"), PUBLIC, setup=voting),
    Case("elections.assist", e("/assist"), {"staff", "manager"}, setup=voting),
    Case("elections.not_voted", e("/not-voted"), {"staff", "manager"}, setup=voting),
    Case("elections.paper", e("/paper"), MANAGERS, setup=voting),
    Case("elections.paper_check", e("/paper/check"), MANAGERS, setup=voting),
    Case("elections.paper_ballot", e("/paper/ballot"), MANAGERS, setup=voting),
    Case("elections.results", e("/results"), READERS, setup=counted),
    Case("elections.results_poster", e("/results/poster"), READERS, setup=published),
    Case("elections.check_receipt", e("/results/check"), PUBLIC, method="POST",
         data={"receipt": "AAAA-AAAA"}, setup=counted),
    Case("elections.export_ballots", e("/ballots.blt"), MANAGERS, setup=counted),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)
