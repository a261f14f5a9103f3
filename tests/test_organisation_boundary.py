"""The organisation boundary: every model names its organisation, and nothing crosses it."""

from __future__ import annotations

from involve.extensions import db
from involve.permissions import can, load_actor
from tests.factories import make_strangers

# Models that hold no organisation's data, and why.
NOT_ORGANISATION_DATA: dict[str, str] = {
    "ScheduledRun": "the claim of a scheduled job's due time, so that it runs once",
}


def _models():
    return sorted((mapper.class_ for mapper in db.Model.registry.mappers),
                  key=lambda cls: cls.__name__)


def test_every_model_declares_its_organisation(app):
    """A new model must say how it reaches its organisation, or why it holds no one's data."""
    missing = [cls.__name__ for cls in _models()
               if cls.__name__ not in NOT_ORGANISATION_DATA
               and not hasattr(cls, "organisation_id")]
    assert not missing, f"models without an organisation_id (column or property): {missing}"


def test_every_row_of_the_demo_reaches_its_organisation(app):
    """Loaded from a real database after ``flask demo``, every row of every model names an
    organisation that exists."""
    from flask import current_app

    from involve.people.models import Organisation

    result = current_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    organisations = set(db.session.scalars(db.select(Organisation.id)))
    seen = 0
    for cls in _models():
        if cls.__name__ in NOT_ORGANISATION_DATA:
            continue
        for row in db.session.scalars(db.select(cls).limit(20)):
            assert row.organisation_id in organisations, (cls.__name__, row)
            seen += 1
    assert seen > 100


def test_no_capability_holds_on_another_organisations_objects(app, world):
    """Whatever a rule says, an object of another organisation is never allowed."""
    from involve.permissions import CAPABILITIES

    strangers = make_strangers(world)
    for role, person in strangers.items():
        actor = load_actor(person)
        for name in CAPABILITIES:
            for obj in (world.home, world.away, world.people["service_user"], world.org):
                assert not can(name, obj, actor), (role, name, obj)
