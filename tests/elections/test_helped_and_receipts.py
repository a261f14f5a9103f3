"""A helped vote keeps the voter out of staff pages and ends on the helper list; receipts fit
a small card, and the receipts list says why paper ballots are not on it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from involve.elections import services
from involve.elections.models import SealedBallot
from involve.extensions import db
from tests.conftest import login
from tests.elections.helpers import make_election, vote


def text(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, person):
    client = app.test_client()
    login(client, person)
    return client


def body_class(page: str) -> str:
    return re.search(r'<body class="([^"]*)"', page).group(1)


def test_a_helped_vote_hides_the_site_navigation_and_stop_returns_to_the_helper_list(app,
                                                                                     world):
    setup = make_election(world)
    url = f"/elections/{setup.election.id}"
    staff = signed_in(app, world.people["staff"])
    voter = world.people["service_user"]
    ballot = text(staff.post(f"{url}/assist", data={"person_id": voter.id},
                             follow_redirects=True))
    assert "assisted-vote" in body_class(ballot)
    confirm = text(staff.post(f"{url}/ballot/confirm",
                              data={"choice": setup.candidates[0].id}))
    assert "assisted-vote" in body_class(confirm)
    stopped = staff.post(f"{url}/ballot/leave")
    assert stopped.headers["Location"].endswith(f"{url}/assist")
    page = text(staff.get(stopped.headers["Location"]))
    assert "Nothing was cast" in page and f"Open the ballot for {voter.full_name}" in page
    db.session.expire_all()
    assert not setup.entry(voter).voted
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0
    # After a helped vote, the receipt offers the next person, not the staff member's pages.
    staff.post(f"{url}/assist", data={"person_id": voter.id})
    receipt = text(staff.post(f"{url}/ballot/cast", data={"choice": setup.candidates[0].id}))
    assert "assisted-vote" in body_class(receipt)
    assert "Help the next person vote" in receipt and "Go to your home page" not in receipt
    # A voter signed in for themselves keeps the navigation.
    own = text(signed_in(app, world.ambassador).get(f"{url}/ballot"))
    assert "assisted-vote" not in body_class(own)


def test_the_receipt_prints_on_a_small_card(app, world):
    setup = make_election(world)
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["service_user"])
    page = text(client.post(f"{url}/ballot/cast", data={"choice": setup.candidates[0].id}))
    card = re.search(r'<div class="receipt-card">.*?</div>', page, re.S).group(0)
    assert re.search(r'class="voting-code">[A-Z0-9]{4}-[A-Z0-9]{4}<', card)
    assert setup.election.title in card and "data-print" in page


def test_the_receipts_list_says_paper_ballots_have_none(app, world):
    setup = make_election(world)
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    services.mark_paper_voter(setup.election, world.ambassador, by=setup.manager)
    services.enter_paper_batch(setup.election, 1, "2", by=setup.manager)
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    url = f"/elections/{setup.election.id}"
    page = text(signed_in(app, world.people["service_user"]).get(f"{url}/results"))
    assert "(1 receipt marks" in page
    assert ("Paper ballots have no receipt, so they are not in this list: 1 person voted on "
            "paper.") in page
