"""The kernel's errors and state machines."""

import pytest
from sqlalchemy import select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.kernel.errors import DomainError, IllegalMove
from involve.kernel.states import Labelled, StateMachine


class Light(Labelled):
    off = "off", "Switched off"
    on = "on", "Shining"
    broken = "broken"


MACHINE = StateMachine({Light.off: {Light.on, Light.broken}, Light.on: {Light.off}},
                       explain=lambda now, to: "A broken light stays broken."
                       if now is Light.broken else None, noun="The light")


class Lamp:
    id = None

    def __init__(self) -> None:
        self.status = Light.off


def test_labels_stand_beside_the_enum_and_values_stay_plain_strings():
    assert Light.on.label == "Shining"
    assert Light.broken.label == "Broken"
    assert Light("on") is Light.on and Light.on == "on" and Light.on.value == "on"
    assert [light.value for light in Light] == ["off", "on", "broken"]


def test_a_legal_move_changes_the_status_and_an_illegal_one_says_why():
    lamp = Lamp()
    assert MACHINE.move(lamp, Light.on) is Light.off
    assert lamp.status is Light.on
    with pytest.raises(IllegalMove, match="The light is shining, so it cannot move to broken"):
        MACHINE.move(lamp, Light.broken)
    assert lamp.status is Light.on
    lamp.status = Light.broken
    with pytest.raises(IllegalMove, match="A broken light stays broken."):
        MACHINE.move(lamp, Light.off)


def test_every_illegal_move_is_a_domain_error():
    assert issubclass(IllegalMove, DomainError)
    from involve.elections.models import ElectionsError
    from involve.feedback.models import FeedbackError
    from involve.meetings.models import MeetingsError
    from involve.newsletters.models import NewslettersError
    from involve.people.services import PeopleError
    from involve.recruitment.services import RecruitmentError

    for error in (ElectionsError, FeedbackError, MeetingsError, NewslettersError, PeopleError,
                  RecruitmentError):
        assert issubclass(error, DomainError), error


def test_a_move_can_be_audited_the_same_way_everywhere(app, world):
    lamp = Lamp()
    MACHINE.move(lamp, Light.on, by=world.people["manager"], audit_action="lamp.moved")
    db.session.flush()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lamp.moved"))
    assert event.details == {"before": "off", "after": "on"}
    assert event.actor_id == world.people["manager"].id
