"""A second organisation: Elmfield Trust in the demo, and `flask organisations create`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from involve.elections.models import Election
from involve.extensions import db
from involve.feedback.models import Submission
from involve.meetings.models import Meeting, MeetingStatus
from involve.newsletters.models import Issue, IssueStatus
from involve.people.demo import DEMO_PASSWORD, ELMFIELD_SIGN_INS
from involve.people.models import Invitation, Organisation, Person, Role, Service, User


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_demo_builds_elmfield_trust_with_its_own_people_and_content(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    elmfield = db.session.scalar(select(Organisation).where(
        Organisation.name == "Elmfield Trust"))
    [elm_lodge] = db.session.scalars(select(Service).where(
        Service.organisation_id == elmfield.id)).all()
    assert elm_lodge.name == "Elm Lodge"

    expected = {"admin@elmfield.example": (Role.admin, None),
                "manager@elmfield.example": (Role.manager, elm_lodge.id),
                "staff@elmfield.example": (Role.staff, elm_lodge.id),
                "board@elmfield.example": (Role.board, None),
                "partner@elmfield.example": (Role.partner, None),
                "elmsu": (Role.service_user, elm_lodge.id)}
    assert set(expected) == {sign_in for sign_in, _ in ELMFIELD_SIGN_INS}
    client = app.test_client()
    for sign_in, (role, service_id) in expected.items():
        user = db.session.scalar(select(User).where(
            (User.email == sign_in) | (User.username == sign_in)))
        assert user.person.organisation_id == elmfield.id, sign_in
        assert (role, service_id) in {(g.role, g.service_id) for g in user.person.grants}
        response = client.post("/sign-in", data={"sign_in": sign_in,
                                                 "password": DEMO_PASSWORD})
        assert response.status_code == 302, sign_in
        client.post("/sign-out")

    meeting = db.session.scalar(select(Meeting).where(Meeting.service_id == elm_lodge.id))
    assert meeting.status == MeetingStatus.minutes_published and meeting.easy_read_summary
    assert any(item.notes for item in meeting.items)
    election = db.session.scalar(select(Election).where(
        Election.organisation_id == elmfield.id))
    assert election.service_id == elm_lodge.id and election.candidates
    assert db.session.scalar(select(func.count(Submission.id)).where(
        Submission.service_id == elm_lodge.id)) == 2
    issue = db.session.scalar(select(Issue).where(Issue.organisation_id == elmfield.id))
    assert issue.service_id == elm_lodge.id and issue.status == IssueStatus.published
    # Nothing of Elmfield's is filed under Brookfield, nor the other way round.
    elm_people = set(db.session.scalars(select(Person.id).where(
        Person.organisation_id == elmfield.id)))
    assert all(p.organisation_id == elmfield.id for p in
               db.session.scalars(select(Person).where(Person.id.in_(elm_people))))
    assert {g.service_id for p in db.session.scalars(select(Person).where(
        Person.id.in_(elm_people))) for g in p.grants} <= {None, elm_lodge.id}

    first = _row_counts()
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    assert _row_counts() == first


def _create(app, *args: str):
    return app.test_cli_runner().invoke(args=["organisations", "create", *args])


def test_organisations_create_invites_the_first_admin(app, smtp_server):
    result = _create(app, "Hillside Homes", "--admin-email", " Hana@Hillside.Example ",
                     "--admin-name", "Hana Hill", "--service", "Hill House")
    assert result.exit_code == 0, result.output
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Hillside Homes"))
    assert [s.name for s in org.services] == ["Hill House"]
    user = db.session.scalar(select(User).where(User.email == "hana@hillside.example"))
    admin = user.person
    assert admin.organisation_id == org.id and admin.full_name == "Hana Hill"
    assert [(g.role, g.service_id) for g in admin.grants] == [(Role.admin, None)]
    assert user.password_hash is None  # nobody can sign in until the invitation is used
    assert db.session.scalar(select(func.count(Invitation.id)).where(
        Invitation.user_id == user.id)) == 1

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "hana@hillside.example"
    assert message["Subject"] == "You are invited to Involve"
    body = message.get_payload(0).get_payload(decode=True).decode()
    link = re.search(r"http://localhost/invitation/\S+", body).group(0)
    assert link in result.output  # for operators whose installation sends no mail
    page = app.test_client().get(link.removeprefix("http://localhost"))
    assert page.status_code == 200 and "password" in page.text.lower()


def test_organisations_create_without_a_service(app, outbox):
    result = _create(app, "Meadow Care", "--admin-email", "admin@meadow.example")
    assert result.exit_code == 0, result.output
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Meadow Care"))
    assert org.services == [] and len(outbox) == 1
    assert "/invitation/" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["Brookfield Test", "--admin-email", "new@example.org"], "already an organisation"),
    (["New Org", "--admin-email", "not-an-address"], "not an email address"),
    (["New Org", "--admin-email", "taken@example.org"], "already used"),
    (["New\nOrg", "--admin-email", "new@example.org"], "one line"),
    (["  ", "--admin-email", "new@example.org"], "Give the organisation a name"),
])
def test_organisations_create_refuses_and_changes_nothing(app, world, outbox, args, message):
    from tests.factories import make_person

    make_person(world.org, "Taken", email="taken@example.org")
    db.session.commit()
    before = _row_counts()
    result = _create(app, *args)
    assert result.exit_code != 0 and message in result.output
    assert _row_counts() == before and outbox == []
