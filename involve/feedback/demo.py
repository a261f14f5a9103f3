"""Demo data for feedback at Rose Court. Running it twice adds nothing twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from involve.auth.services import new_code
from involve.extensions import db, utcnow
from involve.feedback import procedure, services
from involve.feedback.models import (
    AmbassadorFeedback,
    FeedbackKind,
    FeedbackStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Theme,
)
from involve.kernel import clock
from involve.people.demo import ScaledService, bulk_insert
from involve.people.models import (
    AmbassadorTerm,
    Organisation,
    Person,
    Role,
    RoleGrant,
    Service,
    User,
)


def _by_email(email: str) -> Person | None:
    return db.session.scalar(select(Person).join(User).where(User.email == email))


def _ambassador(rose: Service) -> Person:
    """An ambassador at Rose Court: the elected one if elections made one, else our own."""
    today = clock.today()
    term = db.session.scalar(select(AmbassadorTerm).where(
        AmbassadorTerm.service_id == rose.id, AmbassadorTerm.starts_on <= today,
        (AmbassadorTerm.ends_on.is_(None)) | (AmbassadorTerm.ends_on >= today)).limit(1))
    if term is not None:
        return term.person
    resident = db.session.scalar(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == Role.service_user, RoleGrant.service_id == rose.id,
               Person.preferred_name != "Ada", Person.full_name != "Ada Lovelace")
        .order_by(Person.id).limit(1))
    db.session.add(AmbassadorTerm(person_id=resident.id, service_id=rose.id,
                                  starts_on=today - timedelta(days=60),
                                  ends_on=today + timedelta(days=305)))
    db.session.flush()
    return resident


def seed(org: Organisation) -> None:
    """Themes, ambassador feedback at Rose Court in every state, a briefing and public feedback."""
    themes = {t.name: t for t in services.ensure_default_themes(org)}
    rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
    if rose is None:
        return
    if db.session.scalar(select(AmbassadorFeedback.id).where(
            AmbassadorFeedback.service_id == rose.id).limit(1)):
        return  # already seeded
    ambassador = _ambassador(rose)
    board = _by_email("board@brookfield.example")
    manager = _by_email("manager@brookfield.example")
    staff = _by_email("staff@brookfield.example")
    family = _by_email("family@brookfield.example")
    if board is None or manager is None:
        return

    def item(theme: str, kind: str, said: str, count: int, days_ago: int,
             **extra: object) -> AmbassadorFeedback:
        feedback = services.record_feedback(
            service=rose, theme=themes.get(theme) or _first(themes), kind=kind,
            what_was_said=said, people_count=count, ambassador=ambassador,
            by=extra.pop("by", ambassador), **extra)  # type: ignore[arg-type]
        feedback.received_at = utcnow() - timedelta(days=days_ago)
        return feedback

    item("Food", "suggestion", "Several people would like **fish on Fridays** again, and a "
         "choice of a smaller plate at lunch.", 6, 3)
    item("Activities", "compliment", "Everyone enjoyed the music afternoon with the school "
         "choir. People asked if the choir can come back at Christmas.", 9, 12)
    reviewing = item("Environment", "concern", "The garden path by the bench is uneven. Two "
                     "people said they do not feel safe walking there with a frame.", 2, 20,
                     by=staff or ambassador)
    services.move_feedback(reviewing, FeedbackStatus.under_review, by=board)
    answered = item("Care", "suggestion", "People would like to know the names of the night "
                    "staff. Could there be a board by the lounge with photos?", 5, 40)
    action = None
    if services.actions_available():
        action = {"we_will": "Put up a 'Who is on tonight' board with photos by the lounge.",
                  "owner": manager, "due_on": clock.today() + timedelta(days=21)}
    services.answer_feedback(
        answered, by=board, action=action,
        answer="Thank you. The board agrees. The manager will put up a board with the photos "
               "and names of the staff on each night, by the lounge door.")
    answered.answered_at = answered.received_at + timedelta(days=9)
    services.add_comment(answered, author=manager, body="We have ordered the board. Photos "
                         "will be taken next week, for staff who agree.")
    closed = item("Staff", "compliment", "People said the new activities coordinator is kind "
                  "and patient.", 4, 70)
    services.answer_feedback(closed, by=board, answer="Thank you: we have passed this on.")
    closed.answered_at = closed.received_at + timedelta(days=5)
    services.move_feedback(closed, FeedbackStatus.closed, by=board)

    briefing = services.post_briefing(
        org=org, service=rose, by=board, title="New visiting times from next month",
        body="The board has agreed new visiting times.\n\n- Visits from **10am to 8pm** every "
             "day.\n- Protected mealtimes stay at 12 noon to 1pm.\n\nPlease ask people what "
             "they think and tell us.")
    services.mark_shared(briefing, ambassador=ambassador)
    services.record_said_back(briefing, service=rose, theme=themes.get("Other") or
                              _first(themes), kind="suggestion", people_count=3,
                              what_was_said="People like the new times. Some would like "
                              "visits until 9pm at weekends.", ambassador=ambassador)

    if not db.session.scalar(select(Submission.id).where(Submission.service_id == rose.id)):
        services.submit(service=rose, kind="compliment", theme=themes.get("Staff"),
                        body="The staff made Mum's 90th birthday so special. Thank you all.",
                        submitter=family)
        services.submit(service=rose, kind="complaint", theme=themes.get("Care"),
                        body="My father's hearing aid batteries were not changed for a week. "
                             "He could not join in.", name="Mr D. Patel",
                        contact="d.patel@example.org")
        services.submit(service=rose, kind="suggestion", theme=themes.get("Environment"),
                        body="A bird feeder outside the lounge window would be lovely.",
                        anonymous=True)
        old = services.submit(service=rose, kind="complaint", theme=themes.get("Food"),
                              body="Dinner was cold twice this week.", submitter=family)
        old.received_at = utcnow() - timedelta(days=30)
        old.acknowledge_by, old.answer_by = procedure.deadlines(old.received_at.date())
        services.acknowledge(old, by=manager)
        old.acknowledged_at = old.received_at + timedelta(days=1)
        services.answer_submission(
            old, by=manager, outcome="upheld",
            answer="We are sorry. The heated trolley was broken; it has been replaced.",
            learning="Check the trolley every week.",
            escalation_route="The Local Government and Social Care Ombudsman.")
        old.answered_at = old.received_at + timedelta(days=8)
    db.session.flush()


def _first(themes: dict[str, Theme]) -> Theme:
    return next(iter(themes.values()))


def seed_elmfield(org: Organisation) -> None:
    """Elmfield Trust: its themes, and feedback from Elm Lodge, one piece answered."""
    themes = {t.name: t for t in services.ensure_default_themes(org)}
    elm = db.session.scalar(select(Service).where(Service.organisation_id == org.id,
                                                  Service.slug == "elm-lodge"))
    manager = _by_email("manager@elmfield.example")
    if elm is None or manager is None or db.session.scalar(select(Submission.id).where(
            Submission.service_id == elm.id).limit(1)):
        return
    resident = db.session.scalar(select(Person).join(User).where(User.username == "elmsu"))
    services.submit(service=elm, kind="compliment", theme=themes.get("Food"),
                    body="The Sunday roast is the best I have had in years.", submitter=resident)
    asked = services.submit(service=elm, kind="suggestion", theme=themes.get("Environment"),
                            body="Could the conservatory blinds be fixed? The sun is too "
                                 "bright after lunch.", submitter=resident)
    services.acknowledge(asked, by=manager)
    services.answer_submission(asked, by=manager, outcome=None,
                               answer="Thank you, Edie. New blinds are ordered for next week.")
    db.session.flush()


def seed_scaled(org: Organisation, batch: list[ScaledService]) -> None:
    """For each extra service of ``--scale``: three pieces of ambassador feedback (new, under
    review, answered) and two of people's feedback (a new compliment from a relative, an
    acknowledged complaint). Bulk inserts, a batch at a time."""
    themes = [t.id for t in services.ensure_default_themes(org)]
    now = utcnow()
    feedback, submissions = [], []
    earlier = now - timedelta(days=12)
    acknowledge_by, answer_by = procedure.deadlines(earlier.date())
    references = _references(2 * len(batch))
    for n, service in enumerate(batch):
        ambassador = service.resident_ids[0]
        said = {"service_id": service.id, "ambassador_id": ambassador,
                "recorded_by_id": ambassador, "people_count": 3}
        feedback += [
            {**said, "theme_id": themes[n % len(themes)], "kind": FeedbackKind.suggestion,
             "what_was_said": "People would like fish on Fridays again.",
             "received_at": now - timedelta(days=2)},
            {**said, "theme_id": themes[(n + 1) % len(themes)], "kind": FeedbackKind.concern,
             "what_was_said": "The garden path is uneven by the bench.",
             "status": FeedbackStatus.under_review, "received_at": now - timedelta(days=9)},
            {**said, "theme_id": themes[(n + 2) % len(themes)], "kind": FeedbackKind.compliment,
             "what_was_said": "Everyone enjoyed the music afternoon.",
             "status": FeedbackStatus.answered, "received_at": now - timedelta(days=30),
             "answer": "Thank you: we have passed this on.",
             "answered_at": now - timedelta(days=25), "answered_by_id": service.manager_id}]
        submissions += [
            {"reference": references[2 * n], "service_id": service.id,
             "kind": SubmissionKind.compliment, "theme_id": themes[0],
             "body": "The staff made Mum's birthday so special. Thank you all.",
             "submitter_id": service.relative_ids[0], "received_at": now - timedelta(days=1)},
            {"reference": references[2 * n + 1], "service_id": service.id,
             "kind": SubmissionKind.complaint, "theme_id": themes[-1],
             "body": "Dinner was cold twice this week.", "name": "A relative",
             "contact": f"relative.{service.id}@family.example", "received_at": earlier,
             "status": SubmissionStatus.acknowledged, "acknowledged_at": earlier,
             "acknowledged_by_id": service.manager_id, "acknowledge_by": acknowledge_by,
             "answer_by": answer_by}]
    bulk_insert(AmbassadorFeedback, feedback, ids=False)
    bulk_insert(Submission, submissions, ids=False)


def _references(count: int) -> list[str]:
    """``count`` new feedback references, none already taken (checked in one statement)."""
    references: set[str] = set()
    while len(references) < count:
        fresh = {new_code() for _ in range(count - len(references))} - references
        taken = set(db.session.scalars(select(Submission.reference)
                                       .where(Submission.reference.in_(fresh))))
        references |= fresh - taken
    return sorted(references)
