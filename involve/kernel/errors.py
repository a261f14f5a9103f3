"""The errors a domain raises when it refuses something.

A service raises a :class:`DomainError` whose message says why in plain words; the view step
(:func:`involve.kernel.steps.attempt`) rolls back and shows that message. Domains subclass it only
where the subclass adds meaning (a view or a test tells it apart).
"""

from __future__ import annotations


class DomainError(Exception):
    """Something a domain refuses to do; the message says why, in words the person reads."""


class IllegalMove(DomainError):
    """A record cannot move from its state to the one asked for."""
