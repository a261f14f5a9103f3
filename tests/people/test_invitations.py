"""Inviting people: by email (a real SMTP server) or with a printed card."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from involve.extensions import db
from involve.people.models import Invitation
from tests.conftest import login
from tests.factories import make_person


def test_invite_by_email_sends_a_working_link(client, world, smtp_server):
    person = make_person(world.org, "New Resident", account=False,
                         roles=[(world.people["service_user"].grants[0].role, world.home)])
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/people/{person.id}/invite", data={"email": "new@example.org"},
                           follow_redirects=True)
    assert "We have emailed an invitation to new@example.org." in response.text
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "new@example.org"
    body = message.get_payload()[0].get_payload(decode=True).decode()
    url = re.search(r"(http://\S+/invitation/\S+)", body).group(1)
    link = urlsplit(url).path
    anonymous = client.application.test_client()
    page = anonymous.get(link)
    assert page.status_code == 200
    page = anonymous.post(link, data={"password": "a long password", "confirm":
                                      "a long password"}, follow_redirects=True)
    assert "Your account is ready." in page.text
    db.session.refresh(person)
    assert person.user.email == "new@example.org" and person.user.check_password(
        "a long password")


def test_invite_bad_input(client, world, outbox):
    login(client, world.people["manager"])
    person = make_person(world.org, "Not Yet", account=False,
                         roles=[(world.people["service_user"].grants[0].role, world.home)])
    db.session.commit()
    response = client.post(f"/people/{person.id}/invite", data={"email": "not-an-email"},
                           follow_redirects=True)
    assert "That is not an email address." in response.text
    response = client.post(f"/people/{person.id}/invite", data={
        "email": world.people["staff"].user.email}, follow_redirects=True)
    assert "That email is already used by someone else." in response.text
    assert db.session.scalar(select(func.count(Invitation.id))) == 0
    assert outbox == []


def test_invitation_card_has_code_and_qr(client, world):
    person = make_person(world.org, "Card Person", account=False,
                         roles=[(world.people["service_user"].grants[0].role, world.home)])
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/people/{person.id}/invitation-card", data={"username": "cardp"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = response.text
    assert "large-print" in text and '<svg role="img"' in text and "<title>QR code" in text
    code = re.search(r'class="invitation-code"><strong>([A-Z0-9]{4}-[A-Z0-9]{4})<', text).group(1)
    from involve.auth.services import invitation_from_code

    assert invitation_from_code(code).user.username == "cardp"
    response = client.post(f"/people/{person.id}/invitation-card", data={"username": ""},
                           follow_redirects=True)
    assert "Give a username." in response.text
    assert db.session.scalar(select(func.count(Invitation.id))) == 1
