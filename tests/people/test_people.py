"""People pages: adding, roles, family links, needs, status, the switcher and the home panel."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.people.models import (
    CommunicationNeeds,
    FamilyLink,
    Person,
    PersonStatus,
    Role,
    RoleGrant,
)
from involve.permissions import can, load_actor
from tests.conftest import count_queries, login
from tests.factories import make_person


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_manager_adds_a_person_with_a_role_in_their_service(client, world):
    login(client, world.people["manager"])
    response = client.post("/people/new", data={
        "full_name": "Norah Quinn", "preferred_name": "Norah", "role": "service_user",
        "service": str(world.home.id)}, follow_redirects=True)
    assert "Norah Quinn has been added." in response.text
    person = db.session.scalar(select(Person).where(Person.full_name == "Norah Quinn"))
    assert [(g.role, g.service_id) for g in person.grants] == [(Role.service_user, world.home.id)]
    assert _audit("person.added") and _audit("role.granted")


def test_add_person_bad_input_changes_nothing(client, world):
    login(client, world.people["manager"])
    before = _count(Person)
    response = client.post("/people/new", data={"full_name": "", "role": "service_user",
                                                "service": str(world.home.id)})
    assert "Give the person&#39;s full name." in response.text
    # A manager may not add an administrator: the person is not kept either.
    response = client.post("/people/new", data={"full_name": "Sly Admin", "role": "admin",
                                                "service": str(world.home.id)})
    assert "You cannot grant the role Administrator" in response.text
    # Nor put someone in a service they do not manage.
    response = client.post("/people/new", data={"full_name": "Elsewhere", "role": "staff",
                                                "service": str(world.away.id)})
    assert response.status_code == 200 and "Choose one of the options in the list." in response.text
    assert _count(Person) == before
    assert not _audit("person.added")


def test_manager_cannot_grant_admin_or_manager(client, world):
    login(client, world.people["manager"])
    person = world.people["service_user"]
    for role in ("admin", "manager", "board"):
        response = client.post(f"/people/{person.id}/roles", data={
            "role": role, "service": str(world.home.id)}, follow_redirects=True)
        assert "You cannot grant the role" in response.text
    response = client.post(f"/people/{person.id}/roles", data={"role": "partner", "service": ""},
                           follow_redirects=True)
    assert "Choose one of your services" in response.text
    assert len(db.session.scalars(select(RoleGrant).where(
        RoleGrant.person_id == person.id)).all()) == 1
    assert not _audit("role.granted")


def test_manager_grants_staff_and_admin_grants_anything(client, world):
    person = world.people["family"]
    login(client, world.people["manager"])
    response = client.post(f"/people/{person.id}/roles", data={
        "role": "staff", "service": str(world.home.id)}, follow_redirects=True)
    assert "is now Staff (Rose Court)" in response.text
    login(client, world.people["admin"])
    response = client.post(f"/people/{person.id}/roles", data={
        "role": "manager", "service": str(world.home.id)}, follow_redirects=True)
    assert "is now Manager (Rose Court)" in response.text
    roles = {g.role for g in db.session.scalars(select(RoleGrant).where(
        RoleGrant.person_id == person.id))}
    assert roles == {Role.family, Role.staff, Role.manager}
    # The same role twice is refused.
    response = client.post(f"/people/{person.id}/roles", data={
        "role": "manager", "service": str(world.home.id)}, follow_redirects=True)
    assert "already has that role" in response.text
    assert len(_audit("role.granted")) == 2


def test_ending_a_role_keeps_it_as_history(client, world):
    login(client, world.people["manager"])
    person = world.people["staff"]
    grant = person.grants[0]
    response = client.post(f"/people/{person.id}/roles/{grant.id}/end", data={
        "ends_on": (grant.starts_on - timedelta(days=1)).isoformat()}, follow_redirects=True)
    assert "cannot end before it starts" in response.text
    db.session.refresh(grant)
    assert grant.ends_on is None
    response = client.post(f"/people/{person.id}/roles/{grant.id}/end",
                           data={"ends_on": date.today().isoformat()}, follow_redirects=True)
    assert "ends on" in response.text
    db.session.refresh(grant)
    assert grant.ends_on == date.today()
    assert db.session.get(RoleGrant, grant.id) is not None
    event = _audit("role.ended")[0]
    assert event.subject_id == person.id and event.details["role"] == "staff"


def test_manager_cannot_end_a_manager_role(client, world):
    other = make_person(world.org, "Second Manager", roles=[(Role.manager, world.home)])
    login(client, world.people["manager"])
    grant = other.grants[0]
    response = client.post(f"/people/{other.id}/roles/{grant.id}/end", data={},
                           follow_redirects=True)
    assert "You cannot end the role Manager" in response.text
    db.session.refresh(grant)
    assert grant.ends_on is None


def test_family_links(client, world):
    login(client, world.people["manager"])
    resident = world.people["service_user"]
    relative = make_person(world.org, "Kath Relative", roles=[(Role.family, world.home)])
    db.session.commit()
    response = client.post(f"/people/{resident.id}/family", data={
        "family_person": str(relative.id), "relationship": ""}, follow_redirects=True)
    assert "Say how they are related." in response.text
    response = client.post(f"/people/{resident.id}/family", data={
        "family_person": str(world.outsiders["family"].id), "relationship": "Son"},
        follow_redirects=True)
    assert "Choose one of the options in the list." in response.text
    assert _count(FamilyLink) == 1
    response = client.post(f"/people/{resident.id}/family", data={
        "family_person": str(relative.id), "relationship": "Niece"}, follow_redirects=True)
    assert "Kath Relative is linked" in response.text
    link = db.session.scalar(select(FamilyLink).where(FamilyLink.family_person_id == relative.id))
    assert link.relationship_label == "Niece"
    response = client.post(f"/people/{resident.id}/family/{link.id}/remove",
                           follow_redirects=True)
    assert "The family link is removed." in response.text
    assert _count(FamilyLink) == 1
    assert _audit("family.linked") and _audit("family.unlinked")


def test_communication_needs(client, world):
    resident = world.people["service_user"]
    helper = world.people["staff"]
    login(client, world.people["manager"])
    response = client.post(f"/people/{resident.id}/needs", data={
        "formats": ["large_print", "help_from_person"], "helper": "", "notes": "Mornings"})
    assert "Name the person who helps" in response.text
    assert _count(CommunicationNeeds) == 0
    response = client.post(f"/people/{resident.id}/needs", data={
        "formats": ["large_print", "help_from_person"], "helper": str(helper.id),
        "notes": "Best in the mornings"}, follow_redirects=True)
    assert "The communication needs are saved." in response.text
    assert "Large print" in response.text and "Helped by Staff Home" in response.text
    needs = db.session.scalar(select(CommunicationNeeds))
    assert needs.formats == ["large_print", "help_from_person"] and needs.helper_id == helper.id
    event = _audit("needs.changed")[0]
    assert "large_print" not in str(event.details)  # special-category data stays out of the log


def test_needs_are_shown_only_to_those_who_may_see_them(client, world):
    resident = make_person(world.org, "Needs Person", roles=[(Role.service_user, world.home)],
                           needs=["bsl"])
    db.session.commit()
    for role in ("admin", "manager", "staff"):
        assert can("people.view_needs", resident, actor=load_actor(world.people[role]))
    for role in ("service_user", "family", "partner", "board"):
        assert not can("people.view_needs", resident, actor=load_actor(world.people[role]))
    for role in ("manager", "staff"):
        assert not can("people.view_needs", resident, actor=load_actor(world.outsiders[role]))
    login(client, world.people["manager"])
    assert "British Sign Language" in client.get(f"/people/{resident.id}").text
    login(client, world.people["staff"])
    response = client.get(f"/people/{resident.id}")
    assert response.status_code == 403 and "British Sign Language" not in response.text


def test_status_left_and_back(client, world):
    login(client, world.people["manager"])
    person = world.people["family"]
    response = client.post(f"/people/{person.id}/status", data={"status": "gone"},
                           follow_redirects=True)
    assert "Choose one of the options in the list." in response.text
    response = client.post(f"/people/{person.id}/status", data={"status": "left"},
                           follow_redirects=True)
    assert "as having left" in response.text
    db.session.refresh(person)
    assert person.status == PersonStatus.left and not person.user.is_active
    response = client.post(f"/people/{person.id}/status", data={"status": "left"},
                           follow_redirects=True)
    assert "already marked left" in response.text
    assert len(_audit("person.status_changed")) == 1


def test_edit_names(client, world):
    login(client, world.people["manager"])
    person = world.people["service_user"]
    response = client.post(f"/people/{person.id}/edit", data={"full_name": " "})
    assert "Give the person&#39;s full name." in response.text
    response = client.post(f"/people/{person.id}/edit", data={
        "full_name": "Ada Byron", "preferred_name": "Ada"}, follow_redirects=True)
    assert "The details are saved." in response.text
    db.session.refresh(person)
    assert (person.full_name, person.display_name) == ("Ada Byron", "Ada")


def test_people_list_search_status_and_scope(client, world):
    login(client, world.people["manager"])
    text = client.get("/people").text
    assert "Staff Home" in text and "Staff Away" not in text
    assert "Family or carer Home" in client.get("/people?q=family").text
    assert "Staff Home" not in client.get("/people?q=family").text
    assert "Nobody matches" in client.get("/people?status=left").text


def test_people_list_runs_a_bounded_number_of_statements(client, world):
    login(client, world.people["admin"])
    client.get("/people")
    for n in range(60):
        make_person(world.org, f"Extra {n:02d}", roles=[(Role.service_user, world.home),
                                                        (Role.staff, world.away)],
                    needs=["audio"])
    db.session.commit()
    with count_queries() as few:
        assert client.get("/people").status_code == 200
    with count_queries() as more:
        response = client.get("/people?page=2")
    assert "Extra" in response.text
    assert few.count <= 12 and more.count <= 12, few.statements


def test_service_switcher(client, world):
    from involve.people.queries import current_service_id

    person = make_person(world.org, "Two Homes", roles=[(Role.manager, world.home),
                                                        (Role.manager, world.away)])
    login(client, person)
    assert "Service you are looking at" in client.get("/").text
    response = client.post("/switch-service", data={"service": str(world.away.id)},
                           follow_redirects=True)
    assert "You are now looking at Willow House." in response.text
    with client.session_transaction() as session:
        assert session["current_service_id"] == world.away.id
    with client:
        client.get("/")
        assert current_service_id() == world.away.id
    response = client.post("/switch-service", data={"service": "999999"},
                           follow_redirects=True)
    assert "Choose one of your services." in response.text
    with client.session_transaction() as session:
        assert session["current_service_id"] == world.away.id
    # One service only: no switcher, and that service is the current one.
    login(client, world.people["staff"])
    assert "Service you are looking at" not in client.get("/").text
    with client:
        client.get("/")
        assert current_service_id() == world.home.id


def test_home_panel_for_managers_and_admins(client, world):
    login(client, world.people["manager"])
    text = client.get("/").text
    assert "Invitations not yet used" in text and "Service user" in text
    login(client, world.people["family"])
    assert "Invitations not yet used" not in client.get("/").text


def test_removing_a_family_link_twice_is_harmless(client, world):
    login(client, world.people["manager"])
    resident = world.people["service_user"]
    link = db.session.scalar(select(FamilyLink))
    client.post(f"/people/{resident.id}/family/{link.id}/remove")
    response = client.post(f"/people/{resident.id}/family/{link.id}/remove",
                           follow_redirects=True)
    assert "already been removed" in response.text
    assert _count(FamilyLink) == 0
    assert len(_audit("family.unlinked")) == 1


def _main_nav(page: str) -> str:
    start = page.index('<nav aria-label="Main">')
    return page[start:page.index("</nav>", start)]


def test_navigation_follows_the_role(client, world):
    expected = {
        "admin": {"People", "Services", "Audit log"},
        "manager": {"People"},
        "staff": set(),
        "family": set(),
        "service_user": set(),
    }
    for role, shown in expected.items():
        login(client, world.people[role])
        nav = _main_nav(client.get("/").text)
        assert ">Home</a>" in nav and "Sign out" in nav, role
        for label in ("People", "Services", "Audit log"):
            assert (f">{label}</a>" in nav) == (label in shown), (role, label)
    client.post("/sign-out")
    nav = _main_nav(client.get("/sign-in").text)
    assert ">Sign in</a>" in nav and ">Home</a>" not in nav and ">People</a>" not in nav
