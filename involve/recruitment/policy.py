"""The recruitment domain's policy: vacancies, panels, scoring and recognition."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from involve.extensions import db
from involve.people.models import Person, Role
from involve.people.policy import about_person
from involve.permissions import Actor, capability, scope_of
from involve.recruitment.models import PanelMember, PanelPoolMember, Vacancy

R = Role

def _recruitment_vacancy(obj: Any) -> Any:
    """The vacancy an object belongs to (a vacancy, candidate, panel member or question)."""

    if obj is None or isinstance(obj, Vacancy):
        return obj
    return getattr(obj, "vacancy", None)


def _recruitment_manager(actor: Actor, obj: Any) -> bool:
    return actor.has_role([R.manager], scope_of(obj))


def _recruitment_index(actor: Actor, obj: Any) -> bool:
    """Staff and managers, and anyone on a panel or in the panel pool."""
    if not actor.signed_in:
        return False
    if actor.has_role([R.manager, R.staff]):
        return True

    # One statement for both (the navigation asks this on every page).
    return bool(db.session.scalar(select(
        exists().where(PanelMember.person_id == actor.person_id)
        | exists().where(PanelPoolMember.person_id == actor.person_id))))


def _recruitment_panel_member(actor: Actor, obj: Any) -> bool:
    """Someone on this vacancy's panel (a manager of the service sees it too)."""
    vacancy = _recruitment_vacancy(obj)
    if vacancy is None:
        return False
    return (vacancy.member_for(actor.person_id) is not None
            or actor.has_role([R.manager], vacancy.service_id))


def _recruitment_runs_panel(actor: Actor, obj: Any) -> bool:
    """The chair of this vacancy's panel, or a manager of the service."""
    vacancy = _recruitment_vacancy(obj)
    if vacancy is None:
        return False
    return (vacancy.chair_id is not None and vacancy.chair_id == actor.person_id) \
        or actor.has_role([R.manager], vacancy.service_id)


def _recruitment_scorer(actor: Actor, obj: Any) -> bool:
    """Only members of the candidate's own panel score; managers not on it do not."""
    vacancy = _recruitment_vacancy(obj)
    return vacancy is not None and vacancy.member_for(actor.person_id) is not None


def _recruitment_own_sheet(actor: Actor, obj: Any) -> bool:
    """A panel member's interview sheet: theirs, the chair's and the manager's to open."""
    return obj.person_id == actor.person_id or _recruitment_runs_panel(actor, obj)


def _recruitment_question_bank(actor: Actor, obj: Any) -> bool:
    """A service's question bank: its staff and managers, and its panel pool."""
    if actor.has_role([R.manager, R.staff], scope_of(obj)):
        return True
    if obj is None:
        return False

    return db.session.scalar(select(PanelPoolMember.id).where(
        PanelPoolMember.person_id == actor.person_id,
        PanelPoolMember.service_id == obj.id)) is not None


def _recruitment_own_recognition(actor: Actor, obj: Any) -> bool:
    """A person's recognition log: theirs, or a manager's of one of their services."""
    return (isinstance(obj, Person) and obj.id == actor.person_id) \
        or about_person([R.manager])(actor, obj)


capability("recruitment.index", "See the interview panels you sit on",
           rule=_recruitment_index)
capability("recruitment.manage", "Create vacancies, record candidates, build panels and the pool",
           rule=_recruitment_manager)
capability("recruitment.view_vacancy", "See a vacancy's panel, candidates and questions",
           rule=_recruitment_panel_member)
capability("recruitment.run_panel", "Chair a panel: agree questions, compare scores, decide",
           rule=_recruitment_runs_panel)
capability("recruitment.score", "Score candidates on your own panel", rule=_recruitment_scorer)
capability("recruitment.enter_paper_sheet",
           "Enter a panel member's scores from the paper sheet they filled in",
           rule=_recruitment_runs_panel)
capability("recruitment.interview_sheet", "Print a panel member's interview sheet",
           rule=_recruitment_own_sheet)
capability("recruitment.questions", "Read and write interview questions for a service",
           rule=_recruitment_question_bank)
capability("recruitment.recognition", "See a participant's recognition log",
           rule=_recruitment_own_recognition)
capability("recruitment.recognition_manage", "Record hours, payments and vouchers",
           rule=about_person([R.manager]))
capability("recruitment.statistics", "See how often service users' choice was appointed",
           [R.manager, R.board])

