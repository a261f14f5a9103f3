"""The meeting page is served in a bounded number of SQL statements, however big."""

from datetime import timedelta

from involve.extensions import db, utcnow
from involve.meetings import services
from involve.meetings.models import MeetingInvitee
from tests.conftest import count_queries, login
from tests.factories import make_person
from tests.meetings.helpers import add_item, make_action, make_meeting, make_series

# Measured at 8 with the page as it is; the bound leaves room for small template changes.
BOUND = 15


def _fill(world, series, *, items, people, actions, started=True):
    earlier = make_meeting(world, series, starts_at=utcnow() - timedelta(days=30))
    meeting = make_meeting(world, series, starts_at=utcnow() - timedelta(hours=2))
    for n in range(items):
        add_item(meeting, world, f"Item {n}")
    for n in range(people):
        person = make_person(world.org, f"Guest {series.id}-{n}",
                             needs=["large_print"] if n % 3 == 0 else None)
        db.session.add(MeetingInvitee(meeting_id=meeting.id, person_id=person.id,
                                      attendance="present" if n % 2 else "apologies"))
    services.mark_held(meeting, by=None)
    item_ids = [i.id for i in meeting.items]
    for n in range(actions):
        action = make_action(world, earlier if n % 2 else meeting, we_will=f"Do {n}")
        action.agenda_item_id = item_ids[n % len(item_ids)] if n % 2 == 0 else None
    services.save_minutes(meeting, summary="Short", notes={}, by=world.people["manager"])
    db.session.commit()
    return meeting


def _statements(client, meeting_id):
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(f"/meetings/{meeting_id}")
    assert response.status_code == 200
    return counter.count, response.text


def test_a_big_meeting_page_needs_a_bounded_number_of_statements(app, world, client):
    series = make_series(world)
    meeting = _fill(world, series, items=30, people=40, actions=50)
    login(client, world.people["manager"])
    count, page = _statements(client, meeting.id)
    assert "Item 29" in page and "Do 48" in page and "Do 49" in page  # open from earlier
    print(f"meeting page: {count} SQL statements")
    assert count <= BOUND, count

    # More rows elsewhere in the database change nothing.
    other = make_series(world, service=world.away)
    _fill(world, other, items=30, people=40, actions=50)
    again, _ = _statements(client, meeting.id)
    assert again == count

    # Nor do more rows on the page itself.
    for n in range(20):
        make_action(world, meeting, we_will=f"More {n}")
    db.session.commit()
    bigger, page = _statements(client, meeting.id)
    assert "More 19" in page
    assert bigger == count


def test_the_meetings_list_needs_the_same_statements_however_many_series(app, world, client):
    from tests.conftest import count_queries

    def statements(person):
        login(client, person)
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get("/meetings/")
        assert response.status_code == 200
        return counter.count

    first = make_series(world, name="Series 0")
    make_meeting(world, first, named=[world.outsiders["partner"]])
    db.session.commit()
    few = {role: statements(world.people[role]) for role in ("family", "partner")}
    few["named"] = statements(world.outsiders["partner"])
    for n in range(1, 15):
        make_meeting(world, make_series(world, name=f"Series {n}"))
    db.session.commit()
    many = {role: statements(world.people[role]) for role in ("family", "partner")}
    many["named"] = statements(world.outsiders["partner"])
    assert many == few
    # Someone invited by name to one meeting sees that series, and not the others.
    assert "Series 0" in client.get("/meetings/").text
    assert "Series 1<" not in client.get("/meetings/").text
