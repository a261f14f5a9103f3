"""Ambassadors invited to a meeting come from the meeting's own organisation only."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from involve.extensions import db
from involve.meetings.models import MeetingInvitee, SeriesKind
from involve.people.models import AmbassadorTerm, Role
from tests.factories import make_strangers
from tests.meetings.helpers import make_meeting, make_series


def test_another_organisations_ambassadors_are_never_invited(app, world):
    strangers = make_strangers(world)
    stranger = strangers["service_user"]
    # An organisation-wide term there, and one for its care home.
    home = stranger.grants[0].service_id
    for service_id in (None, home):
        db.session.add(AmbassadorTerm(person_id=stranger.id, service_id=service_id,
                                      starts_on=date.today() - timedelta(days=5)))
    db.session.flush()
    board = make_series(world, service=None, kind=SeriesKind.board,
                        roles=[Role.board], ambassadors=True)
    residents = make_series(world, ambassadors=True)
    for series in (board, residents):
        meeting = make_meeting(world, series)
        invited = set(db.session.scalars(select(MeetingInvitee.person_id).where(
            MeetingInvitee.meeting_id == meeting.id)))
        assert world.ambassador.id in invited
        assert stranger.id not in invited
