"""The services page: a page at a time and searchable, at any size of organisation."""

from __future__ import annotations

from involve.extensions import db
from involve.people.demo import bulk_insert
from involve.people.models import Role, Service, ServiceKind
from tests.conftest import login
from tests.factories import make_org, make_person, make_service


def test_services_list_is_paged_and_searchable(app, client, world):
    bulk_insert(Service, [{"organisation_id": world.org.id, "name": f"Extra Home {n:02d}",
                           "slug": f"extra-home-{n}", "kind": ServiceKind.care_home}
                          for n in range(30)], ids=False)
    make_service(make_org("Another Trust"), "Extra Home Elsewhere")
    admin = make_person(world.org, "Org Admin", roles=[(Role.admin, None)])
    db.session.commit()
    login(client, admin)
    first = client.get("/services").text
    assert "32 services" in first and "Page 1 of 2" in first
    assert first.count('<li class="card">') == 25 and "Elsewhere" not in first
    second = client.get("/services?page=2").text
    assert second.count('<li class="card">') == 7 and "Willow House" in second
    found = client.get("/services?q=rose").text
    assert "1 service match" in found and "Rose Court" in found and "Extra Home" not in found
