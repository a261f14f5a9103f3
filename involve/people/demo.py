"""Demo data: Brookfield Care, its services and people. Running it twice adds nothing twice."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from involve.extensions import db
from involve.kernel import clock
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

DEMO_PASSWORD = "involve-demo"

SERVICES = [
    ("Rose Court", "rose-court", ServiceKind.care_home, "12 Rose Lane, Brookfield"),
    ("Willow House", "willow-house", ServiceKind.care_home, "3 Willow Road, Brookfield"),
    ("Oak Day Centre", "oak-day-centre", ServiceKind.day_centre, "Oak Street, Brookfield"),
    ("Brookfield Home Care", "brookfield-home-care", ServiceKind.home_care, "Market Square"),
]

FIRST = ["Ada", "Albert", "Beryl", "Cyril", "Doris", "Edna", "Frank", "Gladys", "Harold", "Irene",
         "Joan", "Kenneth", "Lilian", "Maurice", "Norah", "Olive", "Percy", "Queenie", "Ronald",
         "Sylvia", "Thomas", "Una", "Vera", "Walter", "Winifred", "Arthur", "Betty", "Colin",
         "Dorothy", "Eric", "Florence", "George", "Hilda", "Ivy", "Jack", "Kathleen", "Leonard",
         "Margaret", "Norman", "Peggy", "Reg", "Stanley", "Violet", "Amir", "Priya", "Kwame",
         "Sade", "Mohammed", "Aisha", "Tomasz", "Agnieszka", "Siobhan", "Declan", "Mei", "Rahul"]
LAST = ["Lovelace", "Baker", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal",
        "Jones", "Khan", "Lewis", "Morgan", "Nowak", "O'Brien", "Patel", "Quinn", "Roberts",
        "Singh", "Taylor", "Underwood", "Vaughan", "Walker", "Young", "Ahmed", "Okafor", "Chen",
        "Murphy", "Kowalski", "Begum", "Mensah", "Price", "Shah", "Wright", "Harris", "Ward"]


def _person(org: Organisation, name: str, *, preferred: str = "") -> Person:
    person = Person(organisation_id=org.id, full_name=name, preferred_name=preferred)
    db.session.add(person)
    return person


@functools.cache
def _demo_password_hash() -> str:
    # Hashing is slow on purpose; the demo's accounts share one password, so hash it once.
    return generate_password_hash(DEMO_PASSWORD)


def _account(person: Person, *, email: str | None = None, username: str | None = None) -> User:
    user = User(person=person, email=email, username=username,
                password_hash=_demo_password_hash())
    db.session.add(user)
    return user


def _grant(person: Person, role: Role, service: Service | None, start: date) -> None:
    db.session.add(RoleGrant(person=person, role=role, service_id=service.id if service else None,
                             starts_on=start))


def seed() -> Organisation:
    """Create Brookfield Care unless it exists (``scaled_batches`` adds services to it)."""
    org = db.session.scalar(select(Organisation).where(Organisation.name == "Brookfield Care"))
    if org is None:
        org = _build()
    return org


def _build() -> Organisation:
    rng = random.Random(2026)
    org = Organisation(name="Brookfield Care")
    db.session.add(org)
    db.session.flush()
    services = []
    for name, slug, kind, address in SERVICES:
        service = Service(organisation_id=org.id, name=name, slug=slug, kind=kind, address=address)
        db.session.add(service)
        services.append(service)
    db.session.flush()
    rose = services[0]
    start = clock.today() - timedelta(days=400)

    admin = _person(org, "Alex Admin")
    _account(admin, email="admin@brookfield.example")
    _grant(admin, Role.admin, None, start)

    manager = _person(org, "Mary Manning", preferred="Mary")
    _account(manager, email="manager@brookfield.example")
    _grant(manager, Role.manager, rose, start)
    _grant(manager, Role.staff, rose, start)

    staff = _person(org, "Sam Carter", preferred="Sam")
    _account(staff, email="staff@brookfield.example")
    _grant(staff, Role.staff, rose, start)

    board = _person(org, "Beatrice Bourne", preferred="Bea")
    _account(board, email="board@brookfield.example")
    _grant(board, Role.board, None, start)

    ada = _person(org, "Ada Lovelace", preferred="Ada")
    _account(ada, username="ada")
    _grant(ada, Role.service_user, rose, start)
    db.session.add(CommunicationNeeds(person=ada, formats=["large_print", "easy_read"],
                                      notes="Prefers short sentences and pictures."))

    family = _person(org, "Fiona Lovelace", preferred="Fiona")
    _account(family, email="family@brookfield.example")
    _grant(family, Role.family, rose, start)
    db.session.flush()
    db.session.add(FamilyLink(family_person_id=family.id, service_user_id=ada.id,
                              relationship_label="Daughter"))

    partner = _person(org, "Priya Partner", preferred="Priya")
    _account(partner, email="partner@brookfield.example")
    _grant(partner, Role.partner, None, start)

    for service in services:
        _populate(org, service, rng, start, residents=14 if service is rose else 10)
    _invite_some(admin, rose)
    return org


def _invite_some(admin: Person, service: Service) -> None:
    """Two Rose Court relatives invited but not yet signed up: the admin panel shows them."""
    from involve.auth.services import invite

    db.session.flush()
    waiting = db.session.scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.service_id == service.id, RoleGrant.role == Role.family,
               ~Person.id.in_(select(User.person_id)))
        .order_by(Person.id).limit(2)).all()
    for n, person in enumerate(waiting):
        invite(person, email=f"invited.{n}@family.example", username=None, by=admin)


def _populate(org: Organisation, service: Service, rng: random.Random, start: date,
              residents: int) -> None:
    """Residents with families, staff, a manager, and communication needs for some."""
    used: set[str] = set()

    def name() -> str:
        while True:
            candidate = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if candidate not in used:
                used.add(candidate)
                return candidate

    for i in range(residents):
        resident = _person(org, name())
        _grant(resident, Role.service_user, service, start)
        if i % 3 == 0:
            first = resident.full_name.split()[0].lower()
            # The service's id keeps usernames apart between services whose slugs start alike
            # (extra-service-1, extra-service-2 ...).
            _account(resident, username=f"{service.slug[:4]}{service.id}-{i}-{first}")
        if i % 4 == 0:
            db.session.add(CommunicationNeeds(person=resident, formats=rng.choice(
                [["large_print"], ["easy_read"], ["audio"], ["bsl"], ["print"],
                 ["large_print", "help_from_person"]])))
        if i % 2 == 0:
            relative = _person(org, f"{rng.choice(FIRST)} {resident.full_name.split()[-1]}")
            _grant(relative, Role.family, service, start)
            if i % 4 == 0:
                slug = relative.full_name.lower().replace(" ", ".").replace("'", "")
                _account(relative, email=f"{slug}.{service.id}.{i}@family.example")
            db.session.flush()
            db.session.add(FamilyLink(family_person_id=relative.id, service_user_id=resident.id,
                                      relationship_label=rng.choice(
                                          ["Son", "Daughter", "Niece", "Nephew", "Friend"])))
    for _ in range(6):
        worker = _person(org, name())
        _grant(worker, Role.staff, service, start)
        slug = worker.full_name.lower().replace(" ", ".").replace("'", "")
        _account(worker, email=f"{slug}.{service.id}@brookfield.example")
    if service.slug != "rose-court":
        lead = _person(org, name())
        _grant(lead, Role.manager, service, start)
        _grant(lead, Role.staff, service, start)
        _account(lead, email=f"manager.{service.slug}@brookfield.example")
    db.session.flush()


SCALED_RESIDENTS = 62  # with a relative for every other one, six staff and a manager: 100 people
SCALED_BATCH = 50  # services inserted per round of bulk statements
INSERT_BATCH = 1000  # rows per bulk INSERT statement


@dataclass(frozen=True)
class ScaledService:
    """An extra service made by ``--scale``, with the ids each domain's demo builds on."""

    id: int
    name: str
    manager_id: int
    staff_ids: list[int]
    resident_ids: list[int]
    relative_ids: list[int]  # relative_ids[n] is family of resident_ids[2 * n]


def scaled_batches(org: Organisation, scale: int) -> Iterator[list[ScaledService]]:
    """Add the extra services ``--scale`` asks for that are missing, a batch at a time.

    Each has 100 people (1,000 services: 100,000 people), written with bulk inserts: the unit
    of work, one object at a time, would take many minutes. Yields each batch once its people
    are in, so each domain can add its own data for them the same way.
    """
    existing = set(db.session.scalars(select(Service.slug)
                                      .where(Service.organisation_id == org.id)))
    rng = random.Random(7 + len(existing))
    start = clock.today() - timedelta(days=400)
    wanted = [n for n in range(1, scale + 1) if f"extra-service-{n}" not in existing]
    for at in range(0, len(wanted), SCALED_BATCH):
        yield _add_scaled_batch(org, wanted[at:at + SCALED_BATCH], rng, start)


def bulk_insert(model: type, rows: list[dict], *, ids: bool = True) -> list[int]:
    """Insert ``rows`` of ``model`` with executemany, up to :data:`INSERT_BATCH` rows a
    statement; their new ids in the order of ``rows`` (none when ``ids`` is false).

    Goes through the table, not the ORM's bulk path: that one returns ids row by row and
    splices them into one result, so its cost grows with the square of the rows. Rows that
    name the same columns go in together; columns a row leaves out take their defaults, as
    they do for one object. Rows are keyed by attribute, as for the model. Nothing is
    flushed or refreshed.
    """
    table = model.__table__
    column = {attr.key: attr.columns[0].key for attr in model.__mapper__.column_attrs}
    rows = [{column[key]: value for key, value in row.items()} for row in rows]
    statement = insert(table)
    if ids:
        statement = statement.returning(table.c.id, sort_by_parameter_order=True)
    alike: dict[frozenset[str], list[int]] = {}
    for n, row in enumerate(rows):
        alike.setdefault(frozenset(row), []).append(n)
    new_ids = [0] * len(rows)
    for positions in alike.values():
        for at in range(0, len(positions), INSERT_BATCH):
            chunk = positions[at:at + INSERT_BATCH]
            result = db.session.execute(statement, [rows[n] for n in chunk])
            if ids:
                for n, new_id in zip(chunk, result.scalars(), strict=True):
                    new_ids[n] = new_id
    return new_ids if ids else []


def _add_scaled_batch(org: Organisation, numbers: list[int], rng: random.Random,
                      start: date) -> list[ScaledService]:
    service_ids = bulk_insert(Service, [
        {"organisation_id": org.id, "name": f"Extra Service {n}", "slug": f"extra-service-{n}",
         "kind": ServiceKind.care_home, "address": ""} for n in numbers])
    people: list[dict] = []
    plan: list[tuple[int, str, int | None]] = []  # (service id, what, index of the resident)
    for service_id in service_ids:
        used: set[str] = set()

        def name(used: set[str] = used) -> str:
            while True:
                candidate = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                if candidate not in used:
                    used.add(candidate)
                    return candidate

        for i in range(SCALED_RESIDENTS):
            resident = name()
            people.append({"organisation_id": org.id, "full_name": resident})
            plan.append((service_id, "resident", i))
            if i % 2 == 0:
                people.append({"organisation_id": org.id,
                               "full_name": f"{rng.choice(FIRST)} {resident.split()[-1]}"})
                plan.append((service_id, "relative", i))
        for _ in range(6):
            people.append({"organisation_id": org.id, "full_name": name()})
            plan.append((service_id, "staff", None))
        people.append({"organisation_id": org.id, "full_name": name()})
        plan.append((service_id, "manager", None))
    person_ids = bulk_insert(Person, people)

    grants, users, needs, links, terms = [], [], [], [], []
    password = _demo_password_hash()
    made = {service_id: {"staff_ids": [], "resident_ids": [], "relative_ids": []}
            for service_id in service_ids}
    last_resident = 0
    for person_id, row, (service_id, what, i) in zip(person_ids, people, plan, strict=True):
        slug = row["full_name"].lower().replace(" ", ".").replace("'", "")
        grant = {"person_id": person_id, "service_id": service_id, "starts_on": start}
        if what == "resident":
            last_resident = person_id
            made[service_id]["resident_ids"].append(person_id)
            grants.append({**grant, "role": Role.service_user})
            if i == 0:  # elected a while ago: the service's ambassador
                terms.append({"person_id": person_id, "service_id": service_id,
                              "starts_on": start, "ends_on": start + timedelta(days=730)})
            if i % 3 == 0:
                users.append({"person_id": person_id, "password_hash": password,
                              "username": f"s{service_id}-{i}-{slug.split('.')[0]}"})
            if i % 4 == 0:
                needs.append({"person_id": person_id, "formats": rng.choice(
                    [["large_print"], ["easy_read"], ["audio"], ["bsl"], ["print"],
                     ["large_print", "help_from_person"]])})
        elif what == "relative":
            made[service_id]["relative_ids"].append(person_id)
            grants.append({**grant, "role": Role.family})
            links.append({"family_person_id": person_id, "service_user_id": last_resident,
                          "relationship_label": rng.choice(
                              ["Son", "Daughter", "Niece", "Nephew", "Friend"])})
            if i % 4 == 0:
                users.append({"person_id": person_id, "password_hash": password,
                              "email": f"{slug}.{service_id}.{i}@family.example"})
        elif what == "staff":
            made[service_id]["staff_ids"].append(person_id)
            grants.append({**grant, "role": Role.staff})
            users.append({"person_id": person_id, "password_hash": password,
                          "email": f"{slug}.{service_id}@brookfield.example"})
        else:
            made[service_id]["manager_id"] = person_id
            grants += [{**grant, "role": Role.manager}, {**grant, "role": Role.staff}]
            users.append({"person_id": person_id, "password_hash": password,
                          "email": f"manager.{service_id}@brookfield.example"})
    for model, rows in ((RoleGrant, grants), (User, users), (CommunicationNeeds, needs),
                        (FamilyLink, links), (AmbassadorTerm, terms)):
        bulk_insert(model, rows, ids=False)
    return [ScaledService(id=service_id, name=f"Extra Service {n}", **made[service_id])
            for service_id, n in zip(service_ids, numbers, strict=True)]


SIGN_INS = [
    ("admin@brookfield.example", "organisation admin"),
    ("manager@brookfield.example", "manager of Rose Court"),
    ("staff@brookfield.example", "care worker at Rose Court"),
    ("board@brookfield.example", "board member (organisation)"),
    ("family@brookfield.example", "daughter of a Rose Court resident"),
    ("partner@brookfield.example", "partner (organisation)"),
    ("ada", "Rose Court resident, a service user (username)"),
]


# --- a second, small organisation, so the boundary between organisations can be seen ------

ELMFIELD = "Elmfield Trust"
ELM_LODGE = "elm-lodge"
ELMFIELD_SIGN_INS = [
    ("admin@elmfield.example", "Elmfield Trust: organisation admin"),
    ("manager@elmfield.example", "Elmfield Trust: manager of Elm Lodge"),
    ("staff@elmfield.example", "Elmfield Trust: care worker at Elm Lodge"),
    ("board@elmfield.example", "Elmfield Trust: board member (organisation)"),
    ("partner@elmfield.example", "Elmfield Trust: partner (organisation)"),
    ("elmsu", "Elmfield Trust: Elm Lodge resident, a service user (username)"),
]


def seed_elmfield() -> Organisation:
    """Create Elmfield Trust (one care home, Elm Lodge, and its people) unless it exists."""
    org = db.session.scalar(select(Organisation).where(Organisation.name == ELMFIELD))
    if org is not None:
        return org
    org = Organisation(name=ELMFIELD)
    db.session.add(org)
    db.session.flush()
    elm = Service(organisation_id=org.id, name="Elm Lodge", slug=ELM_LODGE,
                  kind=ServiceKind.care_home, address="1 Elm Road, Elmfield")
    db.session.add(elm)
    db.session.flush()
    start = clock.today() - timedelta(days=200)
    for name, preferred, email, roles in (
            ("Erin Ashdown", "Erin", "admin@elmfield.example", [(Role.admin, None)]),
            ("Martin Elwood", "Martin", "manager@elmfield.example",
             [(Role.manager, elm), (Role.staff, elm)]),
            ("Sunita Rowe", "Sunita", "staff@elmfield.example", [(Role.staff, elm)]),
            ("Bernard Hale", "Bernard", "board@elmfield.example", [(Role.board, None)]),
            ("Pauline Marsh", "Pauline", "partner@elmfield.example", [(Role.partner, None)])):
        person = _person(org, name, preferred=preferred)
        _account(person, email=email)
        for role, service in roles:
            _grant(person, role, service, start)
    resident = _person(org, "Edith Elmore", preferred="Edie")
    _account(resident, username="elmsu")
    _grant(resident, Role.service_user, elm, start)
    for name in ("Harold Birch", "Joan Ashby", "Walter Oakes", "Vera Hazel"):
        _grant(_person(org, name), Role.service_user, elm, start)
    db.session.flush()
    return org
