"""The migration that gives suppressions and preferences their organisation keeps each
address's wishes in every organisation that has the address."""

from __future__ import annotations

import warnings

import flask_migrate
from sqlalchemy import text

from involve.extensions import db
from involve.people.models import Role
from tests.conftest import make_test_app
from tests.factories import make_org, make_person, make_service
from tests.newsletters.helpers import make_subscriber
from tests.test_migrations import _empty_database

BEFORE = "d64e034816c9"  # the revision before newsletter addresses belonged to one organisation


def test_existing_rows_go_to_each_organisation_that_has_the_address(database_url, tmp_path):
    app = make_test_app(_empty_database(database_url, tmp_path), str(tmp_path))
    with app.app_context(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        # The people and subscribers are made through today's models, then the database goes
        # back to the revision before, where suppressions had no organisation.
        flask_migrate.upgrade()
        first, second, third = make_org("First"), make_org("Second"), make_org("Third")
        make_person(first, "Both Places", email="both@example.org",
                    roles=[(Role.family, make_service(first))])
        make_subscriber(make_service(second), "both@example.org")
        make_subscriber(make_service(third), "one@example.org")
        db.session.commit()
        ids = (first.id, second.id, third.id)
        db.session.remove()
        flask_migrate.downgrade(revision=BEFORE)
        for email, reason in (("both@example.org", "unsubscribed"),
                              ("one@example.org", "hard_bounce"),
                              ("nobody@example.org", "unsubscribed")):
            db.session.execute(text(
                "INSERT INTO newsletter_suppression (email, reason, detail, created_at) "
                "VALUES (:email, :reason, 'before', CURRENT_TIMESTAMP)"),
                {"email": email, "reason": reason})
        db.session.execute(text(
            "INSERT INTO newsletter_preference (email, wants_print, updated_at) "
            "VALUES ('both@example.org', :yes, CURRENT_TIMESTAMP)"), {"yes": True})
        db.session.commit()
        flask_migrate.upgrade()
        suppressions = set(db.session.execute(text(
            "SELECT organisation_id, email, reason, detail FROM newsletter_suppression")))
        preferences = set(db.session.execute(text(
            "SELECT organisation_id, email FROM newsletter_preference")))
        db.session.remove()
        db.engine.dispose()
    assert suppressions == {(ids[0], "both@example.org", "unsubscribed", "before"),
                            (ids[1], "both@example.org", "unsubscribed", "before"),
                            (ids[2], "one@example.org", "hard_bounce", "before")}
    assert preferences == {(ids[0], "both@example.org"), (ids[1], "both@example.org")}
