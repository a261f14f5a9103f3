"""Queries the recruitment pages need, each a bounded number of statements."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from involve.extensions import db, utcnow
from involve.people.models import Role, Service
from involve.people.policy import in_role_scope, services_where
from involve.permissions import Actor
from involve.recruitment.models import (
    AnswerScore,
    AppointmentDecision,
    InterviewQuestion,
    JobCandidate,
    MemberKind,
    PanelMember,
    PanelPoolMember,
    RecognitionEntry,
    ScoreSheet,
    Vacancy,
    VacancyQuestion,
    VacancyStatus,
)

# Two steps apart on the 1-5 scale (or more) is worth talking about.
DIFFERENCE_TO_DISCUSS = 40
# The same on the 1-5 scale the page shows, rounded as the differences shown are.
THRESHOLD_ON_FIVE = round(DIFFERENCE_TO_DISCUSS / 25, 1)


def as_five(normalised: float | None) -> float | None:
    """A 0-100 score shown on the 1-5 scale everyone knows."""
    return None if normalised is None else round(1 + normalised / 25, 1)


def vacancies_for(actor: Actor) -> list[Vacancy]:
    """Vacancies at services the actor manages, and those whose panel they sit on."""
    on_panel = select(PanelMember.vacancy_id).where(PanelMember.person_id == actor.person_id,
                                                    PanelMember.left_at.is_(None))
    condition = Vacancy.id.in_(on_panel) | in_role_scope(actor, Vacancy.service_id,
                                                         [Role.manager])
    query = (select(Vacancy).where(condition).options(selectinload(Vacancy.service))
             .order_by(Vacancy.status.desc(), Vacancy.closing_date.desc(), Vacancy.id.desc()))
    return list(db.session.scalars(query))


def load_vacancy_page(vacancy: Vacancy) -> Vacancy:
    """Load a vacancy's panel, candidates and questions in a few statements."""
    return db.session.scalars(select(Vacancy).where(Vacancy.id == vacancy.id).options(
        selectinload(Vacancy.members).selectinload(PanelMember.person),
        selectinload(Vacancy.candidates),
        selectinload(Vacancy.questions).selectinload(VacancyQuestion.question),
        selectinload(Vacancy.questions).selectinload(VacancyQuestion.asked_by),
        selectinload(Vacancy.decision).selectinload(AppointmentDecision.appointed_candidate),
        selectinload(Vacancy.members).selectinload(PanelMember.reminder),
    )).one()


def sheets_of(member: PanelMember) -> dict[int, ScoreSheet]:
    """A member's score sheets by candidate id."""
    return {s.candidate_id: s for s in db.session.scalars(
        select(ScoreSheet).where(ScoreSheet.panel_member_id == member.id))}


def submitted_count(vacancy: Vacancy) -> int:
    """How many score sheets have been sent for this vacancy."""
    return db.session.scalar(select(func.count(ScoreSheet.id)).join(JobCandidate).where(
        JobCandidate.vacancy_id == vacancy.id, ScoreSheet.submitted_at.is_not(None))) or 0


def others_sheets(candidate: JobCandidate, member: PanelMember) -> list[ScoreSheet]:
    """The other members' submitted sheets for a candidate, with their scores."""
    return list(db.session.scalars(
        select(ScoreSheet).where(ScoreSheet.candidate_id == candidate.id,
                                 ScoreSheet.panel_member_id != member.id,
                                 ScoreSheet.submitted_at.is_not(None))
        .options(selectinload(ScoreSheet.scores), selectinload(ScoreSheet.member)
                 .selectinload(PanelMember.person))
        .order_by(ScoreSheet.panel_member_id)))


def submitted_sheets(vacancy: Vacancy) -> dict[int, list[ScoreSheet]]:
    """Every sent score sheet of a vacancy, with its scores and member, by candidate id.

    For the chair, who sees all the scores; drafts stay private to the member writing them.
    """
    sheets: dict[int, list[ScoreSheet]] = defaultdict(list)
    for sheet in db.session.scalars(
            select(ScoreSheet).join(PanelMember, PanelMember.id == ScoreSheet.panel_member_id)
            .where(PanelMember.vacancy_id == vacancy.id, ScoreSheet.submitted_at.is_not(None))
            .options(selectinload(ScoreSheet.scores), selectinload(ScoreSheet.entered_by),
                     selectinload(ScoreSheet.member).selectinload(PanelMember.person))
            .order_by(PanelMember.kind, ScoreSheet.panel_member_id)):
        sheets[sheet.candidate_id].append(sheet)
    return sheets


def all_sheets(vacancy: Vacancy) -> dict[tuple[int, int], ScoreSheet]:
    """Every score sheet of a vacancy, sent or not, by (panel member id, candidate id).

    For the chair's view of who has sent what; the scores on a draft are not shown.
    """
    return {(sheet.panel_member_id, sheet.candidate_id): sheet for sheet in db.session.scalars(
        select(ScoreSheet).join(PanelMember, PanelMember.id == ScoreSheet.panel_member_id)
        .where(PanelMember.vacancy_id == vacancy.id)
        .options(selectinload(ScoreSheet.entered_by)))}


def interviewed_candidates(vacancy: Vacancy) -> list[JobCandidate]:
    """Candidates whose scores are due: told about the panel, and interviewed (or no time set)."""
    now = utcnow()
    return [c for c in vacancy.candidates if c.told_about_panel_on is not None
            and (c.interview_at is None or c.interview_at <= now)]


def missing_sheets(vacancy: Vacancy) -> dict[PanelMember, list[JobCandidate]]:
    """Members at the interviews who have not sent a sheet for every candidate interviewed,
    with the candidates whose sheets are missing."""
    sent = {key for key, sheet in all_sheets(vacancy).items() if sheet.is_submitted}
    due = interviewed_candidates(vacancy)
    missing = {}
    for member in vacancy.scoring_members:
        candidates = [c for c in due if (member.id, c.id) not in sent]
        if candidates:
            missing[member] = candidates
    return missing


@dataclass
class QuestionComparison:
    """Staff and service-user scores for one question, on the 1-5 scale."""

    question: VacancyQuestion
    staff: float | None
    service_users: float | None
    staff_count: int
    service_user_count: int
    differs: bool = False

    @property
    def difference(self) -> float | None:
        if self.staff is None or self.service_users is None:
            return None
        return round(abs(self.staff - self.service_users), 1)


@dataclass
class CandidateComparison:
    """One candidate's scores side by side, per question and overall."""

    candidate: JobCandidate
    rows: list[QuestionComparison] = field(default_factory=list)
    staff: float | None = None
    service_users: float | None = None
    sheets: int = 0
    not_sent: list[PanelMember] = field(default_factory=list)


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _submitted_scores(vacancy: Vacancy) -> list[tuple[int, int, MemberKind, int]]:
    """(candidate id, interview question id, member kind, 0-100 score) of every sent sheet."""
    return list(db.session.execute(
        select(ScoreSheet.candidate_id, AnswerScore.vacancy_question_id, PanelMember.kind,
               AnswerScore.normalised)
        .join(AnswerScore, AnswerScore.sheet_id == ScoreSheet.id)
        .join(PanelMember, PanelMember.id == ScoreSheet.panel_member_id)
        .where(PanelMember.vacancy_id == vacancy.id, ScoreSheet.submitted_at.is_not(None))))


def compare(vacancy: Vacancy) -> list[CandidateComparison]:
    """Staff and service-user scores per candidate and question, marking every row where the two
    differ by :data:`DIFFERENCE_TO_DISCUSS` or more (on 0-100, so 1.6 points on the 1-5 scale)."""
    scores: dict[tuple[int, int, MemberKind], list[int]] = defaultdict(list)
    totals: dict[tuple[int, MemberKind], list[int]] = defaultdict(list)
    for candidate_id, question_id, kind, value in _submitted_scores(vacancy):
        scores[(candidate_id, question_id, kind)].append(value)
        totals[(candidate_id, kind)].append(value)
    sent = {(member_id, candidate_id) for member_id, candidate_id in db.session.execute(
        select(ScoreSheet.panel_member_id, ScoreSheet.candidate_id).join(JobCandidate)
        .where(JobCandidate.vacancy_id == vacancy.id, ScoreSheet.submitted_at.is_not(None)))}
    sheet_counts = dict(db.session.execute(
        select(ScoreSheet.candidate_id, func.count(ScoreSheet.id)).join(JobCandidate)
        .where(JobCandidate.vacancy_id == vacancy.id, ScoreSheet.submitted_at.is_not(None))
        .group_by(ScoreSheet.candidate_id)).all())
    result = []
    for candidate in vacancy.candidates:
        comparison = CandidateComparison(
            candidate, staff=as_five(_mean(totals[(candidate.id, MemberKind.staff)])),
            service_users=as_five(_mean(totals[(candidate.id, MemberKind.service_user)])),
            sheets=sheet_counts.get(candidate.id, 0),
            not_sent=[m for m in vacancy.scoring_members if (m.id, candidate.id) not in sent])
        for question in vacancy.questions:
            staff = scores[(candidate.id, question.id, MemberKind.staff)]
            users = scores[(candidate.id, question.id, MemberKind.service_user)]
            comparison.rows.append(QuestionComparison(
                question, as_five(_mean(staff)), as_five(_mean(users)), len(staff), len(users)))
        for row in comparison.rows:
            row.differs = row.difference is not None and row.difference >= THRESHOLD_ON_FIVE
        result.append(comparison)
    return result


def service_users_top_candidates(vacancy: Vacancy) -> set[int]:
    """The candidate(s) the service users on the panel rated highest, by mean 0-100 score."""
    means: dict[int, list[int]] = defaultdict(list)
    for candidate_id, _question, kind, value in _submitted_scores(vacancy):
        if kind is MemberKind.service_user:
            means[candidate_id].append(value)
    if not means:
        return set()
    averages = {c: sum(v) / len(v) for c, v in means.items()}
    best = max(averages.values())
    return {c for c, a in averages.items() if a == best}


@dataclass
class ServiceStatistics:
    """How often, at one service, the service users' favourite was the one appointed."""

    service: Service
    decisions: int
    with_service_user_scores: int
    choice_appointed: int

    @property
    def percent(self) -> int | None:
        if not self.with_service_user_scores:
            return None
        return round(100 * self.choice_appointed / self.with_service_user_scores)


def statistics(actor: Actor) -> list[ServiceStatistics]:
    """Per service the actor manages or oversees as the board: decisions, those with
    service-user scores, and how many followed them."""
    query = (select(Service, func.count(AppointmentDecision.id),
                    func.count(AppointmentDecision.service_users_choice_appointed),
                    func.count(AppointmentDecision.id).filter(AppointmentDecision.service_users_choice_appointed
                                                   .is_(True)))
             .join(Vacancy, Vacancy.service_id == Service.id)
             .join(AppointmentDecision, AppointmentDecision.vacancy_id == Vacancy.id)
             .where(in_role_scope(actor, Service.id, [Role.manager, Role.board]))
             .group_by(Service.id).order_by(Service.name))
    return [ServiceStatistics(service, total, counted, matched)
            for service, total, counted, matched in db.session.execute(query)]


def pool(actor: Actor, service_ids: set[int] | None) -> list[PanelPoolMember]:
    """The panel pool of some services (``None``: all of the actor's organisation's), by
    service and name."""
    query = (select(PanelPoolMember).options(selectinload(PanelPoolMember.person),
                                             selectinload(PanelPoolMember.advocate),
                                             selectinload(PanelPoolMember.service))
             .where(services_where(actor, PanelPoolMember.service_id, service_ids))
             .order_by(PanelPoolMember.service_id, PanelPoolMember.id))
    return list(db.session.scalars(query))


def question_bank(service: Service) -> list[InterviewQuestion]:
    """A service's questions, newest first."""
    return list(db.session.scalars(
        select(InterviewQuestion).where(InterviewQuestion.service_id == service.id)
        .options(selectinload(InterviewQuestion.written_by))
        .order_by(InterviewQuestion.created_at.desc(), InterviewQuestion.id.desc())))


def recognition_log(person_id: int) -> list[RecognitionEntry]:
    """A participant's recognition entries, newest first."""
    return list(db.session.scalars(
        select(RecognitionEntry).where(RecognitionEntry.person_id == person_id)
        .options(selectinload(RecognitionEntry.service), selectinload(RecognitionEntry.vacancy))
        .order_by(RecognitionEntry.took_part_on.desc(), RecognitionEntry.id.desc())))


def home_memberships(person_id: int) -> list[PanelMember]:
    """Panels the person sits on that are running, or decided in the last 60 days."""
    recent = utcnow() - timedelta(days=60)
    return list(db.session.scalars(
        select(PanelMember).join(Vacancy).where(
            PanelMember.person_id == person_id, PanelMember.left_at.is_(None),
            (Vacancy.status != VacancyStatus.closed) | (Vacancy.closed_at >= recent))
        # Each is one row per membership: joined into the one statement.
        .options(contains_eager(PanelMember.vacancy).joinedload(Vacancy.decision)
                 .joinedload(AppointmentDecision.appointed_candidate),
                 contains_eager(PanelMember.vacancy).joinedload(Vacancy.service),
                 joinedload(PanelMember.reminder))
        .order_by(Vacancy.closing_date.desc())))


def home_panel_items(actor: Any) -> dict[str, Any]:
    """Panels the person sits on, and the outcome of those recently decided; a reminded member
    sees which candidates still need their scores, email or not."""
    memberships = home_memberships(actor.person_id)
    waiting = {m.id: missing_sheets(m.vacancy).get(m, []) for m in memberships
               if m.reminder is not None and m.vacancy.status.value == "interviewing"}
    return {"memberships": memberships, "waiting": waiting}
