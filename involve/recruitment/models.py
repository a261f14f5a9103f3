"""Vacancies, the panel pool, interview panels, candidates, questions, scores and recognition."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from involve.extensions import UTCDateTime, db, db_enum, utcnow
from involve.people.models import Person, Service

# Relationship targets by full path: other domains have classes of the same name.
_M = "involve.recruitment.models."



class VacancyStatus(enum.StrEnum):
    """Where a vacancy is: building its panel, interviewing, or closed with a decision."""

    open = "open"
    interviewing = "interviewing"
    closed = "closed"

    @property
    def label(self) -> str:
        return {"open": "Getting ready", "interviewing": "Interviewing",
                "closed": "Closed"}[self.value]


class MemberKind(enum.StrEnum):
    """Whether a panel member is staff or a service user."""

    staff = "staff"
    service_user = "service_user"

    @property
    def label(self) -> str:
        return "Staff" if self is MemberKind.staff else "Service user"


class Scale(enum.StrEnum):
    """The scoring scale a panel member prefers."""

    five = "five"
    three = "three"

    @property
    def top(self) -> int:
        return 5 if self is Scale.five else 3

    @property
    def label(self) -> str:
        return "1 to 5 (faces and words)" if self is Scale.five else "Simple: 3 faces"


class Reward(enum.StrEnum):
    """How someone's time on a panel was recognised."""

    none = "none"
    payment = "payment"
    voucher = "voucher"

    @property
    def label(self) -> str:
        return {"none": "Thanks only", "payment": "Payment", "voucher": "Voucher"}[self.value]


# The words shown beside each face; three-point answers are the first, middle and last.
SCALE_WORDS = {
    Scale.five: {1: "Poor", 2: "Not so good", 3: "OK", 4: "Good", 5: "Very good"},
    Scale.three: {1: "Poor", 2: "OK", 3: "Good"},
}


def normalise(value: int, scale: Scale) -> int:
    """A score as 0-100, so that answers on the two scales compare."""
    return round((value - 1) * 100 / (scale.top - 1))


class Vacancy(db.Model):
    """A job at a service that a panel with service users on it will interview for."""

    __tablename__ = "recruitment_vacancy"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.service.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    role_title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    closing_date: Mapped[date]
    interview_dates: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[VacancyStatus] = mapped_column(db_enum(VacancyStatus, "vacancy_status"),
                                                  default=VacancyStatus.open)
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    panel_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    personal_data_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    service: Mapped[Service] = relationship()
    chair: Mapped[Person | None] = relationship(foreign_keys=[chair_id])
    members: Mapped[list[PanelMember]] = relationship(_M + "PanelMember",
        back_populates="vacancy", order_by=lambda: PanelMember.id, cascade="all, delete-orphan")
    candidates: Mapped[list[JobCandidate]] = relationship(_M + "JobCandidate",
        back_populates="vacancy", order_by=lambda: JobCandidate.code)
    questions: Mapped[list[VacancyQuestion]] = relationship(_M + "VacancyQuestion",
        back_populates="vacancy", order_by=lambda: VacancyQuestion.position)
    decision: Mapped[AppointmentDecision | None] = relationship(
        _M + "AppointmentDecision", back_populates="vacancy", uselist=False)

    @property
    def scope_service_id(self) -> int:
        return self.service_id

    def member_for(self, person: Person | int | None) -> PanelMember | None:
        """The panel member row of ``person`` on this panel, if they sit on it now.

        Someone who left the panel keeps their row (and the scores they sent) but no longer
        sits on it.
        """
        person_id = person.id if isinstance(person, Person) else person
        return next((m for m in self.active_members if m.person_id == person_id), None)

    @property
    def active_members(self) -> list[PanelMember]:
        """Those who sit on the panel now, without those who left it."""
        return [m for m in self.members if m.left_at is None]

    @property
    def service_user_members(self) -> list[PanelMember]:
        return [m for m in self.active_members if m.kind is MemberKind.service_user]

    @property
    def staff_members(self) -> list[PanelMember]:
        return [m for m in self.active_members if m.kind is MemberKind.staff]

    @property
    def scoring_members(self) -> list[PanelMember]:
        """Those expected to send a score sheet for every candidate: at the interviews."""
        return [m for m in self.active_members if m.interviews]


class PanelPoolMember(db.Model):
    """A service user who wants to sit on interview panels at a service, ready or getting ready."""

    __tablename__ = "recruitment_pool_member"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.service.organisation_id
    __table_args__ = (
        UniqueConstraint("person_id", "service_id"),
        CheckConstraint("advocate_id IS NULL OR advocate_id <> person_id",
                        name="advocate_not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    training_completed_on: Mapped[date | None]
    confidentiality_signed_on: Mapped[date | None]
    support_needs: Mapped[str] = mapped_column(Text, default="")
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    prefers_simple_scale: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    advocate: Mapped[Person | None] = relationship(foreign_keys=[advocate_id])
    service: Mapped[Service] = relationship()

    @property
    def scope_service_id(self) -> int:
        return self.service_id

    @property
    def is_ready(self) -> bool:
        """Trained and signed the confidentiality agreement: may sit on a panel."""
        return bool(self.training_completed_on and self.confidentiality_signed_on)


class PanelMember(db.Model):
    """A person on the panel of one vacancy: they shortlist, interview and score."""

    __tablename__ = "recruitment_panel_member"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.vacancy.organisation_id
    __table_args__ = (UniqueConstraint("vacancy_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("recruitment_vacancy.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[MemberKind] = mapped_column(db_enum(MemberKind, "panel_member_kind"))
    scale: Mapped[Scale] = mapped_column(db_enum(Scale, "score_scale"), default=Scale.five)
    shortlists: Mapped[bool] = mapped_column(default=True)
    interviews: Mapped[bool] = mapped_column(default=True)
    outcome_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the member drops out of a confirmed panel (and someone may take their place).
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vacancy: Mapped[Vacancy] = relationship(_M + "Vacancy", back_populates="members")
    person: Mapped[Person] = relationship()
    reminder: Mapped[ScoreReminder | None] = relationship(_M + "ScoreReminder",
                                                          back_populates="member", uselist=False)

    @property
    def scope_service_id(self) -> int:
        return self.vacancy.service_id


class JobCandidate(db.Model):
    """Someone applying for a vacancy, with no more personal data than the panel needs.

    Contact details are for managers only; the panel knows a first name and a code. Personal
    fields are emptied when the retention period ends; the code and scores stay.
    """

    __tablename__ = "recruitment_candidate"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.vacancy.organisation_id
    __table_args__ = (UniqueConstraint("vacancy_id", "code"),
                      UniqueConstraint("vacancy_id", "interview_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("recruitment_vacancy.id"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    told_about_panel_on: Mapped[date | None]
    interview_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    personal_data_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vacancy: Mapped[Vacancy] = relationship(_M + "Vacancy", back_populates="candidates")

    @property
    def scope_service_id(self) -> int:
        return self.vacancy.service_id

    @property
    def panel_name(self) -> str:
        """What the panel calls the candidate: a first name and a code."""
        if self.personal_data_deleted_at or not self.first_name:
            return f"Candidate {self.code}"
        return f"{self.first_name} (candidate {self.code})"


class InterviewQuestion(db.Model):
    """A question in a service's bank, often written by a service user."""

    __tablename__ = "recruitment_question"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return db.session.get(Service, self.service_id).organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    written_by: Mapped[Person | None] = relationship(foreign_keys=[written_by_id])
    recorded_by: Mapped[Person | None] = relationship(foreign_keys=[recorded_by_id])

    @property
    def scope_service_id(self) -> int:
        return self.service_id


class VacancyQuestion(db.Model):
    """A question chosen for one interview, with the answers the panel agreed beforehand."""

    __tablename__ = "recruitment_vacancy_question"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.vacancy.organisation_id
    __table_args__ = (UniqueConstraint("vacancy_id", "question_id"),
                      UniqueConstraint("vacancy_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("recruitment_vacancy.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("recruitment_question.id"))
    position: Mapped[int]
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    good_answer: Mapped[str] = mapped_column(Text, default="")
    average_answer: Mapped[str] = mapped_column(Text, default="")
    poor_answer: Mapped[str] = mapped_column(Text, default="")

    vacancy: Mapped[Vacancy] = relationship(_M + "Vacancy", back_populates="questions")
    question: Mapped[InterviewQuestion] = relationship(_M + "InterviewQuestion")
    asked_by: Mapped[Person | None] = relationship()

    @property
    def scope_service_id(self) -> int:
        return self.vacancy.service_id

    @property
    def answers_agreed(self) -> bool:
        return bool(self.good_answer and self.average_answer and self.poor_answer)


class ScoreSheet(db.Model):
    """One panel member's scores for one candidate. Once submitted it is locked."""

    __tablename__ = "recruitment_score_sheet"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.member.organisation_id
    __table_args__ = (
        UniqueConstraint("panel_member_id", "candidate_id"),
        CheckConstraint("NOT from_paper OR entered_by_id IS NOT NULL",
                        name="paper_says_who_entered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("recruitment_panel_member.id"),
                                                 index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("recruitment_candidate.id"), index=True)
    scale: Mapped[Scale] = mapped_column(db_enum(Scale, "score_scale"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A member without an account scores on paper; the chair or a manager types the sheet in.
    from_paper: Mapped[bool] = mapped_column(default=False, server_default=false())
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[PanelMember] = relationship(_M + "PanelMember")
    candidate: Mapped[JobCandidate] = relationship(_M + "JobCandidate")
    entered_by: Mapped[Person | None] = relationship()
    scores: Mapped[list[AnswerScore]] = relationship(_M + "AnswerScore", back_populates="sheet",
                                               cascade="all, delete-orphan")

    @property
    def scope_service_id(self) -> int:
        return self.candidate.vacancy.service_id

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class AnswerScore(db.Model):
    """One answer scored by one member: the value on their scale and the same on 0-100."""

    __tablename__ = "recruitment_score"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.sheet.organisation_id
    __table_args__ = (
        UniqueConstraint("sheet_id", "vacancy_question_id"),
        CheckConstraint("(scale = 'five' AND value BETWEEN 1 AND 5) OR "
                        "(scale = 'three' AND value BETWEEN 1 AND 3)", name="value_on_scale"),
        CheckConstraint("normalised BETWEEN 0 AND 100", name="normalised_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("recruitment_score_sheet.id"), index=True)
    vacancy_question_id: Mapped[int] = mapped_column(
        ForeignKey("recruitment_vacancy_question.id"), index=True)
    scale: Mapped[Scale] = mapped_column(db_enum(Scale, "score_scale"))
    value: Mapped[int]
    normalised: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")

    sheet: Mapped[ScoreSheet] = relationship(_M + "ScoreSheet", back_populates="scores")
    vacancy_question: Mapped[VacancyQuestion] = relationship(_M + "VacancyQuestion")

    @property
    def words(self) -> str:
        return SCALE_WORDS[self.scale][self.value]


class ReminderChannel(enum.StrEnum):
    """How a reminder to send a score sheet reached a panel member."""

    email = "email"
    home = "home"
    in_person = "in_person"

    @property
    def label(self) -> str:
        return {"email": "By email", "home": "On their home page",
                "in_person": "No account: staff remind them in person"}[self.value]


class ScoreReminder(db.Model):
    """The one reminder a panel member gets to send their score sheets.

    One per member (so once per member per vacancy), enforced by the database, so that no one
    is reminded twice, even when two people press the button at once.
    """

    __tablename__ = "recruitment_score_reminder"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.member.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("recruitment_panel_member.id"),
                                                 unique=True)
    channel: Mapped[ReminderChannel] = mapped_column(db_enum(ReminderChannel,
                                                             "score_reminder_channel"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[PanelMember] = relationship(_M + "PanelMember", back_populates="reminder")
    sent_by: Mapped[Person | None] = relationship()

    @property
    def scope_service_id(self) -> int:
        return self.member.vacancy.service_id


class AppointmentDecision(db.Model):
    """Who was appointed and why, and how the service users' views were weighed."""

    __tablename__ = "recruitment_decision"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.vacancy.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int] = mapped_column(ForeignKey("recruitment_vacancy.id"), unique=True)
    appointed_candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("recruitment_candidate.id"))
    reasons: Mapped[str] = mapped_column(Text)
    service_user_views: Mapped[str] = mapped_column(Text)
    # Kept at decision time so that the statistics survive the deletion of personal data.
    service_users_choice_appointed: Mapped[bool | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vacancy: Mapped[Vacancy] = relationship(_M + "Vacancy", back_populates="decision")
    appointed_candidate: Mapped[JobCandidate | None] = relationship(_M + "JobCandidate")
    decided_by: Mapped[Person | None] = relationship()

    @property
    def scope_service_id(self) -> int:
        return self.vacancy.service_id


class RecognitionEntry(db.Model):
    """Time someone gave to recruitment, and how it was recognised."""

    __tablename__ = "recruitment_recognition"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.service.organisation_id
    __table_args__ = (
        CheckConstraint("hours > 0 AND hours <= 24", name="hours_in_a_day"),
        CheckConstraint("amount_pence IS NULL OR amount_pence >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    vacancy_id: Mapped[int | None] = mapped_column(ForeignKey("recruitment_vacancy.id"))
    took_part_on: Mapped[date]
    activity: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    reward: Mapped[Reward] = mapped_column(db_enum(Reward, "recognition_reward"),
                                           default=Reward.none)
    amount_pence: Mapped[int | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    service: Mapped[Service] = relationship()
    vacancy: Mapped[Vacancy | None] = relationship(_M + "Vacancy")

    @property
    def scope_service_id(self) -> int:
        return self.service_id

    @property
    def amount_label(self) -> str:
        if self.amount_pence is None:
            return ""
        return f"£{self.amount_pence // 100}.{self.amount_pence % 100:02d}"


class LockedSheetChanged(Exception):
    """Raised when something tries to change a score sheet that was already submitted."""


def _stored_submitted_at(sheet: ScoreSheet) -> datetime | None:
    """The submission time as the database holds it, before this flush."""
    history = db.inspect(sheet).attrs.submitted_at.history
    if history.deleted:
        return history.deleted[0]
    return history.unchanged[0] if history.unchanged else None


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_submitted_sheets(session: Session, flush_context: Any,
                                        instances: Any) -> None:
    # The service refuses first with a plain message; this guards every other path.
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, AnswerScore):
            sheet = obj.sheet
            if sheet is None or _stored_submitted_at(sheet) is None:
                continue
            if obj not in session.new and obj not in session.deleted and (
                    not session.is_modified(obj) or _only_anonymising(obj)):
                continue
            raise LockedSheetChanged("a submitted score sheet cannot be changed")
        if isinstance(obj, ScoreSheet) and obj not in session.new:
            if _stored_submitted_at(obj) is not None and (
                    obj in session.deleted or obj.submitted_at is None):
                raise LockedSheetChanged("a submitted score sheet cannot be reopened")


def _only_anonymising(score: AnswerScore) -> bool:
    """Clearing a comment when personal data is deleted is the one change allowed."""
    state = db.inspect(score)
    changed = {a.key for a in state.attrs if a.history.has_changes()}
    return changed <= {"comment"} and score.comment == ""
