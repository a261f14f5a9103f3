"""The newsletters domain's policy: who writes, publishes and reads newsletters."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context

from involve.newsletters.models import Issue, IssueImage
from involve.newsletters.queries import AUDIENCE_ROLES, relative_service_ids
from involve.people.models import Role
from involve.permissions import ANY_SCOPE, Actor, capability, scope_of, signed_in_rule

R = Role


def _newsletter_manage(actor: Actor, obj: Any) -> bool:
    """Managers run their service's newsletter; admins and the board the organisation's."""
    scope = scope_of(obj)
    if scope is ANY_SCOPE:
        return actor.has_role([R.manager, R.admin]) or actor.has_role([R.board], None)
    if scope is None:
        return actor.has_role([R.admin, R.board], None)
    return actor.has_role([R.manager, R.admin], scope)


def _newsletter_read(actor: Actor, obj: Any) -> bool:
    """A published issue is for its audiences (anyone for public ones); drafts for managers."""
    if isinstance(obj, IssueImage):
        obj = obj.issue
    if not isinstance(obj, Issue):
        return actor.signed_in
    if actor.signed_in and _newsletter_manage(actor, obj):
        return True
    if not obj.is_published:
        return False
    if obj.is_public:
        return True
    if not actor.signed_in:
        return False
    # The organisation's own newsletter is for its audiences in every service: the same
    # people it is emailed to (queries.recipients), so "read it on the web" always opens.
    scope = ANY_SCOPE if obj.service_id is None else obj.service_id
    for audience in obj.audience_list:
        roles = AUDIENCE_ROLES.get(audience, ())
        if audience.value == "service_users" and actor.is_ambassador(scope):
            return True
        if roles and actor.has_role(roles, scope):
            return True
        if audience.value == "families" and _newsletter_relative_of(actor, obj.service_id):
            return True
    return False


def _newsletter_relative_of(actor: Actor, service_id: int | None) -> bool:
    """Is the person a linked relative of someone using ``service_id`` (any, for None)?"""
    cache = g.setdefault("newsletter_relatives", {}) if has_request_context() else {}
    if actor.person_id not in cache:
        cache[actor.person_id] = relative_service_ids(actor.person_id)
    found = cache[actor.person_id]
    return bool(found) if service_id is None else bool(found & {service_id, None})


capability("newsletters.browse", "See the newsletters list", rule=signed_in_rule)
capability("newsletters.manage", "Write, publish and send newsletters",
           rule=_newsletter_manage)
capability("newsletters.read", "Read a published newsletter addressed to you",
           public=True, rule=_newsletter_read)

