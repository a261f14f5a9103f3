"""Pickers that stay the same size however large the organisation grows.

A picker offers the first few of the people or services a form may take that match a search
(a plain GET search box beside the form, so it works without JavaScript), plus the one already
chosen. What may be chosen is a query the domain's policy narrows in SQL (the actor's
organisation and scope); the choices a form sends are checked against that whole query by id
(one statement for all of them), so someone found by a search and sent back is accepted, and
an id the query does not hold is refused by the form like any choice not in its list, with
nothing saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request
from sqlalchemy import Select

from involve.bad_input import MAX_ID
from involve.extensions import db

PICKER_SIZE = 20  # choices offered at once; a search finds the others


def as_id(value: Any) -> int | None:
    """A submitted choice as an id, or None when it cannot be one (a word, 0, out of range)."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


@dataclass
class Picker:
    """A bounded list of choices from ``query`` (every row the form may take, in order).

    ``search`` narrows it with ``matches(search)`` (SQL); ``label`` names a row.
    """

    query: Select
    id_column: Any
    matches: Callable[[str], Any]
    label: Callable[[Any], str] = field(default=lambda row: row.name)
    param: str = "q"
    size: int = PICKER_SIZE
    search: str = ""
    more: bool = False  # more rows match than are offered

    def __post_init__(self) -> None:
        if not self.search:
            self.search = request.args.get(self.param, "")[:100].strip()

    def get(self, value: Any) -> Any:
        """The row with this id, if the query holds it; otherwise None."""
        chosen = as_id(value)
        if chosen is None:
            return None
        return db.session.scalar(self.query.where(self.id_column == chosen).limit(1))

    def choices(self, *chosen: Any) -> list[tuple[str, str]]:
        """The first ``size`` matching rows as (id, label), then each of ``chosen`` (the
        values a form holds) the query allows and the list does not show yet."""
        query = self.query
        if self.search:
            query = query.where(self.matches(self.search))
        rows = list(db.session.scalars(query.limit(self.size + 1)))
        self.more = len(rows) > self.size
        offered = [(str(self.id_of(row)), self.label(row)) for row in rows[:self.size]]
        shown = {int(value) for value, _ in offered}
        missing = {as_id(value) for value in chosen} - shown - {None}
        if missing:  # one statement for all of them (a form may send many ticks)
            offered += [(str(self.id_of(row)), self.label(row)) for row in db.session.scalars(
                self.query.where(self.id_column.in_(sorted(missing))))]
        return offered

    def id_of(self, row: Any) -> int:
        return getattr(row, self.id_column.key)


def service_picker(query: Select, *, param: str = "service_q") -> Picker:
    """A picker of services from ``query`` (a policy's query of services), found by name."""
    from involve.people.models import Service
    from involve.people.queries import contains_text

    return Picker(query, Service.id, lambda text: contains_text(Service.name, text),
                  param=param)


def person_picker(query: Select, *, param: str = "person_q") -> Picker:
    """A picker of people from ``query`` (a policy's query of people), found by name."""
    from involve.people.models import Person
    from involve.people.queries import contains_text

    return Picker(query, Person.id,
                  lambda text: contains_text(Person.full_name, text)
                  | contains_text(Person.preferred_name, text),
                  label=lambda person: person.full_name, param=param)
