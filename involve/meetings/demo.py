"""Demo meetings: Rose Court residents' and relatives' meetings, and the Board meeting.

Running it twice adds nothing twice. No email is sent: states are set as the services would.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from involve.extensions import db, utcnow
from involve.kernel import clock
from involve.meetings import services
from involve.meetings.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    ItemStatus,
    Meeting,
    MeetingInvitee,
    MeetingSeries,
    MeetingStatus,
    SeriesKind,
)
from involve.people.demo import ScaledService, bulk_insert
from involve.people.models import Organisation, Person, Role, Service, User


def _by_email(email: str) -> Person | None:
    return db.session.scalar(select(Person).join(User).where(User.email == email))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return clock.from_local(datetime(day.year, day.month, day.day, hour, minute),
                            zone_name="Europe/London")


def seed(org: Organisation) -> None:
    """Series, a past meeting with published minutes, coming meetings and a suggestion."""
    rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
    if rose is None:
        return
    if db.session.scalar(select(MeetingSeries.id).where(
            MeetingSeries.organisation_id == org.id, MeetingSeries.service_id == rose.id,
            MeetingSeries.kind == SeriesKind.residents).limit(1)):
        return  # already seeded
    manager = _by_email("manager@brookfield.example")
    staff = _by_email("staff@brookfield.example")
    family = _by_email("family@brookfield.example")
    board = _by_email("board@brookfield.example")
    admin = _by_email("admin@brookfield.example")
    ada = db.session.scalar(select(Person).join(User).where(User.username == "ada"))
    today = clock.today()

    residents = services.create_series(
        organisation_id=org.id, service_id=rose.id, name="Rose Court residents' meeting",
        kind=SeriesKind.residents,
        invited_roles=[Role.service_user, Role.family, Role.staff, Role.manager],
        invite_ambassadors=True, share_with_families=True, share_with_partners=True,
        default_room="The Garden Lounge", by=manager)
    _past_residents_meeting(residents, today, manager, staff, ada)
    _coming_residents_meeting(residents, today, manager, staff, ada, family)

    relatives = services.create_series(
        organisation_id=org.id, service_id=rose.id, name="Rose Court relatives' meeting",
        kind=SeriesKind.relatives, invited_roles=[Role.family, Role.manager],
        share_with_families=True, default_room="The Garden Lounge", by=manager)
    held = services.schedule_meeting(
        relatives, starts_at=_at(today - timedelta(days=3), 18),
        ends_at=_at(today - timedelta(days=3), 19), room="The Garden Lounge",
        online_link="https://meet.example.org/rose-court-relatives", chair=manager,
        minute_taker=manager, step_free=True, by=manager)
    _move(held, MeetingStatus.agenda_published)
    _move(held, MeetingStatus.held)  # minutes still to write: the chair is reminded
    services.schedule_meeting(
        relatives, starts_at=_at(today + timedelta(days=24), 18),
        ends_at=_at(today + timedelta(days=24), 19), room="The Garden Lounge",
        online_link="https://meet.example.org/rose-court-relatives", chair=manager,
        minute_taker=manager, step_free=True, by=manager)

    board_series = services.create_series(
        organisation_id=org.id, service_id=None, name="Board meeting", kind=SeriesKind.board,
        invited_roles=[Role.board, Role.admin], invite_ambassadors=True,
        share_with_partners=True, default_room="Head office, Market Square", by=admin)
    board_meeting = services.schedule_meeting(
        board_series, starts_at=_at(today + timedelta(days=14), 10),
        ends_at=_at(today + timedelta(days=14), 12), room="Head office, Market Square",
        chair=board, minute_taker=admin, hearing_loop=True, step_free=True,
        access_notes="Ambassadors are met at reception and travel costs are paid.", by=admin)
    services.add_agenda_item(board_meeting, title="Ambassadors' report",
                             description="What ambassadors heard in every service this month.",
                             by=admin, duration_minutes=30)
    services.add_agenda_item(board_meeting, title="Quality and safety report", by=admin,
                             duration_minutes=20)


def _move(meeting: Meeting, status: MeetingStatus) -> None:
    meeting.move_to(status)
    now = utcnow()
    if status == MeetingStatus.agenda_published:
        meeting.agenda_published_at = meeting.starts_at - timedelta(days=7)
    elif status == MeetingStatus.held:
        meeting.held_at = min(now, meeting.ends_at)
    elif status == MeetingStatus.minutes_published:
        meeting.minutes_published_at = meeting.ends_at + timedelta(days=3)


def _past_residents_meeting(series: MeetingSeries, today: date, manager: Person | None,
                            staff: Person | None, ada: Person | None) -> None:
    day = today - timedelta(days=28)
    meeting = services.schedule_meeting(
        series, starts_at=_at(day, 14), ends_at=_at(day, 15), room="The Garden Lounge",
        chair=manager, minute_taker=staff, hearing_loop=True, easy_read_agenda=True,
        step_free=True, by=manager)
    food = services.add_agenda_item(
        meeting, title="Food: more choice at tea time", raised_by=ada, by=manager,
        description="Several residents would like a hot choice at tea time.",
        duration_minutes=15)
    garden = services.add_agenda_item(
        meeting, title="The garden in spring", by=manager, presenter=staff,
        description="What to plant, and a bench near the roses.", duration_minutes=15)
    _move(meeting, MeetingStatus.agenda_published)
    _move(meeting, MeetingStatus.held)
    for row in db.session.scalars(select(MeetingInvitee).where(
            MeetingInvitee.meeting_id == meeting.id).order_by(MeetingInvitee.id)):
        row.attendance = Attendance.present if row.id % 3 else Attendance.apologies
    meeting.guest_count = 2
    food.notes = ("Residents said tea is often sandwiches only.\n\n"
                  "- Ada would like soup on cold days\n- Two people asked for jacket potatoes")
    food.decisions = "The cook will offer one hot choice at tea time every day."
    garden.notes = "Everyone liked the idea of a bench near the roses."
    items = {i.id: (i.notes, i.decisions) for i in meeting.items}
    services.save_minutes(meeting, summary=(
        "We met on a sunny afternoon.\n\n"
        "- You asked for hot food at tea time. The cook will make it.\n"
        "- You asked for a bench by the roses. We will buy one."), notes=items, by=staff)
    services.approve_minutes(meeting, approved_on=day + timedelta(days=2),
                             how="By the chair", by=manager)
    _move(meeting, MeetingStatus.minutes_published)

    owner = staff or manager
    soup = services.create_action(
        service_id=series.service_id, you_said="We would like a hot choice at tea time.",
        we_will="Ask the cook to add a hot dish to the tea menu.", owner=manager, due_on=today,
        by=manager, meeting=meeting, agenda_item=food, said_by=ada, name_who_said=True)
    services.update_action(soup, status=ActionStatus.done, by=manager,
                           we_did="Soup or jacket potatoes are now on the tea menu every day.")
    soup.done_at = utcnow() - timedelta(days=10)
    bench = services.create_action(
        service_id=series.service_id, you_said="A bench near the roses, please.",
        we_will="Buy and place a bench by the rose bed.", owner=owner, due_on=today,
        by=manager, meeting=meeting, agenda_item=garden)
    services.update_action(bench, status=ActionStatus.done, by=manager,
                           we_did="A new oak bench is by the roses. Come and sit on it!")
    bench.done_at = utcnow() - timedelta(days=4)
    plants = services.create_action(
        service_id=series.service_id, you_said="Could residents help choose the plants?",
        we_will="Bring seed catalogues to the next meeting.", owner=owner, due_on=today,
        by=manager, meeting=meeting, agenda_item=garden)
    plants.due_on = today - timedelta(days=3)  # overdue: flagged on the owner's home page
    services.create_action(
        service_id=series.service_id, you_said="The hearing loop in the lounge crackles.",
        we_will="Have the hearing loop checked.", owner=manager,
        due_on=today + timedelta(days=10), by=manager, meeting=meeting)
    db.session.flush()


def _coming_residents_meeting(series: MeetingSeries, today: date, manager: Person | None,
                              staff: Person | None, ada: Person | None,
                              family: Person | None) -> None:
    day = today + timedelta(days=10)
    meeting = services.schedule_meeting(
        series, starts_at=_at(day, 14), ends_at=_at(day, 15), room="The Garden Lounge",
        chair=manager, minute_taker=staff, hearing_loop=True, easy_read_agenda=True,
        step_free=True, access_notes="Large-print agendas are on the table by the door.",
        by=manager)
    services.add_agenda_item(meeting, title="Summer outings", raised_by=ada, by=manager,
                             description="Where shall we go this summer?", duration_minutes=20)
    services.add_agenda_item(meeting, title="New activities coordinator", by=manager,
                             presenter=manager, duration_minutes=10,
                             description="Meet Jo, who starts next month.")
    _move(meeting, MeetingStatus.agenda_published)
    if family is not None:
        services.suggest_item(meeting, title="Visiting at weekends",
                              description="Could visiting start earlier on Sundays?", by=family)
    if staff is not None and ada is not None:
        declined = services.suggest_item(meeting, title="A pet cat", by=staff, on_behalf_of=ada)
        declined.status = ItemStatus.declined
        declined.decline_reason = ("Not this time: two residents are allergic. We will ask "
                                   "about visits from a therapy dog instead.")
        declined.decided_by_id = manager.id if manager else None
        declined.decided_at = utcnow()


def seed_elmfield(org: Organisation) -> None:
    """Elmfield Trust: an Elm Lodge residents' meeting held last month, minutes published."""
    elm = db.session.scalar(select(Service).where(Service.organisation_id == org.id,
                                                  Service.slug == "elm-lodge"))
    manager = _by_email("manager@elmfield.example")
    staff = _by_email("staff@elmfield.example")
    if elm is None or manager is None or db.session.scalar(select(MeetingSeries.id).where(
            MeetingSeries.organisation_id == org.id).limit(1)):
        return
    resident = db.session.scalar(select(Person).join(User).where(User.username == "elmsu"))
    series = services.create_series(
        organisation_id=org.id, service_id=elm.id, name="Elm Lodge residents' meeting",
        kind=SeriesKind.residents, invited_roles=[Role.service_user, Role.staff, Role.manager],
        share_with_partners=True, default_room="The Conservatory", by=manager)
    day = clock.today() - timedelta(days=21)
    meeting = services.schedule_meeting(
        series, starts_at=_at(day, 11), ends_at=_at(day, 12), room="The Conservatory",
        chair=manager, minute_taker=staff, step_free=True, by=manager)
    outing = services.add_agenda_item(
        meeting, title="A trip to the garden centre", raised_by=resident, by=manager,
        description="Edie would like a trip to choose plants.", duration_minutes=15)
    _move(meeting, MeetingStatus.agenda_published)
    _move(meeting, MeetingStatus.held)
    services.save_minutes(
        meeting, summary="We talked about a trip.\n\n- You asked for a trip to the garden "
        "centre. We will book the minibus.",
        notes={outing.id: ("Everyone liked the idea.", "The trip will be in May.")}, by=manager)
    services.approve_minutes(meeting, approved_on=day + timedelta(days=2), how="By the chair",
                             by=manager)
    _move(meeting, MeetingStatus.minutes_published)


def seed_scaled(org: Organisation, batch: list[ScaledService]) -> None:
    """For each extra service of ``--scale``: a residents' meeting series with last month's
    meeting (minutes published, attendance taken, two actions) and next week's (agenda out),
    each with two items and the service's people invited. Bulk inserts, a batch at a time."""
    today = clock.today()
    series_ids = bulk_insert(MeetingSeries, [
        {"organisation_id": org.id, "service_id": s.id, "name": f"{s.name} residents' meeting",
         "kind": SeriesKind.residents,
         "invited_roles": [Role.service_user, Role.family, Role.staff, Role.manager],
         "invite_ambassadors": True, "share_with_families": True, "share_with_partners": True,
         "default_room": "The Lounge"} for s in batch])
    past_day, next_day = today - timedelta(days=28), today + timedelta(days=7)
    meetings = []
    for service, series_id in zip(batch, series_ids, strict=True):
        common = {"series_id": series_id, "service_id": service.id, "room": "The Lounge",
                  "chair_id": service.manager_id, "minute_taker_id": service.staff_ids[0],
                  "step_free": True, "easy_read_agenda": True}
        meetings.append({**common, "starts_at": _at(past_day, 14), "ends_at": _at(past_day, 15),
                         "status": MeetingStatus.minutes_published,
                         "agenda_published_at": _at(past_day - timedelta(days=7), 9),
                         "held_at": _at(past_day, 15),
                         "minutes_drafted_at": _at(past_day + timedelta(days=1), 9),
                         "minutes_approved_on": past_day + timedelta(days=2),
                         "minutes_approved_how": "By the chair",
                         "minutes_approved_by_id": service.manager_id,
                         "minutes_published_at": _at(past_day + timedelta(days=3), 9),
                         "easy_read_summary": "We met and talked about food and the garden."})
        meetings.append({**common, "starts_at": _at(next_day, 14), "ends_at": _at(next_day, 15),
                         "status": MeetingStatus.agenda_published,
                         "agenda_published_at": _at(today, 9)})
    meeting_ids = bulk_insert(Meeting, meetings)
    items, invitees, actions = [], [], []
    for n, service in enumerate(batch):
        past, coming = meeting_ids[2 * n], meeting_ids[2 * n + 1]
        invited = ([*service.resident_ids, *service.relative_ids, *service.staff_ids,
                    service.manager_id])
        for meeting_id in (past, coming):
            held = meeting_id == past
            items += [
                {"meeting_id": meeting_id, "title": "Food and drink", "position": 1,
                 "raised_by_id": service.resident_ids[1], "duration_minutes": 15,
                 "notes": "People would like more choice at tea time." if held else "",
                 "decisions": "The cook will offer a hot choice." if held else ""},
                {"meeting_id": meeting_id, "title": "Outings and activities", "position": 2,
                 "presenter_id": service.staff_ids[0], "duration_minutes": 15}]
            invitees += [{"meeting_id": meeting_id, "person_id": person_id,
                          "attendance": (Attendance.present if k % 3 else Attendance.apologies)
                          if held else None}
                         for k, person_id in enumerate(invited)]
        actions += [
            {"organisation_id": org.id, "service_id": service.id, "meeting_id": past,
             "you_said": "We would like a hot choice at tea time.",
             "we_will": "Ask the cook to add a hot dish to the tea menu.",
             "owner_id": service.manager_id, "due_on": today, "status": ActionStatus.done,
             "we_did": "Soup is on the tea menu every day.", "done_at": _at(today, 9),
             "created_by_id": service.manager_id},
            {"organisation_id": org.id, "service_id": service.id, "meeting_id": past,
             "you_said": "Could we go to the seaside?",
             "we_will": "Book the minibus for a trip in the summer.",
             "owner_id": service.staff_ids[0], "due_on": today + timedelta(days=30),
             "created_by_id": service.manager_id}]
    bulk_insert(AgendaItem, items, ids=False)
    bulk_insert(MeetingInvitee, invitees, ids=False)
    bulk_insert(Action, actions, ids=False)
