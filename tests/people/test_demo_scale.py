"""``flask demo --scale``: extra services written in bulk, each with every domain's records,
valid for the models' rules and inside Brookfield Care."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

import involve.people.models
from involve.elections.models import Election, RollEntry, Status
from involve.extensions import db
from involve.feedback.models import AmbassadorFeedback, Submission
from involve.meetings.models import Meeting, MeetingInvitee
from involve.newsletters.models import Issue
from involve.people.demo import INSERT_BATCH, bulk_insert
from involve.people.models import Organisation, Person, PersonStatus, Role, RoleGrant, Service
from involve.recruitment.models import JobCandidate, PanelMember, Vacancy
from tests.conftest import login
from tests.test_organisation_boundary import NOT_ORGANISATION_DATA, _models


@pytest.fixture
def cheap_hash(monkeypatch):
    monkeypatch.setattr(involve.people.models, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))


def test_bulk_insert_gives_ids_in_order_and_the_columns_defaults(app, world):
    rows = [{"organisation_id": world.org.id, "full_name": f"Bulk Person {n}"}
            | ({"preferred_name": f"B{n}"} if n % 3 == 0 else {})
            for n in range(INSERT_BATCH + 5)]  # two statements, rows of two shapes
    ids = bulk_insert(Person, rows)
    assert len(set(ids)) == len(rows)
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(ids)))}
    for new_id, row in zip(ids, rows, strict=True):
        person = people[new_id]
        assert person.full_name == row["full_name"]
        assert person.preferred_name == row.get("preferred_name", "")
        assert person.status is PersonStatus.active and person.created_at is not None
    assert bulk_insert(Person, [], ids=True) == []
    assert bulk_insert(RoleGrant, [{"person_id": ids[0], "role": Role.staff,
                                    "service_id": world.home.id}], ids=False) == []


def test_scaled_demo_gives_each_extra_service_its_records(app, cheap_hash):
    result = app.test_cli_runner().invoke(args=["demo", "--scale", "2"])
    assert result.exit_code == 0, result.output
    assert "2 extra services with their people and records" in result.output
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Brookfield Care"))
    extra = db.session.scalars(select(Service).where(Service.slug.like("extra-service-%"))
                               .order_by(Service.id)).all()
    assert len(extra) == 2 and {s.organisation_id for s in extra} == {org.id}

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    for service in extra:
        residents = count(RoleGrant, RoleGrant.service_id == service.id,
                          RoleGrant.role == Role.service_user)
        assert residents == 62
        assert count(Meeting, Meeting.service_id == service.id) == 2
        assert count(MeetingInvitee, MeetingInvitee.meeting_id.in_(
            select(Meeting.id).where(Meeting.service_id == service.id))) == 2 * 100
        assert count(AmbassadorFeedback, AmbassadorFeedback.service_id == service.id) == 3
        assert count(Submission, Submission.service_id == service.id) == 2
        assert count(Issue, Issue.service_id == service.id, Issue.organisation_id == org.id) == 2
        vacancy = db.session.scalar(select(Vacancy).where(Vacancy.service_id == service.id))
        assert count(PanelMember, PanelMember.vacancy_id == vacancy.id) == 4
        assert count(JobCandidate, JobCandidate.vacancy_id == vacancy.id) == 2
    voting = db.session.scalar(select(Election).where(Election.service_id == extra[0].id))
    assert voting.status is Status.voting_open and voting.organisation_id == org.id
    assert count(RollEntry, RollEntry.election_id == voting.id) == 62

    # Every row of every model, the bulk-written ones too, reaches an organisation that exists.
    organisations = set(db.session.scalars(select(Organisation.id)))
    for cls in _models():
        if cls.__name__ not in NOT_ORGANISATION_DATA:
            for row in db.session.scalars(select(cls)):
                assert row.organisation_id in organisations, (cls.__name__, row)

    # The extra service's manager sees its records through the ordinary pages.
    manager = db.session.scalar(select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
                                .where(RoleGrant.service_id == extra[0].id,
                                       RoleGrant.role == Role.manager))
    client = app.test_client()
    login(client, manager)
    meeting = db.session.scalar(select(Meeting).where(Meeting.service_id == extra[0].id))
    issue = db.session.scalar(select(Issue).where(Issue.service_id == extra[0].id))
    vacancy = db.session.scalar(select(Vacancy).where(Vacancy.service_id == extra[0].id))
    for path in ("/", f"/meetings/{meeting.id}", f"/elections/{voting.id}",
                 f"/elections/{voting.id}/roll", f"/recruitment/vacancies/{vacancy.id}",
                 f"/newsletters/issues/{issue.id}", "/feedback/ambassador"):
        response = client.get(path)
        assert response.status_code == 200, path
