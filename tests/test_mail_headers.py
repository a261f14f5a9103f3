"""No email header takes a line break from what people type: refused at the form, and
refused again when the message is built (a value that got past the forms is never sent)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from involve import mail
from involve.elections.forms import ElectionForm
from involve.elections.models import Election
from involve.extensions import db, utcnow
from involve.feedback.forms import GiveFeedbackForm
from involve.feedback.models import Submission
from involve.meetings import services as meeting_services
from involve.meetings.forms import SeriesForm
from involve.meetings.models import MeetingSeries, SeriesKind
from involve.newsletters import delivery
from involve.newsletters.forms import IssueForm, SubscribeForm
from involve.newsletters.models import Issue, Subscriber
from involve.people import importing
from involve.people.forms import ONE_LINE_MESSAGE, PersonForm, ServiceForm, one_line
from involve.people.models import Person, Role, Service
from involve.recruitment.forms import VacancyForm
from involve.recruitment.models import Vacancy
from tests.conftest import login
from tests.newsletters.helpers import make_issue, make_subscriber

INJECTED = "Hello\r\nBcc: everyone@evil.example"
BREAKS = ["a\rb", "a\nb", "a\r\nb", "a\u2028b", "a\x0bb"]

# Every form field whose words can reach a Subject, or a name or address in From or To.
HEADER_FIELDS = [
    (IssueForm, "title"), (SubscribeForm, "name"), (ElectionForm, "title"),
    (SeriesForm, "name"), (VacancyForm, "role_title"), (ServiceForm, "name"),
    (PersonForm, "full_name"), (PersonForm, "preferred_name"), (GiveFeedbackForm, "name"),
    (GiveFeedbackForm, "contact"),
]


@pytest.mark.parametrize(("form", "name"), HEADER_FIELDS,
                         ids=[f"{f.__name__}.{n}" for f, n in HEADER_FIELDS])
def test_every_field_that_reaches_a_header_refuses_line_breaks(form, name):
    assert one_line in getattr(form, name).kwargs["validators"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_new_issue_with_a_line_break_in_its_title_is_refused(client, world):
    login(client, world.people["manager"])
    response = client.post("/newsletters/new", data={
        "scope": str(world.home.id), "title": INJECTED, "audiences": ["families"],
        "body": "Words"})
    assert response.status_code == 200 and ONE_LINE_MESSAGE in response.text
    assert _count(Issue) == 0


def test_editing_an_issue_title_to_hold_a_line_break_changes_nothing(client, world):
    issue = make_issue(world, title="Spring news")
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/edit", data={
        "title": INJECTED, "audiences": ["families"], "body": "Words"})
    assert ONE_LINE_MESSAGE in response.text
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).title == "Spring news"


def test_person_names_with_line_breaks_are_refused(client, world):
    person = world.people["service_user"]
    login(client, world.people["manager"])
    before = _count(Person)
    response = client.post("/people/new", data={"full_name": INJECTED, "role": "service_user",
                                                "service": str(world.home.id)})
    assert ONE_LINE_MESSAGE in response.text and _count(Person) == before
    response = client.post(f"/people/{person.id}/edit", data={
        "full_name": person.full_name, "preferred_name": "Bob\nBcc: x@evil.example"})
    assert ONE_LINE_MESSAGE in response.text
    db.session.expire_all()
    assert db.session.get(Person, person.id).preferred_name == person.preferred_name


@pytest.mark.parametrize(("path", "data", "model"), [
    ("/elections/new", {"title": INJECTED, "seats": 1, "term_months": 12, "method": "block"},
     Election),
    ("/meetings/series/new", {"name": INJECTED, "kind": "residents"}, MeetingSeries),
    ("/recruitment/vacancies/new", {"role_title": INJECTED, "closing_date": "2030-01-01"},
     Vacancy),
])
def test_titles_that_become_subjects_are_refused(client, world, path, data, model):
    login(client, world.people["manager"])
    data = {**data, "service_id": world.home.id, "scope": world.home.id}
    before = _count(model)
    response = client.post(path, data=data)
    assert response.status_code == 200 and ONE_LINE_MESSAGE in response.text
    assert _count(model) == before


def test_service_name_with_a_line_break_is_refused(client, world):
    login(client, world.people["admin"])
    before = _count(Service)
    response = client.post("/services/new", data={"name": INJECTED, "kind": "care_home"})
    assert ONE_LINE_MESSAGE in response.text and _count(Service) == before


def test_public_forms_refuse_line_breaks_in_names_and_addresses(client, world):
    response = client.post(f"/newsletters/services/{world.home.slug}/subscribe", data={
        "email": "new@example.org", "name": INJECTED})
    assert ONE_LINE_MESSAGE in response.text and _count(Subscriber) == 0
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "suggestion", "body": "More tea", "name": "Ann",
        "contact": "ann@example.org\r\nBcc: x@evil.example"})
    assert ONE_LINE_MESSAGE in response.text and _count(Submission) == 0


def test_csv_import_refuses_names_over_two_lines(world):
    content = 'full_name,preferred_name\n"Ann\nBcc: x@evil.example",Ann\nBob Smith,Bob\n'
    result = importing.preview(content.encode(), world.org.id)
    first, second = (row.problems for row in result.rows)
    assert any("more than one line" in p for p in first) and not second


# --- the second layer: building the message ------------------------------------------------

@pytest.mark.parametrize("value", BREAKS)
def test_build_message_refuses_a_line_break_in_any_header(app, value):
    for field in ("to", "subject", "sender"):
        values = {"to": "ann@example.org", "subject": "Hello", "sender": "Involve <i@x.org>"}
        values[field] = value
        with pytest.raises(mail.UnsafeHeader, match="line break"):
            mail.build_message(text="Hi", **values)
    with pytest.raises(mail.UnsafeHeader):
        mail.build_message(to="ann@example.org", subject="Hi", text="Hi",
                           headers={"Reply-To": value})


def test_a_subject_that_got_past_the_forms_is_never_sent(world, smtp_server):
    series = meeting_services.create_series(
        organisation_id=world.org.id, service_id=world.home.id, name="Residents",
        kind=SeriesKind.residents, invited_roles=[Role.service_user], by=world.people["manager"])
    starts = utcnow() + timedelta(days=7)
    meeting = meeting_services.schedule_meeting(series, starts_at=starts,
                                                ends_at=starts + timedelta(hours=1), room="Lounge",
                                                by=world.people["manager"])
    series.name = INJECTED  # as if written straight into the database
    with pytest.raises(mail.UnsafeHeader, match="Subject"):
        meeting_services.cancel_meeting(meeting, reason="The lounge is flooded", by=None)
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_newsletter_with_a_line_break_in_its_title_is_not_sent(world, smtp_server):
    issue = make_issue(world, title=INJECTED)
    make_subscriber(world.home, "reader@example.org")
    with pytest.raises(mail.UnsafeHeader, match="Subject"):
        delivery.send_test(issue, "manager@example.org", "Mary")
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_a_clean_message_still_goes(world, smtp_server):
    mail.send(mail.build_message(to="Ann <ann@example.org>", subject="Tea at four",
                                 text="Hello"))
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Tea at four" and message["Bcc"] is None
