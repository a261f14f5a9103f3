"""Input no page can save answers with a clear message, never a server error.

Central guards, so that every form and address is covered without each view repeating them:

- ids in addresses (``<int:...>``) above the largest id a column holds are not found (404);
- a NUL character anywhere in a request (SQLite keeps it, PostgreSQL refuses it) is refused
  with a message before any view runs;
- text longer than its column is refused before it reaches the database, the same on SQLite
  (which would keep it) and PostgreSQL (which would fail);
- numbers the database cannot hold (an id of 2**63 in a form, say) are refused with a message.

In each case the request's transaction is rolled back: nothing is saved.
"""

from __future__ import annotations

import decimal
import logging
from typing import Any

from flask import Flask, render_template, request
from sqlalchemy import String, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from involve.extensions import db

log = logging.getLogger(__name__)

# Ids are INTEGER columns: 32-bit on PostgreSQL, so that is the bound everywhere.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` that answers 404 for numbers no id column can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def coerce_id(value: Any) -> int:
    """``coerce`` for select fields of ids: a number out of range is refused like a word."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError("Not a valid choice.")
    return number


def finite(form: Any, field: Any) -> None:
    """A WTForms validator refusing "inf" and "nan", which Decimal and float accept."""
    from wtforms.validators import StopValidation

    value = field.data
    if isinstance(value, decimal.Decimal | float) and not decimal.Decimal(value).is_finite():
        raise StopValidation("Please give an ordinary number, like 12.50.")


class TooLong(ValueError):
    """Text longer than the column that would keep it."""

    def __init__(self, label: str, limit: int) -> None:
        super().__init__(f"{label} is longer than {limit} characters")
        self.label, self.limit = label, limit


def _check_lengths(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        table = getattr(obj, "__table__", None)
        if table is None:
            continue
        for column in table.columns:
            length = getattr(column.type, "length", None)
            if not isinstance(column.type, String) or not length:
                continue
            value = obj.__dict__.get(column.key)
            if isinstance(value, str) and len(value) > length:
                raise TooLong(column.key.replace("_", " "), length)


class NulInInput(ValueError):
    """A NUL character in the address or a form: no database column should keep one."""


NUL_MESSAGE = ("Something you entered has a hidden character in it that we cannot keep. "
               "Please type it again, rather than pasting it, and try once more.")


def _refuse_nul() -> None:
    parts: list[str] = [request.path]
    parts.extend(f"{k}{v}" for k, v in request.args.items(multi=True))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        parts.extend(f"{k}{v}" for k, v in request.form.items(multi=True))
        parts.extend(f"{k}{f.filename or ''}" for k, f in request.files.items(multi=True))
    if any("\x00" in part for part in parts):
        raise NulInInput()


def _refusal(title: str, body: str) -> tuple[str, int]:
    db.session.rollback()
    return render_template("errors/error.html", code=400, title=title, body=body), 400


def init_app(app: Flask) -> None:
    """Install the guards; call before the blueprints register their routes."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul)
    if not event.contains(Session, "before_flush", _check_lengths):
        event.listen(Session, "before_flush", _check_lengths)

    @app.errorhandler(NulInInput)
    def nul_in_input(error: NulInInput) -> tuple[str, int]:
        return _refusal("We could not read that", NUL_MESSAGE)

    @app.errorhandler(TooLong)
    def too_long(error: TooLong) -> tuple[str, int]:
        return _refusal("That is too long to keep",
                        f"What you entered as the {error.label} is too long. Please keep it to "
                        f"{error.limit} characters or fewer and try again. Nothing was saved.")

    @app.errorhandler(OverflowError)
    @app.errorhandler(sa_exc.DataError)
    def cannot_keep(error: Exception) -> tuple[str, int]:
        log.info("refused input the database cannot keep: %s", type(error).__name__)
        return _refusal("We could not keep that",
                        "Something you entered (perhaps a very large number, or very long "
                        "text) is more than we can keep. Please check what you entered and "
                        "try again. Nothing was saved.")
