"""The feedback domain's policy: ambassador feedback, the board, briefings, submissions."""

from __future__ import annotations

from typing import Any

from involve.people.models import Role
from involve.permissions import Actor, capability, scope_of

R = Role

_FEEDBACK_READERS = frozenset({R.board, R.manager})


def _feedback_reader(actor: Actor, obj: Any) -> bool:
    """Board and managers of the scope, and its ambassadors (ambassador feedback)."""
    scope = scope_of(obj)
    if actor.has_role(_FEEDBACK_READERS, scope) or actor.is_ambassador(scope):
        return True
    # Staff who recorded an item on an ambassador's behalf may look at what they wrote.
    return obj is not None and getattr(obj, "recorded_by_id", None) == actor.person_id


def _feedback_discussant(actor: Actor, obj: Any) -> bool:
    scope = scope_of(obj)
    return actor.has_role(_FEEDBACK_READERS, scope) or actor.is_ambassador(scope)


def _feedback_recorder(actor: Actor, obj: Any) -> bool:
    """Ambassadors of the scope, or staff and managers recording on an ambassador's behalf."""
    scope = scope_of(obj)
    return actor.is_ambassador(scope) or actor.has_role([R.staff, R.manager], scope)


def _briefing_ambassador(actor: Actor, obj: Any) -> bool:
    scope = scope_of(obj)
    if obj is not None and scope is None:
        return actor.is_ambassador()  # an organisation-wide briefing is for every ambassador
    return actor.is_ambassador(scope)


def _briefing_reader(actor: Actor, obj: Any) -> bool:
    scope = scope_of(obj)
    if obj is not None and scope is None:
        return actor.is_ambassador() or actor.has_role(_FEEDBACK_READERS)
    return _feedback_discussant(actor, obj)


def _submission_reader(actor: Actor, obj: Any) -> bool:
    """Board and managers of the service, and the person who submitted or recorded it.

    The text may hold health details, so nobody else (family, partners, other service users,
    staff who did not record it) sees it.
    """
    if obj is not None and obj.guardian_id is not None:
        return actor.person_id is not None and actor.person_id in (
            obj.guardian_id, obj.submitter_id, obj.recorded_by_id)
    if actor.has_role(_FEEDBACK_READERS, scope_of(obj)):
        return True
    if obj is None or actor.person_id is None:
        return False
    return actor.person_id in (obj.submitter_id, obj.recorded_by_id)


def _submission_handler(actor: Actor, obj: Any) -> bool:
    """Board and managers of the service; a concern sent to the Freedom to Speak Up guardian
    (it may be about a manager) only the guardian it went to."""
    if obj is not None and getattr(obj, "guardian_id", None) is not None:
        return actor.person_id == obj.guardian_id
    return actor.has_role(_FEEDBACK_READERS, scope_of(obj))


def _guardian(actor: Actor, obj: Any) -> bool:
    """The organisation's Freedom to Speak Up guardian, or whoever a concern went to."""
    if actor.person_id is None:
        return False
    from sqlalchemy import select

    from involve.extensions import db
    from involve.feedback.models import FeedbackSettings, Submission

    return db.session.scalar(select(FeedbackSettings.id).where(
        FeedbackSettings.speak_up_guardian_id == actor.person_id).limit(1)) is not None or \
        db.session.scalar(select(Submission.id).where(
            Submission.guardian_id == actor.person_id).limit(1)) is not None


capability("feedback.record", "Record ambassador feedback (as an ambassador, or on their behalf)",
           rule=_feedback_recorder)
capability("feedback.view", "Read ambassador feedback and its answer", rule=_feedback_reader)
capability("feedback.list", "See the list of ambassador feedback", rule=_feedback_discussant)
capability("feedback.comment", "Comment on ambassador feedback", rule=_feedback_discussant)
capability("feedback.moderate", "Hide a comment on ambassador feedback", [R.manager])
capability("feedback.review", "Review and answer ambassador feedback", [R.board])
def _board_member(actor: Actor, obj: Any) -> bool:
    """Any board member of the organisation (the loader keeps other organisations out): the
    board's agenda belongs to the whole board, whichever services each member covers."""
    from involve.permissions import ANY_SCOPE

    return actor.has_role([R.board], ANY_SCOPE)


capability("feedback.board_agenda", "Read and refresh the Ambassador feedback item on a board "
           "meeting's agenda", rule=_board_member)
capability("feedback.brief", "Post board briefings for ambassadors", [R.board])
capability("feedback.briefings", "Read board briefings", rule=_briefing_reader)
capability("feedback.share", "Mark a briefing shared and record what people said back",
           rule=_briefing_ambassador)
capability("feedback.safeguarding", "Record what was done about a possible safeguarding matter "
           "(action, referral, outcome)", [R.manager])
capability("feedback.safeguarding_read", "Read what was done about a possible safeguarding "
           "matter", [R.board, R.manager])
capability("feedback.submissions", "Read and answer compliments, concerns and complaints",
           rule=_submission_handler)
capability("feedback.guardian", "Read and answer speak-up concerns sent to the Freedom to "
           "Speak Up guardian", rule=_guardian)
capability("feedback.submission", "Read one submission and its answer", rule=_submission_reader)
def _theme_editor(actor: Actor, obj: Any) -> bool:
    """Administrators and board members edit their own organisation's themes."""
    if not actor.has_role([R.admin, R.board]):
        return False
    return obj is None or obj.organisation_id == actor.person.organisation_id


capability("feedback.themes", "Edit the organisation's list of feedback themes",
           rule=_theme_editor)
capability("feedback.settings", "Set the organisation's feedback settings (the ombudsman route)",
           rule=_theme_editor)
