"""What readers choose and see: one newsletter stopped and another kept, the welcome email,
test emails, List-Id, dates and zones, the print edition and list, the Atom feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.newsletters import delivery, queries, services
from involve.newsletters.models import IssueStatus, NewsletterPreference, Subscriber
from involve.people.models import Role
from tests.conftest import login
from tests.factories import make_person
from tests.newsletters.helpers import make_issue, make_subscriber

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def _home_and_organisation_issues(world):
    home = make_issue(world, title="Rose Court news", audiences=["families"],
                      status=IssueStatus.published)
    whole = make_issue(world, service=None, title="Brookfield news", audiences=["families"],
                       status=IssueStatus.published)
    db.session.commit()
    return home, whole


def test_a_relative_keeps_the_homes_newsletter_and_drops_the_organisations(client, world,
                                                                            outbox):
    address = world.people["family"].user.email
    home, whole = _home_and_organisation_issues(world)
    services.start_sending(whole, by=None)
    db.session.commit()
    delivery.run(whole.id)
    message = next(m for m in outbox if m["To"].addresses[0].addr_spec == address)
    # The one-click link of the organisation's newsletter stops that newsletter only.
    link = re.search(r"<http://localhost(/newsletters/unsubscribe/[^>]+)>",
                     message["List-Unsubscribe"]).group(1)
    assert address not in link and "list=organisation" in link
    page = client.get(link).data.decode()
    assert "Stop the Brookfield Test newsletter" in page and "Stop every newsletter" in page
    response = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert b"Other newsletters from Brookfield Test still come" in response.data
    db.session.expire_all()
    assert address in {r.email for r in queries.recipients(home)}
    assert address not in {r.email for r in queries.recipients(whole)}
    assert not queries.is_suppressed(world.org.id, address)
    # The preferences page shows both, the organisation's unticked; ticking it back works.
    key = services.recipient_token(world.org.id, address)
    db.session.commit()
    page = client.get(f"/newsletters/preferences/{key}").data.decode()
    assert 'value="organisation"' in page and f'value="service-{world.home.id}"' in page
    assert re.search(r'checked[^>]*value="service-', page) or \
        re.search(rf'value="service-{world.home.id}"[^>]*checked', page)
    assert not re.search(r'value="organisation"[^>]*checked', page)
    client.post(f"/newsletters/preferences/{key}",
                data={"newsletters": ["organisation", f"service-{world.home.id}"]})
    db.session.expire_all()
    assert address in {r.email for r in queries.recipients(whole)}


def test_a_newsletter_stopped_after_queueing_is_not_sent(world, outbox):
    address = world.people["family"].user.email
    home, whole = _home_and_organisation_issues(world)
    services.start_sending(home, by=None)
    db.session.commit()
    services.unsubscribe(world.org.id, address, home.list_key)
    db.session.commit()
    delivery.run(home.id)
    assert address not in {m["To"].addresses[0].addr_spec for m in outbox}


def test_choices_that_are_not_offered_or_links_that_do_not_fit_change_nothing(client, world):
    address = world.people["family"].user.email
    key = services.recipient_token(world.org.id, address)
    db.session.commit()
    before = db.session.scalar(select(NewsletterPreference.stopped_lists))
    response = client.post(f"/newsletters/preferences/{key}",
                           data={"newsletters": ["service-99999"]}, follow_redirects=True)
    assert b"Choose from the newsletters on this page" in response.data
    for bad in ("service-99999", "nonsense", f"service-{world.away.id}x"):
        response = client.post(f"/newsletters/unsubscribe/{key}?list={bad}")
        assert response.status_code == 400 and b"not valid" in response.data
    db.session.expire_all()
    assert db.session.scalar(select(NewsletterPreference.stopped_lists)) == before
    assert not queries.is_suppressed(world.org.id, address)


def test_confirming_a_subscription_sends_a_welcome_email(client, world, outbox):
    client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                data={"email": "may@example.org", "name": "May"})
    link = re.search(r"http://localhost(/newsletters/confirm/\S+)",
                     outbox[0].get_body(("plain",)).get_content()).group(1)
    client.post(link)
    assert len(outbox) == 2
    welcome = outbox[1]
    assert welcome["Subject"] == f"Welcome to the {world.home.name} newsletter"
    text = welcome.get_body(("plain",)).get_content()
    assert "Dear May," in text
    preferences = re.search(r"http://localhost(/newsletters/preferences/\S+)", text).group(1)
    assert "may" not in preferences
    assert b"Rose Court newsletter" in client.get(preferences).data
    # Confirming again neither changes anything nor welcomes twice.
    client.post(link)
    assert len(outbox) == 2


def test_a_test_email_goes_to_the_address_typed_marked_test(client, world, outbox):
    issue = make_issue(world)
    login(client, world.people["manager"])
    preview = client.get(f"/newsletters/issues/{issue.id}/preview").data.decode()
    assert world.people["manager"].user.email in preview  # offered, and can be changed
    response = client.post(f"/newsletters/issues/{issue.id}/test-email",
                           data={"email": "Trustee@Example.org"}, follow_redirects=True)
    assert b"A test email is on its way to trustee@example.org" in response.data
    (message,) = outbox
    assert message["To"] == "trustee@example.org"
    assert message["Subject"] == f"TEST: {issue.title}"
    assert "/unsubscribe/TEST" in message["List-Unsubscribe"]
    assert db.session.scalar(select(func.count(NewsletterPreference.id))) == 0


def test_a_test_email_to_a_bad_address_says_so_and_sends_nothing(client, world, outbox):
    issue = make_issue(world)
    db.session.commit()
    login(client, world.people["manager"])
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    for bad in ("", "not an address", "a@b.org\r\nBcc: x@y.org"):
        response = client.post(f"/newsletters/issues/{issue.id}/test-email",
                               data={"email": bad}, follow_redirects=True)
        assert b"Enter the address" in response.data or b"look like an email address" in \
            response.data
    assert outbox == []
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before


def test_list_id_names_each_newsletter_and_stays_the_same(world):
    home, whole = _home_and_organisation_issues(world)
    later = make_issue(world, title="Summer", status=IssueStatus.published)
    ids = [delivery.parse(delivery.compose(i).personal(1, "a@example.org", "A"))["List-Id"]
           for i in (home, later, whole)]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].startswith('"Rose Court newsletter" <service-')
    assert ids[2].startswith('"Brookfield Test newsletter" <organisation.')


def test_date_headers_carry_the_organisations_real_zone(world):
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    composed = delivery.compose(make_issue(world))
    assert delivery.mail_date(composed.zone, winter).endswith("12:00:00 +0000")
    assert delivery.mail_date(composed.zone, summer).endswith("13:00:00 +0100")
    message = delivery.parse(composed.personal(1, "a@example.org", "A"))
    assert re.search(r" [+-]\d{4}$", message["Date"]) and "-0000" not in message["Date"]


def test_the_print_edition_carries_its_date(client, world):
    issue = make_issue(world, status=IssueStatus.published)
    issue.published_at = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    draft = make_issue(world, title="Draft")
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/print").data.decode()
    assert '<time datetime="2026-03-03">3 March 2026</time>' in page
    page = client.get(f"/newsletters/issues/{draft.id}/print").data.decode()
    assert "Draft, not yet published: printed <time" in page


def test_the_print_list_keeps_audio_and_every_other_need(world):
    make_person(world.org, "Audrey Audio", email="audrey@test.example", needs=["audio"],
                roles=[(Role.family, world.home)])
    make_person(world.org, "Lara Large", email="lara@test.example",
                needs=["large_print", "hearing_loop"], roles=[(Role.family, world.home)])
    make_person(world.org, "Lou Loop", email="lou@test.example", needs=["hearing_loop"],
                roles=[(Role.family, world.home)])
    issue = make_issue(world, audiences=["families"])
    copies = {c.person.full_name: c.reasons for c in queries.print_list(issue)}
    assert copies["Audrey Audio"] == ("Audio",)
    assert copies["Lara Large"] == ("Large print", "Hearing loop")
    assert "Lou Loop" not in copies  # a loop is for meetings: the email is fine


def test_atom_updated_is_the_newest_entrys(app, world):
    old = make_issue(world, title="Old", audiences=["public"], status=IssueStatus.sent)
    new = make_issue(world, title="New", audiences=["public"], status=IssueStatus.sent)
    old.published_at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    new.published_at = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    db.session.commit()
    old.held_up_reason = "a later change to the row, not to the words"
    db.session.commit()
    root = ET.fromstring(app.test_client().get(
        f"/newsletters/services/{world.home.slug}/feed.atom").data)
    entries = [e.find("a:updated", ATOM).text for e in root.findall("a:entry", ATOM)]
    assert root.find("a:updated", ATOM).text == max(entries) == "2026-02-01T09:00:00Z"


def test_subscribers_of_another_service_are_offered_only_their_own(client, world):
    make_subscriber(world.away, "sub@example.org")
    key = services.recipient_token(world.org.id, "sub@example.org")
    db.session.commit()
    page = client.get(f"/newsletters/preferences/{key}").data.decode()
    assert "Willow House newsletter" in page and "Rose Court newsletter" not in page
    assert db.session.scalar(select(func.count(Subscriber.id))) == 1
