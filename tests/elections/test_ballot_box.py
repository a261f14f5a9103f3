"""The sealed ballot box: its key card, every refusal, and every cast vote counted once."""

from __future__ import annotations

import random
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from involve.audit import AuditEvent
from involve.elections import ballot_box, services
from involve.elections.models import (
    Ballot,
    Channel,
    CountedReceipt,
    Election,
    ElectionsError,
    IllegalMove,
    RollEntry,
    SealedBallot,
    Status,
)
from involve.extensions import db
from involve.people.models import Role
from tests.elections.helpers import make_election, open_box, vote
from tests.factories import make_person


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(t))
                 for t in (SealedBallot, Ballot, CountedReceipt))


def test_the_key_reads_back_with_or_without_spaces_in_either_case():
    key = ballot_box.new_key()
    public = bytes(key.public_key)
    text = ballot_box.key_text(key)
    groups = text.split(" ")
    assert len(groups) == 13 and all(len(g) <= 4 for g in groups)
    for typed in (text, text.replace(" ", ""), text.lower(), "-".join(groups),
                  text.replace("O", "0").replace("I", "1").replace("B", "8")):
        assert bytes(ballot_box.read_key(typed, public)) == bytes(key)
    for wrong, message in (("", "Type the ballot box key"), ("ABCD", "too short"),
                           (ballot_box.key_text(ballot_box.new_key()), "not the key")):
        with pytest.raises(ballot_box.BadKey, match=message):
            ballot_box.read_key(wrong, public)


def test_voting_opens_only_once_the_key_is_typed_back(world):
    setup = make_election(world, status=Status.nominations_closed)
    election, manager = setup.election, setup.manager
    with pytest.raises(IllegalMove, match="key card first"):
        services.open_voting(election, "ABCD", by=manager)
    key = services.make_ballot_box(election, by=manager)
    db.session.commit()
    # The key was never confirmed: voting is not open, so nobody can cast a ballot.
    with pytest.raises(ElectionsError, match="not opened yet"):
        services.roll_entry_for(election, world.people["service_user"])
    with pytest.raises(services.BadKey, match="not the key"):
        services.open_voting(election, ballot_box.key_text(ballot_box.new_key()), by=manager)
    db.session.rollback()
    assert election.status is Status.nominations_closed
    assert db.session.scalar(select(func.count()).select_from(RollEntry)) == 0
    # A new card replaces the old one: the old key no longer opens voting.
    new_key = services.make_ballot_box(election, by=manager)
    with pytest.raises(services.BadKey):
        services.open_voting(election, key, by=manager)
    services.open_voting(election, new_key.lower(), by=manager)
    assert election.status is Status.voting_open


def test_ballots_open_only_with_the_card_and_each_looks_alike():
    key = ballot_box.new_key()
    public = bytes(key.public_key)
    choices = [[7], [3, 9], [], [5, 4, 3, 2, 1]]
    sealed = [ballot_box.seal(public, c, 8) for c in choices]
    assert len({len(blob) for blob in sealed}) == 1
    assert len(set(sealed)) == len(sealed)
    assert list(ballot_box.open_all(key, sealed)) == [tuple(c) for c in choices]
    with pytest.raises(ballot_box.BadKey, match="will not open"):
        list(ballot_box.open_all(ballot_box.new_key(), sealed))
    tampered = sealed[0][:-1] + bytes([sealed[0][-1] ^ 1])
    with pytest.raises(ballot_box.BadKey, match="will not open"):
        list(ballot_box.open_all(key, [tampered]))


def test_a_throwaway_sender_key_seals_a_few_ballots_then_is_replaced():
    key = ballot_box.new_key()
    public = bytes(key.public_key)
    sealed = [ballot_box.seal(public, [1], 8) for _ in range(ballot_box.SENDER_USES * 3)]
    senders = [blob[1:33] for blob in sealed]
    assert len(set(senders)) == 3
    assert all(senders.count(s) == ballot_box.SENDER_USES for s in set(senders))
    # Another ballot box never shares this one's sender key.
    other = bytes(ballot_box.new_key().public_key)
    assert ballot_box.seal(other, [1], 8)[1:33] not in senders


def test_ballots_sealed_by_earlier_releases_still_open():
    from nacl.public import SealedBox

    key = ballot_box.new_key()
    earlier = SealedBox(key.public_key).encrypt(ballot_box._plain([4, 2], 8))
    now = ballot_box.seal(bytes(key.public_key), [6], 8)
    assert list(ballot_box.open_all(key, [earlier, now])) == [(4, 2), (6,)]


def test_the_private_key_is_kept_nowhere(world):
    setup = make_election(world)
    letters = setup.key.replace(" ", "")
    raw = bytes(ballot_box.read_key(setup.key, setup.election.ballot_box_key))
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    assert raw not in bytes(value), table.name
                else:
                    assert letters not in str(value).upper().replace(" ", ""), table.name


def test_a_wrong_key_at_the_count_says_so_and_changes_nothing(world):
    setup = make_election(world)
    vote(setup, world.people["service_user"], [setup.candidates[1].id])
    with pytest.raises(IllegalMove, match="once voting has closed"):
        services.count_votes(setup.election, setup.key, by=setup.manager)
    db.session.rollback()
    services.close_voting(setup.election, by=setup.manager)
    db.session.commit()
    for wrong in ("", "nonsense", ballot_box.key_text(ballot_box.new_key())):
        with pytest.raises(services.BadKey):
            services.count_votes(setup.election, wrong, by=setup.manager)
        db.session.rollback()
        assert setup.election.status is Status.voting_closed
        assert counts() == (1, 0, 0)
    services.count_votes(setup.election, setup.key.lower().replace(" ", ""), by=setup.manager)
    db.session.commit()
    services.reclaim_sealed_space()
    assert counts() == (0, 1, 1)
    assert setup.election.elected_candidates == [setup.candidates[1]]


def test_a_cast_after_the_close_is_refused_and_changes_nothing(world):
    setup = make_election(world)
    election_id = setup.election.id
    entry_id = setup.entry(world.people["service_user"]).id
    # A page loaded before the close still holds the election; the write re-checks it.
    stale = setup.election
    assert stale.standing and stale.ballot_box_key and stale.method
    db.session.expunge(stale)
    services.close_voting(db.session.get(Election, election_id), by=setup.manager)
    db.session.commit()
    assert stale.status is Status.voting_open
    with pytest.raises(IllegalMove, match="voting closed"):
        services.cast_ballot(stale, entry_id, [setup.candidates[0].id], channel=Channel.online)
    db.session.rollback()
    assert db.session.get(RollEntry, entry_id).voted is False
    assert counts() == (0, 0, 0)


def test_paper_ballots_are_sealed_and_join_the_same_count(world):
    setup = make_election(world, seats=1)
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    services.mark_paper_voter(setup.election, world.ambassador, by=setup.manager)
    services.enter_paper_batch(setup.election, 1, "2", by=setup.manager)
    db.session.commit()
    assert counts() == (2, 0, 0)
    assert db.session.scalar(select(func.count()).where(SealedBallot.receipt_hash.is_(None))) == 1
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    db.session.commit()
    assert counts() == (0, 2, 1)
    assert setup.election.turnout["voted"] == 2


@pytest.mark.parametrize("by_date", [False, True], ids=["by-hand", "on-its-date"])
def test_casts_and_the_close_at_once_every_receipt_is_counted(app, world, by_date):
    """Voters cast while the manager closes voting, or while voting closes on its date: each
    is refused or counted, never lost."""
    from involve.elections.tasks import move_on_dates

    setup = make_election(world, status=Status.nominations_closed, candidates=3)
    for i in range(12):
        make_person(world.org, f"Racing Voter {i}", account=False,
                    roles=[(Role.service_user, world.home)])
    open_box(setup)
    db.session.commit()
    election_id, manager_id = setup.election.id, setup.manager.id
    entries = list(db.session.scalars(select(RollEntry.id).where(
        RollEntry.election_id == election_id, RollEntry.eligible.is_(True))))
    ids = [c.id for c in setup.candidates]
    barrier = threading.Barrier(len(entries) + 1)
    receipts: list[str] = []
    closed: list[bool] = []
    lock = threading.Lock()

    def cast(entry_id: int) -> None:
        with app.app_context():
            # Load the election as the ballot page has, then give the connection back: the
            # pool is smaller than the crowd of voters.
            election = db.session.get(Election, election_id)
            for candidate in election.standing:
                db.session.expunge(candidate)
            db.session.expunge(election)
            db.session.rollback()
            barrier.wait(timeout=60)
            time.sleep(random.random() / 20)
            try:
                receipt = services.cast_ballot(election, entry_id, [random.choice(ids)],
                                               channel=Channel.online)
                db.session.commit()
            except (ElectionsError, OperationalError):
                db.session.rollback()
            else:
                with lock:
                    receipts.append(receipt)
            finally:
                db.session.remove()

    def close() -> None:
        with app.app_context():
            barrier.wait(timeout=60)
            time.sleep(0.02)
            for _ in range(50):
                try:
                    election = db.session.get(Election, election_id)
                    if by_date:
                        election.voting_closes_on = date.today() - timedelta(days=1)
                        db.session.commit()
                        assert move_on_dates(date.today()) == 1
                    else:
                        services.close_voting(election, by=db.session.get(
                            type(setup.manager), manager_id))
                        db.session.commit()
                    closed.append(True)
                    break
                except OperationalError:
                    db.session.rollback()
                    time.sleep(0.01)
            db.session.remove()

    threads = [threading.Thread(target=cast, args=(e,)) for e in entries]
    threads.append(threading.Thread(target=close))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert closed == [True]
    db.session.expire_all()
    election = db.session.get(Election, election_id)
    services.count_votes(election, setup.key, by=setup.manager, seed=1)
    db.session.commit()
    voted = db.session.scalar(select(func.count()).where(
        RollEntry.election_id == election_id, RollEntry.voted.is_(True)))
    assert receipts, "no cast got in before the close"
    assert voted == len(receipts) == election.turnout["voted"]
    assert counts() == (0, len(receipts), len(receipts))
    assert all(services.receipt_counted(election, r) for r in receipts)
    assert sum(float(v) for v in election.result["stages"][0]["votes"]) == len(receipts)


def test_no_audit_event_holds_the_key_or_a_choice(world):
    setup = make_election(world)
    vote(setup, world.people["service_user"], [setup.candidates[2].id])
    made = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "election.ballot_box_made")).one()
    assert made.details == {}
