"""Browser journeys of elections: voting with a code on a tablet, and running an election."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def _people():
    from involve.people.models import Role
    from tests import factories

    org = factories.make_org("Brookfield Care")
    home = factories.make_service(org, "Rose Court")
    manager = factories.make_person(org, "Mary Manning", email="manager@test.example",
                                    roles=[(Role.manager, home), (Role.staff, home)])
    ada = factories.make_person(org, "Ada Lovelace", username="ada",
                                roles=[(Role.service_user, home)])
    bert = factories.make_person(org, "Albert Jones", username="bert",
                                 roles=[(Role.service_user, home)])
    cyril = factories.make_person(org, "Cyril Green", roles=[(Role.service_user, home)])
    return org, home, manager, ada, bert, cyril


def _election_with_cards() -> dict:
    """Voting open at Rose Court, three candidates, and Ada's voting card printed."""
    from involve.elections import services
    from involve.elections.models import Method

    org, home, manager, ada, bert, cyril = _people()
    election = services.create_election(organisation_id=org.id, service_id=home.id,
                                        title="Rose Court ambassador", seats=2,
                                        method=Method.block, by=manager)
    services.open_nominations(election, by=manager)
    for person, words in ((bert, "I will listen."), (cyril, "I like the garden."),
                          (ada, "I will speak up.")):
        candidate = services.nominate(election, person, by=manager, consent=True,
                                      on_behalf=True)
        services.update_candidate(candidate, statement=words, easy_read=words, by=manager)
    services.close_nominations(election, by=manager)
    services.open_voting(election, services.make_ballot_box(election, by=manager), by=manager)
    cards = services.issue_voting_codes(election, by=manager, person_ids=[ada.id])
    return {"election_id": election.id, "code": cards[0][1]}


def test_a_resident_votes_with_a_voting_code_on_a_tablet(live_server, tablet_page):
    seeded = live_server.seed(_election_with_cards)
    page = tablet_page
    page.goto(f"/elections/{seeded['election_id']}/code")
    assert_accessible(page)
    page.get_by_label("Your voting code").fill("WRONG-CODE")
    page.get_by_role("button", name="Next").click()
    page.get_by_text("We do not know that code").first.wait_for()
    assert_accessible(page)
    page.get_by_label("Your voting code").fill(seeded["code"].lower())
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Choose up to 2 people").wait_for()
    assert_accessible(page)
    for name in ("Albert Jones", "Cyril Green", "Ada Lovelace"):
        page.get_by_role("checkbox", name=re.compile(name)).check()
    page.get_by_role("button", name="Next: check my choices").click()
    page.get_by_text("You ticked 3 people. Choose up to 2.").wait_for()
    assert_accessible(page)
    page.get_by_role("checkbox", name=re.compile("Cyril Green")).uncheck()
    page.get_by_role("button", name="Next: check my choices").click()
    page.get_by_role("heading", name="Check your choices").wait_for()
    assert page.get_by_text("You chose Albert Jones").is_visible()
    assert page.get_by_text("You chose Ada Lovelace").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, cast my vote").click()
    page.get_by_role("heading", name="Thank you. Your vote is cast.").wait_for()
    receipt = page.locator(".voting-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", receipt)
    assert "Albert" not in page.locator("main").inner_text()
    assert_accessible(page)
    # The card works once.
    page.goto(f"/elections/{seeded['election_id']}/code")
    page.get_by_label("Your voting code").fill(seeded["code"])
    page.get_by_role("button", name="Next").click()
    page.get_by_text("already been used").first.wait_for()


def _rose_court() -> None:
    _people()


def test_a_manager_runs_an_election_to_published_results(live_server, page):
    live_server.seed(_rose_court)
    sign_in(page, "manager@test.example")
    page.get_by_role("link", name="Elections").first.click()
    assert_accessible(page)
    page.get_by_role("link", name="Start a new election").click()
    page.get_by_label("Title").fill("Spring ambassador election")
    page.get_by_label("How many ambassadors to elect").fill("1")
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Election created").wait_for()
    assert_accessible(page)

    def step(label: str, done: str) -> None:
        page.get_by_role("button", name=label).click()
        page.get_by_text(done).first.wait_for()

    step("Open nominations", "Nominations are open.")
    for name in ("Albert Jones", "Cyril Green"):
        page.get_by_role("link", name="Nominate someone").first.click()
        page.get_by_label("Who is nominated").select_option(label=name)
        page.get_by_label("They have told me they agree to stand").check()
        assert_accessible(page)
        page.get_by_role("button", name="Nominate").click()
        page.get_by_text(f"{name} is nominated.").wait_for()
    assert_accessible(page)
    step("Close nominations", "Nominations are closed.")
    page.get_by_role("link", name="The roll of voters").click()
    page.get_by_role("cell", name="Ada Lovelace", exact=True).wait_for()
    # The reason box is at least three lines tall, the back link a 44px target.
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    reason = page.get_by_label("Reason Ada Lovelace cannot vote").bounding_box()
    assert reason["height"] >= 3 * line
    back = page.get_by_role("link", name="Back to Spring ambassador election").bounding_box()
    assert back["height"] >= 44
    assert_accessible(page)
    page.go_back()
    # Voting opens once the ballot box key is printed and typed back from the card.
    page.get_by_role("link", name="Open voting: make the ballot box key").click()
    assert_accessible(page)
    page.get_by_role("button", name="Make the ballot box key card").click()
    key = page.locator(".key-text").first.inner_text()
    assert page.locator(".key-text").count() == 2
    assert_accessible(page)
    page.get_by_label("The ballot box key").fill(key.replace(" ", "").lower())
    page.get_by_role("button", name="Open voting").click()
    page.get_by_text("Voting is open.").first.wait_for()
    page.get_by_role("link", name="Print a paper ballot").click()
    page.get_by_role("heading", name="Spring ambassador election").wait_for()
    assert page.get_by_text("You can choose up to 1 person.").is_visible()
    assert "Ada Lovelace" not in page.locator("main").inner_text()  # a voter, not a candidate
    assert page.locator(".paper-box").count() == 2
    assert_accessible(page)
    page.go_back()

    # A list to print of who has not voted yet: names only.
    page.get_by_role("link", name="Who has not voted yet (a list to print)").click()
    names = page.locator("ol.name-list").inner_text()
    assert "Ada Lovelace" in names and "never how anyone voted" in page.locator("main").inner_text()
    assert_accessible(page)
    page.go_back()
    # Ada votes with help: the manager opens her ballot on the tablet and steps back.
    page.get_by_role("link", name="Help someone vote on this tablet").click()
    assert_accessible(page)
    page.get_by_role("button", name="Open the ballot for Ada Lovelace").click()
    page.get_by_text("Ada Lovelace is voting").wait_for()
    # Typed into the address bar, the manager's pages stay shut while Ada votes.
    page.goto("/elections/")
    page.get_by_text("Someone is voting on this tablet").wait_for()
    assert page.get_by_text("Ada Lovelace is voting").is_visible()
    page.get_by_role("radio", name=re.compile("Cyril Green")).check()
    page.get_by_role("button", name="Next: check my choices").click()
    page.get_by_role("button", name="Yes, cast my vote").click()
    page.get_by_role("heading", name="Thank you. Your vote is cast.").wait_for()
    page.get_by_role("link", name="Help the next person vote").click()
    page.get_by_role("link", name="Back to Spring ambassador election").click()

    step("Close voting", "Voting is closed.")
    page.get_by_role("link", name="Count the votes").click()
    assert_accessible(page)
    page.get_by_label("The ballot box key").fill("AAAA BBBB")
    page.get_by_role("button", name="Count the votes").click()
    page.get_by_text("too short").first.wait_for()
    page.get_by_label("The ballot box key").fill(key)
    page.get_by_role("button", name="Count the votes").click()
    page.get_by_text("The votes are counted.").first.wait_for()
    step("Publish the results", "The results are published")
    page.get_by_role("link", name="See the results").click()
    page.get_by_role("heading", name="Who was elected").wait_for()
    main = page.locator("main").inner_text()
    assert "Cyril Green" in main and "1 of 3 people on the roll voted" in main
    assert page.locator("svg.results-chart title").count() == 1
    assert_accessible(page)


def _ranked_election() -> dict:
    """A ranked election at Rose Court with five candidates; Bert's paper is to be entered."""
    from involve.elections import services
    from involve.elections.models import Method
    from involve.people.models import Role
    from tests import factories

    org, home, manager, ada, bert, cyril = _people()
    election = services.create_election(organisation_id=org.id, service_id=home.id,
                                        title="Rose Court ranked ambassadors", seats=2,
                                        method=Method.stv, by=manager)
    services.open_nominations(election, by=manager)
    names = ["Bartholomew Fitzwilliam-Hargreaves", "Constance Penhaligon-Smythe",
             "Dorothea Wolstenholme", "Evangeline Montgomery-Clarke", "Florence Nightingale"]
    for name in names:
        person = factories.make_person(org, name, roles=[(Role.service_user, home)])
        services.nominate(election, person, by=manager, consent=True, on_behalf=True)
    services.close_nominations(election, by=manager)
    key = services.make_ballot_box(election, by=manager)
    services.open_voting(election, key, by=manager)
    return {"election_id": election.id, "key": key, "bert": bert.id}


def test_a_ranked_ballot_on_a_tablet_a_spoilt_paper_and_results_at_the_largest_text(
        live_server, tablet_page):
    seeded = live_server.seed(_ranked_election)
    page = tablet_page
    url = f"/elections/{seeded['election_id']}"
    sign_in(page, "ada")
    page.goto(f"{url}/ballot")
    page.get_by_text("alphabetical order").wait_for()
    page.get_by_role("button", name="Make Dorothea Wolstenholme my 1st choice").click()
    page.get_by_role("button",
                     name="Make Bartholomew Fitzwilliam-Hargreaves my 2nd choice").click()
    page.get_by_role("button", name="I have finished: check my choices").click()
    page.get_by_text("2nd choice: Bartholomew Fitzwilliam-Hargreaves").wait_for()
    page.get_by_role("button", name="No, change my choices").click()
    page.get_by_text("2nd choice: Bartholomew Fitzwilliam-Hargreaves").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="I have finished: check my choices").click()
    page.get_by_role("button", name="Yes, cast my vote").click()
    page.get_by_role("heading", name="Thank you. Your vote is cast.").wait_for()
    page.get_by_role("button", name="Sign out").click()

    # The manager marks Bert as a paper voter; his paper is spoilt.
    sign_in(page, "manager@test.example")
    page.goto(f"{url}/roll")
    page.locator(f"#p{seeded['bert']}").get_by_role(
        "button", name=re.compile("Voted on paper")).click()
    page.goto(f"{url}/paper/check")
    page.get_by_text("1 paper is missing").wait_for()
    assert_accessible(page)
    page.goto(f"{url}/paper")
    page.get_by_label("How many papers are in this batch").fill("1")
    page.get_by_label("Spoilt papers").fill("1")
    page.get_by_role("button", name="Save the batch").click()
    page.get_by_text("The papers match the roll").first.wait_for()
    page.goto(url)
    page.get_by_role("button", name="Close voting").click()
    page.get_by_text("Voting is closed.").first.wait_for()
    page.goto(f"{url}/count")
    page.get_by_label("The ballot box key").fill(seeded["key"])
    page.get_by_role("button", name="Count the votes").click()
    page.get_by_text("The votes are counted.").first.wait_for()
    page.goto(f"{url}/results")
    page.get_by_role("heading", name="Who was elected").wait_for()
    page.get_by_text("1 paper was spoilt").wait_for()
    # At the largest text size the stage table scrolls in its own box: the page never does.
    page.evaluate("document.documentElement.className = 'text-larger'")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator(".table-scroll .stage-table").count() == 1
    assert_accessible(page)
    page.get_by_role("link", name="Print the result as a poster").click()
    page.get_by_role("heading", name="Our new ambassadors").wait_for()
    assert_accessible(page)


def test_a_card_voter_changes_the_text_size_and_no_choice_goes_in_an_address(live_server,
                                                                            tablet_page):
    seeded = live_server.seed(_election_with_cards)
    page = tablet_page
    addresses: list[str] = []
    page.on("request", lambda request: addresses.extend(
        [request.url, request.headers.get("referer", "")]))
    page.goto(f"/elections/{seeded['election_id']}/code")
    page.get_by_label("Your voting code").fill(seeded["code"])
    page.get_by_role("button", name="Next").click()
    page.get_by_role("checkbox", name=re.compile("Cyril Green")).check()
    # Ticked but not yet sent: the text size button takes the ballot as it is.
    page.get_by_role("button", name="Text size and colours").click()
    page.get_by_role("heading", name="Text size and colours").wait_for()
    assert_accessible(page)
    page.get_by_label("Largest").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Choose up to 2 people").wait_for()
    assert page.locator("html").get_attribute("class").startswith("text-larger")
    assert page.get_by_role("checkbox", name=re.compile("Cyril Green")).is_checked()
    page.get_by_role("button", name="Next: check my choices").click()
    page.get_by_role("heading", name="Check your choices").wait_for()
    page.get_by_role("button", name="Text size and colours").click()
    page.get_by_label("Normal").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("You chose Cyril Green").wait_for()
    assert page.locator("html").get_attribute("class").startswith("text-normal")
    candidates = [a for a in addresses if a]
    assert candidates and not [a for a in candidates if "choice" in a or "rank-" in a]
