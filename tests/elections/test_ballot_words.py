"""Ballots in words a resident understands: one choice, choosing nobody, the order of names,
going back without losing choices, and no voting jargon on a voter's pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from involve.elections import services
from involve.elections.models import (
    BallotOrder,
    ElectionsError,
    Method,
    SealedBallot,
    Status,
)
from involve.extensions import db
from tests.conftest import login
from tests.elections.helpers import make_election

JARGON = ["block vote", "single transferable vote", "approval vote", "quota",
          "Not transferable", "Markdown", "**bold**"]


def text(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, person):
    client = app.test_client()
    login(client, person)
    return client


def sealed() -> int:
    return db.session.scalar(select(func.count()).select_from(SealedBallot))


def names_in_order(page: str) -> list[str]:
    return re.findall(r'class="ballot-name">([^<]+)<', page)


def test_one_seat_is_a_radio_choice_with_choosing_nobody(app, world):
    setup = make_election(world, seats=1)
    url = f"/elections/{setup.election.id}"
    su = world.people["service_user"]
    client = signed_in(app, su)
    page = text(client.get(f"{url}/ballot"))
    assert page.count('type="radio" name="choice"') == 4 and 'type="checkbox"' not in page
    assert "I do not want to choose anyone" in page and "Choose 1 person" in page
    # Nothing chosen: a clear message and nothing cast.
    empty = client.post(f"{url}/ballot/confirm", data={})
    assert empty.status_code == 400 and "I do not want to choose anyone" in text(empty)
    assert "You have not chosen anyone" in text(empty) and sealed() == 0
    confirm = text(client.post(f"{url}/ballot/confirm", data={"choice": "none"}))
    assert "You do not want to choose anyone" in confirm and 'name="blank" value="1"' in confirm
    client.post(f"{url}/ballot/cast", data={"blank": "1"})
    db.session.expire_all()
    assert setup.entry(su).voted and sealed() == 1
    services.close_voting(setup.election, by=setup.manager)
    # A lone blank ballot cannot elect anyone: the count says so and changes nothing.
    with pytest.raises(ElectionsError, match="Every ballot was blank"):
        services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    db.session.rollback()


def test_a_blank_vote_with_choices_is_refused(world):
    setup = make_election(world, seats=2)
    entry = setup.entry(world.people["service_user"])
    with pytest.raises(ElectionsError, match="not both"):
        services.cast_ballot(setup.election, entry.id, [setup.candidates[0].id],
                             channel=services.Channel.online, blank=True)
    db.session.rollback()
    assert not setup.entry(world.people["service_user"]).voted and sealed() == 0


def test_blank_ballots_are_in_the_turnout_not_the_count(app, world):
    setup = make_election(world, seats=2)
    url = f"/elections/{setup.election.id}"
    one = signed_in(app, world.people["service_user"])
    page = text(one.get(f"{url}/ballot"))
    assert 'type="checkbox"' in page and 'name="blank" value="1"' in page
    one.post(f"{url}/ballot/cast", data={"blank": "1"})
    two = signed_in(app, world.ambassador)
    two.post(f"{url}/ballot/cast", data={"choice": [setup.candidates[0].id]})
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    db.session.commit()
    turnout = setup.election.result["turnout"]
    assert turnout["voted"] == 2 and turnout["blank"] == 1
    assert sum(float(v) for v in setup.election.result["stages"][0]["votes"]) == 1


def test_ranked_ballot_names_everyone_in_full_and_offers_choosing_nobody(app, world):
    setup = make_election(world, method=Method.stv)
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["service_user"])
    first = setup.candidates[0]
    page = text(client.get(f"{url}/ballot"))
    assert f"Make {first.person.full_name} my 1st choice" in page
    assert "I do not want to choose anyone" in page
    page = text(client.post(f"{url}/ballot", data={"add": first.id}))
    assert "<ol" not in page  # "1st choice" is the number: no "1." before it
    confirm = text(client.post(f"{url}/ballot/confirm", data={"blank": "1"}))
    assert "You do not want to choose anyone" in confirm


def test_names_in_alphabetical_order_or_shuffled_as_the_election_chooses(app, world):
    setup = make_election(world, seats=1, candidates=6)
    setup.candidates[0].person.full_name = "Zara Last"
    db.session.commit()
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["service_user"])
    page = text(client.get(f"{url}/ballot"))
    assert "alphabetical order" in page
    names = names_in_order(page)[:-1]
    assert names == sorted(names) and names[-1] == "Zara Last"
    # Paper is numbered in the same order as the page reading the papers.
    (choices,) = services.parse_paper_lines(setup.election, "6")
    assert choices == (setup.candidates[0].id,)
    setup.election.ballot_order = BallotOrder.shuffled
    db.session.commit()
    orders = set()
    for seed in range(8):
        page = text(client.get(f"{url}/ballot?order={seed}"))
        assert "random order, different on each ballot" in page
        orders.add(tuple(names_in_order(page)))
        assert text(client.get(f"{url}/ballot?order={seed}")).count("ballot-name") == 7
    assert len(orders) > 1
    same = {tuple(names_in_order(text(client.get(f"{url}/ballot?order=3")))) for _ in range(2)}
    assert len(same) == 1


def test_the_manager_chooses_the_order_and_bad_input_changes_nothing(app, world):
    setup = make_election(world, status=Status.draft)
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["manager"])
    data = {"title": "Spring", "seats": 1, "term_months": 12, "method": "block",
            "service_id": world.home.id}
    client.post(f"{url}/edit", data=data | {"ballot_order": "shuffled"})
    db.session.expire_all()
    assert setup.election.ballot_order is BallotOrder.shuffled
    bad = client.post(f"{url}/edit", data=data | {"ballot_order": "by height"})
    assert "Choose one of the options in the list." in text(bad)
    db.session.expire_all()
    assert setup.election.ballot_order is BallotOrder.shuffled


def test_no_change_my_choices_keeps_what_was_chosen(app, world):
    setup = make_election(world, seats=2)
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["service_user"])
    a, b, _ = (c.id for c in setup.candidates)
    confirm = text(client.post(f"{url}/ballot/confirm", data={"choice": [a, b], "order": 5}))
    back = re.search(r'<form method="post" action="/elections/\d+/ballot" .*?</form>', confirm,
                     re.S).group(0)
    assert f'name="choice" value="{a}"' in back and 'name="order" value="5"' in back
    page = text(client.post(f"{url}/ballot", data={"choice": [a, b], "order": 5}))
    assert f'id="choice-{a}" checked' in page and f'id="choice-{b}" checked' in page
    ranked = make_election(world, method=Method.stv, title="Ranked")
    rurl = f"/elections/{ranked.election.id}"
    x, y, _ = (c.id for c in ranked.candidates)
    confirm = text(client.post(f"{rurl}/ballot/confirm", data={f"rank-{y}": 1, f"rank-{x}": 2}))
    assert f'name="rank-{y}" value="1"' in confirm and f'name="rank-{x}" value="2"' in confirm
    page = text(client.post(f"{rurl}/ballot", data={f"rank-{y}": 1, f"rank-{x}": 2}))
    assert "Your choices so far" in page
    assert f"2nd choice: {ranked.candidates[0].person.full_name}" in page


@pytest.mark.parametrize("method", list(Method))
def test_no_voting_jargon_on_a_voters_pages(app, world, method):
    setup = make_election(world, method=method, seats=2)
    url = f"/elections/{setup.election.id}"
    candidate = setup.candidates[0]
    own = signed_in(app, candidate.person)
    su = signed_in(app, world.people["service_user"])
    a, b = setup.candidates[0].id, setup.candidates[1].id
    form = ({f"rank-{a}": 1, f"rank-{b}": 2} if method is Method.stv else {"choice": [a]})
    pages = [su.get(url), su.get(f"{url}/ballot"), su.post(f"{url}/ballot/confirm", data=form),
             su.get(f"/elections/candidates/{candidate.id}")]
    setup.election.status = Status.nominations_open
    db.session.commit()
    pages.append(own.get(f"/elections/candidates/{candidate.id}/edit"))
    for response in pages:
        page = text(response)
        assert response.status_code == 200
        for word in JARGON:
            assert word.lower() not in page.lower(), (response.request.path, word)
