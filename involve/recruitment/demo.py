"""Demo data: a Rose Court vacancy being interviewed for, and a closed one with a decision."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from involve.extensions import db, utcnow
from involve.kernel import clock
from involve.people.demo import ScaledService, bulk_insert
from involve.people.models import Organisation, Person, Role, Service, User
from involve.people.queries import people_with_role
from involve.recruitment import services
from involve.recruitment.models import (
    JobCandidate,
    MemberKind,
    PanelMember,
    PanelPoolMember,
    Reward,
    Scale,
    Vacancy,
)

QUESTIONS = [
    ("What would you do if I did not want to get up in the morning?",
     "Asks me why, listens, and comes back later; tells the nurse if I seem unwell.",
     "Says they would try again later.",
     "Says everyone has to get up by nine."),
    ("How would you make sure I can still do the things I enjoy?",
     "Asks what I enjoy and helps me plan it; talks about my garden and my music.",
     "Mentions the activities timetable.",
     "Does not mention what I like at all."),
    ("Tell us about a time you made someone laugh.",
     "A real story, told warmly, that shows kindness.",
     "A story, but about themselves more than the person.",
     "Cannot think of one."),
]


def _by_email(email: str) -> Person | None:
    user = db.session.scalar(select(User).where(User.email == email))
    return user.person if user else None


def seed(org: Organisation) -> None:
    """Add the recruitment demo unless it is there already."""
    rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
    manager = _by_email("manager@brookfield.example")
    staff = _by_email("staff@brookfield.example")
    ada_user = db.session.scalar(select(User).where(User.username == "ada"))
    if rose is None or manager is None or staff is None or ada_user is None:
        return
    if db.session.scalar(select(Vacancy.id).where(Vacancy.service_id == rose.id).limit(1)):
        return
    ada = ada_user.person
    others = [p for p in people_with_role(Role.service_user, rose.id, include_organisation=False)
              if p.id != ada.id][:4]
    trained = clock.today() - timedelta(days=90)
    for i, person in enumerate([ada, *others[:3]]):
        services.add_pool_member(
            service=rose, person=person, training_completed_on=trained,
            confidentiality_signed_on=trained,
            support_needs="Large print and a break between interviews" if person is ada else "",
            advocate=None, prefers_simple_scale=i == 2, by=manager)
    if len(others) > 3:
        services.add_pool_member(service=rose, person=others[3], training_completed_on=None,
                                 confidentiality_signed_on=None, support_needs="",
                                 advocate=None, prefers_simple_scale=False, by=manager)
    bank = [services.add_question(rose, text=text, written_by=[ada, *others][i % 3], by=manager)
            for i, (text, *_answers) in enumerate(QUESTIONS)]

    closed = _vacancy(rose, manager, staff, [ada, *others[1:3]], bank,
                      title="Care worker (days)", closing=clock.today() - timedelta(days=70),
                      names=["Chris", "Dana"], interview_day=clock.today() - timedelta(days=60))
    for member in closed.members:
        favourite, other = (4, 2) if member.kind.value == "service_user" else (3, 4)
        _score_all(closed, member.person, closed.candidates[0], favourite)
        _score_all(closed, member.person, closed.candidates[1], other)
    services.record_decision(
        closed, appointed=closed.candidates[0],
        reasons="Chris gave warm, practical answers and already knows dementia care well.",
        service_user_views="The three residents on the panel all preferred Chris; staff were "
                           "split. We gave the residents' view equal weight and it decided it.",
        by=staff)
    closed.closed_at = utcnow() - timedelta(days=55)

    current = _vacancy(rose, manager, staff, [ada, *others[:2]], bank,
                       title="Senior care worker", closing=clock.today() - timedelta(days=5),
                       names=["Jordan", "Taylor"], interview_day=clock.today() - timedelta(days=1))
    _score_all(current, ada, current.candidates[0], 4)
    _score_all(current, staff, current.candidates[0], 3)
    _score_all(current, staff, current.candidates[1], 4)

    services.record_recognition(
        ada, service=rose, vacancy=closed, took_part_on=clock.today() - timedelta(days=60),
        activity="Interview panel", hours=Decimal("3.5"), reward=Reward.voucher,
        amount_pence=2000, by=manager)
    services.record_recognition(
        ada, service=rose, vacancy=None, took_part_on=clock.today() - timedelta(days=90),
        activity="Interview panel training", hours=Decimal("2"), reward=Reward.none,
        amount_pence=None, by=manager)


def _vacancy(rose: Service, manager: Person, chair: Person, users: list[Person],
             bank: list, *, title: str, closing: date, names: list[str],
             interview_day: date) -> Vacancy:
    vacancy = services.create_vacancy(
        service=rose, role_title=title, closing_date=closing,
        description="Lead a small team on the ground floor. Days, with one weekend in three.",
        interview_dates=interview_day.strftime("%A %-d %B %Y"), by=manager)
    for person in users:
        services.add_panel_member(vacancy, person, by=manager)
    services.add_panel_member(vacancy, chair, by=manager)
    services.add_panel_member(vacancy, manager, by=manager, shortlists=True, interviews=False)
    services.set_chair(vacancy, chair, by=manager)
    for i, question in enumerate(bank):
        chosen = services.choose_question(vacancy, question, by=manager)
        _text, good, average, poor = QUESTIONS[i]
        services.agree_answers(chosen, good_answer=good, average_answer=average, poor_answer=poor,
                               asked_by=users[i % len(users)], by=manager)
    zone = ZoneInfo("Europe/London")
    for i, first in enumerate(names):
        services.add_candidate(
            vacancy, first_name=first, last_name="Example", email=f"{first.lower()}@example.com",
            phone="01632 960000", told_about_panel_on=min(closing, clock.today()),
            interview_at=datetime.combine(interview_day, time(10 + i, 0), zone), by=manager)
    services.confirm_panel(vacancy, by=manager)
    return vacancy


def _score_all(vacancy: Vacancy, person: Person, candidate, value: int) -> None:
    member = vacancy.member_for(person)
    value = min(value, member.scale.top)
    services.save_scores(candidate, by=person, submit=True,
                         answers={q.id: (value, "") for q in vacancy.questions})


def seed_scaled(org: Organisation, batch: list[ScaledService]) -> None:
    """For each extra service of ``--scale``: two trained residents in the panel pool, and a
    vacancy getting ready with its panel (the two residents, a carer, the manager) and two
    candidates. Bulk inserts, a batch at a time."""
    trained = clock.today() - timedelta(days=90)
    interview_day = clock.today() + timedelta(days=20)
    zone = ZoneInfo(org.timezone)
    vacancy_ids = bulk_insert(Vacancy, [
        {"service_id": s.id, "role_title": "Care worker (days)",
         "description": "Join a friendly team. Days, with one weekend in three.",
         "closing_date": clock.today() + timedelta(days=10),
         "interview_dates": interview_day.strftime("%A %-d %B %Y"), "chair_id": s.manager_id,
         "created_by_id": s.manager_id} for s in batch])
    pool, members, candidates = [], [], []
    for service, vacancy_id in zip(batch, vacancy_ids, strict=True):
        panel_users = service.resident_ids[5:7]
        pool += [{"person_id": person_id, "service_id": service.id,
                  "training_completed_on": trained, "confidentiality_signed_on": trained}
                 for person_id in panel_users]
        members += [{"vacancy_id": vacancy_id, "person_id": person_id,
                     "kind": MemberKind.service_user, "scale": Scale.five}
                    for person_id in panel_users]
        members += [{"vacancy_id": vacancy_id, "person_id": person_id, "kind": MemberKind.staff,
                     "scale": Scale.five} for person_id in (service.staff_ids[1],
                                                            service.manager_id)]
        candidates += [{"vacancy_id": vacancy_id, "code": code, "first_name": first,
                        "last_name": "Example", "email": f"{first.lower()}@example.com",
                        "interview_at": datetime.combine(interview_day, time(10 + i, 0), zone)}
                       for i, (code, first) in enumerate((("A", "Alex"), ("B", "Sam")))]
    for model, rows in ((PanelPoolMember, pool), (PanelMember, members),
                        (JobCandidate, candidates)):
        bulk_insert(model, rows, ids=False)
