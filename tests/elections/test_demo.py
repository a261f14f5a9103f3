"""The demo elections load, show real pages, and loading twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.elections import demo
from involve.elections.models import Ballot, Election, Status
from involve.extensions import db
from involve.people import demo as people_demo
from involve.people.models import AmbassadorTerm, Person, User
from tests.conftest import login


def test_demo_elections(app):
    org = people_demo.seed()
    demo.seed(org)
    db.session.commit()
    counts = (db.session.scalar(select(func.count()).select_from(Election)),
              db.session.scalar(select(func.count()).select_from(Ballot)))
    demo.seed(org)
    db.session.commit()
    assert counts == (db.session.scalar(select(func.count()).select_from(Election)),
                      db.session.scalar(select(func.count()).select_from(Ballot)))
    rose = db.session.scalars(select(Election).where(Election.title == demo.ROSE_TITLE)).one()
    board_vote = db.session.scalars(select(Election).where(
        Election.title == demo.ORG_TITLE)).one()
    assert rose.status is Status.results_published
    assert board_vote.status is Status.voting_open
    ada = db.session.scalar(select(Person).join(User).where(User.username == "ada"))
    elected = rose.elected_people
    assert len(elected) == 2
    terms = db.session.scalars(select(AmbassadorTerm.person_id).where(
        AmbassadorTerm.election_id == rose.id)).all()
    assert set(terms) == {p.id for p in elected}
    assert rose.turnout["by_channel"]["paper"] == 2

    client = app.test_client()
    login(client, ada)
    home = client.get("/").get_data(as_text=True)
    assert "Vote now: Brookfield Care ambassador to the board" in home
    results = client.get(f"/elections/{rose.id}/results").get_data(as_text=True)
    assert "How the count worked" in results and "<svg" in results
    ballot = client.get(f"/elections/{board_vote.id}/ballot").get_data(as_text=True)
    assert "Choose 1 person" in ballot and 'type="radio"' in ballot
    assert ada in elected  # the demo's Ada is an ambassador, won in this election


def test_demo_willow_house_election_is_taking_nominations(app):
    from involve.elections.models import Candidate

    org = people_demo.seed()
    demo.seed(org)
    db.session.commit()
    demo.seed(org)
    db.session.commit()
    willow = db.session.scalars(select(Election).where(Election.title == demo.WILLOW_TITLE)).one()
    assert willow.status is Status.nominations_open
    assert willow.service.slug == "willow-house"
    assert db.session.scalar(select(func.count()).select_from(Candidate).where(
        Candidate.election_id == willow.id)) == 2
    standing, waiting = willow.candidates
    assert standing.is_standing and standing.has_photo and standing.easy_read
    assert waiting.state_label == "Waiting for consent"

    client = app.test_client()
    login(client, db.session.scalar(select(Person).join(User).where(
        User.email == "manager.willow-house@brookfield.example")))
    page = client.get(f"/elections/{willow.id}").get_data(as_text=True)
    assert "Nominate someone" in page and "Waiting for consent" in page
    assert standing.person.full_name in page and waiting.person.full_name in page
    for candidate in (standing, waiting):
        response = client.get(f"/elections/candidates/{candidate.id}")
        assert response.status_code == 200
    assert client.get(f"/elections/candidates/{standing.id}/photo").status_code == 200
    assert client.get(f"/elections/{willow.id}/nominate").status_code == 200
