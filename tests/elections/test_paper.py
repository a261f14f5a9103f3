"""Paper without dead ends: undoing a paper mark, blank and spoilt papers, reconciling in words."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.elections import services
from involve.elections.models import (
    Ballot,
    ElectionsError,
    PaperBatch,
    RollEntry,
    SealedBallot,
    Status,
)
from involve.extensions import db
from involve.people.models import Role
from tests.conftest import login
from tests.elections.helpers import Setup, make_election, open_box, vote
from tests.factories import make_person, make_strangers


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return response.get_data(as_text=True)


def manager_client(app, world):
    client = app.test_client()
    login(client, world.people["manager"])
    return client


def test_a_paper_mark_made_by_mistake_is_undone_with_a_reason_and_audited(world):
    setup = make_election(world)
    su = world.people["service_user"]
    services.mark_paper_voter(setup.election, su, by=setup.manager)
    db.session.commit()
    with pytest.raises(ElectionsError, match="Say why"):
        services.unmark_paper_voter(setup.election, su, "  ", by=setup.manager)
    db.session.rollback()
    assert setup.entry(su).voted
    services.unmark_paper_voter(setup.election, su, "Pressed the wrong name", by=setup.manager)
    db.session.commit()
    entry = setup.entry(su)
    assert not entry.voted and entry.channel is None
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "election.paper_voter_unmarked")).one()
    assert "Pressed the wrong name" in str(event.details)
    # Nothing to undo a second time, and an online vote is never undone.
    with pytest.raises(ElectionsError, match="nothing to undo"):
        services.unmark_paper_voter(setup.election, su, "again", by=setup.manager)
    db.session.rollback()
    vote(setup, su, [setup.candidates[0].id])
    with pytest.raises(ElectionsError, match="nothing to undo"):
        services.unmark_paper_voter(setup.election, su, "oops", by=setup.manager)
    db.session.rollback()
    assert setup.entry(su).voted


def test_a_paper_mark_stays_once_counted(world):
    setup = make_election(world)
    su = world.people["service_user"]
    services.mark_paper_voter(setup.election, su, by=setup.manager)
    services.enter_paper_batch(setup.election, 1, "1", by=setup.manager)
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    db.session.commit()
    with pytest.raises(ElectionsError, match="until the votes are counted"):
        services.unmark_paper_voter(setup.election, su, "late", by=setup.manager)
    db.session.rollback()
    assert setup.entry(su).voted


def test_undo_on_the_pages_asks_first(app, world):
    setup = make_election(world)
    su = world.people["service_user"]
    url = f"/elections/{setup.election.id}"
    client = manager_client(app, world)
    client.post(f"{url}/roll/paper", data={"person_id": su.id})
    roll = text(client.get(f"{url}/roll"))
    assert "Undo the paper mark" in roll
    page = text(client.get(f"{url}/roll/paper/undo?person_id={su.id}"))
    assert f"Undo the paper mark for {su.full_name}?" in page and "Why is the mark wrong?" in page
    refused = text(client.post(f"{url}/roll/paper/undo", data={"person_id": su.id,
                                                               "reason": ""}))
    assert "Say why the paper mark is being undone." in refused
    db.session.expire_all()
    assert setup.entry(su).voted
    done = text(client.post(f"{url}/roll/paper/undo", data={
        "person_id": su.id, "reason": "Wrong row"}, follow_redirects=True))
    assert f"The paper mark for {su.full_name} is undone." in done
    db.session.expire_all()
    assert not setup.entry(su).voted
    # Another organisation's person is not found.
    stranger = make_strangers(world)["service_user"]
    assert client.get(f"{url}/roll/paper/undo?person_id={stranger.id}").status_code == 404


def test_blank_and_spoilt_papers_count_in_turnout_not_in_the_count(world):
    setup = make_election(world, status=Status.nominations_closed)
    paper = [make_person(world.org, f"Paper Voter {i}", roles=[(Role.service_user, world.home)])
             for i in range(4)]
    open_box(setup)
    db.session.commit()
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    for person in paper:
        services.mark_paper_voter(setup.election, person, by=setup.manager)
    db.session.commit()
    with pytest.raises(ElectionsError, match="which makes 5"):
        services.enter_paper_batch(setup.election, 4, "1\n2", blank=1, spoilt=2,
                                   by=setup.manager)
    with pytest.raises(ElectionsError, match="cannot be below 0"):
        services.enter_paper_batch(setup.election, 4, "1", blank=-1, by=setup.manager)
    db.session.rollback()
    assert count(PaperBatch) == 0 and count(SealedBallot) == 1
    batch = services.enter_paper_batch(setup.election, 4, "1\n2", blank=1, spoilt=1,
                                       by=setup.manager)
    db.session.commit()
    assert (batch.ballot_count, batch.blank_count, batch.spoilt_count) == (4, 1, 1)
    # The blank paper is sealed like any other; the spoilt one is not.
    assert count(SealedBallot) == 1 + 3
    assert services.paper_check(setup.election).matches
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    db.session.commit()
    result = setup.election.result
    assert result["turnout"]["voted"] == 5
    assert result["turnout"]["blank"] == 1 and result["turnout"]["spoilt"] == 1
    assert sum(float(v) for v in result["stages"][0]["votes"]) == 3


def test_a_box_of_only_blank_ballots_is_not_counted(world):
    setup = make_election(world)
    services.mark_paper_voter(setup.election, world.people["service_user"], by=setup.manager)
    services.enter_paper_batch(setup.election, 1, "", blank=1, by=setup.manager)
    services.close_voting(setup.election, by=setup.manager)
    db.session.commit()
    with pytest.raises(ElectionsError, match="Every ballot was blank"):
        services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    db.session.rollback()
    assert setup.election.status is Status.voting_closed and count(Ballot) == 0


def test_reconciliation_says_what_does_not_match_and_how_to_put_it_right(app, world):
    setup = make_election(world)
    su, amb = world.people["service_user"], world.ambassador
    url = f"/elections/{setup.election.id}"
    client = manager_client(app, world)
    client.post(f"{url}/roll/paper", data={"person_id": su.id})
    client.post(f"{url}/roll/paper", data={"person_id": amb.id})
    client.post(f"{url}/paper", data={"declared": 1, "ballots": "", "spoilt": 1})
    page = text(client.get(f"{url}/paper/check"))
    assert "The papers do not match the roll yet" in page
    assert "2 people are marked on the roll as voting on paper, but only 1 paper is entered" in page
    assert "undo their mark on the roll" in page
    # Counting now sends the manager to the page that says what to do, and changes nothing.
    client.post(f"{url}/move", data={"action": "close_voting"})
    response = client.post(f"{url}/count", data={"key": setup.key})
    assert response.headers["Location"].endswith(f"{url}/paper/check")
    db.session.expire_all()
    assert setup.election.status is Status.voting_closed and count(Ballot) == 0
    # The mark was a mistake: undo it, and the papers match.
    client.post(f"{url}/roll/paper/undo", data={"person_id": amb.id, "reason": "Wrong name"})
    page = text(client.get(f"{url}/paper/check"))
    assert "The papers match the roll" in page and "You can count the votes" in page
    # More papers than paper voters is said in words too.
    services.unmark_paper_voter(setup.election, su, "Testing", by=setup.manager)
    db.session.commit()
    page = text(client.get(f"{url}/paper/check"))
    assert "1 paper is entered, but only 0 people are marked" in page
    assert "Voted on paper" in page


def test_an_organisation_wide_paper_mark_never_tells_a_resident_they_voted(app, world):
    admin = world.people["admin"]
    election = services.create_election(organisation_id=world.org.id, service_id=None,
                                        title="Everyone's ambassador", seats=1,
                                        method=services.Method.block, by=admin)
    setup = Setup(election, manager=admin)
    services.open_nominations(election, by=admin)
    for i in range(2):
        person = make_person(world.org, f"Org Candidate {i}",
                             roles=[(Role.service_user, world.away)])
        setup.candidates.append(services.nominate(election, person, by=admin, consent=True,
                                                  on_behalf=True))
    services.close_nominations(election, by=admin)
    open_box(setup)
    su = world.people["service_user"]
    services.mark_paper_voter(election, su, by=admin)
    db.session.commit()
    client = app.test_client()
    login(client, su)
    page = text(client.get(f"/elections/{election.id}"))
    assert "You have voted" not in page
    assert "The roll shows that you voted on paper" in page and "tell a member of staff" in page
    ballot = text(client.get(f"/elections/{election.id}/ballot"))
    assert "You have voted" not in ballot and "ask a member of staff" in ballot
    services.unmark_paper_voter(election, su, "Not them", by=admin)
    db.session.commit()
    assert "Vote now" in text(client.get(f"/elections/{election.id}"))
    assert db.session.scalar(select(RollEntry.voted).where(
        RollEntry.election_id == election.id, RollEntry.person_id == su.id)) is False
