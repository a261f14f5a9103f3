"""What a domain registers with the app: its blueprint, navigation, home-page panel,
newsletter blocks, commands, background tasks and demo data.

Each domain package ``involve/<name>/`` exposes ``DOMAIN = Domain(...)`` in its ``__init__.py``.
``create_app`` finds every such package and registers it; nothing else keeps a list of domains.
By convention a domain may also have:

- ``<name>/cli.py`` with ``COMMANDS`` (click commands added to ``flask``);
- ``<name>/tasks.py`` (background and periodic tasks: the worker imports it);
- ``<name>/demo.py`` with ``seed(organisation)`` (and ``seed_elmfield``, ``notes``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask, current_app, render_template
from markupsafe import Markup

EXTENSION = "involve_domains"


@dataclass(frozen=True)
class NavLink:
    """An entry in the main navigation, shown to those who hold its capability somewhere."""

    label: str
    endpoint: str
    capability: str
    order: int = 50


@dataclass(frozen=True)
class BlockScope:
    """What a newsletter block is written for: the issue's service (None: the whole
    organisation), its organisation, and the time since the last issue."""

    service_id: int | None
    organisation_id: int
    since: datetime
    now: datetime


def one_line(text: str | None) -> str:
    """Text for one Markdown list line, whatever line breaks the source holds."""
    return " ".join((text or "").split())


@dataclass(frozen=True)
class NewsletterBlock:
    """A section an editor can insert into a newsletter: the platform's own news.

    ``query(service_id, moment, organisation_id=...)`` is the domain's query: what happened
    since ``moment`` (the last issue), or, with ``ahead``, what comes before ``moment`` (now
    plus ``ahead``). ``lines(item)`` writes one item as Markdown lines. With no items the
    section says ``empty``. An error is an error: it is not hidden.
    """

    key: str
    label: str
    heading: str
    query: Callable[..., Iterable[Any]]
    lines: Callable[[Any], list[str]]
    order: int = 50
    ahead: timedelta | None = None
    empty: str = "Nothing yet."

    def items(self, scope: BlockScope) -> list[Any]:
        """What the block lists for ``scope``."""
        moment = scope.now + self.ahead if self.ahead is not None else scope.since
        return list(self.query(scope.service_id, moment, organisation_id=scope.organisation_id))

    def render(self, scope: BlockScope) -> str:
        """The block as a Markdown section."""
        out = [f"## {self.heading}", ""]
        items = self.items(scope)
        if not items:
            return "\n".join([*out, self.empty, ""])
        for item in items:
            out.extend(self.lines(item))
        return "\n".join([*out, ""])


def home_panel(template: str, items: Callable[[Any], dict[str, Any] | None]
               ) -> Callable[[Any], Markup | None]:
    """A home-page panel: ``items(actor)`` (the domain's query) gives the template's context,
    or None; the panel shows for a signed-in person when any of it is there."""

    def panel(actor: Any) -> Markup | None:
        if not actor.signed_in:
            return None
        context = items(actor)
        if not context or not any(context.values()):
            return None
        return Markup(render_template(template, **context))

    panel.__doc__ = items.__doc__
    return panel


@dataclass(frozen=True)
class Domain:
    """One domain's parts, as the app needs them.

    ``order`` places the domain among the others: home-page panels and demo data follow it.
    """

    name: str
    blueprint: Blueprint
    order: int = 50
    nav: Sequence[NavLink] = ()
    home_panel: Callable[[Any], Markup | None] | None = None
    newsletter_blocks: Sequence[NewsletterBlock] = field(default_factory=tuple)

    @property
    def package(self) -> str:
        return f"involve.{self.name}"

    def part(self, module: str) -> ModuleType | None:
        """The domain's optional module (``cli``, ``tasks``, ``demo``), or None without one."""
        name = f"{self.package}.{module}"
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            return None


def discover(package: str = "involve") -> list[Domain]:
    """Every domain package below ``package`` (one exposing ``DOMAIN``), in their order."""
    root = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(root.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        domain = getattr(module, "DOMAIN", None)
        if isinstance(domain, Domain):
            found.append(domain)
    return sorted(found, key=lambda d: (d.order, d.name))


def register(app: Flask, domain: Domain) -> None:
    """Register one domain with the app: its blueprint and everything it offers."""
    app.register_blueprint(domain.blueprint)
    app.extensions.setdefault(EXTENSION, {})[domain.name] = domain


def registered(app: Flask | None = None) -> list[Domain]:
    """The domains registered with the app, in their order."""
    app = app or current_app
    return sorted(app.extensions.get(EXTENSION, {}).values(), key=lambda d: (d.order, d.name))


def nav_links(app: Flask | None = None) -> list[NavLink]:
    """Every domain's navigation entries, in their order."""
    return sorted((link for d in registered(app) for link in d.nav), key=lambda n: n.order)


def home_panels(app: Flask | None = None) -> list[Callable[[Any], Markup | None]]:
    """Every domain's home-page panel, in the domains' order."""
    return [d.home_panel for d in registered(app) if d.home_panel is not None]


def newsletter_blocks(app: Flask | None = None) -> dict[str, NewsletterBlock]:
    """Every domain's newsletter blocks by key, in their order."""
    blocks = sorted((b for d in registered(app) for b in d.newsletter_blocks),
                    key=lambda b: b.order)
    return {block.key: block for block in blocks}


def parts(module: str, app: Flask | None = None) -> list[ModuleType]:
    """Each registered domain's optional ``module`` (``cli``, ``tasks``, ``demo``)."""
    return [m for d in registered(app) if (m := d.part(module)) is not None]


def commands(app: Flask) -> Iterable[Any]:
    """Every domain's click commands (``COMMANDS`` in its ``cli`` module)."""
    for module in parts("cli", app):
        yield from getattr(module, "COMMANDS", ())
