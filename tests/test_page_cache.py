"""Kept pages (involve/page_cache.py): served again only while nothing they show has changed.

Every test here turns the cache on (the rest of the suite runs with it off) and looks at what
the next request answers, and how many statements it runs: a kept page costs one.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from involve import page_cache
from involve.extensions import db, huey, utcnow, with_app_context
from involve.newsletters.models import Audience, Issue, IssueStatus
from involve.people.models import Organisation, Person, Role, RoleGrant, UserSession
from tests.conftest import count_queries, login
from tests.factories import PASSWORD, make_org, make_person, make_service, make_strangers


@pytest.fixture
def kept(app):
    """The cache on, for this test only, and empty before and after."""
    app.config["PAGE_CACHE_SECONDS"] = 30
    page_cache.store().clear()
    yield page_cache.store()
    app.config["PAGE_CACHE_SECONDS"] = 0
    page_cache.store().clear()


def _home_kept(client) -> str:
    """Open the home page until it is kept; its text. The first view may set a CSRF token, the
    next notes what the page reads, the one after reads their versions first and is kept."""
    client.get("/")
    client.get("/")
    text = client.get("/").text
    db.session.expire_all()
    with count_queries() as counter:
        again = client.get("/")
    assert again.status_code == 200
    assert counter.count == 1, counter.statements
    assert again.text == text
    return text


def _two_homes_manager(app, world):
    """A client signed in as a manager of both services (so with a service switcher)."""
    manager = make_person(world.org, "Two Homes", roles=[(Role.manager, world.home),
                                                         (Role.manager, world.away)])
    db.session.commit()
    client = app.test_client()
    login(client, manager)
    return client


def _version(org: Organisation) -> int:
    return db.session.execute(select(Organisation.data_version)
                              .where(Organisation.id == org.id)).scalar_one()


@huey.task()
@with_app_context
def _rename_in_background(person_id: int, name: str) -> None:
    db.session.get(Person, person_id).preferred_name = name
    db.session.commit()


# --- the data version ------------------------------------------------------------------------

def test_a_write_raises_its_organisations_version_and_no_other(app, world):
    others = db.session.get(Organisation, make_strangers(world)["admin"].organisation_id)
    before, elsewhere = _version(world.org), _version(others)
    world.people["staff"].preferred_name = "Sam"
    db.session.commit()
    assert _version(world.org) == before + 1
    assert _version(others) == elsewhere


def test_new_rows_named_through_a_parent_raise_their_organisation(app, world):
    before = _version(world.org)
    db.session.add(RoleGrant(person_id=world.people["staff"].id, role=Role.family,
                             service_id=world.away.id, starts_on=utcnow().date()))
    db.session.commit()
    assert _version(world.org) == before + 1


def test_bulk_statements_raise_the_organisations_they_touch(app, world):
    others = db.session.get(Organisation, make_strangers(world)["admin"].organisation_id)
    elsewhere = _version(others)
    for statement in (update(Person).where(Person.id == world.people["staff"].id)
                      .values(preferred_name="Sam"),
                      delete(RoleGrant).where(RoleGrant.person_id == world.people["staff"].id)):
        before = _version(world.org)
        db.session.execute(statement)
        db.session.commit()
        assert _version(world.org) == before + 1
    assert _version(others) == elsewhere


def test_a_rolled_back_write_leaves_the_version(app, world):
    before = _version(world.org)
    world.people["staff"].preferred_name = "Sam"
    db.session.flush()
    db.session.rollback()
    assert _version(world.org) == before


def test_a_session_stamp_raises_no_version(app, world):
    login(app.test_client(), world.people["staff"])
    before = _version(world.org)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow()))
    for row in db.session.scalars(select(UserSession)):
        row.last_seen_at = utcnow()
    db.session.commit()
    assert _version(world.org) == before


# --- kept pages --------------------------------------------------------------------------------

def test_a_kept_page_runs_one_statement(app, world, kept):
    client = app.test_client()
    login(client, world.people["manager"])
    assert "Hello, " in _home_kept(client)


def test_a_write_by_anyone_on_any_page_is_seen_on_the_next_request(app, world, kept):
    viewer, admin = app.test_client(), app.test_client()
    login(viewer, world.people["staff"])
    login(admin, world.people["admin"])
    _home_kept(viewer)
    response = admin.post(f"/people/{world.people['staff'].id}/edit",
                          data={"full_name": world.people["staff"].full_name,
                                "preferred_name": "Sunny"})
    assert response.status_code == 302
    assert "Hello, Sunny" in viewer.get("/").text


def test_a_write_from_code_and_in_bulk_is_seen(app, world, kept):
    viewer = app.test_client()
    login(viewer, world.people["staff"])
    _home_kept(viewer)
    world.people["staff"].preferred_name = "Robin"
    db.session.commit()
    assert "Hello, Robin" in viewer.get("/").text
    _home_kept(viewer)
    db.session.execute(update(Person).where(Person.id == world.people["staff"].id)
                       .values(preferred_name="Ash"))
    db.session.commit()
    assert "Hello, Ash" in viewer.get("/").text


def test_a_write_by_a_background_task_is_seen(app, world, kept):
    viewer = app.test_client()
    login(viewer, world.people["staff"])
    _home_kept(viewer)
    _rename_in_background(world.people["staff"].id, "Kit")
    assert "Hello, Kit" in viewer.get("/").text


def test_a_role_taken_away_is_refused_at_once(app, world, kept):
    viewer = app.test_client()
    login(viewer, world.people["admin"])
    viewer.get("/people")
    assert viewer.get("/people").status_code == 200
    db.session.execute(delete(RoleGrant).where(RoleGrant.person_id == world.people["admin"].id))
    db.session.commit()
    assert viewer.get("/people").status_code == 403


def test_another_organisations_write_keeps_the_page(app, world, kept):
    strangers = make_strangers(world)
    viewer = app.test_client()
    login(viewer, world.people["staff"])
    _home_kept(viewer)
    strangers["staff"].preferred_name = "Elsewhere"
    db.session.commit()
    with count_queries() as counter:
        viewer.get("/")
    assert counter.count == 1


def test_no_account_is_given_another_ones_page(app, world, kept):
    first, second = app.test_client(), app.test_client()
    login(first, world.people["staff"])
    login(second, world.people["manager"])
    staff, manager = (f"Hello, {world.people[role].display_name}" for role in ("staff",
                                                                                 "manager"))
    assert staff in _home_kept(first)
    text = _home_kept(second)
    assert manager in text and staff not in text
    # Even the same person in another browser has pages of its own.
    third = app.test_client()
    login(third, world.people["staff"])
    third.get("/")
    with count_queries() as counter:
        third.get("/")
    assert counter.count > 1


def test_signing_out_ends_the_kept_pages_of_a_copied_cookie(app, world, kept):
    client = app.test_client()
    login(client, world.people["staff"])
    _home_kept(client)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    _home_kept(copy)
    assert client.post("/sign-out").status_code == 302
    response = copy.get("/")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_a_session_ended_elsewhere_or_left_idle_is_not_served(app, world, kept):
    client = app.test_client()
    login(client, world.people["staff"])
    _home_kept(client)
    db.session.execute(update(UserSession).values(
        last_seen_at=utcnow() - timedelta(minutes=app.config["IDLE_SIGN_OUT_MINUTES"] + 1)))
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/sign-in" in response.location

    login(client, world.people["staff"])
    _home_kept(client)
    db.session.execute(delete(UserSession))
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_flashed_messages_are_shown_and_never_kept(app, world, kept):
    client = _two_homes_manager(app, world)
    _home_kept(client)
    client.post("/switch-service", data={"service": str(world.away.id)})
    flashed = client.get("/").text
    assert "You are now looking at Willow House" in flashed
    assert "You are now looking at Willow House" not in client.get("/").text


def test_a_page_is_kept_only_for_a_while(app, world, kept, monkeypatch):
    client = app.test_client()
    login(client, world.people["staff"])
    _home_kept(client)
    later = page_cache.time.monotonic() + app.config["PAGE_CACHE_SECONDS"] + 1
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    with count_queries() as counter:
        client.get("/")
    assert counter.count > 1


def test_the_public_archive_is_kept_until_its_organisation_writes(app, world, kept):
    issue = Issue(organisation_id=world.org.id, title="Spring news", status=IssueStatus.published,
                  published_at=utcnow(), audiences=[Audience.public.value])
    db.session.add(issue)
    other = make_org("Elsewhere Trust")
    make_service(other, "Elsewhere Lodge")
    db.session.commit()
    path = f"/newsletters/organisations/{world.org.id}"
    visitor = app.test_client()

    def view() -> tuple[str, int]:
        db.session.expire_all()  # the page reads its rows, as in a request of its own
        with count_queries() as counter:
            text = visitor.get(path).text
        return text, counter.count

    assert "Spring news" in view()[0]
    view()
    view()
    assert view() == (view()[0], 1)
    other.name = "Elsewhere Care"
    db.session.commit()
    assert view()[1] == 1
    issue.title = "Summer news"
    db.session.commit()
    text, statements = view()
    assert "Summer news" in text and statements > 1


def test_rows_a_running_import_makes_live_raise_the_version(app, world):
    person = make_person(world.org, "Imported Person")
    person.import_id = 999
    db.session.commit()
    before = _version(world.org)
    db.session.execute(update(Person).where(Person.import_id == 999).values(import_id=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    assert _version(world.org) == before + 1


def test_a_form_on_a_kept_page_still_posts(app, world, kept):
    client = _two_homes_manager(app, world)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        text = _home_kept(client)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1)
        response = client.post("/switch-service", data={"csrf_token": token,
                                                        "service": str(world.away.id)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 302
    assert "You are now looking at Willow House" in client.get("/").text


def test_the_store_keeps_the_most_recent_pages_within_its_bounds(monkeypatch):
    monkeypatch.setattr(page_cache, "_MAX_BYTES", 250)
    store = page_cache.Store(3)
    for n in range(5):
        store.put(("page", n), page_cache.Kept((), 1, 0.0, b"x" * 100))
    assert list(store.pages) == [("page", 3), ("page", 4)] and store.bytes == 200
    store.put(("page", 4), page_cache.Kept((), 2, 0.0, b"x" * 10))
    assert store.bytes == 110
    for n in range(5, 9):
        store.put(("page", n), page_cache.Kept((), 1, 0.0, b"x"))
    assert len(store.pages) == 3


def test_signing_in_raises_only_ones_own_organisation(app, world):
    others = db.session.get(Organisation, make_strangers(world)["admin"].organisation_id)
    before, elsewhere = _version(world.org), _version(others)
    response = app.test_client().post("/sign-in", data={
        "sign_in": world.people["staff"].user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert _version(world.org) > before
    assert _version(others) == elsewhere
