"""Queries the newsletter pages and the sending need: audiences, archives, progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, Text, case, cast, func, or_, select, union
from sqlalchemy.orm import selectinload

from involve.extensions import db
from involve.kernel import clock
from involve.newsletters.models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    NewsletterPreference,
    Subscriber,
    Suppression,
    SuppressionReason,
)
from involve.people.models import (
    FamilyLink,
    Organisation,
    Person,
    PersonStatus,
    Role,
    RoleGrant,
    Service,
    User,
)

PUBLISHED = (IssueStatus.published, IssueStatus.sending, IssueStatus.paused, IssueStatus.sent)

# The roles whose holders belong to each audience.
AUDIENCE_ROLES: dict[Audience, tuple[Role, ...]] = {
    Audience.service_users: (Role.service_user,),
    Audience.families: (Role.family,),
    Audience.staff: (Role.staff, Role.manager),
    Audience.board: (Role.board,),
    Audience.partners: (Role.partner,),
}


@dataclass(frozen=True)
class Recipient:
    """Someone an issue goes to: a person with an account, or an email subscriber."""

    email: str
    name: str
    person_id: int | None = None
    subscriber_id: int | None = None


@dataclass(frozen=True)
class PrintCopy:
    """Someone who reads the issue on paper, and why."""

    person: Person
    reasons: tuple[str, ...]


def _grants_in_scope(roles: tuple[Role, ...], service_id: int | None, on: date):
    query = select(RoleGrant.person_id).where(
        RoleGrant.role.in_(roles), RoleGrant.starts_on <= on,
        (RoleGrant.ends_on.is_(None)) | (RoleGrant.ends_on >= on))
    if service_id is not None:
        # The board and organisation-wide roles read every service's news.
        query = query.where(or_(RoleGrant.service_id == service_id,
                                RoleGrant.service_id.is_(None)))
    return query


def audience_ids_query(issue: Issue, on: date | None = None):
    """A query of the ids of everyone in the issue's audiences and scope (people, not
    subscribers), for use inside other queries."""
    on = on or clock.today()
    parts = []
    for audience in issue.audience_list:
        roles = AUDIENCE_ROLES.get(audience)
        if roles:
            parts.append(_grants_in_scope(roles, issue.service_id, on))
        if audience is Audience.families:
            # Relatives linked to a service user of the scope, whatever roles they hold.
            users = _grants_in_scope((Role.service_user,), issue.service_id, on)
            parts.append(select(FamilyLink.family_person_id).where(
                FamilyLink.service_user_id.in_(users)))
    if not parts:
        return None
    return union(*parts) if len(parts) > 1 else parts[0]


def audience_people(issue: Issue) -> list[Person]:
    """The people (with or without email) the issue is written for, by name."""
    ids = audience_ids_query(issue)
    if ids is None:
        return []
    return list(db.session.scalars(
        select(Person).where(Person.id.in_(select(ids.subquery().c[0])),
                             Person.organisation_id == issue.organisation_id,
                             Person.status == PersonStatus.active)
        .options(selectinload(Person.user), selectinload(Person.communication_needs))
        .order_by(Person.full_name, Person.id)))


def relative_service_ids(person_id: int, on: date | None = None) -> set[int | None]:
    """The services used today by the people this person is a relative or carer of
    (``None`` in the set for an organisation-wide grant): the families audience by link."""
    on = on or clock.today()
    return set(db.session.scalars(
        select(RoleGrant.service_id).join(FamilyLink, FamilyLink.service_user_id
                                          == RoleGrant.person_id)
        .where(FamilyLink.family_person_id == person_id, RoleGrant.role == Role.service_user,
               RoleGrant.starts_on <= on,
               (RoleGrant.ends_on.is_(None)) | (RoleGrant.ends_on >= on))))


def suppressed_addresses(organisation_id: int) -> set[str]:
    """Every address on one organisation's suppression list."""
    return set(db.session.scalars(select(Suppression.email).where(
        Suppression.organisation_id == organisation_id)))


def is_suppressed(organisation_id: int, email: str) -> bool:
    """Is this address on the organisation's suppression list?"""
    return db.session.scalar(select(Suppression.id).where(
        Suppression.organisation_id == organisation_id,
        Suppression.email == email.strip().lower())) is not None


def organisations_knowing(email: str) -> set[int]:
    """The organisations that have this address: an account, a subscriber or a delivery."""
    email = email.strip().lower()
    return set(db.session.scalars(union(
        select(Person.organisation_id).join(User, User.person_id == Person.id)
        .where(func.lower(User.email) == email),
        select(Service.organisation_id).join(Subscriber, Subscriber.service_id == Service.id)
        .where(Subscriber.email == email),
        select(Issue.organisation_id).join(Delivery, Delivery.issue_id == Issue.id)
        .where(Delivery.email == email))))


def subscriptions(organisation_id: int, email: str) -> list[Subscriber]:
    """The organisation's confirmed email subscriptions of one address (never another's)."""
    return list(db.session.scalars(
        select(Subscriber).join(Service, Service.id == Subscriber.service_id)
        .where(Subscriber.email == email.strip().lower(),
               Service.organisation_id == organisation_id,
               Subscriber.confirmed_at.is_not(None))
        .options(selectinload(Subscriber.service)).order_by(Service.name)))


def recipients(issue: Issue) -> list[Recipient]:
    """Everyone the issue is emailed to: one per address, without the suppressed."""
    found: dict[str, Recipient] = {}
    ids = audience_ids_query(issue)
    if ids is not None:
        rows = db.session.execute(
            select(Person.id, Person.preferred_name, Person.full_name, User.email)
            .join(User, User.person_id == Person.id)
            .where(Person.id.in_(select(ids.subquery().c[0])), Person.status == PersonStatus.active,
                   Person.organisation_id == issue.organisation_id, User.email.is_not(None))
            .order_by(Person.full_name, Person.id))
        for person_id, preferred, full_name, email in rows:
            email = email.strip().lower()
            if email and email not in found:
                name = preferred or full_name.split(" ")[0]
                found[email] = Recipient(email, name, person_id=person_id)
    if issue.is_public:
        query = select(Subscriber.id, Subscriber.email, Subscriber.name).where(
            Subscriber.confirmed_at.is_not(None))
        if issue.service_id is not None:
            query = query.where(Subscriber.service_id == issue.service_id)
        else:
            # The organisation's public news goes to the subscribers of its own services only.
            query = query.where(Subscriber.service_id.in_(select(Service.id).where(
                Service.organisation_id == issue.organisation_id)))
        for sub_id, email, name in db.session.execute(query.order_by(Subscriber.id)):
            if email not in found:
                found[email] = Recipient(email, name, subscriber_id=sub_id)
    suppressed = suppressed_addresses(issue.organisation_id) | stopped_addresses(
        issue.organisation_id, issue.list_key)
    return [r for email, r in found.items() if email not in suppressed]


def stopped_addresses(organisation_id: int, newsletter: str,
                      emails: list[str] | None = None) -> set[str]:
    """The addresses that asked not to get one newsletter (an :attr:`Issue.list_key`)."""
    query = select(NewsletterPreference.email).where(
        NewsletterPreference.organisation_id == organisation_id,
        # The keys are quoted in the JSON text, so "service-1" never matches "service-12".
        cast(NewsletterPreference.stopped_lists, Text).like(f'%"{newsletter}"%'))
    if emails is not None:
        query = query.where(NewsletterPreference.email.in_(emails))
    return set(db.session.scalars(query))


def newsletters_for(organisation_id: int, email: str) -> list[tuple[str, str]]:
    """The newsletters of one organisation an address may choose between, as (list key,
    name): the organisation's own, and each of its services the address subscribed to,
    works or lives in, has a relative in, or had an issue from."""
    from involve.newsletters.models import ORGANISATION_LIST, list_key

    email = email.strip().lower()
    person = user_email_owner(organisation_id, email)
    service_ids = set(db.session.scalars(
        select(Subscriber.service_id).where(Subscriber.email == email)))
    service_ids |= set(db.session.scalars(
        select(Issue.service_id).join(Delivery, Delivery.issue_id == Issue.id)
        .where(Issue.organisation_id == organisation_id, Delivery.email == email)))
    if person is not None:
        service_ids |= set(db.session.scalars(select(RoleGrant.service_id).where(
            RoleGrant.person_id == person.id)))
        service_ids |= relative_service_ids(person.id)
    organisation = db.session.get(Organisation, organisation_id)
    services = db.session.scalars(select(Service).where(
        Service.organisation_id == organisation_id, Service.id.in_(
            {i for i in service_ids if i is not None})).order_by(Service.name)).all()
    return [(ORGANISATION_LIST, f"{organisation.name} newsletter (the whole organisation)")] \
        + [(list_key(s.id), f"{s.name} newsletter") for s in services]


# Communication needs that ask for the newsletter in another form than an email.
OTHER_FORMATS = {"large_print", "print", "braille", "easy_read", "audio", "bsl",
                 "help_from_person"}


def print_list(issue: Issue) -> list[PrintCopy]:
    """People in the audience who need a copy made for them (printed, large print, audio
    ...): their needs ask for it, or they have no email, with every need they have."""
    wanted = set(db.session.scalars(
        select(NewsletterPreference.email).where(
            NewsletterPreference.organisation_id == issue.organisation_id,
            NewsletterPreference.wants_print)))
    bounced = set(db.session.scalars(select(Suppression.email).where(
        Suppression.organisation_id == issue.organisation_id,
        Suppression.reason == SuppressionReason.hard_bounce)))
    copies = []
    for person in audience_people(issue):
        reasons: list[str] = []
        email = (person.user.email or "").lower() if person.user else ""
        needs = person.communication_needs
        if needs and set(needs.formats) & OTHER_FORMATS:
            # Every need is kept, audio and signing included: whoever makes the copies makes
            # the recording or books the signer from this list too.
            reasons.extend(needs.labels)
        if not email:
            reasons.append("No email address")
        elif email in bounced:
            reasons.append("Email could not be delivered")
        elif email in wanted:
            reasons.append("Asked for a printed copy")
        if reasons:
            copies.append(PrintCopy(person, tuple(reasons)))
    return copies


def delivery_counts(issue_id: int) -> dict[str, int]:
    """How many copies are queued, being sent, sent and failed; and, for the manager, how
    many are waiting their first try and how many are retrying (turned away for now)."""
    counts = {status.value: 0 for status in DeliveryStatus}
    counts["retrying"] = 0
    rows = db.session.execute(
        select(Delivery.status, func.count(),
               func.coalesce(func.sum(case((Delivery.attempts > 0, 1), else_=0)), 0))
        .where(Delivery.issue_id == issue_id).group_by(Delivery.status))
    for status, n, tried in rows:
        counts[DeliveryStatus(status).value] += n
        if status == DeliveryStatus.queued:
            counts["retrying"] += int(tried)
    counts["total"] = sum(counts[s.value] for s in DeliveryStatus)
    counts["waiting"] = counts["queued"] - counts["retrying"] + counts["sending"]
    return counts


def retrying_deliveries(issue_id: int, limit: int = 50) -> list[Delivery]:
    """Copies turned away for now (greylisting, a full mailbox), with the server's words."""
    return list(db.session.scalars(
        select(Delivery).where(Delivery.issue_id == issue_id,
                               Delivery.status == DeliveryStatus.queued, Delivery.attempts > 0)
        .order_by(Delivery.id).limit(limit)))


def failed_deliveries(issue_id: int, limit: int = 50) -> list[Delivery]:
    """The copies that could not be sent, with the reason."""
    return list(db.session.scalars(
        select(Delivery).where(Delivery.issue_id == issue_id,
                               Delivery.status == DeliveryStatus.failed)
        .order_by(Delivery.id).limit(limit)))


def explain_failure(row: Delivery) -> str:
    """Why a copy was not sent, in plain words for the manager (the server's words follow)."""
    from involve.newsletters.delivery import STOPPED

    if row.error == STOPPED:
        return "The person stopped the emails (or the address bounced) before it was sent."
    if row.error.startswith("Bounced: "):
        return ("It was sent, but came back: the address cannot take mail, so it will not be "
                "emailed again. Ask the person for another address, or give them a printed "
                "copy.")
    code = row.error[:3]
    if code.isdigit() and code.startswith("5"):
        return ("The mail server refused it for good, usually because the address cannot "
                "take mail. Check the address with the person.")
    return (f"Tried {row.attempts} times; the mail server kept failing. Check the mail "
            "settings, or ask the person for another address.")


def archive_query(service_id: int | None, organisation_id: int) -> Select[tuple[Issue]]:
    """Published issues of one scope (a service, or the organisation), newest first."""
    scope = Issue.service_id == service_id if service_id is not None \
        else Issue.service_id.is_(None)
    return (select(Issue).where(scope, Issue.organisation_id == organisation_id,
                                Issue.status.in_(PUBLISHED))
            .order_by(Issue.published_at.desc(), Issue.id.desc()))


def manager_issues_query(organisation_id: int, service_ids: set[int] | None,
                         include_organisation: bool):
    """Issues of an organisation a manager looks after: every state, newest first."""
    query = (select(Issue).where(Issue.organisation_id == organisation_id)
             .options(selectinload(Issue.service)))
    conditions = []
    if service_ids is None:
        conditions.append(Issue.service_id.is_not(None))
    elif service_ids:
        conditions.append(Issue.service_id.in_(service_ids))
    if include_organisation:
        conditions.append(Issue.service_id.is_(None))
    if not conditions:
        return query.where(False)
    return query.where(or_(*conditions)).order_by(Issue.created_at.desc(), Issue.id.desc())


def last_published(issue: Issue) -> Issue | None:
    """The issue of the same scope published before this one (for "since the last issue")."""
    scope = Issue.service_id == issue.service_id if issue.service_id is not None \
        else Issue.service_id.is_(None)
    query = select(Issue).where(scope, Issue.organisation_id == issue.organisation_id,
                                Issue.status.in_(PUBLISHED), Issue.id != issue.id)
    return db.session.scalar(query.order_by(Issue.published_at.desc()).limit(1))


def paused_issues(organisation_id: int, service_ids: set[int] | None,
                  include_organisation: bool) -> list[Issue]:
    """Issues whose sending stopped or is held up by the mail server, for a manager's look."""
    query = manager_issues_query(organisation_id, service_ids, include_organisation).where(
        (Issue.status == IssueStatus.paused) | Issue.held_up_since.is_not(None))
    return list(db.session.scalars(query.limit(10)))


def user_email_owner(organisation_id: int, email: str) -> Person | None:
    """The organisation's person whose account uses this address, if any."""
    return db.session.scalar(select(Person).join(User).where(
        Person.organisation_id == organisation_id, func.lower(User.email) == email.lower()))


def progress_report(issue: Issue) -> dict:
    """Where a send is, in numbers and in plain words: for the page and its live updates."""
    from flask import current_app

    def local_time_text(moment) -> str:
        return current_app.jinja_env.filters["local"](moment, "%-I:%M%p on %A %-d %B")

    counts = delivery_counts(issue.id)
    sent, refused = counts["sent"], counts["failed"]
    people = "person" if sent == 1 else "people"
    if issue.status == IssueStatus.sent:
        summary = (f"Finished. {sent} {people} got it by email."
                   + (f" {refused} could not be sent (see below)." if refused else ""))
    elif issue.status == IssueStatus.paused:
        summary = f"Sending is paused. {sent} {people} have it so far."
    elif issue.held_up_since is not None:
        summary = (f"Held up: the mail server cannot take the newsletter at the moment. "
                   f"{sent} {people} have it so far; {counts['waiting']} are waiting.")
    elif issue.status == IssueStatus.sending:
        summary = (f"Sending. {sent} {people} have it so far; {counts['waiting']} are waiting"
                   + (f" and {counts['retrying']} will be tried again." if counts["retrying"]
                      else "."))
    else:
        summary = "Not sent yet."
    held_up = None
    if issue.held_up_since is not None:
        held_up = {
            "what": (f"Since {local_time_text(issue.held_up_since)} the mail server has not "
                     f"taken the newsletter. It said: {issue.held_up_reason}"),
            "doing": ("Involve is trying again by itself"
                      + (f" (next try at {local_time_text(issue.next_try_at)})"
                         if issue.next_try_at else "")
                      + ". Nobody will get two copies, and nobody is forgotten."),
            "you": ("You do not need to do anything. If this lasts more than an hour, ask "
                    "whoever looks after your email settings to check the mail server."),
        }
    return {"status": issue.status.value, "status_label": issue.status.label,
            "counts": counts, "summary": summary, "held_up": held_up,
            "done": issue.status == IssueStatus.sent}


def home_panel_items(actor: Any) -> dict[str, list]:
    """Paused sends and drafts for managers; the latest issues for every reader."""
    from sqlalchemy.orm import joinedload

    from involve.people.models import Role
    from involve.permissions import can, first_allowed

    paused, drafts = [], []
    if can("newsletters.manage", None, actor):
        service_ids = actor.service_ids([Role.manager, Role.admin])
        organisation = actor.has_role([Role.admin, Role.board], None)
        paused = paused_issues(actor.organisation_id, service_ids, organisation)
        drafts = db.session.scalars(manager_issues_query(actor.organisation_id, service_ids,
                                                         organisation)
                                    .where(Issue.status == IssueStatus.draft).limit(5)).all()
    recent = (select(Issue).where(Issue.organisation_id == actor.organisation_id,
                                  Issue.status.in_(PUBLISHED))
              .options(joinedload(Issue.service))  # each shows its scope's name
              .order_by(Issue.published_at.desc(), Issue.id.desc()))
    readable = first_allowed(recent, lambda issue: can("newsletters.read", issue, actor), 3)
    return {"paused": paused, "drafts": drafts, "recent": readable}
