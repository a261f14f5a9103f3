"""Demo elections: Rose Court's, counted and published (Ada is elected), an organisation-wide
election with voting open, so Ada has a ballot waiting, and Willow House's with nominations open
(one nominee standing, one still to say yes).

Running it twice adds nothing twice. No email is sent: the services move each stage as the
pages would, and publishing here does not notify anyone.
"""

from __future__ import annotations

import hashlib
import io
import random
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from involve.elections import ballot_box, services
from involve.elections.models import Candidate, Channel, Election, Method, RollEntry, Status
from involve.extensions import db, utcnow
from involve.kernel import clock
from involve.people.demo import ScaledService, bulk_insert
from involve.people.models import Organisation, Person, Role, RoleGrant, Service, User

ROSE_TITLE = "Rose Court ambassador election"
ORG_TITLE = "Brookfield Care ambassador to the board"
WILLOW_TITLE = "Willow House ambassador election"

STATEMENTS = {
    "Ada": ("I have lived at Rose Court for three years. I want **everyone** to be heard, "
            "not only the loudest.\n\nI will:\n\n- ask people what they think before each "
            "meeting\n- take your views to the board\n- tell you what the board said",
            "I will listen to you. I will tell the board what you think. I will tell you "
            "what they say back."),
}
DEFAULT_STATEMENT = ("I would like to help make {place} a better place to live. I will listen "
                     "to people and pass on what they say.",
                     "I will listen. I will speak up for you.")
#: The demo's fixed ballot box key, so a newcomer can count the open demo election. A real
#: election's key is random and exists only on its printed card: never use a fixed key there.
DEMO_BALLOT_BOX_KEY = hashlib.sha256(b"Involve demo ballot box: not for real elections").digest()
COLOURS = ["#0b4f8a", "#1d6b3a", "#8a3b0b", "#5b2a86", "#7a6a00"]


def notes() -> list[str]:
    """What ``flask demo`` prints after the sign-ins: the demo ballot box key."""
    from involve.elections.ballot_box import key_text

    return [f"Ballot box key of the open demo election “{ORG_TITLE}” (demo only):",
            f"  {key_text(DEMO_BALLOT_BOX_KEY)}"]


def _by_email(email: str) -> Person | None:
    return db.session.scalar(select(Person).join(User).where(User.email == email))


def _residents(service: Service, limit: int) -> list[Person]:
    return list(db.session.scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.service_id == service.id, RoleGrant.role == Role.service_user)
        .order_by(Person.id).limit(limit)))


def _portrait(n: int) -> bytes:
    """A plain picture standing in for a photo (the demo has no real faces)."""
    image = Image.new("RGB", (240, 240), COLOURS[n % len(COLOURS)])
    draw = ImageDraw.Draw(image)
    draw.ellipse((70, 40, 170, 140), fill="#f2d6bd")
    draw.ellipse((40, 150, 200, 300), fill="#f2d6bd")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _stand(election: Election, person: Person, by: Person, n: int, place: str) -> None:
    candidate = services.nominate(election, person, by=by, consent=True, on_behalf=True)
    statement, easy = STATEMENTS.get(person.display_name, DEFAULT_STATEMENT)
    services.update_candidate(candidate, statement=statement.format(place=place),
                              easy_read=easy, photo=_portrait(n), photo_consent=True,
                              photo_consent_note="Agreed in person, demo data", by=by)


def seed(org: Organisation) -> None:
    """The demo elections, each unless it exists."""
    rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
    manager = _by_email("manager@brookfield.example")
    board = _by_email("board@brookfield.example")
    ada = db.session.scalar(select(Person).join(User).where(User.username == "ada"))
    if None in (rose, manager, board, ada):
        return
    if not db.session.scalar(select(Election.id).where(Election.title == ROSE_TITLE)):
        _rose_election(org, rose, manager, ada)
    if not db.session.scalar(select(Election.id).where(Election.title == ORG_TITLE)):
        _organisation_election(org, board, ada)
    willow = db.session.scalar(select(Service).where(Service.slug == "willow-house"))
    willow_manager = _by_email("manager.willow-house@brookfield.example")
    if willow and willow_manager and not db.session.scalar(
            select(Election.id).where(Election.title == WILLOW_TITLE)):
        _willow_election(org, willow, willow_manager)


def _rose_election(org: Organisation, rose: Service, manager: Person, ada: Person) -> None:
    today = clock.today()
    election = services.create_election(
        organisation_id=org.id, service_id=rose.id, title=ROSE_TITLE, seats=2,
        method=Method.stv, term_months=12,
        description="Two residents will speak for everyone at Rose Court: at residents' "
                    "meetings, to the manager, and to the board.",
        nominations_close_on=today - timedelta(days=40),
        voting_opens_on=today - timedelta(days=35), voting_closes_on=today - timedelta(days=30),
        by=manager)
    services.open_nominations(election, by=manager)
    others = [p for p in _residents(rose, 6) if p.id != ada.id][:3]
    candidates = [ada, *others]
    for n, person in enumerate(candidates):
        _stand(election, person, manager, n, "Rose Court")
    services.close_nominations(election, by=manager)
    key = services.make_ballot_box(election, by=manager)
    services.open_voting(election, key, by=manager)
    db.session.flush()
    ids = [c.id for c in election.standing]
    rng = random.Random(2026)
    roll = [p for p in _residents(rose, 40) if p.id != ada.id]
    channels = [Channel.online, Channel.code, Channel.assisted, Channel.online, Channel.code,
                Channel.assisted, Channel.online, Channel.online, Channel.code]
    for person, channel in zip(roll, channels, strict=False):
        ranking = [ids[0]] if rng.random() < 0.45 else []
        rest = [i for i in ids if i not in ranking]
        rng.shuffle(rest)
        ranking += rest[:rng.randint(1, 3)]
        entry = services.roll_entry_for(election, person)
        services.cast_ballot(election, entry.id, ranking, channel=channel,
                             helper=manager if channel is Channel.assisted else None)
    paper_voters = roll[len(channels):len(channels) + 2]
    for person in paper_voters:
        services.mark_paper_voter(election, person, by=manager)
    services.enter_paper_batch(election, 2, "1 2\n3 1 4", by=manager)
    services.close_voting(election, by=manager)
    services.count_votes(election, key, by=manager, seed=2026)
    services.publish_results(election, by=manager, on=today - timedelta(days=28))


def _organisation_election(org: Organisation, board: Person, ada: Person) -> None:
    today = clock.today()
    election = services.create_election(
        organisation_id=org.id, service_id=None, title=ORG_TITLE, seats=1, method=Method.block,
        term_months=24,
        description="One person who uses any Brookfield service will sit with the board.",
        nominations_close_on=today - timedelta(days=7), voting_opens_on=today - timedelta(days=2),
        voting_closes_on=today + timedelta(days=12), by=board)
    services.open_nominations(election, by=board)
    services_by_slug = {s.slug: s for s in org.services}
    n = 0
    for slug in ("rose-court", "willow-house", "oak-day-centre"):
        service = services_by_slug.get(slug)
        if service is None:
            continue
        person = next((p for p in reversed(_residents(service, 8)) if p.id != ada.id), None)
        if person is not None:
            _stand(election, person, board, n + 2, service.name)
            n += 1
    if n < 2:
        return
    services.close_nominations(election, by=board)
    key = services.make_ballot_box(election, by=board, key=DEMO_BALLOT_BOX_KEY)
    services.open_voting(election, key, by=board)
    db.session.flush()
    ids = [c.id for c in election.standing]
    voters = [p for p in _residents(services_by_slug["rose-court"], 5) if p.id != ada.id]
    for i, person in enumerate(voters[:3]):
        entry = services.roll_entry_for(election, person)
        services.cast_ballot(election, entry.id, [ids[i % len(ids)]], channel=Channel.online)


def _willow_election(org: Organisation, willow: Service, manager: Person) -> None:
    """Nominations open: the first nominee has agreed to stand, the second has not said yet."""
    today = clock.today()
    election = services.create_election(
        organisation_id=org.id, service_id=willow.id, title=WILLOW_TITLE, seats=1,
        method=Method.block, term_months=12,
        description="One resident will speak for everyone at Willow House, at residents' "
                    "meetings and to the board.",
        nominations_close_on=today + timedelta(days=10),
        voting_opens_on=today + timedelta(days=14), voting_closes_on=today + timedelta(days=28),
        by=manager)
    services.open_nominations(election, by=manager)
    nominees = _residents(willow, 2)
    if nominees:
        _stand(election, nominees[0], manager, 4, "Willow House")
    if len(nominees) > 1:
        services.nominate(election, nominees[1], by=manager)


ELM_TITLE = "Elm Lodge ambassador election"


def seed_elmfield(org: Organisation) -> None:
    """Elmfield Trust: Elm Lodge's first election, with nominations open and one nominee."""
    elm = db.session.scalar(select(Service).where(Service.organisation_id == org.id,
                                                  Service.slug == "elm-lodge"))
    manager = _by_email("manager@elmfield.example")
    if elm is None or manager is None or db.session.scalar(select(Election.id).where(
            Election.organisation_id == org.id, Election.title == ELM_TITLE)):
        return
    today = clock.today()
    election = services.create_election(
        organisation_id=org.id, service_id=elm.id, title=ELM_TITLE, seats=1,
        method=Method.block, term_months=12,
        description="One resident will speak for everyone at Elm Lodge.",
        nominations_close_on=today + timedelta(days=7),
        voting_opens_on=today + timedelta(days=10), voting_closes_on=today + timedelta(days=20),
        by=manager)
    services.open_nominations(election, by=manager)
    nominees = _residents(elm, 1)
    if nominees:
        _stand(election, nominees[0], manager, 1, "Elm Lodge")


def seed_scaled(org: Organisation, batch: list[ScaledService]) -> None:
    """For each extra service of ``--scale``: an ambassador election, every other one with
    voting open (three candidates, every resident on the roll, the demo's ballot box key) and
    the rest with nominations open (two nominees). Bulk inserts, a batch at a time."""
    today = clock.today()
    public_key = bytes(ballot_box.new_key(DEMO_BALLOT_BOX_KEY).public_key)
    elections = []
    for n, service in enumerate(batch):
        voting = n % 2 == 0
        elections.append({
            "organisation_id": org.id, "service_id": service.id,
            "title": f"{service.name} ambassador election", "seats": 1, "method": Method.block,
            "term_months": 12, "created_by_id": service.manager_id,
            "description": "One resident will speak for everyone, at residents' meetings and "
                           "to the board.",
            "status": Status.voting_open if voting else Status.nominations_open,
            "nominations_close_on": today - timedelta(days=7) if voting
            else today + timedelta(days=10),
            "voting_opens_on": today - timedelta(days=2) if voting
            else today + timedelta(days=14),
            "voting_closes_on": today + timedelta(days=12) if voting
            else today + timedelta(days=28),
            "ballot_box_key": public_key if voting else None,
            "voting_opened_at": utcnow() if voting else None})
    election_ids = bulk_insert(Election, elections)
    statement, easy = DEFAULT_STATEMENT
    candidates, roll = [], []
    for n, (service, election_id) in enumerate(zip(batch, election_ids, strict=True)):
        voting = n % 2 == 0
        for person_id in service.resident_ids[2:5 if voting else 4]:
            candidates.append({
                "election_id": election_id, "person_id": person_id,
                "nominated_by_id": service.manager_id, "consented_at": utcnow(),
                "consent_recorded_by_id": service.manager_id,
                "statement": statement.format(place=service.name), "easy_read": easy})
        if voting:
            roll += [{"election_id": election_id, "person_id": person_id}
                     for person_id in service.resident_ids]
    bulk_insert(Candidate, candidates, ids=False)
    bulk_insert(RollEntry, roll, ids=False)
