"""Invitations: by signed link (email) and by the code on a printed card."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from involve.auth import services
from involve.extensions import db, utcnow
from involve.people.models import Invitation, Organisation, Person, Role, User
from tests import factories
from tests.auth.helpers import (
    accounts_snapshot,
    audit_actions,
    count,
    post_sign_in,
    signed_in_person_id,
)
from tests.conftest import login

NEW_PASSWORD = "a walk by the river"


@pytest.fixture
def invited(app):
    """An admin and a newcomer invited by email; returns (person, invitation, code)."""
    org = factories.make_org()
    home = factories.make_service(org)
    admin = factories.make_person(org, "Alex Admin", roles=[(Role.admin, None)])
    person = factories.make_person(org, "Nora Newcomer", roles=[(Role.family, home)],
                                   account=False)
    invitation, code = services.invite(person, email=" Nora@Test.Example ", username=None,
                                       by=admin)
    db.session.commit()
    return person, invitation, code


def _choose(client, url, password=NEW_PASSWORD, confirm=None):
    return client.post(url, data={"password": password,
                                  "confirm": password if confirm is None else confirm})


def test_invite_makes_an_account_without_a_password(invited):
    person, invitation, code = invited
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)
    assert person.user.email == "nora@test.example"
    assert person.user.password_hash is None
    assert not person.user.is_active
    assert code not in invitation.code_hash  # only the hash is kept
    assert audit_actions() == ["invitation.created"]


def test_accept_by_link_sets_the_password_and_signs_in(app, client, invited):
    person, invitation, code = invited
    url = f"/invitation/{services.invitation_token(invitation, code)}"
    page = client.get(url).get_data(as_text=True)
    assert "Welcome, Nora" in page
    assert "nora@test.example" in page

    response = _choose(client, url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_person_id(client) == str(person.user.id)
    db.session.refresh(invitation)
    assert invitation.accepted_at is not None
    assert audit_actions() == ["invitation.created", "invitation.accepted"]

    other = app.test_client()
    assert post_sign_in(other, "nora@test.example", NEW_PASSWORD).status_code == 302


def test_a_link_used_twice_says_so_and_changes_nothing(app, client, invited):
    person, invitation, code = invited
    url = f"/invitation/{services.invitation_token(invitation, code)}"
    _choose(client, url)
    first_hash = db.session.get(User, person.user.id).password_hash

    stranger = app.test_client()
    response = stranger.get(url)
    assert response.status_code == 400
    assert "already been used" in response.get_data(as_text=True)
    response = _choose(stranger, url, "a different password")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, person.user.id).password_hash == first_hash
    assert signed_in_person_id(stranger) is None


def test_a_tampered_link_is_refused(client, invited):
    _person, invitation, code = invited
    token = services.invitation_token(invitation, code)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "not-a-token",
                services.invitation_token(invitation, "ABCD-EFGH")):
        response = client.get(f"/invitation/{bad}")
        assert response.status_code == 400
    assert "not valid" in client.get("/invitation/not-a-token").get_data(as_text=True)


def test_an_expired_invitation_is_refused_by_link_and_by_code(app, client, invited):
    person, invitation, code = invited
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    url = f"/invitation/{services.invitation_token(invitation, code)}"
    response = _choose(client, url)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    response = client.post("/invitation", data={"code": code})
    assert "This invitation has expired. Ask for a new one." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.user.id).password_hash is None


def test_a_link_older_than_the_limit_is_refused_even_if_the_row_says_open(app, client, invited):
    _person, invitation, code = invited
    app.config["INVITATION_MAX_AGE_DAYS"] = 0
    try:
        token = services.invitation_token(invitation, code)
        time.sleep(1.1)  # itsdangerous counts whole seconds
        response = client.get(f"/invitation/{token}")
    finally:
        app.config["INVITATION_MAX_AGE_DAYS"] = 14
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_accept_by_card_code(app, client):
    org = factories.make_org()
    home = factories.make_service(org)
    admin = factories.make_person(org, roles=[(Role.admin, None)])
    ada = factories.make_person(org, "Ada Lovelace", roles=[(Role.service_user, home)],
                                account=False)
    invitation, code = services.invite(ada, email=None, username="Ada", by=admin)
    db.session.commit()

    # Codes are typed however people type them: lower case, spaces, no dash.
    typed = code.replace("-", " ").lower()
    response = client.post("/invitation", data={"code": typed})
    assert response.headers["Location"] == "/invitation/set-password"
    page = client.get("/invitation/set-password").get_data(as_text=True)
    assert "Welcome, Ada" in page and "<strong>ada</strong>" in page

    response = _choose(client, "/invitation/set-password")
    assert response.status_code == 302
    db.session.refresh(invitation)
    assert invitation.accepted_at is not None
    assert post_sign_in(app.test_client(), "ada", NEW_PASSWORD).status_code == 302

    # The card cannot be used again.
    again = app.test_client()
    response = again.post("/invitation", data={"code": code})
    assert "already been used" in response.get_data(as_text=True)
    assert again.get("/invitation/set-password").headers["Location"] == "/invitation"


def test_a_wrong_code_says_so(client, invited):
    response = client.post("/invitation", data={"code": "ZZZZ-ZZZZ"})
    assert "We do not recognise that code" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "invitation_id" not in session


def test_set_password_page_needs_a_code_first(client, invited):
    response = client.get("/invitation/set-password")
    assert response.headers["Location"] == "/invitation"


def test_a_card_that_expires_while_in_use_is_refused(client, invited):
    _person, invitation, code = invited
    client.post("/invitation", data={"code": code})
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = _choose(client, "/invitation/set-password")
    assert response.headers["Location"] == "/invitation"
    db.session.refresh(invitation)
    assert invitation.accepted_at is None


@pytest.mark.parametrize("password, confirm, message", [
    ("short", "short", "Use at least 8 characters."),
    (NEW_PASSWORD, "something else", "The two passwords are not the same."),
    ("", "", "Choose a password."),
])
def test_a_bad_password_is_explained_and_nothing_changes(client, invited, password, confirm,
                                                         message):
    person, invitation, code = invited
    url = f"/invitation/{services.invitation_token(invitation, code)}"
    response = _choose(client, url, password, confirm)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.user.id).password_hash is None
    assert db.session.get(Invitation, invitation.id).accepted_at is None


def test_a_new_invitation_replaces_the_open_one(app, client, invited):
    person, old, old_code = invited
    admin_id = old.created_by_id
    new, new_code = services.invite(person, email="nora@test.example", username=None,
                                    by=db.session.get(Person, admin_id))
    db.session.commit()
    response = client.post("/invitation", data={"code": old_code})
    assert "expired" in response.get_data(as_text=True)
    assert client.post("/invitation", data={"code": new_code}).status_code == 302
    assert count(User) == 2  # the admin and Nora: no second account


def test_invite_refuses_a_name_someone_else_has(app, invited):
    person, invitation, _code = invited
    other = factories.make_person(db.session.get(Organisation, person.organisation_id),
                                  account=False)
    before = count(Invitation)
    with pytest.raises(services.AuthError, match="email is already used"):
        services.invite(other, email="NORA@test.example", username=None, by=person)
    with pytest.raises(services.AuthError, match="Give an email address or a username"):
        services.invite(other, email=" ", username="", by=person)
    assert count(Invitation) == before


# --- an invitation never takes over an account in use -----------------------------------------

def _set_up_elsewhere(person) -> None:
    """The account got a password while the invitation stayed open (as before this rule)."""
    person.user.set_password("the owner's own password")
    db.session.commit()


def test_an_open_invitation_link_cannot_reset_an_account_in_use(app, client, invited):
    person, invitation, code = invited
    _set_up_elsewhere(person)
    url = f"/invitation/{services.invitation_token(invitation, code)}"
    before = accounts_snapshot()
    response = client.get(url)
    assert response.status_code == 400
    assert "This account is already set up." in response.text
    response = _choose(client, url)
    assert response.status_code == 400
    assert accounts_snapshot() == before
    assert signed_in_person_id(client) is None
    assert db.session.get(User, person.user.id).check_password("the owner's own password")


def test_an_open_invitation_card_cannot_reset_an_account_in_use(app, client, invited):
    person, invitation, code = invited
    client.post("/invitation", data={"code": code})  # typed while the account was new
    _set_up_elsewhere(person)
    before = accounts_snapshot()
    response = _choose(client, "/invitation/set-password")
    assert response.headers["Location"] == "/invitation"
    response = client.post("/invitation", data={"code": code})
    assert "This account is already set up." in response.text
    assert accounts_snapshot() == before
    assert signed_in_person_id(client) is None


def test_an_account_whose_password_was_removed_still_cannot_be_invited(app, invited):
    person, invitation, code = invited
    _set_up_elsewhere(person)
    person.user.password_hash = None  # it has had one: that is enough
    db.session.commit()
    with pytest.raises(services.AuthError, match="already set up"):
        services.invitation_from_code(code)
    with pytest.raises(services.AuthError, match="already set up their account"):
        services.invite(person, email="nora@test.example", username=None, by=person)


@pytest.mark.parametrize("path, data", [
    ("invitation-card", {"username": "taken.over"}),
    ("invite", {"email": "attacker@evil.example"}),
])
def test_issuing_an_invitation_for_an_account_in_use_is_refused(client, world, outbox, path,
                                                                data):
    person = world.people["service_user"]
    login(client, world.people["manager"])
    before = accounts_snapshot()
    response = client.post(f"/people/{person.id}/{path}", data=data, follow_redirects=True)
    assert "has already set up their account, so an invitation cannot be used" in response.text
    assert "start a password reset" in response.text
    assert accounts_snapshot() == before
    assert outbox == []
