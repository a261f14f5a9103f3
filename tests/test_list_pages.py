"""Lists that grow with an organisation come a page at a time: the elections list, and the
newsletters page's issues and archives (rows written in bulk, as ``flask demo --scale`` does)."""

from __future__ import annotations

from datetime import date, timedelta

from involve.elections.models import Election, Status
from involve.extensions import db
from involve.newsletters.models import Issue
from involve.people.demo import bulk_insert
from involve.people.models import Role, Service, ServiceKind
from tests.conftest import login
from tests.factories import make_org, make_person, make_service


def test_elections_list_is_paged_newest_first_within_the_organisation(app, client, world):
    today = date.today()
    strangers = make_org("Another Trust")
    make_service(strangers, "Far Away")
    bulk_insert(Election, [
        {"organisation_id": org.id, "service_id": None, "title": f"{name} {n:02d}",
         "status": Status.nominations_open, "nominations_close_on": today,
         "voting_opens_on": today + timedelta(days=1),
         "voting_closes_on": today + timedelta(days=2)}
        for org, name, count in ((world.org, "Our election", 30),
                                 (strangers, "Their election", 5))
        for n in range(count)], ids=False)
    board = make_person(world.org, "Org Board", roles=[(Role.board, None)])
    db.session.commit()
    login(client, board)
    first = client.get("/elections/").text
    assert first.count("Our election") == 25 and "Their election" not in first
    assert "Our election 29" in first and "Page 1 of 2" in first
    second = client.get("/elections/?page=2").text
    assert second.count("Our election") == 5 and "Our election 00" in second


def test_newsletters_page_pages_its_issues_and_archives(app, client, world):
    bulk_insert(Service, [{"organisation_id": world.org.id, "name": f"Extra Home {n:02d}",
                           "slug": f"extra-home-{n}", "kind": ServiceKind.care_home}
                          for n in range(30)], ids=False)
    bulk_insert(Issue, [{"organisation_id": world.org.id, "service_id": world.home.id,
                         "title": f"Home news {n:02d}"} for n in range(30)], ids=False)
    admin = make_person(world.org, "Org Admin", roles=[(Role.admin, None)])
    db.session.commit()
    login(client, admin)
    first = client.get("/newsletters/").text
    assert first.count("Home news") == 2 * 25  # its title twice: the link and "Edit ..."
    assert first.count("/newsletters/services/extra-home-") == 25
    second = client.get("/newsletters/?page=2&archives=2").text
    assert second.count("Home news") == 2 * 5 and "Home news 00" in second
    assert "/newsletters/services/extra-home-29" in second
    assert "/newsletters/services/extra-home-00" not in second
