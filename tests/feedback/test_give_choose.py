"""Giving feedback starts at the service's own form; choosing another service is a search and
a page of services at a time, never another organisation's for someone signed in."""

from __future__ import annotations

from involve.extensions import db
from tests.conftest import login
from tests.factories import make_service, make_strangers


def _services(world, n: int = 30) -> list:
    made = [make_service(world.org, f"Yew Court {number:02}") for number in range(n)]
    db.session.commit()
    return made


def test_a_visitor_finds_the_service_a_page_at_a_time(client, world):
    made = _services(world)
    first = client.get("/feedback/give").text
    assert first.count('class="button button-big"') == 25
    assert 'label for="q">Find the service by its name' in first and "Next page" in first
    found = client.get("/feedback/give?q=court 29").text
    assert f'href="/feedback/give/{made[29].slug}"' in found
    assert "Yew Court 28" not in found
    assert "No service has a name like that" in client.get("/feedback/give?q=zzz").text


def test_someone_of_one_service_goes_straight_to_its_form(client, world):
    _services(world, 3)
    login(client, world.people["family"])
    response = client.get("/feedback/give")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/feedback/give/{world.home.slug}")
    form = client.get(f"/feedback/give/{world.home.slug}").text
    assert 'href="/feedback/give?another=1"' in form
    another = client.get("/feedback/give?another=1").text
    assert "Yew Court 02" in another and "Willow House" in another


def test_a_signed_in_search_keeps_to_the_organisation(client, world):
    strangers = make_strangers(world)
    _services(world, 3)
    login(client, world.people["family"])
    page = client.get("/feedback/give?q=e").text
    assert "Elsewhere Lodge" not in page and "Yew Court 00" in page
    login(client, strangers["admin"])
    page = client.get("/feedback/give?q=e").text
    assert "Elsewhere Lodge" in page
    assert "Yew Court" not in page and "Rose Court" not in page
