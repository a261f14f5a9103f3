"""The result in easy read: who was elected, with their photos, on the web and as a poster."""

from __future__ import annotations

from involve.elections import services
from involve.elections.models import Method, Status
from involve.extensions import db, utcnow
from tests.conftest import login
from tests.elections.helpers import make_election, vote


def text(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, person):
    client = app.test_client()
    login(client, person)
    return client


def ranked_and_counted(world, *, publish: bool = True):
    setup = make_election(world, method=Method.stv, seats=1)
    a, b, c = setup.candidates
    a.photo, a.has_photo, a.photo_consent_at = b"jpeg", True, utcnow()
    vote(setup, world.people["service_user"], [a.id, b.id])
    vote(setup, world.ambassador, [b.id, a.id])
    vote(setup, a.person, [a.id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    if publish:
        services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    return setup


def test_the_result_in_a_few_short_sentences_with_photos(app, world):
    setup = ranked_and_counted(world)
    winner = setup.election.elected_candidates[0]
    page = text(signed_in(app, world.people["service_user"]).get(
        f"/elections/{setup.election.id}/results"))
    assert "Who was elected" in page
    assert f"{winner.person.full_name} was elected." in page
    assert f"{winner.person.full_name} will be an ambassador for 12 months." in page
    assert "3 of the 5 people who could vote took part." in page
    assert f"/elections/candidates/{winner.id}/photo" in page
    # The easy read comes before the details of the count, where the jargon lives.
    assert page.index("was elected.") < page.index("How the count worked")
    assert page.index("How the count worked") < page.index("quota")
    assert '<div class="table-scroll"' in page and "stage-table" in page
    assert "This chart shows first preferences" in page
    assert "Bar chart of first-preference votes" in page


def test_the_poster_prints_who_was_elected(app, world):
    setup = ranked_and_counted(world)
    winner = setup.election.elected_candidates[0]
    url = f"/elections/{setup.election.id}/results/poster"
    page = text(signed_in(app, world.people["family"]).get(url))
    assert "Our new ambassador" in page and "data-print" in page
    assert f"{winner.person.full_name} was elected." in page
    assert f"/elections/candidates/{winner.id}/photo" in page
    assert "quota" not in page.lower() and "stage" not in page.lower()


def test_no_poster_before_the_results_are_published(app, world):
    setup = ranked_and_counted(world, publish=False)
    url = f"/elections/{setup.election.id}/results/poster"
    assert signed_in(app, world.people["service_user"]).get(url).status_code == 404
    assert signed_in(app, world.people["manager"]).get(url).status_code == 200
    voting = make_election(world, title="Still voting")
    response = signed_in(app, world.people["manager"]).get(
        f"/elections/{voting.election.id}/results/poster")
    assert response.status_code == 404 and voting.election.status is Status.voting_open


def test_unopposed_result_in_words(app, world):
    setup = make_election(world, status=Status.nominations_closed, seats=2, candidates=2)
    services.count_votes(setup.election, by=setup.manager)
    services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    page = text(signed_in(app, world.people["service_user"]).get(
        f"/elections/{setup.election.id}/results/poster"))
    assert "there were 2 places. So there was no vote." in page
    assert "were elected." in page and "They will be ambassadors for 12 months." in page


def test_the_home_panel_says_who_was_elected_without_a_line_starting_with_a_colon(app, world):
    import re

    setup = make_election(world, seats=1, candidates=2)
    winner = setup.candidates[0].person
    winner.full_name = "Ada Lovelace"
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    home = text(signed_in(app, world.people["family"]).get("/"))
    panel = home[home.index("<h2>Elections</h2>"):]
    panel = panel[:panel.index("</section>")]
    # Each block of text the panel shows, as a reader sees it: none begins with a colon.
    blocks = [" ".join(b.split()) for b in re.split(r"<[^>]+>", panel) if b.strip()]
    assert "Ada Lovelace is now an ambassador." in blocks
    assert not any(b.startswith(":") for b in blocks)
