"""A helped vote keeps the voter out of staff pages and ends on the helper list; receipts fit
a small card, and the receipts list says why paper ballots are not on it."""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.elections import services
from involve.elections.models import Method, SealedBallot
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


def test_during_a_helped_vote_the_server_keeps_the_voter_on_the_ballot(app, world):
    setup = make_election(world)
    other = make_election(world, title="Willow vote")
    url = f"/elections/{setup.election.id}"
    staff = signed_in(app, world.people["staff"])
    voter = world.people["service_user"]
    staff.post(f"{url}/assist", data={"person_id": voter.id})
    # Not only hidden: typed in, or followed from a bookmark, the staff pages stay shut.
    for path in ("/", "/people", f"{url}/assist", f"{url}/roll", "/elections/",
                 f"/elections/{other.election.id}/ballot", f"/people/{voter.id}"):
        refused = staff.get(path)
        assert refused.status_code == 303, path
        assert refused.headers["Location"].endswith(f"{url}/ballot"), path
    page = text(staff.get("/meetings/", follow_redirects=True))
    assert "Someone is voting on this tablet" in page and f"{voter.full_name} is voting" in page
    # A form of the staff member's is refused too, and changes nothing.
    refused = staff.post(f"{url}/assist", data={"person_id": world.ambassador.id})
    assert refused.status_code == 303
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "election.assisted_ballot_opened")) == 1
    # The ballot, its check, the text size and "Stop" still work.
    assert staff.get(f"{url}/ballot").status_code == 200
    assert staff.get("/display").status_code == 200
    assert staff.post(f"{url}/ballot/confirm",
                      data={"choice": setup.candidates[0].id}).status_code == 200
    stopped = staff.post(f"{url}/ballot/leave")
    assert stopped.headers["Location"].endswith(f"{url}/assist")
    # After "Stop", the staff member's pages are theirs again.
    assert staff.get("/").status_code == 200
    assert f"Open the ballot for {voter.full_name}" in text(staff.get(f"{url}/assist"))


def test_a_text_size_change_keeps_a_card_voters_place(app, world):
    setup = make_election(world, seats=1, candidates=3)
    manager = signed_in(app, world.people["manager"])
    cards = text(manager.post(f"/elections/{setup.election.id}/cards"))
    code = re.search(r'class="voting-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', cards).group(1)
    voter = app.test_client()
    url = f"/elections/{setup.election.id}"
    voter.post(f"{url}/code", data={"code": code})
    chosen = setup.candidates[2]
    confirm = text(voter.post(f"{url}/ballot/confirm", data={"choice": chosen.id}))
    assert f"You chose {chosen.person.full_name}" in confirm

    back = change_text_size(voter, confirm)
    assert "Check your choices" in back and f"You chose {chosen.person.full_name}" in back
    assert "text-large" in back and "Voting as" in back
    # The same from the ballot, with the choice kept.
    ballot = text(voter.post(f"{url}/ballot", data={"choice": chosen.id}))
    back = change_text_size(voter, ballot)
    assert f'value="{chosen.id}" id="choice-{chosen.id}" checked' in back
    assert "Voting as" in back
    # Nothing was cast on the way.
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0


def test_a_text_size_change_keeps_a_ranked_ballot_as_it_was(app, world):
    setup = make_election(world, seats=1, candidates=3, method=Method.stv)
    url = f"/elections/{setup.election.id}"
    voter = signed_in(app, world.people["service_user"])
    a, b, _ = setup.candidates
    page = text(voter.post(f"{url}/ballot", data={f"rank-{a.id}": 1, "add": b.id}))
    back = change_text_size(voter, page)
    assert f"1st choice: {a.person.full_name}" in back
    assert f"2nd choice: {b.person.full_name}" in back
    # A form edited by hand cannot muddle the order: ranks are renumbered in order.
    odd = text(voter.post(f"{url}/ballot", data={f"rank-{a.id}": 7, f"rank-{b.id}": 3}))
    assert f"1st choice: {b.person.full_name}" in odd and f"2nd choice: {a.person.full_name}" in odd


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


def test_a_helped_vote_whose_ballot_closed_holds_the_tablet_no_longer(app, world):
    setup = make_election(world)
    url = f"/elections/{setup.election.id}"
    staff = signed_in(app, world.people["staff"])
    staff.post(f"{url}/assist", data={"person_id": world.people["service_user"].id})
    assert staff.get("/").status_code == 303
    # Voting closes (by hand, or on its date) while the ballot is open on the tablet.
    services.close_voting(setup.election, by=setup.manager)
    db.session.commit()
    page = staff.get("/", follow_redirects=True)
    assert "Voting has closed for this election." in text(page)
    # The ballot can no longer be cast, so it no longer holds the staff member's pages.
    assert staff.get("/").status_code == 200
    assert staff.get(f"{url}/roll").status_code in (200, 403)


def test_signing_out_ends_a_helped_vote(app, world):
    setup = make_election(world)
    url = f"/elections/{setup.election.id}"
    staff = signed_in(app, world.people["staff"])
    staff.post(f"{url}/assist", data={"person_id": world.people["service_user"].id})
    signed_out = staff.post("/sign-out")
    assert signed_out.headers["Location"].endswith("/sign-in")
    assert staff.get("/sign-in").status_code == 200
    # Whoever signs in next on this tablet has their own pages.
    login(staff, world.people["manager"])
    assert staff.get("/").status_code == 200


def test_signing_out_everywhere_ends_a_helped_vote(app, world):
    setup = make_election(world)
    staff = signed_in(app, world.people["staff"])
    staff.post(f"/elections/{setup.election.id}/assist",
               data={"person_id": world.people["service_user"].id})
    signed_out = staff.post("/sign-out-everywhere")
    assert signed_out.headers["Location"].endswith("/sign-in")
    assert staff.get("/sign-in").status_code == 200


def addresses(page: str) -> list[str]:
    """Every address a page links to, posts to or loads, as a server would log it."""
    return [unquote(found.replace("&amp;", "&")) for found in re.findall(
        r'(?:href|action|formaction|src)="([^"]*)"', page)]


def test_no_choice_of_a_voter_is_ever_written_into_an_address(app, world):
    """Addresses are kept in access logs, browser history and Referer headers: a ballot's
    choices travel only in form posts, the text size change included."""
    setup = make_election(world, seats=2, candidates=3)
    ranked = make_election(world, seats=1, candidates=3, method=Method.stv, title="Ranked")
    manager = signed_in(app, world.people["manager"])
    cards = text(manager.post(f"/elections/{setup.election.id}/cards"))
    code = re.search(r'class="voting-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', cards).group(1)
    voter = app.test_client()
    url = f"/elections/{setup.election.id}"
    voter.post(f"{url}/code", data={"code": code})
    a, b, _ = setup.candidates
    pages = [text(voter.post(f"{url}/ballot", data={"choice": [a.id, b.id]})),
             text(voter.post(f"{url}/ballot/confirm", data={"choice": [a.id, b.id]}))]
    resident = signed_in(app, world.people["service_user"])
    r1, r2, _ = ranked.candidates
    pages.append(text(resident.post(f"/elections/{ranked.election.id}/ballot",
                                    data={f"rank-{r1.id}": 1, "add": r2.id})))
    for page in pages:
        assert "Text size and colours" in page
        for address in addresses(page):
            assert "choice" not in address and "rank-" not in address, address


def test_a_text_size_change_from_a_ballot_keeps_its_place_in_form_posts_only(app, world):
    setup = make_election(world, seats=2, candidates=3)
    url = f"/elections/{setup.election.id}"
    voter = signed_in(app, world.people["service_user"])
    a, b, _ = setup.candidates
    confirm = text(voter.post(f"{url}/ballot/confirm", data={"choice": [a.id, b.id]}))
    back = change_text_size(voter, confirm)
    assert "Check your choices" in back and "text-large" in back
    assert a.person.full_name in back and b.person.full_name in back
    assert all("choice" not in address for address in addresses(back))
    ballot = text(voter.post(f"{url}/ballot", data={"choice": [b.id]}))
    back = change_text_size(voter, ballot)
    assert f'value="{b.id}" id="choice-{b.id}" checked' in back
    assert f'value="{a.id}" id="choice-{a.id}" checked' not in back
    # A blank ballot's check page comes back blank.
    blank = text(voter.post(f"{url}/ballot/confirm", data={"blank": "1"}))
    back = change_text_size(voter, blank, "normal")
    assert "Check your choices" in back and services.BLANK_WORDS in back
    assert 'name="blank" value="1"' in back
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0


def form_fields(page: str, form_id: str) -> list[tuple[str, str]]:
    """What a browser posts from the form ``form_id``: hidden fields and ticked boxes."""
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S).group(0)
    fields = []
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and ('type="hidden"' in tag or " checked" in tag):
            fields.append((name.group(1), value.group(1) if value else "on"))
    return fields


def change_text_size(client, page: str, size: str = "large") -> str:
    """Press the text size button of a ballot page, as a browser does without JavaScript,
    then save a new size there."""
    button = re.search(r'<button type="submit" class="link-button" form="([^"]+)" '
                       r'formaction="([^"]+)">Text size', page)
    form_id, action = button.group(1), button.group(2).replace("&amp;", "&")
    settings = text(client.post(action, data=_multi(form_fields(page, form_id))))
    assert "Text size and colours" in settings
    save = re.search(r'<form method="post" action="([^"]+)"[^>]*id="display-settings"',
                     settings).group(1).replace("&amp;", "&")
    carried = [(k, v) for k, v in form_fields(settings, "display-settings")
               if k != "text_size"]
    fields = carried + [("text_size", size)]
    saved = client.post(save, data=_multi(fields))
    # 307: the browser posts the same form to the ballot page (no choice in the address).
    assert saved.status_code == 307, saved.status_code
    location = saved.headers["Location"]
    assert "choice" not in location and "rank-" not in location
    return text(client.post(location, data=_multi(fields)))


def _multi(pairs: list[tuple[str, str]]):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def test_the_settings_page_of_a_ballot_links_back_only_to_pages_that_open(app, world):
    """Its own "Text size and colours" link must not come back to the address only a form
    posts to (the browser would answer "Method not allowed")."""
    setup = make_election(world, seats=2, candidates=3)
    voter = signed_in(app, world.people["service_user"])
    ballot = text(voter.get(f"/elections/{setup.election.id}/ballot"))
    button = re.search(r'form="([^"]+)" formaction="([^"]+)">Text size', ballot)
    settings = text(voter.post(button.group(2).replace("&amp;", "&"),
                               data=_multi(form_fields(ballot, button.group(1)))))
    link = re.search(r'<a href="([^"]+)">Text size and colours</a>', settings).group(1)
    link = link.replace("&amp;", "&")
    assert "ballot%2Fdisplay" not in link and "ballot/display" not in unquote(link)
    page = voter.get(link)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(page)).group(1)
    saved = voter.post(link, data={"csrf_token": token, "text_size": "large"})
    assert saved.status_code == 302
    assert voter.get(saved.headers["Location"]).status_code == 200
