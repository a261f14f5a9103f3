"""The organisation boundary for newsletter addresses: one address, two organisations."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.extensions import db
from involve.newsletters import delivery, queries, services
from involve.newsletters.models import IssueStatus, NewsletterPreference, Suppression
from tests.factories import make_org, make_service
from tests.newsletters.helpers import make_issue, make_subscriber

SHARED = "shared@example.org"


def _two_organisations(world):
    """The same address subscribed to a home of ``world.org`` and of a second organisation."""
    other = make_org("Elmfield Trust")
    lodge = make_service(other, "Elm Lodge")
    make_subscriber(world.home, SHARED)
    make_subscriber(lodge, SHARED)
    ours = make_issue(world, audiences=["public"], status=IssueStatus.published)
    theirs = make_issue(world, audiences=["public"], status=IssueStatus.published)
    theirs.organisation_id, theirs.service_id = other.id, lodge.id
    db.session.commit()
    return other, lodge, ours, theirs


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_unsubscribing_from_one_organisation_leaves_the_other_arriving(client, world, outbox):
    other, lodge, ours, theirs = _two_organisations(world)
    ours_token = services.recipient_token(world.org.id, SHARED)
    db.session.commit()
    response = client.post(f"/newsletters/unsubscribe/{ours_token}")
    assert response.status_code == 200 and world.org.name.encode() in response.data
    db.session.expire_all()
    assert queries.is_suppressed(world.org.id, SHARED)
    assert not queries.is_suppressed(other.id, SHARED)
    assert SHARED not in {r.email for r in queries.recipients(ours)}
    assert SHARED in {r.email for r in queries.recipients(theirs)}
    # Sending both: only the other organisation's newsletter arrives.
    for issue in (ours, theirs):
        services.start_sending(issue, by=None)
        db.session.commit()
        delivery.run(issue.id)
    assert [m["Subject"] for m in outbox] == [theirs.title]
    assert outbox[0]["To"] == SHARED


def test_a_suppression_in_one_organisation_does_not_stop_a_send_of_another(world, outbox):
    other, lodge, ours, theirs = _two_organisations(world)
    services.start_sending(theirs, by=None)
    db.session.commit()
    # Stopped by the first organisation after the second queued its copy: still delivered.
    services.unsubscribe(world.org.id, SHARED)
    db.session.commit()
    assert delivery.run(theirs.id).sent == 1 and len(outbox) == 1


def test_preferences_pages_show_only_their_own_organisations_subscriptions(client, world):
    other, lodge, ours, theirs = _two_organisations(world)
    ours, theirs = (services.recipient_token(world.org.id, SHARED),
                    services.recipient_token(other.id, SHARED))
    db.session.commit()
    mine = client.get(f"/newsletters/preferences/{ours}").data.decode()
    elsewhere = client.get(f"/newsletters/preferences/{theirs}").data.decode()
    assert world.home.name in mine and lodge.name not in mine and other.name not in mine
    assert lodge.name in elsewhere and world.home.name not in elsewhere
    assert world.org.name not in elsewhere
    # Choices saved on one organisation's page stay with it.
    client.post(f"/newsletters/preferences/{theirs}", data={"wants_print": "y"})
    db.session.expire_all()
    assert queries.is_suppressed(other.id, SHARED)
    assert not queries.is_suppressed(world.org.id, SHARED)
    assert db.session.scalar(select(NewsletterPreference.organisation_id).where(
        NewsletterPreference.wants_print)) == other.id


def test_the_same_address_may_be_stopped_by_both(world):
    other, *_ = _two_organisations(world)
    assert services.unsubscribe(world.org.id, SHARED)
    assert services.unsubscribe(other.id, SHARED)
    assert not services.unsubscribe(other.id, SHARED)  # once per organisation
    db.session.commit()
    assert _count(Suppression) == 2


def test_an_old_link_without_its_organisation_stops_each_organisation_that_has_it(client,
                                                                                   world):
    other, *_ = _two_organisations(world)
    old = services.RECIPIENT_LINK.make(
        services.base64.urlsafe_b64encode(SHARED.encode()).rstrip(b"="))
    # Its preferences page cannot tell which organisation it is for: it says so.
    page = client.get(f"/newsletters/preferences/{old}")
    assert page.status_code == 400 and b"newest newsletter email" in page.data
    # Its one-click unsubscribe keeps the promise it made: no newsletter to that address.
    assert client.post(f"/newsletters/unsubscribe/{old}").status_code == 200
    db.session.expire_all()
    assert queries.is_suppressed(world.org.id, SHARED) and queries.is_suppressed(other.id,
                                                                                 SHARED)
    # An organisation that never had the address learns nothing of it.
    third = make_org("Third Trust")
    db.session.commit()
    assert not queries.is_suppressed(third.id, SHARED)


def test_a_tampered_link_changes_nothing(client, world):
    _two_organisations(world)
    token = services.recipient_token(world.org.id, SHARED)
    db.session.commit()
    signed = services.RECIPIENT_LINK.make(f"{world.org.id}.c2hhcmVk")
    forged = signed.replace(f"{world.org.id}.", "999.", 1)
    for bad in (forged, token[:-2] + "xx", signed[:-2] + "xx"):
        assert client.post(f"/newsletters/unsubscribe/{bad}").status_code == 400
        assert client.post(f"/newsletters/preferences/{bad}", data={}).status_code == 400
    assert _count(Suppression) == 0 and _count(NewsletterPreference) == 1
