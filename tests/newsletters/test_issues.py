"""Writing, previewing, publishing and reading issues; blocks; pictures; archives and feeds."""

from __future__ import annotations

import io
from datetime import date, timedelta
from xml.etree import ElementTree as ET

from PIL import Image
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db, utcnow
from involve.newsletters import services
from involve.newsletters.models import Issue, IssueImage, IssueStatus
from involve.newsletters.tasks import publish_scheduled_issues
from involve.scheduling import ScheduledRun
from tests.conftest import login
from tests.newsletters.helpers import make_issue


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _actions(prefix: str) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like(f"{prefix}%")).order_by(AuditEvent.id)))


def test_manager_writes_a_draft_and_edits_it(client, world):
    login(client, world.people["manager"])
    response = client.post("/newsletters/new", data={
        "scope": str(world.home.id), "title": "Summer at Rose Court", "summary": "Our news",
        "audiences": ["families", "staff"], "body": "## Hello\n\nSun at last."})
    issue = db.session.scalar(select(Issue))
    assert response.status_code == 302 and issue.title == "Summer at Rose Court"
    assert issue.service_id == world.home.id and issue.audiences == ["families", "staff"]
    response = client.post(f"/newsletters/issues/{issue.id}/edit", data={
        "title": "Summer news", "summary": "", "audiences": ["families"], "body": "New words"},
        follow_redirects=True)
    assert b"Your changes are saved" in response.data
    db.session.refresh(issue)
    assert issue.title == "Summer news" and issue.body == "New words"
    assert _actions("newsletter.") == ["newsletter.created", "newsletter.edited"]


def test_manager_cannot_write_for_another_service_or_the_organisation(client, world):
    login(client, world.people["manager"])
    for scope in (str(world.away.id), "organisation"):
        response = client.post("/newsletters/new", data={
            "scope": scope, "title": "Nope", "audiences": ["families"], "body": "x"})
        assert response.status_code == 200  # not a choice: the form says so
        assert b"Choose one of the options in the list." in response.data
    assert db.session.scalar(select(func.count(Issue.id))) == 0


def test_new_issue_needs_readers(client, world):
    login(client, world.people["manager"])
    response = client.post("/newsletters/new", data={
        "scope": str(world.home.id), "title": "No readers", "body": "x"})
    assert b"Choose at least one group of readers." in response.data
    assert db.session.scalar(select(func.count(Issue.id))) == 0


def test_publish_now_puts_it_in_the_archive_and_is_audited(client, world):
    issue = make_issue(world, audiences=["families", "public"])
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/publish", data={})
    assert response.status_code == 302
    db.session.refresh(issue)
    assert issue.status == IssueStatus.published and issue.published_at is not None
    anonymous = client.application.test_client()
    page = anonymous.get(f"/newsletters/services/{world.home.slug}")
    assert b"Spring news" in page.data
    assert anonymous.get(f"/newsletters/issues/{issue.id}").status_code == 200
    assert "newsletter.published" in _actions("newsletter.")


def test_publishing_a_picture_without_alt_text_is_refused(client, world):
    issue = make_issue(world, body="## Garden\n\n![](/newsletters/images/1.jpg)\n")
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/publish", data={},
                           follow_redirects=True)
    assert b"has no description (alt text)" in response.data
    db.session.refresh(issue)
    assert issue.status == IssueStatus.draft and issue.published_at is None
    assert _actions("newsletter.published") == []


def test_empty_issue_cannot_be_published(world):
    issue = make_issue(world, body="  ")
    try:
        services.publish_issue(issue, by=world.people["manager"])
    except services.NewslettersError as error:
        assert "empty" in str(error)
    else:
        raise AssertionError("published an empty issue")
    assert issue.status == IssueStatus.draft


def test_published_issue_cannot_be_edited(client, world):
    issue = make_issue(world, status=IssueStatus.published)
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/edit", data={
        "title": "Changed", "audiences": ["families"], "body": "changed"}, follow_redirects=True)
    assert b"can no longer be changed" in response.data
    db.session.refresh(issue)
    assert issue.title == "Spring news"


def test_scheduled_issue_is_published_by_the_periodic_task(client, world):
    issue = make_issue(world)
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/publish",
                data={"publish_at": "2099-01-01T09:00", "send": "y"})
    db.session.refresh(issue)
    assert issue.status == IssueStatus.scheduled and issue.send_when_published
    publish_scheduled_issues()  # not due yet
    db.session.refresh(issue)
    assert issue.status == IssueStatus.scheduled
    issue.publish_at = utcnow() - timedelta(minutes=1)
    db.session.execute(ScheduledRun.__table__.delete())  # a minute later: due again
    db.session.commit()
    publish_scheduled_issues.call_local()
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent  # published, then emailed at once
    assert {"newsletter.scheduled", "newsletter.published", "newsletter.sent"} <= set(
        _actions("newsletter."))


def test_unschedule_returns_to_draft(client, world):
    issue = make_issue(world)
    services.publish_issue(issue, by=world.people["manager"], at=utcnow() + timedelta(days=1))
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/unschedule")
    db.session.refresh(issue)
    assert issue.status == IssueStatus.draft and issue.publish_at is None


def test_picture_upload_needs_alt_text_and_is_served_to_readers_only(client, world):
    issue = make_issue(world)
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/images", data={
        "photo": (io.BytesIO(_png()), "garden.png"), "alt_text": ""},
        content_type="multipart/form-data", follow_redirects=True)
    assert b"Describe the picture" in response.data
    assert db.session.scalar(select(func.count(IssueImage.id))) == 0
    response = client.post(f"/newsletters/issues/{issue.id}/images", data={
        "photo": (io.BytesIO(b"not a picture"), "x.png"), "alt_text": "A garden"},
        content_type="multipart/form-data", follow_redirects=True)
    assert b"not a photo we can use" in response.data
    assert db.session.scalar(select(func.count(IssueImage.id))) == 0
    client.post(f"/newsletters/issues/{issue.id}/images", data={
        "photo": (io.BytesIO(_png()), "garden.png"), "alt_text": "Tulips in the garden"},
        content_type="multipart/form-data")
    picture = db.session.scalar(select(IssueImage))
    db.session.refresh(issue)
    assert f"![Tulips in the garden]({picture.path})" in issue.body
    response = client.get(picture.path)
    assert response.status_code == 200 and response.data[:2] == b"\xff\xd8"
    family = client.application.test_client()
    login(family, world.people["family"])
    assert family.get(picture.path).status_code == 403  # still a draft
    services.publish_issue(issue, by=world.people["manager"])
    db.session.commit()
    assert family.get(picture.path).status_code == 200


def test_blocks_say_nothing_yet_when_there_is_nothing(client, world):
    issue = make_issue(world, body="Intro")
    login(client, world.people["manager"])
    for kind in ("you_said_we_did", "minutes", "elections", "meetings", "board_answers"):
        response = client.post(f"/newsletters/issues/{issue.id}/blocks", data={"kind": kind},
                               follow_redirects=True)
        assert b"nothing to show in it yet" in response.data
    db.session.refresh(issue)
    assert issue.body.count("Nothing yet.") == 5
    assert "## You said, we did" in issue.body and "## Coming up" in issue.body


def test_unknown_block_is_refused(client, world):
    issue = make_issue(world, body="Intro")
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/blocks", data={"kind": "poll"},
                           follow_redirects=True)
    assert b"There is no such block" in response.data
    db.session.refresh(issue)
    assert issue.body == "Intro"


def test_you_said_we_did_block_lists_actions_done_since_the_last_issue(client, world):
    from involve.meetings.models import ActionStatus
    from involve.meetings.services import create_action

    manager = world.people["manager"]
    old = make_issue(world, title="Last time", status=IssueStatus.sent)
    old.published_at = utcnow() - timedelta(days=10)
    before = create_action(service_id=world.home.id, you_said="Old request", we_will="x",
                           owner=manager, due_on=date.today(), by=manager)
    before.status, before.we_did, before.done_at = (ActionStatus.done, "Done long ago",
                                                    utcnow() - timedelta(days=20))
    action = create_action(service_id=world.home.id, you_said="The garden gate is stiff",
                           we_will="Fix it", owner=manager, due_on=date.today(), by=manager)
    action.status, action.we_did, action.done_at = (ActionStatus.done, "We oiled the gate",
                                                    utcnow() - timedelta(days=1))
    elsewhere = create_action(service_id=world.away.id, you_said="Away request", we_will="y",
                              owner=manager, due_on=date.today(), by=manager)
    elsewhere.status, elsewhere.we_did, elsewhere.done_at = (ActionStatus.done, "Away done",
                                                             utcnow())
    issue = make_issue(world, body="Intro")
    db.session.commit()
    login(client, manager)
    client.post(f"/newsletters/issues/{issue.id}/blocks", data={"kind": "you_said_we_did"})
    db.session.refresh(issue)
    assert "The garden gate is stiff" in issue.body and "We oiled the gate" in issue.body
    assert "Old request" not in issue.body and "Away request" not in issue.body


def test_web_print_and_email_previews(client, world, outbox):
    issue = make_issue(world, body="## Garden\n\nThe **tulips** are out.\n")
    login(client, world.people["manager"])
    web = client.get(f"/newsletters/issues/{issue.id}")
    assert b"<strong>tulips</strong>" in web.data
    printed = client.get(f"/newsletters/issues/{issue.id}/print")
    assert b"large-print" in printed.data
    preview = client.get(f"/newsletters/issues/{issue.id}/preview")
    assert b"The tulips are out." in preview.data and b"GARDEN" in preview.data
    assert b"List-Unsubscribe" in preview.data
    html = client.get(f"/newsletters/issues/{issue.id}/preview/email")
    assert b"<strong>tulips</strong>" in html.data and b"style=" in html.data
    assert "unsafe-inline" in html.headers["Content-Security-Policy"]
    response = client.post(f"/newsletters/issues/{issue.id}/test-email",
                           data={"email": world.people["manager"].user.email},
                           follow_redirects=True)
    assert b"A test email is on its way" in response.data
    assert len(outbox) == 1 and outbox[0]["To"].addresses[0].addr_spec == \
        world.people["manager"].user.email
    assert outbox[0]["Subject"] == "TEST: " + issue.title
    db.session.refresh(issue)
    assert issue.status == IssueStatus.draft


def test_readers_by_audience(app, world):
    issue = make_issue(world, audiences=["families"], status=IssueStatus.published)
    draft = make_issue(world, title="Draft", audiences=["families"])
    db.session.commit()
    expected = {"family": 200, "staff": 403, "service_user": 403, "partner": 403}
    for role, status in expected.items():
        client = app.test_client()
        login(client, world.people[role])
        assert client.get(f"/newsletters/issues/{issue.id}").status_code == status, role
        assert client.get(f"/newsletters/issues/{draft.id}").status_code == 403
    away = app.test_client()
    login(away, world.outsiders["family"])
    assert away.get(f"/newsletters/issues/{issue.id}").status_code == 403
    assert app.test_client().get(f"/newsletters/issues/{issue.id}").status_code == 302


def test_archive_shows_only_what_the_reader_may_read(app, world):
    make_issue(world, title="For families", audiences=["families"], status=IssueStatus.sent)
    make_issue(world, title="For everyone", audiences=["public"], status=IssueStatus.sent)
    make_issue(world, title="A draft", audiences=["public"])
    db.session.commit()
    page = app.test_client().get(f"/newsletters/services/{world.home.slug}").data
    assert b"For everyone" in page and b"For families" not in page and b"A draft" not in page
    family = app.test_client()
    login(family, world.people["family"])
    page = family.get(f"/newsletters/services/{world.home.slug}").data
    assert b"For everyone" in page and b"For families" in page
    assert app.test_client().get("/newsletters/services/nowhere").status_code == 404


def test_atom_feed_lists_public_issues_escaped(app, world):
    make_issue(world, title="Fish & <chips>", audiences=["public"], status=IssueStatus.sent,
               body="Friday <script>alert(1)</script> supper")
    make_issue(world, title="Private", audiences=["staff"], status=IssueStatus.sent)
    organisation_issue = make_issue(world, service=None, title="Board news",
                                    audiences=["public"], status=IssueStatus.sent)
    db.session.commit()
    response = app.test_client().get(f"/newsletters/services/{world.home.slug}/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.text for e in root.findall("a:entry/a:title", ns)]
    assert titles == ["Fish & <chips>"]
    content = root.find("a:entry/a:content", ns).text
    assert "<script>" not in content
    response = app.test_client().get(f"/newsletters/organisations/{world.org.id}/feed.atom")
    assert [e.text for e in ET.fromstring(response.data).findall("a:entry/a:title", ns)] == [
        organisation_issue.title]


def test_home_panel_shows_latest_issue_and_drafts(app, world):
    make_issue(world, title="Published one", audiences=["families"], status=IssueStatus.sent)
    make_issue(world, title="Draft one")
    db.session.commit()
    family = app.test_client()
    login(family, world.people["family"])
    page = family.get("/").data
    assert b"Published one" in page and b"Draft one" not in page
    manager = app.test_client()
    login(manager, world.people["manager"])
    assert b"Draft one" in manager.get("/").data


def test_organisation_board_writes_the_organisation_newsletter(client, world):
    from involve.people.models import Role
    from tests.factories import make_person

    chair = make_person(world.org, "Chair Org", email="chair@test.example",
                        roles=[(Role.board, None)])
    login(client, chair)
    page = client.get("/newsletters/new").data
    assert b"The whole organisation" in page and b"Rose Court" not in page
    client.post("/newsletters/new", data={"scope": "organisation", "title": "Board news",
                                          "audiences": ["board", "public"], "body": "Hello"})
    issue = db.session.scalar(select(Issue))
    assert issue.service_id is None and issue.audiences == ["board", "public"]
    assert client.get(f"/newsletters/issues/{issue.id}/edit").status_code == 200
    manager = client.application.test_client()
    login(manager, world.people["manager"])
    assert manager.get(f"/newsletters/issues/{issue.id}/edit").status_code == 403


def test_board_answers_block_lists_answered_feedback(world):
    from involve.feedback.services import answer_feedback
    from tests.feedback.helpers import make_feedback

    item = make_feedback(world, said="People would like fish on Fridays.")
    answer_feedback(item, answer="Fish is on the menu every Friday from May.",
                    by=world.people["board"])
    issue = make_issue(world, body="Intro")
    section = services.insert_block(issue, "board_answers", by=world.people["manager"])
    assert "People would like fish on Fridays." in section
    assert "Fish is on the menu every Friday from May." in section


def test_minutes_meetings_and_election_blocks_use_the_other_domains(world):
    from involve.elections import services as elections
    from involve.elections.models import Status
    from tests.elections.helpers import make_election, vote
    from tests.meetings.helpers import make_meeting, make_series, published_meeting

    series = make_series(world, name="Residents' meeting")
    published_meeting(world, series)
    make_meeting(world, series, starts_at=utcnow() + timedelta(days=10))
    setup = make_election(world, status=Status.voting_open, title="Ambassador election 2026")
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    elections.close_voting(setup.election, by=world.people["manager"])
    elections.count_votes(setup.election, setup.key, by=world.people["manager"])
    elections.publish_results(setup.election, by=world.people["manager"])
    issue = make_issue(world, body="Intro")
    manager = world.people["manager"]
    minutes = services.insert_block(issue, "minutes", by=manager)
    coming = services.insert_block(issue, "meetings", by=manager)
    election = services.insert_block(issue, "elections", by=manager)
    assert "Residents' meeting" in minutes and "We talked about food." in minutes
    assert "Residents' meeting" in coming and "Lounge" in coming
    assert "Ambassador election 2026" in election and "elected" in election
    assert "Nothing yet." not in minutes + coming + election
