"""Permission matrix for the meetings endpoints.

The meetings are of a residents' series at the home service inviting service users,
families, staff and managers (and so the ambassador, a service user), sharing minutes with
families; the manager chairs and the staff member takes the minutes.
"""

import pytest

from involve.extensions import db
from involve.meetings import services
from tests.meetings.helpers import held_meeting, make_action, make_meeting, published_meeting
from tests.permission_matrix import AMBASSADOR, EVERYONE, Case, check_case

VIEWERS = {"service_user", "family", "staff", "manager", "admin", AMBASSADOR}
CHAIRS = {"manager", "admin"}
WRITERS = {"manager", "admin", "staff"}


def _commit(value):
    db.session.commit()
    return value


def planned(world):
    return _commit(make_meeting(world))


def suggestion(world):
    meeting = make_meeting(world)
    return _commit(services.suggest_item(meeting, title="Pets", by=world.people["family"]))


def agenda_item(world):
    meeting = make_meeting(world)
    return _commit(services.add_agenda_item(meeting, title="Food", by=world.people["manager"]))


def held(world):
    return _commit(held_meeting(world))


def held_item(world):
    return _commit(held_meeting(world).items[0])


def drafted(world):
    meeting = held_meeting(world)
    services.save_minutes(meeting, summary="Draft", notes={}, by=world.people["manager"])
    return _commit(meeting)


def published(world):
    return _commit(published_meeting(world))


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "green").save(out, format="PNG")
    return out.getvalue()


def published_agenda(world):
    meeting = make_meeting(world)
    services.publish_agenda(meeting, by=world.people["manager"])
    return _commit(meeting)


def pictured_item(world):
    meeting = make_meeting(world)
    item = services.add_agenda_item(meeting, title="Garden", by=world.people["manager"])
    services.set_item_picture(item, data=_png(), alt_text="The garden",
                              by=world.people["manager"])
    services.publish_agenda(meeting, by=world.people["manager"])
    return _commit(item)


def attachment(world):
    meeting = held_meeting(world)
    return _commit(services.add_minutes_attachment(
        meeting, data=b"%PDF-1.4\n%%EOF\n", filename="a.pdf", description="Menu",
        by=world.people["manager"]))


def published_attachment(world):
    meeting = held_meeting(world)
    made = services.add_minutes_attachment(meeting, data=_png(), filename="a.png",
                                           description="The garden", by=world.people["manager"])
    services.save_minutes(meeting, summary="", notes={}, by=world.people["manager"])
    services.approve_minutes(meeting, approved_on=meeting.starts_at.date(), how="",
                             by=world.people["manager"])
    services.publish_minutes(meeting, by=world.people["manager"])
    return _commit(made)


def action(world):
    return _commit(make_action(world, owner=world.people["staff"]))


def feed_url(world, meeting):
    from involve.meetings.views import feed_token

    return f"/meetings/feed/{feed_token(meeting.series)}.ics"


CASES = [
    Case("meetings.index", lambda w, c: "/meetings/", EVERYONE, away="allow"),
    Case("meetings.new_series", lambda w, c: "/meetings/series/new", CHAIRS, away="allow"),
    Case("meetings.series", lambda w, c: f"/meetings/series/{c.series_id}", VIEWERS,
         setup=planned),
    Case("meetings.edit_series", lambda w, c: f"/meetings/series/{c.series_id}/edit", CHAIRS,
         setup=planned),
    Case("meetings.new_meeting", lambda w, c: f"/meetings/series/{c.series_id}/new-meeting",
         CHAIRS, setup=planned),
    Case("meetings.meeting", lambda w, c: f"/meetings/{c.id}", VIEWERS, setup=planned),
    Case("meetings.edit_meeting", lambda w, c: f"/meetings/{c.id}/edit", CHAIRS,
         setup=planned),
    Case("meetings.agenda_print", lambda w, c: f"/meetings/{c.id}/agenda/print", VIEWERS,
         setup=planned),
    Case("meetings.suggest", lambda w, c: f"/meetings/{c.id}/suggest", VIEWERS, setup=planned),
    Case("meetings.accept_item", lambda w, c: f"/meetings/items/{c.id}/accept", CHAIRS,
         setup=suggestion),
    Case("meetings.add_item", lambda w, c: f"/meetings/{c.id}/items/new", CHAIRS,
         setup=planned),
    Case("meetings.add_item", lambda w, c: f"/meetings/{c.id}/items/new", CHAIRS,
         method="POST", data={"title": "", "raised_by_id": 0, "presenter_id": 0},
         setup=planned, id="refused"),
    Case("meetings.edit_item", lambda w, c: f"/meetings/items/{c.id}/edit", CHAIRS,
         setup=agenda_item),
    Case("meetings.item_picture", lambda w, c: f"/meetings/items/{c.id}/picture", CHAIRS,
         method="POST", data={"alt_text": "x"}, setup=agenda_item),
    Case("meetings.item_picture_file", lambda w, c: f"/meetings/items/{c.id}/picture.jpg",
         VIEWERS, setup=pictured_item),
    Case("meetings.easy_read_agenda", lambda w, c: f"/meetings/{c.id}/agenda/easy-read",
         VIEWERS, setup=published_agenda),
    Case("meetings.easy_read_minutes", lambda w, c: f"/meetings/{c.id}/minutes/easy-read",
         VIEWERS, setup=published),
    Case("meetings.add_attachment", lambda w, c: f"/meetings/{c.id}/minutes/attachments",
         WRITERS, method="POST", data={"description": "x"}, setup=held),
    Case("meetings.attachment", lambda w, c: f"/meetings/attachments/{c.id}", WRITERS,
         setup=attachment, id="draft"),
    Case("meetings.attachment", lambda w, c: f"/meetings/attachments/{c.id}", VIEWERS,
         setup=published_attachment, id="published"),
    Case("meetings.remove_attachment", lambda w, c: f"/meetings/attachments/{c.id}/remove",
         WRITERS, method="POST", setup=published_attachment),  # refused: stays for all
    Case("meetings.decline_item", lambda w, c: f"/meetings/items/{c.id}/decline", CHAIRS,
         method="POST", data={"reason": "No room"}, setup=suggestion),
    Case("meetings.move_item", lambda w, c: f"/meetings/items/{c.id}/move", CHAIRS,
         method="POST", data={"direction": "up"}, setup=agenda_item),
    Case("meetings.publish_agenda", lambda w, c: f"/meetings/{c.id}/publish-agenda", CHAIRS,
         method="POST", setup=planned),
    Case("meetings.mark_held", lambda w, c: f"/meetings/{c.id}/held", CHAIRS, method="POST",
         setup=planned),
    Case("meetings.cancel", lambda w, c: f"/meetings/{c.id}/cancel", CHAIRS, method="POST",
         data={"reason": ""}, setup=planned),
    Case("meetings.attendance", lambda w, c: f"/meetings/{c.id}/attendance", WRITERS,
         setup=held),
    Case("meetings.edit_minutes", lambda w, c: f"/meetings/{c.id}/minutes/edit", WRITERS,
         setup=held),
    Case("meetings.approve_minutes", lambda w, c: f"/meetings/{c.id}/minutes/approve", CHAIRS,
         method="POST", setup=drafted),
    Case("meetings.publish_minutes", lambda w, c: f"/meetings/{c.id}/minutes/publish", CHAIRS,
         method="POST", setup=drafted),
    Case("meetings.minutes", lambda w, c: f"/meetings/{c.id}/minutes", VIEWERS,
         setup=published, id="published"),
    Case("meetings.minutes", lambda w, c: f"/meetings/{c.id}/minutes", WRITERS,
         setup=drafted, id="draft"),
    Case("meetings.meeting_ics", lambda w, c: f"/meetings/{c.id}/calendar.ics", VIEWERS,
         setup=planned),
    Case("meetings.feed", feed_url, {"anonymous"}, setup=planned),
    Case("meetings.new_action", lambda w, c: f"/meetings/items/{c.id}/actions/new", WRITERS,
         setup=held_item),
    Case("meetings.action", lambda w, c: f"/meetings/actions/{c.id}", {"staff", *CHAIRS},
         setup=action),
    Case("meetings.you_said", lambda w, c: f"/meetings/services/{w.home.id}/you-said-we-did",
         EVERYONE),
    Case("meetings.you_said_poster",
         lambda w, c: f"/meetings/services/{w.home.id}/you-said-we-did/poster", EVERYONE),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.endpoint}-{c.id}" if c.id
                         else c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)


def test_someone_invited_by_name_sees_the_meeting_and_its_series(app, world, client):
    from tests.conftest import login

    guest = world.outsiders["partner"]
    meeting = make_meeting(world, named=[guest])
    other = make_meeting(world)
    db.session.commit()
    login(client, guest)
    assert client.get(f"/meetings/{meeting.id}").status_code == 200
    assert client.get(f"/meetings/series/{meeting.series_id}").status_code == 200
    assert client.get(f"/meetings/{other.id}").status_code == 403
    index = client.get("/meetings/").text
    assert f"/meetings/series/{meeting.series_id}" in index
    assert f"/meetings/series/{other.series_id}" not in index


def test_board_partners_and_ambassadors_of_the_board_series(app, world, client):
    """The organisation's board meeting: board members and every ambassador are invited."""
    from tests.conftest import login
    from tests.meetings.helpers import make_series

    series = make_series(world, service=None, kind="board", roles=["board"], families=False,
                         ambassadors=True, name="Board meeting")
    meeting = make_meeting(world, series, chair=world.people["admin"])
    db.session.commit()
    for person, status in [(world.ambassador, 200), (world.people["service_user"], 403),
                           (world.people["family"], 403), (world.people["partner"], 403)]:
        login(client, person)
        assert client.get(f"/meetings/{meeting.id}").status_code == status, person.full_name
