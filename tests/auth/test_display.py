"""Text size and contrast, remembered for each person."""

from __future__ import annotations

import re

from involve.extensions import db
from involve.people.models import User
from tests.auth.helpers import make_account
from tests.conftest import login


def test_settings_are_remembered_for_the_person_on_any_device(app, client):
    person = make_account()
    login(client, person)
    response = client.post("/display?next=/people", data={"text_size": "larger",
                                                           "high_contrast": "y"})
    assert response.headers["Location"] == "/people"
    db.session.refresh(person.user)
    assert (person.user.text_size, person.user.high_contrast) == ("larger", True)

    tablet = app.test_client()
    login(tablet, person)
    page = tablet.get("/display").get_data(as_text=True)
    assert '<html lang="en" class="text-larger contrast">' in page
    assert re.search(r'<input checked[^>]*value="larger"', page)


def test_a_visitor_who_is_not_signed_in_keeps_them_in_this_browser(app, client):
    client.post("/display", data={"text_size": "large"})
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en" class="text-large">' in page
    assert '<html lang="en" class="text-normal">' in app.test_client().get(
        "/sign-in").get_data(as_text=True)


def test_an_unknown_size_is_refused_and_nothing_changes(app, client):
    person = make_account()
    login(client, person)
    response = client.post("/display", data={"text_size": "enormous", "high_contrast": "y"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Choose one of the options in the list." in page
    # The error is joined to the group, and the summary links to its first choice.
    assert '<fieldset aria-describedby="text_size-error">' in page
    assert '<p class="error-message" id="text_size-error">' in page
    assert 'href="#text_size-0"' in page and 'id="text_size-0"' in page
    db.session.expire_all()
    user = db.session.get(User, person.user.id)
    assert (user.text_size, user.high_contrast) == ("normal", False)


def test_display_never_sends_people_off_the_site(app, client):
    response = client.post("/display?next=//evil.example", data={"text_size": "normal"})
    assert response.headers["Location"] == "/"


def test_mail_rendered_outside_a_request_uses_the_normal_display(app):
    from flask import render_template_string

    # The background worker renders mail with no request (and no visitor) at all.
    assert render_template_string("{{ text_size }} {{ high_contrast }}") == "normal False"
