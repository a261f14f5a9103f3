"""Domains register their parts with the app; nothing else lists them."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from involve.kernel import domains
from involve.kernel.domains import BlockScope, NewsletterBlock


def test_every_domain_package_is_found_and_registered(app):
    names = [d.name for d in domains.registered(app)]
    assert names == ["people", "auth", "elections", "meetings", "recruitment", "newsletters",
                     "feedback"]
    assert set(names) <= set(app.blueprints)
    assert [d.name for d in domains.discover()] == names


def test_the_registries_gather_what_the_domains_offer(app):
    with app.app_context():
        assert [link.endpoint for link in domains.nav_links()][:2] == [
            "elections.index", "meetings.index"]
        assert len(domains.home_panels()) == 6  # every domain but auth
        assert list(domains.newsletter_blocks()) == [
            "you_said_we_did", "minutes", "elections", "meetings", "board_answers"]
        assert {"organisations", "meetings"} <= {c.name for c in domains.commands(app)}
        assert {m.__name__ for m in domains.parts("tasks")} >= {
            "involve.meetings.tasks", "involve.newsletters.tasks", "involve.people.tasks"}


def test_an_error_in_a_block_is_an_error_not_nothing_yet():
    def broken(service_id, moment, *, organisation_id):
        raise AttributeError("no such query")

    block = NewsletterBlock("x", "X", "Heading", broken, lambda item: [str(item)])
    now = datetime.now(UTC)
    scope = BlockScope(None, 1, now - timedelta(days=7), now)
    with pytest.raises(AttributeError):
        block.render(scope)
    empty = NewsletterBlock("x", "X", "Heading", lambda *a, **k: [], lambda item: [])
    assert empty.render(scope) == "## Heading\n\nNothing yet.\n"
    asked = []

    def query(service_id, moment, *, organisation_id):
        asked.append((service_id, moment, organisation_id))
        return [1, 2]

    full = NewsletterBlock("x", "X", "Heading", query, lambda item: [f"- {item}"])
    assert full.render(scope) == "## Heading\n\n- 1\n- 2\n"
    ahead = NewsletterBlock("x", "X", "Heading", query, lambda item: [], ahead=timedelta(days=60))
    ahead.render(scope)
    assert asked == [(None, scope.since, 1), (None, now + timedelta(days=60), 1)]


def test_the_kernel_imports_no_domain():
    from tests.test_permissions import _imports

    names = {d.name for d in domains.discover()}
    root = Path(domains.__file__).parent
    for path in sorted(root.glob("*.py")):
        for module in _imports(path):
            parts = module.split(".")
            assert not (parts[0] == "involve" and parts[1:2] and parts[1] in names), \
                f"{path.name} imports {module}"
