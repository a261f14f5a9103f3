"""Secrecy and integrity held by the database: no path from a ballot to a voter, one vote each."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from involve.elections import services
from involve.elections.models import Channel, Election, RollEntry, SealedBallot, Status
from involve.extensions import db
from tests.conftest import count_queries, login
from tests.elections.helpers import make_election

VOTER_TABLES = {"person", "user_account", "election_roll_entry"}


def test_no_path_from_a_ballot_to_a_person(app):
    """Follow every foreign key from the ballot table: none reaches a person or the roll."""
    tables = db.metadata.tables
    ballot = tables["election_ballot"]
    assert {c.name for c in ballot.columns} == {"id", "election_id", "choices"}
    assert {c.name for c in tables["election_sealed_ballot"].columns} == {
        "id", "election_id", "sealed", "receipt_hash"}
    assert {c.name for c in tables["election_counted_receipt"].columns} == {
        "receipt_hash", "election_id"}
    # Nothing holds a time or order: no timestamp, no sequence, no autoincrement key.
    assert ballot.c.id.autoincrement is not True
    assert str(ballot.c.id.type).startswith("VARCHAR")
    # The ballot's only foreign key is its election; the election table must not point back
    # at ballots or roll entries, and nothing points from the roll to ballots.
    assert [fk.column.table.name for fk in ballot.foreign_keys] == ["election"]
    reached, frontier = set(), [ballot]
    while frontier:
        table = frontier.pop()
        for fk in table.foreign_keys:
            target = fk.column.table
            if target.name == "election":
                # The election links to people (creator) but never to a ballot row: stop here
                # and check that nothing under the election names a ballot.
                reached.add(target.name)
                continue
            if target.name not in reached:
                reached.add(target.name)
                frontier.append(target)
    assert not (reached & VOTER_TABLES)
    for table in tables.values():
        for fk in table.foreign_keys:
            assert not fk.column.table.name.endswith(("ballot", "receipt")), (
                f"{table.name} points at ballots or receipts")
    roll = tables["election_roll_entry"]
    assert not any("ballot" in c.name or "receipt" in c.name for c in roll.columns)


def test_sealed_ballots_all_have_one_size_and_keep_no_person(world):
    setup = make_election(world, seats=3, candidates=4)
    entry = setup.entry(world.people["service_user"])
    services.cast_ballot(setup.election, entry.id, [setup.candidates[0].id],
                         channel=Channel.assisted, helper=world.people["staff"])
    services.cast_ballot(setup.election, setup.entry(world.ambassador).id,
                         [c.id for c in setup.candidates[:3]], channel=Channel.online)
    db.session.commit()
    sizes = {len(b) for b in db.session.scalars(select(SealedBallot.sealed))}
    # One choice or three: the sealed ballots cannot be told apart by size.
    assert len(sizes) == 1
    from involve.audit import AuditEvent

    help_given = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "election.assisted_vote")).one()
    assert help_given.actor_id == world.people["staff"].id
    assert help_given.subject_id == world.people["service_user"].id
    assert help_given.details == {}


def test_casting_a_ballot_takes_a_handful_of_statements(app, world):
    setup = make_election(world)
    client = app.test_client()
    login(client, world.people["service_user"])
    with count_queries() as counter:
        response = client.post(f"/elections/{setup.election.id}/ballot/cast",
                               data={"choice": [setup.candidates[0].id]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Your vote is cast" in response.get_data(as_text=True)
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(
        ("UPDATE", "INSERT"))]
    # The roll entry and the sealed ballot; then, as every write does, the organisation's data
    # version (involve/page_cache.py), so that pages showing the turnout are made afresh.
    casting = [s for s in writes if "data_version" not in s]
    assert len(casting) == 2, casting
    assert len(writes) == 3 and "UPDATE organisation SET data_version" in writes[-1], writes
    assert counter.count <= 11, counter.statements


def test_no_choice_or_request_body_is_logged(app, world, caplog):
    setup = make_election(world)
    client = app.test_client()
    login(client, world.people["service_user"])
    with caplog.at_level("DEBUG"):
        client.post(f"/elections/{setup.election.id}/ballot/cast",
                    data={"choice": [setup.candidates[1].id]})
    assert f"choice={setup.candidates[1].id}" not in caplog.text
    from involve.audit import AuditEvent

    details = [e.details for e in db.session.scalars(select(AuditEvent))]
    assert not any("choice" in str(d) for d in details)


def test_fifty_concurrent_attempts_yield_one_ballot(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises every writer, so it cannot show a race; "
                    "this runs on PostgreSQL (INVOLVE_TEST_DATABASE_URL)")
    setup = make_election(world)
    election_id = setup.election.id
    entry_id = setup.entry(world.people["service_user"]).id
    choice = setup.candidates[0].id
    db.session.commit()
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        with app.app_context():
            election = db.session.get(Election, election_id)
            # Give the connection back: 50 threads share a pool smaller than 50.
            db.session.commit()
            barrier.wait()
            try:
                services.cast_ballot(election, entry_id, [choice], channel=Channel.online)
                db.session.commit()
                result = "cast"
            except services.ElectionsError:
                db.session.rollback()
                result = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert sorted(outcomes).count("cast") == 1 and len(outcomes) == 50
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 1
    assert db.session.scalar(select(RollEntry.voted).where(RollEntry.id == entry_id)) is True
    assert setup.election.status is Status.voting_open
