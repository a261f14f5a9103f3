"""State machines for models with a status: the moves declared once, beside the labels.

A domain declares its machine once::

    class MeetingStatus(Labelled):
        planned = "planned", "Planned"
        ...

    MACHINE = StateMachine({MeetingStatus.planned: {MeetingStatus.held, ...}, ...})

and its model moves with ``MACHINE.move(meeting, target)``, which refuses an illegal move with
:class:`~involve.kernel.errors.IllegalMove` (its message says why in plain words) and, when
asked, records the move in the audit log the same way for every domain (the action, who, the
record, ``before`` and ``after``). Every domain's moves are audited through it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from involve.kernel.errors import IllegalMove

S = TypeVar("S", bound=enum.Enum)


class Labelled(enum.StrEnum):
    """A string enum whose members carry their label: ``name = "value", "Label"``."""

    _label_: str

    def __new__(cls, value: str, label: str | None = None) -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label_ = label if label is not None else value.replace("_", " ").capitalize()
        return member

    @property
    def label(self) -> str:
        """The state in words people read."""
        return self._label_


class StateMachine(Generic[S]):
    """The moves a status may make, and how a refused move is explained.

    ``moves`` maps each state to the states it may go to. ``explain(current, target)`` gives
    the plain-words reason for a refused move (None: the general sentence); ``after(record,
    old, new)`` does what a move brings with it (a time stamp). ``field`` is the attribute of
    the model that holds the status.
    """

    def __init__(self, moves: Mapping[S, Iterable[S]], *,
                 explain: Callable[[S, S], str | None] | None = None,
                 after: Callable[[Any, S, S], None] | None = None,
                 field: str = "status", noun: str = "This record") -> None:
        self.moves: dict[S, frozenset[S]] = {state: frozenset(targets)
                                             for state, targets in moves.items()}
        self.explain = explain
        self.after = after
        self.field = field
        self.noun = noun

    def allows(self, current: S, target: S) -> bool:
        """Whether ``current`` may move to ``target``."""
        return target in self.moves.get(current, frozenset())

    def refusal(self, current: S, target: S) -> str:
        """Why ``current`` may not move to ``target``, in plain words."""
        reason = self.explain(current, target) if self.explain else None
        return reason or (f"{self.noun} is {_label(current).lower()}, so it cannot move to "
                          f"{_label(target).lower()}.")

    def check(self, current: S, target: S) -> None:
        """Raise :class:`IllegalMove` unless ``current`` may move to ``target``."""
        if not self.allows(current, target):
            raise IllegalMove(self.refusal(current, target))

    def move(self, record: Any, target: S, *, by: Any = None, audit_action: str | None = None,
             **details: Any) -> S:
        """Move ``record`` to ``target`` or raise :class:`IllegalMove`; returns the old state.

        With ``audit_action``, the move is recorded in the audit log at once (see
        :meth:`audit`); a move whose event needs what the move brought (how many were queued)
        records it with :meth:`audit` afterwards.
        """
        current = getattr(record, self.field)
        self.check(current, target)
        setattr(record, self.field, target)
        if self.after is not None:
            self.after(record, current, target)
        if audit_action:
            self.audit(record, current, audit_action, by=by, **details)
        return current

    def audit(self, record: Any, before: S, action: str, *, by: Any = None,
              **details: Any) -> None:
        """Record a move of ``record`` from ``before`` to its status now, the same way in every
        domain: the action, who (None: Involve by itself), the record, ``before`` and
        ``after``, and the move's own details."""
        from involve import audit

        audit.record(action, actor=by, obj=record, before=_value(before),
                     after=_value(getattr(record, self.field)), **details)


class Stateful:
    """A model whose status moves only through its class's ``MACHINE``."""

    MACHINE: ClassVar[StateMachine[Any]]

    def can_move_to(self, target: Any) -> bool:
        """Whether the status may move to ``target`` now."""
        return self.MACHINE.allows(getattr(self, self.MACHINE.field), target)

    def move_to(self, target: Any, **audit: Any) -> Any:
        """Move the status to ``target``, or raise :class:`IllegalMove` saying why; returns the
        old status (see :meth:`StateMachine.move` for auditing the move)."""
        return self.MACHINE.move(self, target, **audit)

    def audit_move(self, before: Any, action: str, **details: Any) -> None:
        """Record the move just made from ``before`` (see :meth:`StateMachine.audit`)."""
        self.MACHINE.audit(self, before, action, **details)


def _label(state: Any) -> str:
    return str(getattr(state, "label", getattr(state, "value", state)))


def _value(state: Any) -> str:
    return str(getattr(state, "value", state))
