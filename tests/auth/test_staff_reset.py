"""Password resets started by a manager or admin: they go to the owner, never to the actor."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from involve.extensions import db
from involve.people.models import Role, User
from tests.auth.helpers import accounts_snapshot, audit_actions, post_sign_in, session_row
from tests.conftest import login
from tests.factories import PASSWORD, make_person
from tests.people.helpers import org_admin

NEW_PASSWORD = "tea at four o'clock"


def _card_code(page: str) -> str:
    return re.search(r'class="invitation-code"><strong>([A-Z0-9]{4}-[A-Z0-9]{4})<',
                     page).group(1)


def _choose(client, url, password=NEW_PASSWORD):
    return client.post(url, data={"password": password, "confirm": password})


def test_a_manager_emails_a_service_user_a_reset_link(app, client, world, smtp_server):
    person = world.people["service_user"]
    owner = app.test_client()
    login(owner, person)  # signed in on their own tablet
    login(client, world.people["manager"])
    response = client.post(f"/people/{person.id}/password-reset", follow_redirects=True)
    assert "a link to choose a new password" in response.text
    [message] = smtp_server.wait_for(1)
    assert message["To"] == person.user.email  # the owner's address: the manager sees no link
    text = message.get_payload()[0].get_payload(decode=True).decode()
    assert "Manager Home started a password reset" in text
    link = urlsplit(re.search(r"https?://\S+/reset-password/\S+", text).group(0)).path
    assert link not in response.text
    assert audit_actions("password.reset_sent") == ["password.reset_sent"]
    # Nothing changes until the owner chooses: they are still signed in, the old password works.
    assert owner.get("/").status_code == 200
    assert db.session.get(User, person.user.id).check_password(PASSWORD)

    assert _choose(app.test_client(), link).headers["Location"] == "/sign-in"
    assert owner.get("/").status_code == 302  # the new password ended their sessions
    assert post_sign_in(app.test_client(), person.user.email, NEW_PASSWORD).status_code == 302


def test_a_manager_prints_a_reset_card_for_someone_without_email(app, client, world):
    person = make_person(world.org, "Ada Resident", email=None, username="ada",
                         roles=[(Role.service_user, world.home)])
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/people/{person.id}").text
    assert "Print a password reset card" in page and "Email a reset link" not in page
    assert "Send the invitation" not in page  # the account is in use: no invitations
    response = client.post(f"/people/{person.id}/reset-card")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "A new password for Involve, Ada" in response.text
    assert "large-print" in response.text and '<svg role="img"' in response.text
    assert "<strong>ada</strong>" in response.text
    code = _card_code(response.text)
    assert audit_actions("password.reset_card") == ["password.reset_card"]
    assert db.session.get(User, person.user.id).check_password(PASSWORD)  # not changed yet

    resident = app.test_client()
    assert resident.post("/invitation", data={"code": code.lower()}).status_code == 302
    assert "Choose a new password" in resident.get("/invitation/set-password").text
    response = _choose(resident, "/invitation/set-password")
    assert response.headers["Location"] == "/"
    assert "password.reset" in audit_actions()
    assert post_sign_in(app.test_client(), "ada", NEW_PASSWORD).status_code == 302
    # The card works once.
    again = app.test_client().post("/invitation", data={"code": code})
    assert "already been used" in again.text


def test_a_new_reset_card_cancels_the_last_one(client, world):
    person = world.people["service_user"]
    login(client, world.people["manager"])
    first = _card_code(client.post(f"/people/{person.id}/reset-card").text)
    client.post(f"/people/{person.id}/reset-card")
    response = client.application.test_client().post("/invitation", data={"code": first})
    assert "expired" in response.text


@pytest.mark.parametrize("role, scope", [
    ("manager", "home"), ("board", "home"), ("admin", "home"), ("board", "organisation"),
    ("admin", "organisation")])
@pytest.mark.parametrize("path", ["password-reset", "reset-card"])
def test_a_manager_cannot_reset_an_account_above_their_own(client, world, role, scope, path):
    # Another person than the manager, who also uses the manager's service (as a relative).
    target = make_person(world.org, "Higher Up", roles=[
        (Role(role), world.home if scope == "home" else None), (Role.family, world.home)])
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/people/{target.id}").text
    assert "Only someone who can give that role can invite them or reset their password" \
        in page
    before = accounts_snapshot()
    response = client.post(f"/people/{target.id}/{path}", follow_redirects=True)
    assert "Only someone who can give that role can change their account." in response.text
    assert accounts_snapshot() == before


def test_a_manager_cannot_invite_a_new_board_member_either(client, world, outbox):
    board = make_person(world.org, "New Director", account=False,
                        roles=[(Role.board, None), (Role.family, world.home)])
    db.session.commit()
    login(client, world.people["manager"])
    before = accounts_snapshot()
    response = client.post(f"/people/{board.id}/invitation-card", data={"username": "director"},
                           follow_redirects=True)
    assert "Board member (Whole organisation)" in response.text
    assert accounts_snapshot() == before and outbox == []


def test_an_admin_may_reset_a_manager(client, world, outbox):
    login(client, org_admin(world))
    response = client.post(f"/people/{world.people['manager'].id}/password-reset",
                           follow_redirects=True)
    assert "a link to choose a new password" in response.text
    assert [m["To"] for m in outbox] == [world.people["manager"].user.email]


def test_reset_refused_for_an_account_not_set_up_or_without_email(client, world, outbox):
    new = make_person(world.org, "Not Yet", account=False,
                      roles=[(Role.service_user, world.home)])
    no_email = make_person(world.org, "No Email", email=None, username="noemail",
                           roles=[(Role.service_user, world.home)])
    db.session.commit()
    login(client, world.people["manager"])
    before = accounts_snapshot()
    response = client.post(f"/people/{new.id}/reset-card", follow_redirects=True)
    assert "has not set up an account yet. Send an invitation instead." in response.text
    response = client.post(f"/people/{no_email.id}/password-reset", follow_redirects=True)
    assert "has no email address. Print a password reset card instead." in response.text
    assert accounts_snapshot() == before and outbox == []


def test_a_reset_card_ends_the_owners_other_sessions(app, client, world):
    person = world.people["service_user"]
    owner = app.test_client()
    login(owner, person)
    login(client, world.people["manager"])
    code = _card_code(client.post(f"/people/{person.id}/reset-card").text)
    resident = app.test_client()
    resident.post("/invitation", data={"code": code})
    _choose(resident, "/invitation/set-password")
    assert owner.get("/").status_code == 302
    assert session_row(owner) is None
    assert resident.get("/").status_code == 200  # the new sign-in stands
