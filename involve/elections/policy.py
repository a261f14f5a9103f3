"""The elections domain's policy: who sees, runs, stands in and helps with elections."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from involve.elections.models import Election, RollEntry, Status
from involve.people.models import Role, RoleGrant, active_grants_query
from involve.people.policy import everywhere_in_organisation
from involve.permissions import ANY_SCOPE, Actor, Rule, capability, scope_of

R = Role
READERS = [R.service_user, R.family, R.staff, R.manager, R.board, R.admin]
MANAGERS = [R.manager, R.board, R.admin]
HELPERS = [R.staff, R.manager]


def _scope_rule(roles: Iterable[Role], *, everywhere_for_org: bool = False) -> Rule:
    """Roles covering the election's scope (a candidate or roll entry counts as its election).

    With ``everywhere_for_org``, an organisation-wide election is open to those roles in any
    service of the organisation: every service user votes in it, so every service's people
    may see it.
    """
    roles = frozenset(roles)

    def rule(actor: Actor, obj: Any) -> bool:
        scope = scope_of(obj)
        if scope is None and everywhere_for_org:
            scope = ANY_SCOPE
        return actor.has_role(roles, scope)

    return rule


def _candidate_or_staff(actor: Actor, candidate: Any) -> bool:
    """The nominee themselves, or staff and managers of the election's service."""
    if candidate is not None and getattr(candidate, "person_id", None) == actor.person_id:
        return True
    return actor.has_role([R.staff, R.manager, R.admin], scope_of(candidate))


def _candidate_photo(actor: Actor, candidate: Any) -> bool:
    """Photos of standing candidates are public once nominations close (code voters need them);
    before that, only those who can see the election."""
    if candidate.is_standing and candidate.election.status not in (
            Status.draft, Status.nominations_open, Status.cancelled):
        return True
    return actor.signed_in and (actor.person_id == candidate.person_id or actor.has_role(
        READERS, scope_of(candidate)))


def _runs_the_election(actor: Actor, election: Any) -> bool:
    """Those running the election: its service's managers (or admins), or whoever created it.

    The roll says who has voted and who was helped, so an organisation-wide board role alone
    does not open it.
    """
    if election is not None and election.created_by_id == actor.person_id:
        return True
    return actor.has_role([R.manager, R.admin], scope_of(election))


def visible(actor: Actor) -> ColumnElement[bool]:
    """SQL: the elections the actor may see (``elections.view``), in their organisation."""
    return everywhere_in_organisation(actor, Election.service_id, Election.organisation_id,
                                      READERS)


def voters_to_help(actor: Actor, election: Election) -> ColumnElement[bool]:
    """SQL on :class:`RollEntry`: the voters whose names a helper sees (who has not voted
    yet, whose ballot they may open on a tablet).

    Names are personal data, shown only to those who need them: staff and managers see the
    people of the services they hold a role in (all of them with an organisation-wide
    role). In an organisation-wide election that is the voters with a service user role in
    one of those services (or for the whole organisation), not every service's people.
    """
    if not actor.signed_in or actor.organisation_id != election.organisation_id:
        return false()
    ids = actor.service_ids(HELPERS)
    if ids is None:
        return true()
    if election.service_id is not None:
        return true() if election.service_id in ids else false()
    homes = select(RoleGrant.person_id).where(
        RoleGrant.id.in_(select(active_grants_query().subquery().c.id)),
        RoleGrant.role == R.service_user,
        or_(RoleGrant.service_id.in_(ids), RoleGrant.service_id.is_(None)))
    return RollEntry.person_id.in_(homes)


capability("elections.view", "See elections, candidates and published results",
           rule=_scope_rule(READERS, everywhere_for_org=True))
capability("elections.create", "Create an election", MANAGERS)
capability("elections.manage", "Run an election: stages, roll, cards, paper ballots, count",
           rule=_scope_rule(MANAGERS))
capability("elections.roll", "See an election's roll: who voted, on paper or with help",
           rule=_runs_the_election)
capability("elections.nominate", "Nominate a service user to stand",
           rule=_scope_rule([R.service_user, R.staff, R.manager, R.admin],
                            everywhere_for_org=True))
capability("elections.candidate", "Consent, edit a statement or withdraw a nomination",
           rule=_candidate_or_staff)
capability("elections.candidate_photo", "See a candidate's photo", public=True,
           rule=_candidate_photo)
capability("elections.assist", "Open the ballot for a voter on a shared tablet",
           rule=_scope_rule([R.staff, R.manager], everywhere_for_org=True))
