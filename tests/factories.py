"""Plain functions that build real rows for tests (no mocks of our own system)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from werkzeug.security import generate_password_hash

from involve.extensions import db
from involve.people.models import (
    AmbassadorTerm,
    CommunicationNeeds,
    FamilyLink,
    Organisation,
    Person,
    Role,
    RoleGrant,
    Service,
    ServiceKind,
    User,
)

PASSWORD = "correct horse battery"
# Hashing is slow on purpose; hash once and share it between test accounts.
_PASSWORD_HASH = generate_password_hash(PASSWORD)
_counter = itertools.count(1)


def make_org(name: str = "Test Care") -> Organisation:
    org = Organisation(name=name)
    db.session.add(org)
    db.session.flush()
    return org


def make_service(org: Organisation, name: str | None = None,
                 kind: ServiceKind = ServiceKind.care_home) -> Service:
    n = next(_counter)
    name = name or f"Service {n}"
    slug = f"{name.lower().replace(' ', '-')}-{n}"
    service = Service(organisation_id=org.id, name=name, slug=slug, kind=kind)
    db.session.add(service)
    db.session.flush()
    return service


def make_person(org: Organisation, name: str | None = None, *,
                roles: list[tuple[Role | str, Service | None]] = (),
                email: str | None = None, username: str | None = None,
                account: bool = True, needs: list[str] | None = None) -> Person:
    """A person with role grants (each for a service, or ``None`` for the organisation).

    With ``account`` the person can sign in with :data:`PASSWORD`.
    """
    n = next(_counter)
    person = Person(organisation_id=org.id, full_name=name or f"Person {n} Test")
    db.session.add(person)
    db.session.flush()
    for role, service in roles:
        grant(person, Role(role), service)
    if account:
        if not email and not username:
            email = f"person{n}@test.example"
        db.session.add(User(person=person, email=email, username=username,
                            password_hash=_PASSWORD_HASH))
    if needs:
        db.session.add(CommunicationNeeds(person=person, formats=needs))
    db.session.flush()
    return person


def grant(person: Person, role: Role, service: Service | None,
          starts_on: date | None = None, ends_on: date | None = None) -> RoleGrant:
    row = RoleGrant(person_id=person.id, role=role, service_id=service.id if service else None,
                    starts_on=starts_on or date.today() - timedelta(days=30), ends_on=ends_on)
    db.session.add(row)
    db.session.flush()
    return row


def make_ambassador(person: Person, service: Service | None) -> AmbassadorTerm:
    term = AmbassadorTerm(person_id=person.id, service_id=service.id if service else None,
                          starts_on=date.today() - timedelta(days=10),
                          ends_on=date.today() + timedelta(days=355))
    db.session.add(term)
    db.session.flush()
    return term


def link_family(family: Person, service_user: Person, relationship: str = "Daughter") -> FamilyLink:
    link = FamilyLink(family_person_id=family.id, service_user_id=service_user.id,
                      relationship_label=relationship)
    db.session.add(link)
    db.session.flush()
    return link


ROLE_NAMES = [role.value for role in Role]


@dataclass
class World:
    """An organisation with two services and one person per role in each.

    ``people[role]`` hold their role in ``home`` (Rose Court); ``outsiders[role]`` hold the same
    role in ``away`` (Willow House) only. ``ambassador`` is a service user of ``home`` with a term.
    """

    org: Organisation
    home: Service
    away: Service
    people: dict[str, Person] = field(default_factory=dict)
    outsiders: dict[str, Person] = field(default_factory=dict)
    ambassador: Person | None = None
    strangers: dict[str, Person] = field(default_factory=dict)


def make_world() -> World:
    org = make_org("Brookfield Test")
    home = make_service(org, "Rose Court")
    away = make_service(org, "Willow House")
    world = World(org, home, away)
    for role in Role:
        world.people[role.value] = make_person(org, f"{role.label} Home",
                                               roles=[(role, home)])
        world.outsiders[role.value] = make_person(org, f"{role.label} Away",
                                                  roles=[(role, away)])
    world.ambassador = make_person(org, "Amba Ssador", roles=[(Role.service_user, home)])
    make_ambassador(world.ambassador, home)
    link_family(world.people["family"], world.people["service_user"])
    return world


def make_strangers(world: World) -> dict[str, Person]:
    """A second organisation with one person per role, as in real use: board, admin and
    partner hold their roles for the whole organisation, the rest for its one care home.

    Nothing of ``world`` may ever reach them: every object of it answers 404.
    """
    if not world.strangers:
        org = make_org("Elsewhere Trust")
        lodge = make_service(org, "Elsewhere Lodge")
        for role in Role:
            scope = None if role in (Role.board, Role.admin, Role.partner) else lodge
            world.strangers[role.value] = make_person(org, f"{role.label} Elsewhere",
                                                      roles=[(role, scope)])
        make_ambassador(world.strangers["service_user"], None)
        db.session.commit()
    return world.strangers
