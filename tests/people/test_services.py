"""Services: create, edit, archive (never delete)."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.people.models import Service, ServiceKind
from involve.people.queries import active_services
from tests.conftest import login
from tests.people.helpers import org_admin


def test_admin_creates_and_edits_a_service(client, world):
    login(client, org_admin(world))
    response = client.post("/services/new", data={
        "name": "Elm Lodge", "kind": "day_centre", "address": "1 Elm Street"},
        follow_redirects=True)
    assert "Elm Lodge has been added." in response.text
    service = db.session.scalar(select(Service).where(Service.name == "Elm Lodge"))
    assert service.slug == "elm-lodge" and service.kind == ServiceKind.day_centre
    response = client.post(f"/services/{service.id}/edit", data={
        "name": "Elm Lodge Day Centre", "kind": "day_centre", "address": ""},
        follow_redirects=True)
    assert "Elm Lodge Day Centre is saved." in response.text
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"service.created", "service.edited"} <= actions


def test_service_bad_input_changes_nothing(client, world):
    login(client, org_admin(world))
    before = db.session.scalar(select(func.count(Service.id)))
    response = client.post("/services/new", data={"name": "", "kind": "care_home"})
    assert "Give the service a name." in response.text
    response = client.post("/services/new", data={"name": "Rose Court", "kind": "care_home"})
    assert "There is already a service called Rose Court." in response.text
    response = client.post("/services/new", data={"name": "Odd", "kind": "castle"})
    assert "Choose one of the options in the list." in response.text
    assert db.session.scalar(select(func.count(Service.id))) == before
    response = client.post(f"/services/{world.home.id}/edit", data={
        "name": "Willow House", "kind": "care_home"})
    assert "There is already a service called Willow House." in response.text
    db.session.refresh(world.home)
    assert world.home.name == "Rose Court"


def test_archived_services_leave_the_pickers(client, world):
    login(client, org_admin(world))
    response = client.post(f"/services/{world.away.id}/archive", follow_redirects=True)
    assert "Willow House is archived." in response.text
    db.session.refresh(world.away)
    assert world.away.is_archived and db.session.get(Service, world.away.id) is not None
    assert world.away not in active_services(world.org.id)
    assert "Willow House" not in client.get("/people/new").text
    person = world.people["service_user"]
    response = client.post(f"/people/{person.id}/roles", data={
        "role": "staff", "service": str(world.away.id)}, follow_redirects=True)
    assert "Choose one of your services" in response.text or "archived" in response.text
    response = client.post(f"/services/{world.away.id}/archive", follow_redirects=True)
    assert "already archived" in response.text
    response = client.post(f"/services/{world.away.id}/restore", follow_redirects=True)
    assert "Willow House is back in use." in response.text
    assert world.away in active_services(world.org.id)
