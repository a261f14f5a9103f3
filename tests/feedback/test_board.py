"""The board's queue, answers, state moves, actions and the board meeting's agenda."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.feedback import queries, services
from involve.feedback.models import (
    AmbassadorFeedback,
    BoardAgendaEntry,
    FeedbackError,
    FeedbackStatus,
)
from involve.people.models import Role
from involve.permissions import load_actor
from tests.conftest import login
from tests.factories import make_person
from tests.feedback.helpers import make_feedback, theme


def test_queue_groups_by_service_and_theme_with_new_and_average(app, world, client):
    old = make_feedback(world, theme_name="Care", said="Old one")
    old.received_at = datetime.now(UTC) - timedelta(days=45)
    make_feedback(world, theme_name="Food", said="New one")
    done = make_feedback(world, theme_name="Food", said="Done one")
    done.received_at = datetime.now(UTC) - timedelta(days=10)
    services.answer_feedback(done, answer="Yes", by=world.people["board"])
    done.answered_at = done.received_at + timedelta(days=4)
    db.session.commit()
    queue = queries.board_queue(load_actor(world.people["board"]))
    assert queue.new_count == 1 and queue.average_days == 4.0
    assert list(queue.groups["Rose Court"]) == ["Food", "Care"]  # in the themes' order
    login(client, world.people["board"])
    page = client.get("/feedback/board").get_data(as_text=True)
    assert "Rose Court" in page and "<h3>Care</h3>" in page and "<h3>Food</h3>" in page
    assert page.count("badge-warn\">New") == 1  # the 45-day-old one is not new
    assert "4.0 days" in page


def test_board_answers_and_ambassador_is_told(app, world, client, outbox):
    item = make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    response = client.post(f"/feedback/ambassador/{item.id}/answer",
                           data={"answer": "We will add **fish** on Fridays.", "owner_id": "0"})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == FeedbackStatus.answered and item.answered_at is not None
    assert item.days_to_answer == 0 and item.answered_by_id == world.people["board"].id
    assert [m["To"] for m in outbox] == [world.ambassador.user.email]
    # The ambassador (and any ambassador of the scope) reads the answer.
    login(client, world.ambassador)
    assert "<strong>fish</strong>" in client.get(f"/feedback/ambassador/{item.id}").get_data(
        as_text=True)
    assert queries.answered_feedback(world.home.id, None, organisation_id=world.org.id) == [item]
    assert queries.answered_feedback(world.away.id, None, organisation_id=world.org.id) == []
    assert queries.answered_feedback(None, datetime.now(UTC) + timedelta(days=1),
                                     organisation_id=world.org.id) == []


def test_safeguarding_feedback_never_goes_to_a_newsletter(app, world):
    risky = make_feedback(world, said="A resident says a carer shouted at her.",
                          safeguarding=True)
    plain = make_feedback(world)
    for item in (risky, plain):
        services.answer_feedback(item, answer="We have looked into it.",
                                 by=world.people["board"])
    db.session.commit()
    assert queries.answered_feedback(world.home.id, None, organisation_id=world.org.id) == [plain]


def test_state_machine(app, world):
    board = world.people["board"]
    item = make_feedback(world)
    services.move_feedback(item, "under_review", by=board)
    with pytest.raises(FeedbackError):
        services.move_feedback(item, "received", by=board)
    with pytest.raises(FeedbackError):
        services.move_feedback(item, "answered", by=board)  # answering needs the words
    services.answer_feedback(item, answer="Done", by=board)
    services.move_feedback(item, "closed", by=board)
    assert item.status == FeedbackStatus.closed and item.closed_at is not None
    with pytest.raises(FeedbackError, match="closed"):
        services.move_feedback(item, "under_review", by=board)
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "AmbassadorFeedback")).all()
    assert actions.count("feedback.moved") == 2 and "feedback.answered" in actions


def test_answering_a_closed_item_is_refused_and_changes_nothing(app, world, client, outbox):
    item = make_feedback(world)
    services.answer_feedback(item, answer="First answer", by=world.people["board"])
    services.move_feedback(item, "closed", by=world.people["board"])
    db.session.commit()
    outbox.clear()
    login(client, world.people["board"])
    response = client.post(f"/feedback/ambassador/{item.id}/answer",
                           data={"answer": "A new answer", "owner_id": "0"})
    assert response.status_code == 200
    assert "This feedback is closed" in response.get_data(as_text=True)
    db.session.expire_all()
    item = db.session.get(AmbassadorFeedback, item.id)
    assert item.answer == "First answer" and item.status == FeedbackStatus.closed
    assert outbox == []


def test_empty_answer_is_refused(app, world, client):
    item = make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    response = client.post(f"/feedback/ambassador/{item.id}/answer",
                           data={"answer": "  ", "owner_id": "0"})
    assert "Write the board&#39;s answer" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == FeedbackStatus.received and item.answer == ""


def test_feedback_cannot_be_closed_before_it_is_answered(app, world, client):
    item = make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    page = client.get(f"/feedback/ambassador/{item.id}").get_data(as_text=True)
    assert "Close (no more changes)" not in page
    response = client.post(f"/feedback/ambassador/{item.id}/move", data={"to": "closed"},
                           follow_redirects=True)
    assert "Answer this feedback before closing it" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == FeedbackStatus.received and item.closed_at is None
    services.answer_feedback(item, answer="Done", by=world.people["board"])
    db.session.commit()
    page = client.get(f"/feedback/ambassador/{item.id}").get_data(as_text=True)
    assert "Close (no more changes)" in page


def test_illegal_move_through_the_page(app, world, client):
    item = make_feedback(world)
    services.answer_feedback(item, answer="Done", by=world.people["board"])
    db.session.commit()
    login(client, world.people["board"])
    response = client.post(f"/feedback/ambassador/{item.id}/move", data={"to": "under_review"},
                           follow_redirects=True)
    assert "cannot be moved to under review" in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.status == FeedbackStatus.answered


meetings = pytest.importorskip("involve.meetings.services")


def _board_meeting(world, *, days: int):
    from involve.meetings.services import create_series, schedule_meeting

    series = create_series(organisation_id=world.org.id, service_id=None, name="Board",
                           kind="board", invited_roles=["board"], by=None)
    start = datetime.now(UTC) + timedelta(days=days)
    return schedule_meeting(series, starts_at=start, ends_at=start + timedelta(hours=2),
                            room="Board room", by=None)


def test_answer_with_an_action_goes_to_the_action_tracker(app, world, client):
    from involve.meetings.models import Action

    item = make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    due = date.today() + timedelta(days=14)
    client.post(f"/feedback/ambassador/{item.id}/answer", data={
        "answer": "Yes.", "we_will": "Add fish to the Friday menu",
        "owner_id": str(world.people["manager"].id), "due_on": due.isoformat()})
    action = db.session.scalar(select(Action))
    assert action.source == "feedback" and action.source_id == item.id
    assert action.owner_id == world.people["manager"].id and action.due_on == due
    assert action.service_id == world.home.id
    assert "Add fish" in client.get(f"/feedback/ambassador/{item.id}").get_data(as_text=True)


def test_action_due_in_the_past_changes_nothing(app, world, client):
    from involve.meetings.models import Action

    item = make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    response = client.post(f"/feedback/ambassador/{item.id}/answer", data={
        "answer": "Yes.", "we_will": "Something", "owner_id": str(world.people["manager"].id),
        "due_on": (date.today() - timedelta(days=3)).isoformat()})
    assert "in the past" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Action)) is None
    assert db.session.get(AmbassadorFeedback, item.id).status == FeedbackStatus.received


def test_board_agenda_gets_an_ambassador_feedback_item_once(app, world, client):
    from involve.meetings.models import AgendaItem

    meeting = _board_meeting(world, days=7)
    make_feedback(world, said="Fish on Fridays")
    make_feedback(world, theme_name="Care", said="Night staff names")
    make_feedback(world, theme_name="Safety", said="Bruises on her arm", safeguarding=True)
    db.session.commit()
    login(client, world.people["board"])
    assert "Put these on the next board agenda" in client.get("/feedback/board").get_data(
        as_text=True)
    response = client.post("/feedback/board/agenda", follow_redirects=True)
    assert "lists 3 items of ambassador feedback" in response.get_data(as_text=True)
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id,
                                                      AgendaItem.title == "Ambassador feedback"))
    assert "Fish on Fridays" in item.description and "Night staff names" in item.description
    # The agenda reaches more people than the item: a safeguarding matter is named, not quoted.
    assert "Bruises" not in item.description
    assert "may be a safeguarding matter" in item.description
    response = client.post("/feedback/board/agenda", follow_redirects=True)
    assert "already has an Ambassador feedback item" in response.get_data(as_text=True)
    assert "The live list: " in item.description and "\n1. " in item.description
    assert len(db.session.scalars(select(AgendaItem).where(
        AgendaItem.title == "Ambassador feedback")).all()) == 1


def test_the_board_meeting_page_shows_the_feedback_item_as_a_list(app, world, client):
    meeting = _board_meeting(world, days=7)
    make_feedback(world, said="Fish on Fridays")
    make_feedback(world, theme_name="Care", said="Night staff names")
    board = make_person(world.org, "Bea Board", roles=[(Role.board, None)])
    db.session.commit()
    login(client, board)
    client.post("/feedback/board/agenda")
    meetings.publish_agenda(meeting, by=board)
    db.session.commit()
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    listed = page[page.index("Ambassador feedback for the board:"):]
    listed = listed[:listed.index("</ol>")]
    # A list, one item each, not one paragraph of numbers.
    assert listed.count("<li>") == 2 and "<ol>" in listed
    assert "Fish on Fridays</li>" in listed


def test_no_board_meeting_gives_a_clear_answer(app, world, client):
    make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    response = client.post("/feedback/board/agenda", follow_redirects=True)
    assert "There is no board meeting coming up" in response.get_data(as_text=True)


def test_new_since_last_held_board_meeting(app, world):
    from involve.meetings.services import mark_held

    meeting = _board_meeting(world, days=-3)
    mark_held(meeting, by=None)
    db.session.flush()
    since, label = queries.last_board_meeting_at(world.org.id)
    assert label == "since the last board meeting"
    assert abs((since - meeting.starts_at).total_seconds()) < 1


def test_the_queue_shows_the_words_and_links_the_item(app, world, client):
    fish = make_feedback(world, said="Fish on **Fridays**, please.")
    bruises = make_feedback(world, theme_name="Safety", said="Bruises on her arm",
                            safeguarding=True)
    db.session.commit()
    login(client, world.people["board"])
    page = client.get("/feedback/board").get_data(as_text=True)
    assert f'href="/feedback/ambassador/{fish.id}">Fish on Fridays, please.</a>' in page
    # The board may read what was done about a safeguarding matter, so it reads the words.
    assert f'href="/feedback/ambassador/{bruises.id}">Bruises on her arm</a>' in page
    assert "day(s)" not in page and "Today" in page


def test_safeguarding_words_are_shown_only_as_the_policy_allows(app, world):
    from involve.feedback.views import queue_words

    item = make_feedback(world, said="Bruises on her arm", safeguarding=True)
    db.session.commit()
    for person, shown in ((world.people["board"], True), (world.ambassador, False)):
        with app.test_request_context():
            from flask import g

            g.actor = load_actor(person)
            words = queue_words(item)
        assert ("Bruises" in words) is shown, person.full_name
        if not shown:
            assert "May be a safeguarding matter" in words


def test_the_board_agenda_list_is_live_and_can_be_refreshed(app, world, client):
    from involve.meetings.models import AgendaItem

    _board_meeting(world, days=7)
    first = make_feedback(world, said="Fish on Fridays")
    db.session.commit()
    login(client, world.people["board"])
    client.post("/feedback/board/agenda")
    entry = db.session.scalar(select(BoardAgendaEntry))
    assert [i.id for i in entry.items] == [first.id]
    services.answer_feedback(first, answer="Yes, from next week.", by=world.people["board"])
    later = make_feedback(world, theme_name="Care", said="Night staff names")
    db.session.commit()
    page = client.get(f"/feedback/board/agenda/{entry.id}").get_data(as_text=True)
    assert "<ol" in page and "Answered" in page and "Night staff names" not in page
    response = client.post(f"/feedback/board/agenda/{entry.id}/refresh", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1 newer item added." in page and "Night staff names" in page
    agenda_item = db.session.scalar(select(AgendaItem).where(
        AgendaItem.title == "Ambassador feedback"))
    assert "1. Rose Court, Food (suggestion, answered): Fish on Fridays" in \
        agenda_item.description.replace(world.home.name, "Rose Court")
    assert "2. " in agenda_item.description and "Night staff names" in agenda_item.description
    again = client.post(f"/feedback/board/agenda/{entry.id}/refresh", follow_redirects=True)
    assert "nothing new to add." in again.get_data(as_text=True)
    assert len(db.session.scalar(select(BoardAgendaEntry)).items) == 2
    assert later.id in {i.id for i in entry.items}


def test_refreshing_a_removed_agenda_item_is_a_clear_error(app, world, client):
    _board_meeting(world, days=7)
    make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    client.post("/feedback/board/agenda")
    entry = db.session.scalar(select(BoardAgendaEntry))
    entry.agenda_item_id = None
    db.session.commit()
    make_feedback(world, said="Something newer")
    db.session.commit()
    response = client.post(f"/feedback/board/agenda/{entry.id}/refresh", follow_redirects=True)
    assert "no longer on that agenda" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(BoardAgendaEntry, entry.id).items) == 1


def test_queue_is_paged_but_counts_and_the_agenda_take_every_item(app, world, client):
    from involve.meetings.models import AgendaItem
    from involve.people.demo import bulk_insert

    meeting = _board_meeting(world, days=7)
    food = theme(world, "Food")
    count = queries.BOARD_PER_PAGE + 10
    bulk_insert(AmbassadorFeedback, [
        {"service_id": world.home.id, "theme_id": food.id, "kind": "suggestion",
         "what_was_said": f"Said number {n:03d}", "ambassador_id": world.ambassador.id,
         "recorded_by_id": world.ambassador.id} for n in range(count)], ids=False)
    db.session.commit()
    login(client, world.people["board"])
    first = client.get("/feedback/board").get_data(as_text=True)
    assert f"<h2>{count}</h2><p>waiting for an answer" in first
    assert first.count("Said number") == queries.BOARD_PER_PAGE and "Page 1 of 2" in first
    second = client.get("/feedback/board?page=2").get_data(as_text=True)
    assert second.count("Said number") == 10 and "Said number 059" in second
    client.post("/feedback/board/agenda")
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id,
                                                      AgendaItem.title == "Ambassador feedback"))
    assert "Said number 000" in item.description and "Said number 059" in item.description
