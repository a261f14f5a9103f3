"""A candidate filling in their own statement is spoken to in the first person."""

from involve.elections.models import Status
from tests.conftest import login
from tests.elections.helpers import make_election


def test_the_photo_consent_box_speaks_to_the_candidate_filling_it_in(app, world, client):
    setup = make_election(world, status=Status.nominations_open, candidates=1)
    candidate = setup.candidates[0]
    url = f"/elections/candidates/{candidate.id}/edit"
    login(client, candidate.person)
    page = client.get(url).get_data(as_text=True)
    assert "I agree to this photo of me being shown" in page
    assert "The candidate agreed" not in page
    login(client, world.people["manager"])
    page = client.get(url).get_data(as_text=True)
    assert "The candidate agreed to this photo being shown" in page
