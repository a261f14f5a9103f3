"""Factories for recruitment tests: a vacancy with a confirmed panel, candidates and questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from involve.extensions import db
from involve.people.models import Person, Role, Service
from involve.recruitment import services
from involve.recruitment.models import JobCandidate, PanelMember, Vacancy, VacancyQuestion
from tests.factories import World, make_person


def ready_pool_member(service: Service, person: Person, by: Person, *, simple: bool = False):
    """Put a service user in the pool, trained and with the agreement signed."""
    return services.add_pool_member(
        service=service, person=person, training_completed_on=date.today() - timedelta(days=20),
        confidentiality_signed_on=date.today() - timedelta(days=20),
        support_needs="Large print; a break after each interview", advocate=None,
        prefers_simple_scale=simple, by=by)


@dataclass
class Panel:
    """A vacancy with its panel, candidates and interview questions."""

    vacancy: Vacancy
    chair: Person
    service_users: list[Person]
    candidates: list[JobCandidate] = field(default_factory=list)
    questions: list[VacancyQuestion] = field(default_factory=list)

    def member(self, person: Person) -> PanelMember:
        return self.vacancy.member_for(person)


def make_panel(world: World, *, service: Service | None = None, confirm: bool = True,
               service_users: int = 3, candidates: int = 2, questions: int = 2,
               simple_for: set[int] = frozenset(), chair: Person | None = None,
               first_user: Person | None = None) -> Panel:
    """A vacancy in the home service (by default): the world's service user and staff member sit
    on its panel (staff chairs), with more ready service users to make up the number."""
    service = service or world.home
    manager = world.people["manager"] if service is world.home else world.outsiders["manager"]
    chair = chair or (world.people["staff"] if service is world.home else world.outsiders["staff"])
    first = first_user or (world.people["service_user"] if service is world.home
                           else world.outsiders["service_user"])
    vacancy = services.create_vacancy(
        service=service, role_title="Senior care worker", description="Days and some nights.",
        closing_date=date.today() - timedelta(days=3), interview_dates="Next Tuesday",
        by=manager)
    users = [first] + [make_person(world.org, f"Panel User {i}",
                                   roles=[(Role.service_user, service)])
                       for i in range(service_users - 1)]
    for i, person in enumerate(users):
        ready_pool_member(service, person, manager, simple=i in simple_for)
        services.add_panel_member(vacancy, person, by=manager)
    services.add_panel_member(vacancy, chair, by=manager)
    services.set_chair(vacancy, chair, by=manager)
    panel = Panel(vacancy, chair, users)
    for i in range(questions):
        question = services.add_question(service, text=f"What would you do if question {i + 1}?",
                                         written_by=first, by=manager)
        chosen = services.choose_question(vacancy, question, by=manager)
        services.agree_answers(chosen, good_answer="Listens and asks me", average_answer="Some",
                               poor_answer="Ignores me", asked_by=users[i % len(users)], by=manager)
        panel.questions.append(chosen)
    for i in range(candidates):
        panel.candidates.append(services.add_candidate(
            vacancy, first_name=["Sam", "Alex", "Jo", "Kit"][i], last_name="Applicant",
            email=f"candidate{i}@applicant.example", phone="01234 567890",
            told_about_panel_on=date.today() - timedelta(days=2), interview_at=None,
            by=manager))
    if confirm:
        services.confirm_panel(vacancy, by=manager)
    db.session.flush()
    return panel


def score_all(panel: Panel, person: Person, candidate: JobCandidate, value: int,
              submit: bool = True):
    """Score every question for a candidate with the same value."""
    return services.save_scores(candidate, by=person, submit=submit,
                                answers={q.id: (value, "") for q in panel.questions})
