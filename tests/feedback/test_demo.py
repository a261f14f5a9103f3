"""The feedback demo data loads, has something for every page, and adds nothing the second time."""

from sqlalchemy import func, select

from involve.extensions import db
from involve.feedback import demo
from involve.feedback.models import (
    AmbassadorFeedback,
    Briefing,
    FeedbackStatus,
    Submission,
    SubmissionStatus,
    Theme,
)
from involve.people.models import AmbassadorTerm, Role, Service, ServiceKind
from tests.factories import make_org, make_person


def _brookfield():
    """The few demo people the feedback seed relies on (the full people demo is slow)."""
    org = make_org("Brookfield Care")
    rose = Service(organisation_id=org.id, name="Rose Court", slug="rose-court",
                   kind=ServiceKind.care_home)
    db.session.add(rose)
    db.session.flush()
    make_person(org, "Mary Manning", roles=[(Role.manager, rose)],
                email="manager@brookfield.example")
    make_person(org, "Sam Carter", roles=[(Role.staff, rose)], email="staff@brookfield.example")
    make_person(org, "Beatrice Bourne", roles=[(Role.board, None)],
                email="board@brookfield.example")
    make_person(org, "Fiona Lovelace", roles=[(Role.family, rose)],
                email="family@brookfield.example")
    make_person(org, "Ada Lovelace", roles=[(Role.service_user, rose)], username="ada")
    make_person(org, "Cyril Clarke", roles=[(Role.service_user, rose)], account=False)
    return org


def _counts():
    return [db.session.scalar(select(func.count()).select_from(m))
            for m in (Theme, AmbassadorFeedback, Briefing, Submission)]


def test_demo_seed_is_idempotent(app):
    org = _brookfield()
    demo.seed(org)
    db.session.commit()
    first = _counts()
    assert first[0] == 7 and first[1] >= 5 and first[2] == 1 and first[3] >= 3
    states = set(db.session.scalars(select(AmbassadorFeedback.status)))
    assert {FeedbackStatus.received, FeedbackStatus.under_review, FeedbackStatus.answered,
            FeedbackStatus.closed} <= states
    assert db.session.scalar(select(Submission.id).where(
        Submission.kind == "complaint", Submission.status == SubmissionStatus.received))
    term = db.session.scalar(select(AmbassadorTerm))
    assert term.person.full_name == "Cyril Clarke"  # not Ada: someone else is ambassador
    demo.seed(org)
    db.session.commit()
    assert _counts() == first
    assert db.session.scalar(select(func.count(AmbassadorTerm.id))) == 1
