"""Every state change in recruitment: plain functions that never commit.

Illegal moves raise a :class:`RecruitmentError` whose message is shown to the person as it is.
"""

from __future__ import annotations

import string
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from involve import audit
from involve.extensions import db, utcnow
from involve.kernel import clock
from involve.kernel.errors import DomainError
from involve.people.models import Person, Role, RoleGrant, Service
from involve.recruitment.models import (
    AnswerScore,
    AppointmentDecision,
    InterviewQuestion,
    JobCandidate,
    MemberKind,
    PanelMember,
    PanelPoolMember,
    RecognitionEntry,
    ReminderChannel,
    Reward,
    Scale,
    ScoreReminder,
    ScoreSheet,
    Vacancy,
    VacancyQuestion,
    VacancyStatus,
    normalise,
)

MIN_SERVICE_USERS = 3
MAX_SERVICE_USERS = 4
DEFAULT_RETENTION_DAYS = 180


RecruitmentError = DomainError  # the kernel's refusal, by this domain's name


class PanelError(RecruitmentError):
    """The panel cannot change like that."""


class CandidateError(RecruitmentError):
    """A candidate cannot be recorded or changed like that."""


class QuestionError(RecruitmentError):
    """A question cannot be chosen or changed like that."""


class ScoringError(RecruitmentError):
    """Scores that cannot be saved."""


class SheetLocked(ScoringError):
    """The score sheet was already submitted."""


class UnscoredQuestions(ScoringError):
    """A sheet sent with questions left without a score; says which ones."""

    def __init__(self, message: str, question_ids: list[int]) -> None:
        super().__init__(message)
        self.question_ids = question_ids


class NotOnPanel(ScoringError):
    """The person does not sit on the panel for that candidate."""


class DecisionError(RecruitmentError):
    """A decision that cannot be recorded."""


class RecognitionError(RecruitmentError):
    """A recognition entry that cannot be recorded."""


def _holds_role(person: Person, roles: set[Role], service_id: int) -> bool:
    today = clock.today()
    return db.session.scalar(select(RoleGrant.id).where(
        RoleGrant.person_id == person.id, RoleGrant.role.in_(roles),
        (RoleGrant.service_id == service_id) | RoleGrant.service_id.is_(None),
        RoleGrant.starts_on <= today,
        RoleGrant.ends_on.is_(None) | (RoleGrant.ends_on >= today)).limit(1)) is not None


def pool_entry(person: Person, service_id: int) -> PanelPoolMember | None:
    """The person's place in a service's panel pool, if they have one."""
    return db.session.scalar(select(PanelPoolMember).where(
        PanelPoolMember.person_id == person.id, PanelPoolMember.service_id == service_id))


# --- vacancies and the pool ---------------------------------------------------------------

def create_vacancy(*, service: Service, role_title: str, description: str, closing_date: date,
                   interview_dates: str, by: Person) -> Vacancy:
    """Open a vacancy at a service; its panel is built next."""
    if not role_title.strip():
        raise RecruitmentError("Please give the job a title.")
    vacancy = Vacancy(service_id=service.id, role_title=role_title.strip(),
                      description=description.strip(), closing_date=closing_date,
                      interview_dates=interview_dates.strip(), created_by_id=by.id)
    db.session.add(vacancy)
    db.session.flush()
    audit.record("recruitment.vacancy_created", actor=by, obj=vacancy)
    return vacancy


def update_vacancy(vacancy: Vacancy, *, role_title: str, description: str,
                   closing_date: date, interview_dates: str, by: Person) -> Vacancy:
    """Correct a vacancy's title, description, closing date or interview days."""
    if vacancy.status is VacancyStatus.closed:
        raise RecruitmentError("This vacancy is closed, so it can no longer be changed.")
    if not role_title.strip():
        raise RecruitmentError("Please give the job a title.")
    vacancy.role_title = role_title.strip()
    vacancy.description = description.strip()
    vacancy.closing_date = closing_date
    vacancy.interview_dates = interview_dates.strip()
    db.session.flush()
    audit.record("recruitment.vacancy_updated", actor=by, obj=vacancy)
    return vacancy


def add_pool_member(*, service: Service, person: Person, training_completed_on: date | None,
                    confidentiality_signed_on: date | None, support_needs: str,
                    advocate: Person | None, prefers_simple_scale: bool,
                    by: Person) -> PanelPoolMember:
    """Add a service user to a service's panel pool (or update their entry)."""
    if not _holds_role(person, {Role.service_user}, service.id):
        raise PanelError(f"{person.full_name} is not a service user at {service.name}.")
    if advocate is not None and advocate.id == person.id:
        raise PanelError("An advocate supports someone else: choose a different person.")
    entry = pool_entry(person, service.id)
    created = entry is None
    if entry is None:
        entry = PanelPoolMember(person_id=person.id, service_id=service.id)
        db.session.add(entry)
    entry.training_completed_on = training_completed_on
    entry.confidentiality_signed_on = confidentiality_signed_on
    entry.support_needs = support_needs.strip()
    entry.advocate_id = advocate.id if advocate else None
    entry.prefers_simple_scale = prefers_simple_scale
    db.session.flush()
    audit.record("recruitment.pool_member_added" if created else "recruitment.pool_member_updated",
                 actor=by, obj=entry, subject=person)
    return entry


# --- the panel ----------------------------------------------------------------------------

def _require_open(vacancy: Vacancy, doing: str) -> None:
    if vacancy.status is not VacancyStatus.open:
        raise PanelError(f"The panel is already confirmed, so you cannot {doing} now.")


def add_panel_member(vacancy: Vacancy, person: Person, *, by: Person, shortlists: bool = True,
                     interviews: bool = True) -> PanelMember:
    """Put a ready service user from the pool, or a member of staff, on the panel."""
    _require_open(vacancy, "add people to it")
    member = _seat(vacancy, person, shortlists=shortlists, interviews=interviews)
    audit.record("recruitment.panel_member_added", actor=by, obj=vacancy, subject=person)
    return member


def _seat(vacancy: Vacancy, person: Person, *, shortlists: bool = True,
          interviews: bool = True) -> PanelMember:
    """Seat a ready service user from the pool, or a member of staff, on the panel.

    Someone who left the panel earlier takes their old seat back (their sent scores stay).
    """
    if vacancy.member_for(person) is not None:
        raise PanelError(f"{person.full_name} is already on this panel.")
    entry = pool_entry(person, vacancy.service_id)
    if entry is not None:
        if not entry.is_ready:
            raise PanelError(f"{person.full_name} needs to finish the training and sign the "
                             "confidentiality agreement before joining a panel.")
        if len(vacancy.service_user_members) >= MAX_SERVICE_USERS:
            raise PanelError(f"A panel has at most {MAX_SERVICE_USERS} service users.")
        kind = MemberKind.service_user
        scale = Scale.three if entry.prefers_simple_scale else Scale.five
    elif _holds_role(person, {Role.staff, Role.manager}, vacancy.service_id):
        kind, scale = MemberKind.staff, Scale.five
    else:
        raise PanelError(f"{person.full_name} is neither staff at {vacancy.service.name} nor in "
                         "its panel pool.")
    earlier = next((m for m in vacancy.members if m.person_id == person.id), None)
    if earlier is not None:
        if earlier.kind is not kind:
            raise PanelError(f"{person.full_name} sat on this panel before in another role, so "
                             "cannot take this seat.")
        earlier.left_at = None
        earlier.shortlists, earlier.interviews = shortlists, interviews
        db.session.flush()
        return earlier
    member = PanelMember(vacancy=vacancy, person_id=person.id, kind=kind, scale=scale,
                         shortlists=shortlists, interviews=interviews)
    db.session.add(member)
    db.session.flush()
    return member


def remove_panel_member(member: PanelMember, *, by: Person) -> None:
    """Take someone off a panel that is not yet confirmed."""
    vacancy = member.vacancy
    _require_open(vacancy, "take people off it")
    if vacancy.chair_id == member.person_id:
        vacancy.chair_id = None
    vacancy.members.remove(member)
    db.session.flush()
    audit.record("recruitment.panel_member_removed", actor=by, obj=vacancy,
                 subject=member.person_id)


def set_chair(vacancy: Vacancy, person: Person, *, by: Person) -> Vacancy:
    """Make a member of staff on the panel its chair."""
    _require_open(vacancy, "change the chair")
    member = vacancy.member_for(person)
    if member is None or member.kind is not MemberKind.staff:
        raise PanelError("The chair must be a member of staff who sits on this panel.")
    vacancy.chair_id = person.id
    db.session.flush()
    audit.record("recruitment.chair_set", actor=by, obj=vacancy, subject=person)
    return vacancy


def confirm_panel(vacancy: Vacancy, *, by: Person) -> Vacancy:
    """Confirm the panel: three or four service users, staff, and a chair. Scoring can start."""
    _require_open(vacancy, "confirm it again")
    count = len(vacancy.service_user_members)
    if not MIN_SERVICE_USERS <= count <= MAX_SERVICE_USERS:
        raise PanelError(f"A panel needs three or four service users; this one has {count}. "
                         "Add or remove people, then confirm again.")
    if not vacancy.staff_members:
        raise PanelError("A panel needs at least one member of staff.")
    if vacancy.chair_id is None:
        raise PanelError("Choose a chair before confirming the panel.")
    vacancy.status = VacancyStatus.interviewing
    vacancy.panel_confirmed_at = utcnow()
    db.session.flush()
    audit.record("recruitment.panel_confirmed", actor=by, obj=vacancy,
                 service_users=count, staff=len(vacancy.staff_members))
    return vacancy


def replace_panel_member(member: PanelMember, *, replacement: Person | None,
                         by: Person) -> PanelMember | None:
    """Someone drops out of a confirmed panel: they leave it, and ``replacement`` (if any)
    takes their place.

    The panel must still have three or four service users and a member of staff; when the
    chair leaves, a member of staff must take their place and becomes the chair. Scores the
    leaver already sent stay; their unsent drafts go. Returns the new member, if any.
    """
    vacancy = member.vacancy
    name = member.person.full_name
    if vacancy.status is not VacancyStatus.interviewing:
        raise PanelError("Someone can be replaced once the panel is confirmed and before the "
                         "decision. Before that, take them off the panel and add someone else.")
    if member.left_at is not None:
        raise PanelError(f"{name} has already left this panel.")
    if replacement is not None and replacement.id == member.person_id:
        raise PanelError(f"Choose someone else to take {name}'s place.")
    was_chair = vacancy.chair_id == member.person_id
    member.left_at = utcnow()
    for draft in db.session.scalars(select(ScoreSheet).where(
            ScoreSheet.panel_member_id == member.id, ScoreSheet.submitted_at.is_(None))):
        db.session.delete(draft)
    joined = _seat(vacancy, replacement) if replacement is not None else None
    count = len(vacancy.service_user_members)
    if not MIN_SERVICE_USERS <= count <= MAX_SERVICE_USERS:
        who = "Choose a service user from the pool to take their place." \
            if count < MIN_SERVICE_USERS else f"A panel has at most {MAX_SERVICE_USERS}."
        raise PanelError(f"A panel needs three or four service users; without {name} it would "
                         f"have {count}. {who}")
    if not vacancy.staff_members:
        raise PanelError(f"A panel needs at least one member of staff. Choose a member of staff "
                         f"to take {name}'s place.")
    if was_chair:
        if joined is None or joined.kind is not MemberKind.staff:
            raise PanelError(f"{name} chairs the panel: choose a member of staff to take their "
                             "place as chair.")
        vacancy.chair_id = joined.person_id
    db.session.flush()
    audit.record("recruitment.panel_member_left", actor=by, obj=vacancy,
                 subject=member.person_id, replaced_by=joined.person_id if joined else None)
    return joined


# --- candidates ---------------------------------------------------------------------------

def _next_code(vacancy: Vacancy) -> str:
    used = {c.code for c in vacancy.candidates}
    for letter in string.ascii_uppercase:
        if letter not in used:
            return letter
    return f"Z{len(used)}"


def _check_slot(vacancy: Vacancy, interview_at: datetime | None, candidate_id: int | None) -> None:
    if interview_at is None:
        return
    for other in vacancy.candidates:
        if other.id != candidate_id and other.interview_at == interview_at:
            raise CandidateError(f"Candidate {other.code} already has that interview time. "
                                 "Please choose another.")


def add_candidate(vacancy: Vacancy, *, first_name: str, last_name: str, email: str | None,
                  phone: str | None, told_about_panel_on: date | None,
                  interview_at: datetime | None, by: Person) -> JobCandidate:
    """Record a candidate with the least personal data the interview needs."""
    if vacancy.status is VacancyStatus.closed:
        raise CandidateError("This vacancy is closed, so no more candidates can be added.")
    if not first_name.strip():
        raise CandidateError("Please give the candidate's first name.")
    if told_about_panel_on and told_about_panel_on > clock.today():
        raise CandidateError("The day the candidate was told cannot be in the future.")
    _check_slot(vacancy, interview_at, None)
    candidate = JobCandidate(vacancy=vacancy, code=_next_code(vacancy),
                          first_name=first_name.strip(), last_name=last_name.strip(),
                          email=(email or "").strip() or None, phone=(phone or "").strip() or None,
                          told_about_panel_on=told_about_panel_on, interview_at=interview_at)
    db.session.add(candidate)
    db.session.flush()
    audit.record("recruitment.candidate_added", actor=by, obj=candidate, code=candidate.code)
    return candidate


def update_candidate(candidate: JobCandidate, *, email: str | None, phone: str | None,
                     told_about_panel_on: date | None, interview_at: datetime | None,
                     by: Person) -> JobCandidate:
    """Change a candidate's contact details, when they were told, or their interview time."""
    if candidate.personal_data_deleted_at:
        raise CandidateError("This candidate's details were deleted and cannot be changed.")
    if told_about_panel_on and told_about_panel_on > clock.today():
        raise CandidateError("The day the candidate was told cannot be in the future.")
    _check_slot(candidate.vacancy, interview_at, candidate.id)
    candidate.email = (email or "").strip() or None
    candidate.phone = (phone or "").strip() or None
    candidate.told_about_panel_on = told_about_panel_on
    candidate.interview_at = interview_at
    db.session.flush()
    audit.record("recruitment.candidate_updated", actor=by, obj=candidate, code=candidate.code)
    return candidate


# --- questions ----------------------------------------------------------------------------

def add_question(service: Service, *, text: str, written_by: Person | None,
                 by: Person) -> InterviewQuestion:
    """Add a question to a service's bank, written by ``written_by`` (recorded by ``by``)."""
    if len(text.strip()) < 5:
        raise QuestionError("Please write the question in full.")
    question = InterviewQuestion(service_id=service.id, text=text.strip(),
                        written_by_id=(written_by or by).id, recorded_by_id=by.id)
    db.session.add(question)
    db.session.flush()
    audit.record("recruitment.question_added", actor=by, obj=question)
    return question


def _scoring_started(vacancy: Vacancy) -> bool:
    return db.session.scalar(
        select(ScoreSheet.id).join(JobCandidate).where(JobCandidate.vacancy_id == vacancy.id)
        .limit(1)) is not None


def choose_question(vacancy: Vacancy, question: InterviewQuestion, *,
                    by: Person) -> VacancyQuestion:
    """Add a question from the service's bank to this interview."""
    if question.service_id != vacancy.service_id:
        raise QuestionError("That question belongs to another service's bank.")
    if vacancy.status is VacancyStatus.closed or _scoring_started(vacancy):
        raise QuestionError("Scoring has started, so the questions cannot change now.")
    if any(q.question_id == question.id for q in vacancy.questions):
        raise QuestionError("That question is already on this interview.")
    position = max((q.position for q in vacancy.questions), default=0) + 1
    chosen = VacancyQuestion(vacancy=vacancy, question_id=question.id, position=position)
    db.session.add(chosen)
    db.session.flush()
    audit.record("recruitment.question_chosen", actor=by, obj=vacancy, question_id=question.id)
    return chosen


def agree_answers(chosen: VacancyQuestion, *, good_answer: str, average_answer: str,
                  poor_answer: str, asked_by: Person | None, by: Person) -> VacancyQuestion:
    """Record what the panel agreed good, average and poor answers sound like, and who asks."""
    vacancy = chosen.vacancy
    if vacancy.status is VacancyStatus.closed:
        raise QuestionError("This vacancy is closed.")
    if asked_by is not None and vacancy.member_for(asked_by) is None:
        raise QuestionError("The person who asks the question must sit on the panel.")
    chosen.good_answer = good_answer.strip()
    chosen.average_answer = average_answer.strip()
    chosen.poor_answer = poor_answer.strip()
    chosen.asked_by_id = asked_by.id if asked_by else None
    db.session.flush()
    audit.record("recruitment.answers_agreed", actor=by, obj=vacancy, question_id=chosen.id)
    return chosen


# --- scoring ------------------------------------------------------------------------------

def sheet_for(member: PanelMember, candidate: JobCandidate) -> ScoreSheet | None:
    """A member's score sheet for a candidate, if they have started one."""
    return db.session.scalar(select(ScoreSheet).where(
        ScoreSheet.panel_member_id == member.id, ScoreSheet.candidate_id == candidate.id))


def save_scores(candidate: JobCandidate, *, by: Person, answers: dict[int, tuple[int | None, str]],
                submit: bool) -> ScoreSheet:
    """Save a panel member's own scores for a candidate; with ``submit`` the sheet is locked.

    ``answers`` maps each interview question's id to (value on the member's scale, comment).
    """
    member = candidate.vacancy.member_for(by)
    if member is None:
        raise NotOnPanel("You are not on the panel for this candidate, so you cannot score them.")
    sheet = _record_scores(member, candidate, answers=answers, submit=submit, entered_by=None)
    if submit:
        audit.record("recruitment.scores_submitted", actor=by, obj=candidate, code=candidate.code)
    return sheet


def enter_paper_sheet(member: PanelMember, candidate: JobCandidate, *,
                      answers: dict[int, tuple[int | None, str]], by: Person) -> ScoreSheet:
    """Type in, and send, the scores a panel member gave on their paper sheet.

    For members who score on paper (many have no account). The chair or a manager enters it;
    the sheet records that it came from paper and who entered it, and it is audited. A draft
    the member started on screen is replaced by what they wrote on paper.
    """
    if member.vacancy_id != candidate.vacancy_id or member.left_at is not None:
        raise NotOnPanel(f"{member.person.full_name} does not sit on the panel for this "
                         "candidate.")
    draft = sheet_for(member, candidate)
    replaced_draft = draft is not None and not draft.is_submitted
    sheet = _record_scores(member, candidate, answers=answers, submit=True, entered_by=by)
    audit.record("recruitment.scores_entered_from_paper", actor=by, obj=candidate,
                 subject=member.person_id, code=candidate.code, replaced_draft=replaced_draft)
    return sheet


def _record_scores(member: PanelMember, candidate: JobCandidate, *,
                   answers: dict[int, tuple[int | None, str]], submit: bool,
                   entered_by: Person | None) -> ScoreSheet:
    """Write a member's scores for a candidate; ``entered_by`` is set for a paper sheet."""
    vacancy = candidate.vacancy
    own = entered_by is None
    if vacancy.status is not VacancyStatus.interviewing:
        raise ScoringError("Scoring is open only while the panel is interviewing.")
    if candidate.told_about_panel_on is None:
        raise ScoringError("This candidate has not yet been told that service users sit on the "
                           "panel. Ask the manager to record it first.")
    if candidate.interview_at is not None and candidate.interview_at > utcnow():
        # Scores are given on one's own after the candidate leaves, not beforehand.
        raise ScoringError(f"The interview with {candidate.panel_name} has not happened yet. "
                           "Score the answers after the candidate leaves the room.")
    sheet = sheet_for(member, candidate)
    if sheet is not None and sheet.is_submitted:
        raise SheetLocked(
            "You have already sent your scores for this candidate. They are locked and cannot "
            "be changed." if own else
            f"{member.person.full_name}'s scores for {candidate.panel_name} were already sent. "
            "They are locked and cannot be changed.")
    scale = sheet.scale if sheet is not None else member.scale
    questions = {q.id: q for q in vacancy.questions}
    if set(answers) - set(questions):
        raise ScoringError("Those scores are for questions that are not on this interview.")
    for value, _comment in answers.values():
        if value is not None and not 1 <= value <= scale.top:
            raise ScoringError(f"Scores go from 1 to {scale.top}. Please choose one of "
                               "the faces.")
    if submit:
        _require_every_question(vacancy, answers)
    if sheet is None:
        sheet = ScoreSheet(panel_member_id=member.id, candidate_id=candidate.id, scale=scale)
        db.session.add(sheet)
    existing = {s.vacancy_question_id: s for s in sheet.scores}
    for question_id, (value, comment) in answers.items():
        score = existing.get(question_id)
        if value is None:
            if score is not None:
                sheet.scores.remove(score)
            continue
        if score is None:
            score = AnswerScore(vacancy_question_id=question_id, scale=sheet.scale, value=value,
                          normalised=0)
            sheet.scores.append(score)
        score.value = value
        score.normalised = normalise(value, sheet.scale)
        score.comment = comment.strip()
    if entered_by is not None:
        sheet.from_paper = True
        sheet.entered_by_id = entered_by.id
    if submit:
        sheet.submitted_at = utcnow()
    db.session.flush()
    return sheet


def _require_every_question(vacancy: Vacancy,
                            answers: dict[int, tuple[int | None, str]]) -> None:
    """Refuse a sheet to be sent with a question unscored, saying which one(s)."""
    missing = [(number, chosen) for number, chosen in enumerate(vacancy.questions, start=1)
               if answers.get(chosen.id, (None, ""))[0] is None]
    if not missing:
        return
    named = [f"question {number} ({chosen.question.text})" for number, chosen in missing]
    which = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    raise UnscoredQuestions(f"Please score every question before you send your scores. "
                            f"Not scored yet: {which}.", [chosen.id for _n, chosen in missing])


# --- reminders ----------------------------------------------------------------------------

def remind_missing_sheets(vacancy: Vacancy, *, by: Person) -> list[ScoreReminder]:
    """Remind, once each, the members who have not sent a sheet for every candidate interviewed.

    By email where they have an account with an email address; otherwise a note on their home
    page, or (without an account) a note for staff to remind them in person. A member is
    reminded once per vacancy, however often this is asked; the database holds to that.
    The emails go after the commit (see ``tasks.send_score_reminders``).
    """
    from involve.recruitment.queries import missing_sheets

    if vacancy.status is not VacancyStatus.interviewing:
        raise PanelError("Reminders are for a panel that is interviewing.")
    missing = missing_sheets(vacancy)
    if not missing:
        raise PanelError("No one needs a reminder: everyone has sent their scores for the "
                         "candidates interviewed so far.")
    reminders = []
    for member in missing:
        if member.reminder is not None:
            continue
        user = member.person.user
        if user is not None and user.email and user.is_active:
            channel = ReminderChannel.email
        elif user is not None and user.is_active:
            channel = ReminderChannel.home
        else:
            channel = ReminderChannel.in_person
        reminder = ScoreReminder(member=member, channel=channel, sent_by_id=by.id)
        db.session.add(reminder)
        reminders.append(reminder)
    if not reminders:
        raise PanelError("Everyone who has not sent their scores has already been reminded "
                         "once. Enter their paper sheets, or talk to them.")
    db.session.flush()
    for reminder in reminders:
        audit.record("recruitment.score_reminder_sent", actor=by, obj=vacancy,
                     subject=reminder.member.person_id, channel=reminder.channel.value)
    return reminders


# --- the decision -------------------------------------------------------------------------

def record_decision(vacancy: Vacancy, *, appointed: JobCandidate | None, reasons: str,
                    service_user_views: str, by: Person) -> AppointmentDecision:
    """Record who was appointed (or that no one was), why, and how service users' views counted.

    Closes the vacancy; the service users on the panel are told the outcome afterwards.
    """
    from involve.recruitment.queries import service_users_top_candidates

    if vacancy.status is not VacancyStatus.interviewing:
        raise DecisionError("A decision can be recorded once the panel has interviewed, "
                            "and only once.")
    if not reasons.strip():
        raise DecisionError("Please give the reasons for the decision.")
    if not service_user_views.strip():
        raise DecisionError("Please record how the service users' views were weighed.")
    if appointed is not None and appointed.vacancy_id != vacancy.id:
        raise DecisionError("That candidate did not apply for this vacancy.")
    top = service_users_top_candidates(vacancy)
    # None when no service user scored: those decisions stay out of the statistics.
    choice = None if not top else (appointed is not None and appointed.id in top)
    decision = AppointmentDecision(
        vacancy=vacancy, appointed_candidate_id=appointed.id if appointed else None,
        reasons=reasons.strip(), service_user_views=service_user_views.strip(),
        service_users_choice_appointed=choice, decided_by_id=by.id)
    db.session.add(decision)
    now = utcnow()
    vacancy.status = VacancyStatus.closed
    vacancy.closed_at = now
    for member in vacancy.service_user_members:
        member.outcome_told_at = now
    db.session.flush()
    audit.record("recruitment.decision_recorded", actor=by, obj=vacancy,
                 appointed=appointed.code if appointed else None)
    return decision


# --- recognition --------------------------------------------------------------------------

def record_recognition(person: Person, *, service: Service, vacancy: Vacancy | None,
                       took_part_on: date, activity: str, hours: Decimal, reward: Reward,
                       amount_pence: int | None, by: Person) -> RecognitionEntry:
    """Log time someone gave to recruitment, and the payment or voucher they had for it."""
    if not Decimal("0") < hours <= Decimal("24"):
        raise RecognitionError("Hours must be more than 0 and no more than 24.")
    if took_part_on > clock.today():
        raise RecognitionError("The day cannot be in the future.")
    if reward is Reward.none:
        amount_pence = None
    elif amount_pence is None or amount_pence < 0:
        raise RecognitionError("Please give the amount of the payment or voucher.")
    if vacancy is not None and vacancy.service_id != service.id:
        raise RecognitionError("That vacancy is at another service.")
    entry = RecognitionEntry(person_id=person.id, service_id=service.id,
                             vacancy_id=vacancy.id if vacancy else None, took_part_on=took_part_on,
                             activity=activity.strip() or "Interview panel", hours=hours,
                             reward=reward, amount_pence=amount_pence, recorded_by_id=by.id)
    db.session.add(entry)
    db.session.flush()
    audit.record("recruitment.recognition_recorded", actor=by, obj=entry, subject=person,
                 reward=reward.value)
    return entry


# --- retention ----------------------------------------------------------------------------

def retention_days() -> int:
    """How long candidates' personal data is kept after a vacancy closes."""
    return int(current_app.config.get("RECRUITMENT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def purge_expired_candidates(*, now: datetime | None = None, days: int | None = None,
                             by: Person | None = None) -> int:
    """Delete candidates' personal data once the retention time after closing has passed.

    Codes, interview times and scores stay, so the statistics still work. Free text that may
    name a candidate goes too: score comments, and the decision's reasons and how the service
    users' views were weighed. Each candidate's deletion is audited. Returns how many were
    cleared.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days() if days is None else days)
    vacancies = db.session.scalars(select(Vacancy).where(
        Vacancy.status == VacancyStatus.closed, Vacancy.closed_at <= cutoff,
        Vacancy.personal_data_deleted_at.is_(None))).all()
    cleared = 0
    for vacancy in vacancies:
        for candidate in vacancy.candidates:
            if candidate.personal_data_deleted_at is not None:
                continue
            candidate.first_name = ""
            candidate.last_name = ""
            candidate.email = None
            candidate.phone = None
            candidate.personal_data_deleted_at = now
            for sheet in db.session.scalars(select(ScoreSheet).where(
                    ScoreSheet.candidate_id == candidate.id)):
                for score in sheet.scores:
                    score.comment = ""
            audit.record("recruitment.candidate_data_deleted", actor=by, obj=candidate,
                         code=candidate.code, retention_days=(now - vacancy.closed_at).days)
            cleared += 1
        if vacancy.decision is not None:
            vacancy.decision.reasons = ""
            vacancy.decision.service_user_views = ""
        vacancy.personal_data_deleted_at = now
    db.session.flush()
    return cleared
