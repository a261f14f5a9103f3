"""Permission matrix for the feedback endpoints."""

import pytest

from involve.feedback import services
from tests.feedback.helpers import make_briefing, make_feedback, make_submission, theme
from tests.permission_matrix import EVERYONE, Case, check_case

STAFF_SIDE = {"board", "manager"}
READERS = {"board", "manager", "ambassador"}


def _comment(world):
    item = make_feedback(world)
    return services.add_comment(item, author=world.ambassador, body="I agree.")


def _agenda_entry(world):
    from datetime import UTC, datetime, timedelta

    from involve.meetings.services import create_series, schedule_meeting

    series = create_series(organisation_id=world.org.id, service_id=None, name="Board",
                           kind="board", invited_roles=["board"], by=None)
    start = datetime.now(UTC) + timedelta(days=7)
    schedule_meeting(series, starts_at=start, ends_at=start + timedelta(hours=2),
                     room="Board room", by=None)
    return services.add_to_board_agenda([make_feedback(world)], by=world.people["board"])


def _family_submission(world):
    return make_submission(world, kind="concern", submitter=world.people["family"])


CASES = [
    Case("feedback.index", lambda w, c: "/feedback/", EVERYONE, away="allow"),
    Case("feedback.record", lambda w, c: "/feedback/ambassador/new",
         {"staff", "manager", "ambassador"}, away="allow"),
    Case("feedback.safeguarding", lambda w, c: f"/feedback/ambassador/{c.id}/safeguarding",
         {"manager"}, setup=lambda w: make_feedback(w, safeguarding=True)),
    Case("feedback.feedback_list", lambda w, c: "/feedback/ambassador", READERS, away="allow"),
    Case("feedback.feedback_item", lambda w, c: f"/feedback/ambassador/{c.id}", READERS,
         setup=make_feedback),
    Case("feedback.comment", lambda w, c: f"/feedback/ambassador/{c.id}/comments", READERS,
         method="POST", data={"body": "A comment"}, setup=make_feedback),
    Case("feedback.hide_comment", lambda w, c: f"/feedback/comments/{c.id}/hide", {"manager"},
         setup=_comment),
    Case("feedback.board", lambda w, c: "/feedback/board", {"board"}, away="allow"),
    Case("feedback.board_agenda", lambda w, c: "/feedback/board/agenda", {"board"},
         method="POST", away="allow"),
    Case("feedback.board_agenda_list", lambda w, c: f"/feedback/board/agenda/{c.id}",
         {"board"}, away="allow", setup=_agenda_entry),
    Case("feedback.board_agenda_refresh", lambda w, c: f"/feedback/board/agenda/{c.id}/refresh",
         {"board"}, method="POST", away="allow", setup=_agenda_entry),
    Case("feedback.answer", lambda w, c: f"/feedback/ambassador/{c.id}/answer", {"board"},
         setup=make_feedback),
    Case("feedback.move", lambda w, c: f"/feedback/ambassador/{c.id}/move", {"board"},
         method="POST", data={"to": "under_review"}, setup=make_feedback),
    Case("feedback.briefings", lambda w, c: "/feedback/briefings", READERS, away="allow"),
    Case("feedback.briefing_new", lambda w, c: "/feedback/briefings/new", {"board"},
         away="allow"),
    Case("feedback.briefing", lambda w, c: f"/feedback/briefings/{c.id}", READERS,
         setup=make_briefing),
    Case("feedback.briefing_shared", lambda w, c: f"/feedback/briefings/{c.id}/shared",
         {"ambassador"}, method="POST", setup=make_briefing),
    Case("feedback.said_back", lambda w, c: f"/feedback/briefings/{c.id}/said-back",
         {"ambassador"}, setup=make_briefing),
    Case("feedback.give_choose", lambda w, c: "/feedback/give", {"anonymous"}),
    Case("feedback.give", lambda w, c: f"/feedback/give/{w.home.slug}", {"anonymous"},
         setup=theme),
    Case("feedback.status", lambda w, c: f"/feedback/status/{services.status_token(c)}",
         {"anonymous"}, setup=make_submission),
    Case("feedback.status_lookup", lambda w, c: "/feedback/status", {"anonymous"}),
    Case("feedback.thanks", lambda w, c: f"/feedback/give/{w.home.slug}/thanks", {"anonymous"}),
    Case("feedback.guardian", lambda w, c: "/feedback/guardian", set(), away="allow"),
    Case("feedback.mine", lambda w, c: "/feedback/mine", EVERYONE, away="allow"),
    Case("feedback.submissions", lambda w, c: "/feedback/submissions", STAFF_SIDE,
         away="allow"),
    Case("feedback.submission", lambda w, c: f"/feedback/submissions/{c.id}",
         {"board", "manager", "family"}, setup=_family_submission),
    Case("feedback.acknowledge", lambda w, c: f"/feedback/submissions/{c.id}/acknowledge",
         STAFF_SIDE, method="POST", setup=make_submission),
    Case("feedback.answer_submission", lambda w, c: f"/feedback/submissions/{c.id}/answer",
         STAFF_SIDE, setup=make_submission),
    Case("feedback.reopen_submission", lambda w, c: f"/feedback/submissions/{c.id}/reopen",
         STAFF_SIDE, method="POST", data={"reason": "Not satisfied"}, setup=make_submission),
    Case("feedback.extend_submission", lambda w, c: f"/feedback/submissions/{c.id}/extend",
         STAFF_SIDE, method="POST", data={"reason": "Waiting", "answer_by": "2099-01-01"},
         setup=make_submission),
    Case("feedback.summary", lambda w, c: "/feedback/complaints/summary", STAFF_SIDE,
         away="allow"),
    Case("feedback.summary_csv", lambda w, c: "/feedback/complaints/summary.csv", STAFF_SIDE,
         away="allow"),
    Case("feedback.settings", lambda w, c: "/feedback/settings", {"admin", "board"},
         away="allow"),
    Case("feedback.themes", lambda w, c: "/feedback/themes", {"admin", "board"}, away="allow"),
    Case("feedback.theme_archive", lambda w, c: f"/feedback/themes/{c.id}/archive",
         {"admin", "board"}, method="POST", away="allow", setup=theme),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)
