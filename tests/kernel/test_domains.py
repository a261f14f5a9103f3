"""Domains register their parts with the app; nothing else lists them."""

from datetime import UTC, datetime
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
    def broken(scope):
        raise AttributeError("no such query")

    block = NewsletterBlock("x", "X", "Heading", broken, lambda item: [str(item)])
    scope = BlockScope(None, 1, datetime.now(UTC), datetime.now(UTC))
    with pytest.raises(AttributeError):
        block.render(scope)
    empty = NewsletterBlock("x", "X", "Heading", lambda s: [], lambda item: [])
    assert empty.render(scope) == "## Heading\n\nNothing yet.\n"
    full = NewsletterBlock("x", "X", "Heading", lambda s: [1, 2], lambda item: [f"- {item}"])
    assert full.render(scope) == "## Heading\n\n- 1\n- 2\n"


def test_the_kernel_imports_no_domain():
    from tests.test_permissions import _imports

    names = {d.name for d in domains.discover()}
    root = Path(domains.__file__).parent
    for path in sorted(root.glob("*.py")):
        for module in _imports(path):
            parts = module.split(".")
            assert not (parts[0] == "involve" and parts[1:2] and parts[1] in names), \
                f"{path.name} imports {module}"
