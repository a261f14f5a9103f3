"""Subscribing with double opt-in, signed links, one-click unsubscribe and preferences."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db, limiter
from involve.newsletters import delivery, queries, services
from involve.newsletters.models import (
    IssueStatus,
    NewsletterPreference,
    Subscriber,
    Suppression,
    SuppressionReason,
)
from involve.people.models import Role
from tests.conftest import make_test_app
from tests.factories import make_person
from tests.newsletters.helpers import make_issue, make_subscriber


def _link(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://localhost(/newsletters/confirm/\S+)", text).group(1)


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_double_opt_in(client, world, outbox):
    page = client.get(f"/newsletters/services/{world.home.slug}")
    assert b"Get the newsletter by email" in page.data
    response = client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                           data={"email": "Aunt.May@Example.org", "name": "May"})
    assert b"Check your email" in response.data
    subscriber = db.session.scalar(select(Subscriber))
    assert subscriber.email == "aunt.may@example.org" and subscriber.confirmed_at is None
    assert len(outbox) == 1 and outbox[0]["To"] == "aunt.may@example.org"
    link = _link(outbox[0])
    page = client.get(link)  # a mail scanner following the link changes nothing
    assert b"Yes, send me the newsletter" in page.data
    db.session.refresh(subscriber)
    assert subscriber.confirmed_at is None
    response = client.post(link, follow_redirects=True)
    assert b"you will get the newsletter by email" in response.data
    db.session.refresh(subscriber)
    assert subscriber.confirmed_at is not None
    issue = make_issue(world, audiences=["public"], status=IssueStatus.published)
    assert [r.email for r in queries.recipients(issue)] == ["aunt.may@example.org"]
    response = client.post(link, follow_redirects=True)
    assert b"already confirmed" in response.data


@pytest.mark.parametrize("address", ["not-an-address", "a@", "", "two@@example.org"])
def test_invalid_address_is_refused(client, world, outbox, address):
    response = client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                           data={"email": address})
    assert response.status_code == 400
    assert b"email address" in response.data
    assert _count(Subscriber) == 0 and outbox == []


def test_duplicate_subscription_is_refused(client, world, outbox):
    make_subscriber(world.home, "friend@example.org")
    db.session.commit()
    response = client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                           data={"email": "Friend@example.org"})
    assert response.status_code == 400
    assert b"already subscribed" in response.data
    assert _count(Subscriber) == 1 and outbox == []


def test_unconfirmed_subscription_asked_again_sends_the_link_again(client, world, outbox):
    for _ in range(2):
        client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                    data={"email": "friend@example.org"})
    assert _count(Subscriber) == 1 and len(outbox) == 2


def _old_token(app, fn, *args, days: int):
    # Make the token as if it had been made ``days`` ago.
    original = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: int(time.time()) - days * 86400
    try:
        return fn(*args)
    finally:
        TimestampSigner.get_timestamp = original


def test_expired_or_tampered_confirmation_link(app, client, world):
    subscriber = make_subscriber(world.home, "late@example.org", confirmed=False)
    db.session.commit()
    expired = _old_token(app, services.confirm_token, subscriber, days=4)
    for token, words in ((expired, b"has expired"), (expired[:-3] + "abc", b"not valid"),
                         ("rubbish", b"not valid")):
        for method in ("GET", "POST"):
            response = client.open(f"/newsletters/confirm/{token}", method=method)
            assert response.status_code == 400 and words in response.data
            assert b"Nothing has been changed" in response.data
    db.session.refresh(subscriber)
    assert subscriber.confirmed_at is None


def test_unsubscribe_get_shows_a_button_and_post_unsubscribes_without_csrf(app, world,
                                                                           database_url):
    address = world.people["family"].user.email
    token = services.recipient_token(world.org.id, address)
    db.session.commit()
    csrf_app = make_test_app(database_url, app.instance_path, WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    page = client.get(f"/newsletters/unsubscribe/{token}")
    assert page.status_code == 200 and b"Unsubscribe</button>" in page.data
    assert _count(Suppression) == 0
    response = client.post(f"/newsletters/unsubscribe/{token}",
                           data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"You are unsubscribed" in response.data
    db.session.expire_all()
    suppression = db.session.scalar(select(Suppression))
    assert suppression.email == address and suppression.reason == SuppressionReason.unsubscribed
    # Posting again is harmless, and the address is left out of the next send.
    assert client.post(f"/newsletters/unsubscribe/{token}").status_code == 200
    assert _count(Suppression) == 1
    issue = make_issue(world, status=IssueStatus.published)
    assert address not in {r.email for r in queries.recipients(issue)}
    # Other forms still need their token.
    other = client.post(
        f"/newsletters/preferences/{services.recipient_token(world.org.id, address)}",
        data={"receive_email": "y"})
    assert other.status_code == 400
    db.session.expire_all()
    assert _count(Suppression) == 1


def test_links_never_expire_and_hide_the_address_and_tampered_ones_change_nothing(
        app, client, world):
    address = world.people["family"].user.email
    key = services.recipient_token(world.org.id, address)
    db.session.commit()
    assert "family" not in key and "@" not in key and "." not in key
    assert services.recipient_token(world.org.id, address) == key  # one key per address
    # A link of an email sent 400 days ago, before keys: still works, and moves to the key.
    old = _old_token(app, lambda: services.RECIPIENT_LINK.make(
        services.base64.urlsafe_b64encode(address.encode()).rstrip(b"=")), days=400)
    page = client.get(f"/newsletters/preferences/{old}")
    assert page.status_code == 307 and page.headers["Location"].endswith(key)
    tampered = [key[:-2] + ("xx" if not key.endswith("xx") else "yy"), old[:-2] + "xx",
                "rubbish"]
    for token in tampered:
        response = client.post(f"/newsletters/unsubscribe/{token}")
        assert response.status_code == 400 and b"Nothing has been changed" in response.data
    for method in ("GET", "POST"):
        test_link = client.open("/newsletters/unsubscribe/TEST?list=organisation",
                                method=method)
        assert test_link.status_code == 200 and b"test email" in test_link.data
    assert _count(Suppression) == 0
    assert client.post(f"/newsletters/unsubscribe/{old}").status_code == 200
    assert queries.is_suppressed(world.org.id, address)


def test_preferences_page_stops_and_restarts_email_and_asks_for_print(client, world):
    address = world.people["family"].user.email
    token = services.recipient_token(world.org.id, address)
    db.session.commit()
    page = client.get(f"/newsletters/preferences/{token}")
    assert page.status_code == 200 and address.encode() in page.data
    client.post(f"/newsletters/preferences/{token}", data={"wants_print": "y"})
    assert queries.is_suppressed(world.org.id, address)
    preference = db.session.scalar(select(NewsletterPreference))
    assert preference.wants_print
    issue = make_issue(world, audiences=["families"])
    assert world.people["family"].full_name in {c.person.full_name
                                                for c in queries.print_list(issue)}
    client.post(f"/newsletters/preferences/{token}", data={"newsletters": ["organisation"]})
    assert not queries.is_suppressed(world.org.id, address)
    assert client.get("/newsletters/preferences/tampered").status_code == 400


def test_a_hard_bounced_address_cannot_simply_opt_back_in(client, world):
    address = world.people["family"].user.email
    delivery.suppress(world.org.id, address, SuppressionReason.hard_bounce, "550")
    token = services.recipient_token(world.org.id, address)
    db.session.commit()
    response = client.post(f"/newsletters/preferences/{token}",
                           data={"newsletters": ["organisation"]}, follow_redirects=True)
    assert b"could not be delivered" in response.data
    assert queries.is_suppressed(world.org.id, address)


def test_subscribe_form_is_rate_limited(app, world, outbox, database_url):
    limited = make_test_app(database_url, app.instance_path, RATELIMIT_ENABLED=True,
                            NEWSLETTER_SUBSCRIBE_LIMIT="2 per minute")
    try:
        client = limited.test_client()
        codes = [client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                             data={"email": f"p{i}@example.org"}).status_code
                 for i in range(3)]
    finally:
        # The limiter is one object shared by every app; leave it as the other tests expect.
        limiter.reset()
        limiter.enabled = False
    assert codes == [200, 200, 429]
    db.session.expire_all()
    assert _count(Subscriber) == 2


def test_people_with_accounts_are_not_asked_to_subscribe(world):
    staff = make_person(world.org, "Staff Two", email="s2@test.example",
                        roles=[(Role.staff, world.home)])
    issue = make_issue(world, audiences=["staff"])
    assert staff.user.email in {r.email for r in queries.recipients(issue)}


def test_subscribing_is_audited_without_the_address(client, world):
    client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                data={"email": "secret@example.org"})
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "newsletter.subscribe_requested"))
    assert event is not None and "secret@example.org" not in str(event.details)


def test_confirmation_email_refused_by_the_server_says_so(client, world, smtp_server):
    smtp_server.refuse.add("nobody@example.org")
    response = client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                           data={"email": "nobody@example.org"})
    assert response.status_code == 503
    assert b"could not send the confirmation email" in response.data
    assert db.session.scalar(select(Subscriber)).confirmed_at is None
