"""An attacker with the whole database and the instance folder, but no ballot box key.

Votes are cast through the pages in a known order, on every channel; the count is done with the
key from the card. Then every link the attacker would try (transaction ids, row order, audit
neighbours, receipts, cookies, the files on disk) must recover no vote.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

from sqlalchemy import text as sql

from involve.audit import AuditEvent
from involve.elections import services
from involve.elections.models import Method, SealedBallot, Status
from involve.extensions import db
from involve.people.models import Role
from tests.conftest import login
from tests.elections.helpers import make_election
from tests.factories import make_person


def _page(response) -> str:
    return response.get_data(as_text=True)


def _session_of(app, client) -> str:
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    if cookie is None:
        return ""
    return str(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def test_no_vote_can_be_recovered_without_the_key(app, world):
    setup = make_election(world, status=Status.nominations_closed, method=Method.stv,
                          candidates=4)
    ids = [c.id for c in setup.candidates]
    voters = [make_person(world.org, f"Known Order Voter {i}",
                          roles=[(Role.service_user, world.home)]) for i in range(8)]
    manager = app.test_client()
    login(manager, setup.manager)
    url = f"/elections/{setup.election.id}"
    card = _page(manager.post(f"{url}/ballot-box"))
    key = re.search(r'class="key-text">([A-Z2-7 ]+)<', card).group(1)
    assert "Voting is open" in _page(manager.post(f"{url}/open-voting", data={"key": key},
                                                  follow_redirects=True))
    codes = re.findall(r'class="voting-code">([A-Z0-9]{4}-[A-Z0-9]{4})<',
                       _page(manager.post(f"{url}/cards")))
    code_of = {services.entry_for_code(setup.election, c).person_id: c for c in codes}
    rankings = list(itertools.permutations(ids, 3))[:8]  # eight different ballots
    cast_order: list[tuple[int, ...]] = []
    receipts: dict[int, str] = {}
    sessions: list[str] = []
    staff = app.test_client()
    login(staff, world.people["staff"])
    for n, (person, ranking) in enumerate(zip(voters, rankings, strict=True)):
        data = {f"rank-{cid}": i + 1 for i, cid in enumerate(ranking)}
        if n % 3 == 0:
            client = app.test_client()
            login(client, person)
        elif n % 3 == 1:
            client = staff
            client.post(f"{url}/assist", data={"person_id": person.id})
        else:
            client = app.test_client()
            client.post(f"{url}/code", data={"code": code_of[person.id]})
        client.post(f"{url}/ballot/confirm", data=data)
        sessions.append(_session_of(app, client))
        done = _page(client.post(f"{url}/ballot/cast", data={"choice": list(ranking)}))
        receipts[person.id] = re.search(
            r'class="voting-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', done).group(1)
        sessions.append(_session_of(app, client))
        cast_order.append(ranking)
    sealed_blobs = [bytes(b) for b in db.session.scalars(db.select(SealedBallot.sealed))]
    assert len(sealed_blobs) == 8 and len({len(b) for b in sealed_blobs}) == 1

    manager.post(f"{url}/move", data={"action": "close_voting"})
    counted = manager.post(f"{url}/count", data={"key": key}, follow_redirects=True)
    assert "counted" in _page(counted)
    db.session.expire_all()
    truth = {pid: ranking for pid, ranking in zip(receipts, cast_order, strict=True)}

    # --- now the attacker, with the database and the instance folder -------------------------
    postgres = db.engine.dialect.name == "postgresql"
    order_by = "ctid" if postgres else "rowid"
    ballots = [c for (c,) in db.session.execute(sql(
        f"SELECT choices FROM election_ballot ORDER BY {order_by}")).all()]
    ballots = [tuple(c if isinstance(c, list) else json.loads(c)) for c in ballots]
    assert sorted(ballots) == sorted(cast_order)
    # Row order: the opened ballots are not in casting order, nor its reverse (1 in 40,320).
    assert ballots != cast_order and ballots != cast_order[::-1]
    # Nothing sealed is left, and nothing orders the opened ballots: no time, no number.
    assert db.session.execute(sql("SELECT count(*) FROM election_sealed_ballot")).scalar() == 0
    columns = {c.name for c in db.metadata.tables["election_ballot"].columns}
    assert columns == {"id", "election_id", "choices"}

    if postgres:
        # Transaction ids: every opened ballot was written by the count, which wrote no roll
        # entry; no ballot shares a transaction with any vote.
        ballot_xmins = {x for (x,) in db.session.execute(sql(
            "SELECT xmin::text FROM election_ballot"))}
        roll_xmins = {x for (x,) in db.session.execute(sql(
            "SELECT xmin::text FROM election_roll_entry"))}
        audit_xmins = {x for (x,) in db.session.execute(sql(
            "SELECT xmin::text FROM audit_event WHERE action <> 'election.moved'"))}
        assert len(ballot_xmins) == 1
        assert not ballot_xmins & roll_xmins and not ballot_xmins & audit_xmins
        # The sealed ballots' pages were rewritten away.
        assert db.session.execute(sql(
            "SELECT pg_relation_size('election_sealed_ballot')")).scalar() == 0
    else:
        # The old pages of the sealed ballots are gone from the file and its log.
        database = Path(db.engine.url.database)
        on_disk = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        assert not any(blob[:48] in on_disk for blob in sealed_blobs)
        assert key.replace(" ", "").encode() not in on_disk.upper()

    # Receipts: with the secret key, each leads to the list of counted receipts and nowhere
    # else; pairing the receipt list's row order with the ballots' recovers no voter's vote
    # as a whole (the two were shuffled apart).
    receipt_rows = [h for (h,) in db.session.execute(sql(
        f"SELECT receipt_hash FROM election_counted_receipt ORDER BY {order_by}"))]
    hashes = {pid: services.receipt_hash(code) for pid, code in receipts.items()}
    assert sorted(receipt_rows) == sorted(hashes.values())
    paired = dict(zip(receipt_rows, ballots, strict=True))
    assert [paired[hashes[pid]] for pid in truth] != [truth[pid] for pid in truth]
    dump = " ".join(str(row) for table in db.metadata.sorted_tables
                    if table.name != "election_counted_receipt"
                    for row in db.session.execute(db.select(table)))
    assert not any(h in dump for h in hashes.values())
    assert not any(code in dump for code in receipts.values())

    # Audit neighbours: the audit log names voters who had help, but no event names a ballot,
    # a receipt or a choice, and a ballot has no time to put beside an event.
    ballot_ids = [i for (i,) in db.session.execute(sql("SELECT id FROM election_ballot"))]
    for event in db.session.scalars(db.select(AuditEvent)):
        details = str(event.details)
        assert not any(b in details for b in ballot_ids)
        assert "choice" not in details and "receipt" not in details

    # Cookies: the session the browser kept, before and after casting, holds no receipt and
    # no choice.
    for held in sessions:
        assert "receipt" not in held
        assert not any(code in held for code in receipts.values())
        assert "rank" not in held and "choice" not in held

    # The key: nowhere in the database or the instance folder.
    letters = key.replace(" ", "")
    assert letters not in dump.upper()
    instance = Path(app.instance_path)
    for path in instance.rglob("*"):
        if path.is_file():
            assert letters.encode() not in path.read_bytes().upper(), path
