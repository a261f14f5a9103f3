"""The one step of a view that changes something.

A view loads, checks permission and validates its form, then calls::

    ok, result = attempt(lambda: services.publish(item, by=me), "Published.")

which calls the service once; on a :class:`~involve.kernel.errors.DomainError` rolls the
session back (nothing half-done is left) and flashes the error's plain words; otherwise
commits once and flashes the success message. The view then redirects (post/redirect/get).

A view whose service call needs more than a lambda catches the domain error itself and uses
the two halves of the same step: :func:`refuse` (roll back, say why) and :func:`done`
(commit, thank), each optionally returning the redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, redirect

from involve.extensions import db
from involve.kernel.errors import DomainError

T = TypeVar("T")

Success = str | Callable[[Any], str | None] | None


def attempt(change: Callable[[], T], success: Success = None, *,
            refused: type[Exception] | tuple[type[Exception], ...] = DomainError,
            ) -> tuple[bool, T | None]:
    """Run one service call: commit and flash ``success`` (a text, or a function of the
    result; None flashes nothing), or roll back and flash the refusal. Returns whether it went
    ahead, and the service's result."""
    try:
        result = change()
    except refused as error:
        db.session.rollback()
        flash(str(error), "error")
        return False, None
    db.session.commit()
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return True, result


def refuse(error: Exception, target: str | None = None) -> Any:
    """Roll back and say why, for a view that caught a domain error itself; with ``target``,
    the redirect there."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(target) if target is not None else None


def done(message: str | None, target: str | None = None) -> Any:
    """Commit the one change and thank the person; with ``target``, the redirect there."""
    db.session.commit()
    if message:
        flash(message, "success")
    return redirect(target) if target is not None else None


def first_error(form: Any, default: str = "Please check the form.") -> str:
    """The first message of a form that did not validate, for a flash."""
    for errors in getattr(form, "errors", {}).values():
        if errors:
            return errors[0]
    return default
