"""The demo data loads, gives every page something to show, and loads only once."""

from sqlalchemy import func, select

from involve.extensions import db
from involve.meetings import demo
from involve.meetings.models import Action, AgendaItem, ItemStatus, Meeting, MeetingStatus
from involve.people import demo as people_demo
from involve.people.models import Person, User
from tests.conftest import login


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Meeting, AgendaItem, Action))


def test_demo_meetings_load_once_and_show(app, client, monkeypatch):
    # The demo's accounts are hashed with the slow default; a cheap hash keeps the test quick.
    from functools import partial

    from werkzeug.security import generate_password_hash

    import involve.people.models

    monkeypatch.setattr(involve.people.models, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))
    org = people_demo.seed()
    db.session.flush()
    demo.seed(org)
    db.session.commit()
    first = _counts()
    demo.seed(org)
    db.session.commit()
    assert _counts() == first
    statuses = set(db.session.scalars(select(Meeting.status)))
    assert {MeetingStatus.minutes_published, MeetingStatus.agenda_published,
            MeetingStatus.held, MeetingStatus.planned} <= statuses
    pending = db.session.scalar(select(AgendaItem).where(
        AgendaItem.status == ItemStatus.suggested))
    family = db.session.scalar(select(Person).join(User).where(
        User.email == "family@brookfield.example"))
    assert pending.raised_by_id == family.id
    login(client, family)
    assert "Visiting at weekends" in client.get("/").text
    rose = pending.meeting.service_id
    page = client.get(f"/meetings/services/{rose}/you-said-we-did").text
    assert "oak bench" in page
    manager = db.session.scalar(select(Person).join(User).where(
        User.email == "manager@brookfield.example"))
    login(client, manager)
    home = client.get("/").text
    assert "Minutes to write" in home and "Visiting at weekends" in home
    assert "Bring seed catalogues" in home  # overdue
