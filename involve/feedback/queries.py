"""Queries the feedback pages, home panels, tasks and newsletters need."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from involve.extensions import db, utcnow
from involve.feedback.models import (
    AmbassadorFeedback,
    Briefing,
    BriefingShare,
    FeedbackComment,
    FeedbackStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Theme,
)
from involve.kernel import clock
from involve.people.models import AmbassadorTerm, Organisation, Person, Role, Service
from involve.people.policy import services_in, services_where
from involve.permissions import Actor

OPEN = (FeedbackStatus.received, FeedbackStatus.under_review)


def answered_feedback(service_id: int | None, since: datetime | None, *,
                      organisation_id: int) -> list[AmbassadorFeedback]:
    """Ambassador feedback the board has answered (for newsletters' "you said, we did").

    Newest answer first; ``service_id`` None means every service of the organisation.
    Feedback flagged as a possible safeguarding matter is about someone's safety, not for a
    newsletter: left out.
    """
    query = (select(AmbassadorFeedback)
             .where(AmbassadorFeedback.status.in_([FeedbackStatus.answered,
                                                   FeedbackStatus.closed]),
                    AmbassadorFeedback.answered_at.is_not(None),
                    AmbassadorFeedback.safeguarding.is_(False),
                    services_in(AmbassadorFeedback.service_id, None, organisation_id))
             .options(selectinload(AmbassadorFeedback.theme))
             .order_by(AmbassadorFeedback.answered_at.desc()))
    if service_id is not None:
        query = query.where(AmbassadorFeedback.service_id == service_id)
    if since is not None:
        query = query.where(AmbassadorFeedback.answered_at >= since)
    return list(db.session.scalars(query))


def themes(org_id: int, include_archived: bool = False) -> list[Theme]:
    """The organisation's themes in their order."""
    query = select(Theme).where(Theme.organisation_id == org_id).order_by(Theme.position, Theme.id)
    if not include_archived:
        query = query.where(Theme.archived_at.is_(None))
    return list(db.session.scalars(query))


def organisation_of(actor: Actor) -> Organisation | None:
    return db.session.get(Organisation, actor.person.organisation_id) if actor.person else None


def _with_ambassador_scopes(actor: Actor, roles: list[str]) -> set[int] | None:
    """Services where the actor holds one of ``roles`` or is an ambassador (None: all)."""
    ids = actor.service_ids(roles)
    if ids is None:
        return None
    terms = actor.term_service_ids()
    return None if terms is None else ids | terms


def ambassador_scope_ids(actor: Actor) -> set[int] | None:
    """Services whose ambassador feedback the actor may read (None: all)."""
    return _with_ambassador_scopes(actor, ["board", "manager"])


def feedback_query(actor: Actor, *, status: str = "", service_id: int | None = None
                   ) -> Select[tuple[AmbassadorFeedback]]:
    """Ambassador feedback the actor may read, newest first."""
    query = (select(AmbassadorFeedback)
             .where(services_in(AmbassadorFeedback.service_id, ambassador_scope_ids(actor),
                                    actor.organisation_id))
             .options(selectinload(AmbassadorFeedback.theme),
                      selectinload(AmbassadorFeedback.service),
                      selectinload(AmbassadorFeedback.ambassador))
             .order_by(AmbassadorFeedback.received_at.desc(), AmbassadorFeedback.id.desc()))
    if status:
        query = query.where(AmbassadorFeedback.status == status)
    if service_id:
        query = query.where(AmbassadorFeedback.service_id == service_id)
    return query


def recordable_services_query(actor: Actor) -> Select[tuple[Service]]:
    """Services where the actor may record ambassador feedback, by name, for a picker."""
    ids = _with_ambassador_scopes(actor, ["staff", "manager"])
    return select(Service).where(Service.archived_at.is_(None),
                                 services_where(actor, Service.id, ids)
                                 ).order_by(Service.name, Service.id)


def ambassadors_for_query(actor: Actor, on: date | None = None) -> Select[tuple[Person]]:
    """Other people whose feedback the actor (as staff or a manager) may record for them:
    ambassadors with a term in force covering one of the actor's services (or the
    organisation), of the actor's organisation, by name, for a picker."""
    on = on or date.today()
    ids = actor.service_ids(["staff", "manager"])
    covering = AmbassadorTerm.service_id.is_(None)
    if ids is None or ids:
        covering = covering | services_where(actor, AmbassadorTerm.service_id, ids)
    terms = select(AmbassadorTerm.person_id).where(
        AmbassadorTerm.starts_on <= on,
        (AmbassadorTerm.ends_on.is_(None)) | (AmbassadorTerm.ends_on >= on), covering)
    if ids is not None and not ids:  # not staff or a manager anywhere: nobody else
        terms = terms.where(false())
    return (select(Person).where(Person.organisation_id == actor.organisation_id,
                                 Person.id != actor.person_id, Person.id.in_(terms))
            .order_by(Person.full_name, Person.id))


def term_in_force(service_id: int, on: date | None = None) -> Any:
    """The condition for an ambassador term in force on ``on`` (today) covering a service."""
    on = on or clock.today()
    return and_(AmbassadorTerm.starts_on <= on,
                (AmbassadorTerm.ends_on.is_(None)) | (AmbassadorTerm.ends_on >= on),
                (AmbassadorTerm.service_id.is_(None)) | (AmbassadorTerm.service_id == service_id))


def linked_actions(item: AmbassadorFeedback) -> list[Any]:
    """Actions in the meetings' tracker made from this item (none when meetings is absent)."""
    try:
        from involve.meetings.models import Action
    except (ImportError, AttributeError):
        return []
    return list(db.session.scalars(select(Action).where(Action.source == "feedback",
                                                        Action.source_id == item.id)))


def action_owners(service_id: int) -> list[Person]:
    """Who may own an action for a service: its board, managers and staff, by name."""
    from involve.people.queries import people_with_role

    found: dict[int, Person] = {}
    for role in (Role.board, Role.manager, Role.staff):
        for person in people_with_role(role, service_id):
            found.setdefault(person.id, person)
    return sorted(found.values(), key=lambda p: p.full_name)


# --- the board's queue -----------------------------------------------------------------------

def last_board_meeting_at(organisation_id: int) -> tuple[datetime, str]:
    """When the board last met, and how we know: the meetings module, else 30 days ago."""
    try:
        from involve.meetings.models import HELD_STATES, Meeting, MeetingSeries, SeriesKind
    except (ImportError, AttributeError):
        return utcnow() - timedelta(days=30), "in the last 30 days"
    when = db.session.scalar(
        select(Meeting.starts_at).join(MeetingSeries, MeetingSeries.id == Meeting.series_id)
        .where(MeetingSeries.kind == SeriesKind.board, Meeting.service_id.is_(None),
               MeetingSeries.organisation_id == organisation_id,
               Meeting.status.in_(HELD_STATES), Meeting.starts_at <= utcnow())
        .order_by(Meeting.starts_at.desc()).limit(1))
    if when is None:
        return utcnow() - timedelta(days=30), "in the last 30 days"
    return when, "since the last board meeting"


def next_board_meeting(actor: Actor) -> Any:
    """The next board meeting, when the meetings module is there."""
    try:
        from involve.meetings.queries import next_meeting_of_kind
    except (ImportError, AttributeError):
        return None
    return next_meeting_of_kind("board", None, organisation_id=actor.organisation_id)


BOARD_PER_PAGE = 50


@dataclass
class BoardQueue:
    """Open ambassador feedback grouped by service and theme, a page at a time, with counts
    and answer times over all of it."""

    since: datetime
    since_label: str
    page: Any = None  # the Pagination of open items, by service, theme and age
    groups: dict[str, dict[str, list[AmbassadorFeedback]]] = field(default_factory=dict)
    open_count: int = 0
    new_count: int = 0
    answered_count: int = 0
    average_days: float | None = None

    def is_new(self, item: AmbassadorFeedback) -> bool:
        return item.received_at >= self.since


def _board_open(actor: Actor) -> ColumnElement[bool]:
    return and_(services_in(AmbassadorFeedback.service_id, actor.service_ids(["board"]),
                            actor.organisation_id),
                AmbassadorFeedback.status.in_(OPEN))


def board_open_items(actor: Actor) -> list[AmbassadorFeedback]:
    """Every open item the board may review, oldest first (for its meeting's agenda)."""
    return list(db.session.scalars(select(AmbassadorFeedback).where(_board_open(actor))
                                   .order_by(AmbassadorFeedback.received_at,
                                             AmbassadorFeedback.id)))


def board_queue(actor: Actor, page: int | None = None) -> BoardQueue:
    """What the board has to review: a page of open items by service and theme, how many
    are open and new, and answer times. Counted in SQL, so the page is the same size in an
    organisation of any size."""
    since, label = last_board_meeting_at(actor.organisation_id)
    open_count, new_count = db.session.execute(
        select(func.count(), func.count(case((AmbassadorFeedback.received_at >= since, 1))))
        .select_from(AmbassadorFeedback).where(_board_open(actor))).one()
    items = (select(AmbassadorFeedback).where(_board_open(actor))
             .join(AmbassadorFeedback.service).join(AmbassadorFeedback.theme)
             .options(contains_eager(AmbassadorFeedback.service),
                      contains_eager(AmbassadorFeedback.theme))
             .order_by(Service.name, Service.id, Theme.position, Theme.name,
                       AmbassadorFeedback.received_at, AmbassadorFeedback.id))
    queue = BoardQueue(since, label, open_count=open_count, new_count=new_count)
    queue.page = db.paginate(items, page=page, per_page=BOARD_PER_PAGE, error_out=False,
                             count=False)
    queue.page.total = open_count
    grouped: dict[str, dict[str, list[AmbassadorFeedback]]] = defaultdict(
        lambda: defaultdict(list))
    for item in queue.page.items:
        grouped[item.service.name][item.theme.name].append(item)
    queue.groups = {name: dict(themes) for name, themes in grouped.items()}
    answered = list(db.session.execute(
        select(AmbassadorFeedback.received_at, AmbassadorFeedback.answered_at)
        .where(services_in(AmbassadorFeedback.service_id, actor.service_ids(["board"]),
                           actor.organisation_id),
               AmbassadorFeedback.answered_at.is_not(None))))
    queue.answered_count = len(answered)
    if answered:
        total = sum((a - r).total_seconds() for r, a in answered)
        queue.average_days = round(total / len(answered) / 86400, 1)
    return queue


# --- briefings -------------------------------------------------------------------------------

def briefings_for(actor: Actor) -> list[Briefing]:
    """Briefings the actor may read, newest first."""
    ids = ambassador_scope_ids(actor)
    query = (select(Briefing).where(Briefing.organisation_id == actor.organisation_id)
             .options(selectinload(Briefing.service),
                                      selectinload(Briefing.shares))
             .order_by(Briefing.posted_at.desc()))
    if ids is not None:
        query = query.where(or_(Briefing.service_id.is_(None), Briefing.service_id.in_(ids)))
    return list(db.session.scalars(query))


def unshared_briefings(actor: Actor, limit: int | None = None) -> list[Briefing]:
    """Briefings for the actor's ambassador scopes that they have not marked shared, newest
    first (at most ``limit``: the home page needs only the first few)."""
    if not actor.terms:
        return []
    from involve.permissions import can, first_allowed

    ids = ambassador_scope_ids(actor)
    query = (select(Briefing).where(
        Briefing.organisation_id == actor.organisation_id,
        ~select(BriefingShare.id).where(BriefingShare.briefing_id == Briefing.id,
                                        BriefingShare.ambassador_id == actor.person_id)
        .exists())
        .options(joinedload(Briefing.service))
        .order_by(Briefing.posted_at.desc(), Briefing.id.desc()))
    if ids is not None:
        query = query.where(or_(Briefing.service_id.is_(None), Briefing.service_id.in_(ids)))
    return first_allowed(query, lambda b: can("feedback.share", b, actor),
                         limit if limit is not None else 10**9)


# --- feedback from everyone ------------------------------------------------------------------

def submissions_query(service_ids: set[int] | None, *, organisation_id: int, kind: str = "",
                      status: str = "") -> Select[tuple[Submission]]:
    """Submissions in some services (None: all of the organisation's), newest first."""
    query = (select(Submission)
             .where(services_in(Submission.service_id, service_ids, organisation_id),
                    Submission.guardian_id.is_(None))  # the guardian's alone
             .options(selectinload(Submission.service), selectinload(Submission.theme))
             .order_by(Submission.received_at.desc(), Submission.id.desc()))
    if kind:
        query = query.where(Submission.kind == kind)
    if status:
        query = query.where(Submission.status == status)
    return query


def my_submissions(person_id: int, *, status: SubmissionStatus | None = None,
                   limit: int | None = None) -> list[Submission]:
    """What a person submitted themselves (never anything anonymous: that has no link),
    newest first; only those in ``status`` and at most ``limit`` when given."""
    query = (select(Submission).where(Submission.submitter_id == person_id)
             .options(joinedload(Submission.service))
             .order_by(Submission.received_at.desc(), Submission.id.desc()))
    if status is not None:
        query = query.where(Submission.status == status)
    return list(db.session.scalars(query.limit(limit)))


def guardian_choices_query(organisation_id: int) -> Select[tuple[Person]]:
    """Who may be the Freedom to Speak Up guardian, by name, as a query for a picker: people
    of the organisation who sign in with an email address (they are told of new concerns by
    email)."""
    from involve.people.models import PersonStatus, User

    return (select(Person).join(User, User.person_id == Person.id)
            .where(Person.organisation_id == organisation_id,
                   Person.status == PersonStatus.active,
                   User.email.is_not(None))
            .order_by(Person.full_name, Person.id))


def guardian_submissions(person_id: int, organisation_id: int) -> list[Submission]:
    """Speak-up concerns sent to this Freedom to Speak Up guardian, open ones first."""
    return list(db.session.scalars(
        select(Submission).join(Service, Service.id == Submission.service_id)
        .where(Submission.guardian_id == person_id, Service.organisation_id == organisation_id)
        .options(selectinload(Submission.service))
        .order_by((Submission.status == SubmissionStatus.answered),
                  Submission.received_at.desc())))


def _overdue_where(service_ids: set[int] | None, today: date, organisation_id: int | None):
    return and_(services_in(Submission.service_id, service_ids, organisation_id),
                Submission.status != SubmissionStatus.answered,
                or_((Submission.status == SubmissionStatus.received)
                    & (Submission.acknowledge_by < today),
                    Submission.answer_by < today))


def overdue_submissions(service_ids: set[int] | None, today: date | None = None, *,
                        organisation_id: int | None) -> list[Submission]:
    """Complaints past a deadline of the procedure, oldest first (``organisation_id`` None,
    with no services: every organisation's, for the daily reminder to each service)."""
    query = (select(Submission)
             .where(_overdue_where(service_ids, today or clock.today(), organisation_id))
             .options(joinedload(Submission.service))
             .order_by(Submission.received_at))
    return list(db.session.scalars(query))


def overdue_count(service_ids: set[int] | None, *, organisation_id: int) -> int:
    """How many complaints are past a deadline (for the home page: a count, not the list)."""
    return db.session.scalar(select(func.count(Submission.id)).where(
        _overdue_where(service_ids, clock.today(), organisation_id))) or 0


@dataclass
class ComplaintsSummary:
    """Counts and times over a date range, for the provider or the regulator."""

    start: date
    end: date
    total: int = 0
    by_kind: Counter = field(default_factory=Counter)
    by_theme: Counter = field(default_factory=Counter)
    by_outcome: Counter = field(default_factory=Counter)
    by_service: Counter = field(default_factory=Counter)
    complaints: int = 0
    acknowledged_in_time: int = 0
    answered_in_time: int = 0
    # Complaints whose deadline has come (done, or passed undone): "in time" is counted out of
    # these, so a complaint still inside its time is never a miss.
    acknowledge_due: int = 0
    answer_due: int = 0
    average_days_to_acknowledge: float | None = None
    average_days_to_answer: float | None = None
    overdue: list[Submission] = field(default_factory=list)
    rows: list[Submission] = field(default_factory=list)


def complaints_summary(service_ids: set[int] | None, start: date, end: date, *,
                       organisation_id: int) -> ComplaintsSummary:
    """Everything received from ``start`` to ``end`` (inclusive), summed up."""
    lo = datetime.combine(start, time.min, tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    rows = list(db.session.scalars(
        select(Submission)
        .where(services_in(Submission.service_id, service_ids, organisation_id),
               Submission.guardian_id.is_(None),  # the guardian's alone, not even counted
               Submission.received_at >= lo, Submission.received_at < hi)
        .options(selectinload(Submission.service), selectinload(Submission.theme))
        .order_by(Submission.received_at)))
    summary = ComplaintsSummary(start, end, total=len(rows), rows=rows)
    ack_days: list[int] = []
    answer_days: list[int] = []
    today = clock.today()
    for row in rows:
        summary.by_kind[row.kind.label] += 1
        summary.by_theme[row.theme.name if row.theme else "No theme"] += 1
        summary.by_service[row.service.name] += 1
        if row.kind != SubmissionKind.complaint:
            continue
        summary.complaints += 1
        summary.by_outcome[row.outcome.label if row.outcome else "Not yet answered"] += 1
        if row.acknowledged_at is not None:
            ack_days.append(row.days_to_acknowledge or 0)
            summary.acknowledge_due += 1
            if row.acknowledge_by and row.acknowledged_at.date() <= row.acknowledge_by:
                summary.acknowledged_in_time += 1
        elif row.acknowledge_by is None or today > row.acknowledge_by:
            summary.acknowledge_due += 1
        if row.answered_at is not None:
            answer_days.append(row.days_to_answer or 0)
            summary.answer_due += 1
            if row.answer_by and row.answered_at.date() <= row.answer_by:
                summary.answered_in_time += 1
        elif row.answer_by is None or today > row.answer_by:
            summary.answer_due += 1
        if row.overdue(today):
            summary.overdue.append(row)
    if ack_days:
        summary.average_days_to_acknowledge = round(sum(ack_days) / len(ack_days), 1)
    if answer_days:
        summary.average_days_to_answer = round(sum(answer_days) / len(answer_days), 1)
    return summary


# --- the home page ---------------------------------------------------------------------------

def home_panel_items(actor: Actor) -> dict[str, Any]:
    """What needs the person's attention, by what they do: managers' safeguarding alerts and
    complaints, the board's open queue, ambassadors' briefings and answers, and answers to
    what the person told us."""
    items: dict[str, Any] = {}
    managed = actor.service_ids([Role.manager])
    if managed is None or managed:
        items["safeguarding"] = list(db.session.scalars(
            select(AmbassadorFeedback).where(
                AmbassadorFeedback.safeguarding.is_(True), AmbassadorFeedback.status.in_(OPEN),
                services_in(AmbassadorFeedback.service_id, managed,
                                actor.organisation_id))
            .options(joinedload(AmbassadorFeedback.service),
                     joinedload(AmbassadorFeedback.theme))
            .order_by(AmbassadorFeedback.received_at.desc()).limit(5)))
        items["overdue"] = overdue_count(managed, organisation_id=actor.organisation_id)
        items["to_acknowledge"] = db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.status == SubmissionStatus.received,
                Submission.guardian_id.is_(None),
                services_in(Submission.service_id, managed, actor.organisation_id)))
    board = actor.service_ids([Role.board])
    if board is None or board:
        items["board_open"] = db.session.scalar(
            select(func.count(AmbassadorFeedback.id)).where(
                AmbassadorFeedback.status.in_(OPEN),
                services_in(AmbassadorFeedback.service_id, board,
                                actor.organisation_id)))
    if actor.terms:
        items["briefings"] = unshared_briefings(actor, 3)
        items["answered"] = list(db.session.scalars(
            select(AmbassadorFeedback).where(AmbassadorFeedback.ambassador_id == actor.person_id,
                                             AmbassadorFeedback.answered_at.is_not(None))
            .options(joinedload(AmbassadorFeedback.theme))
            .order_by(AmbassadorFeedback.answered_at.desc()).limit(3)))
    items["mine"] = my_submissions(actor.person_id, status=SubmissionStatus.answered, limit=3)
    items["hidden_comments"] = hidden_comments_of(actor.person_id)
    return items


def hidden_comments_of(person_id: int, days: int = 30) -> list[FeedbackComment]:
    """The person's own comments a manager hid lately: their author is told here too (many
    ambassadors have no email)."""
    return list(db.session.scalars(
        select(FeedbackComment).where(FeedbackComment.author_id == person_id,
                                      FeedbackComment.hidden_at >= utcnow() - timedelta(days=days))
        .order_by(FeedbackComment.hidden_at.desc()).limit(3)))
