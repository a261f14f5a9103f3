"""Election services: the stages, nominations, the roll, casting, codes, paper, count, results."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.elections import services
from involve.elections.models import (
    Ballot,
    Channel,
    ElectionsError,
    IllegalMove,
    Method,
    PaperBatch,
    RollEntry,
    SealedBallot,
    Status,
)
from involve.elections.queries import published_results
from involve.extensions import db
from involve.people.models import AmbassadorTerm, Role
from tests.elections.helpers import make_election, open_box, vote
from tests.factories import make_person


def ballots(election) -> int:
    """Ballots in the box, sealed (before the count) or opened (after it)."""
    return sum(db.session.scalar(select(func.count()).select_from(table)
                                 .where(table.election_id == election.id))
               for table in (SealedBallot, Ballot))


def actions(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == name)))


# --- the stages ---------------------------------------------------------------------------


def test_every_move_is_audited_and_illegal_moves_say_why(world):
    setup = make_election(world, status=Status.draft)
    election, manager = setup.election, setup.manager
    with pytest.raises(IllegalMove, match="Being set up"):
        services.close_voting(election, by=manager)
    assert election.status is Status.draft
    services.open_nominations(election, by=manager)
    with pytest.raises(IllegalMove):
        services.publish_results(election, by=manager)
    moves = actions("election.moved")
    assert [(m.details["before"], m.details["after"]) for m in moves] == [
        ("draft", "nominations_open")]
    assert moves[0].actor_id == manager.id


def test_cancel_needs_a_reason_and_is_final(world):
    setup = make_election(world, status=Status.nominations_open)
    with pytest.raises(ElectionsError, match="Say why"):
        services.cancel_election(setup.election, "  ", by=setup.manager)
    services.cancel_election(setup.election, "The home is closing", by=setup.manager)
    assert setup.election.cancelled_reason == "The home is closing"
    with pytest.raises(IllegalMove):
        services.open_nominations(setup.election, by=setup.manager)


def test_editing_a_published_election_is_refused(world):
    setup = make_election(world, status=Status.voting_open, candidates=2)
    vote(setup, world.people["service_user"], [setup.candidates[0].id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager)
    services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    with pytest.raises(IllegalMove, match="published"):
        services.update_election(setup.election, by=setup.manager, title="Changed")
    with pytest.raises(IllegalMove, match="published"):
        services.update_candidate(setup.candidates[0], statement="x", easy_read="",
                                  by=setup.manager)
    db.session.rollback()
    assert setup.election.title == "Rose Court ambassador election"


def test_dates_in_the_wrong_order_are_refused(world):
    from datetime import date

    with pytest.raises(ElectionsError, match="wrong order"):
        services.create_election(organisation_id=world.org.id, service_id=world.home.id,
                                 title="x", seats=1, method=Method.block,
                                 voting_opens_on=date(2030, 2, 1),
                                 voting_closes_on=date(2030, 1, 1),
                                 by=world.people["manager"])


# --- nominations --------------------------------------------------------------------------


def test_self_nomination_is_consent_and_others_must_agree(world):
    setup = make_election(world, status=Status.nominations_open, candidates=0)
    me, friend = world.people["service_user"], world.ambassador
    mine = services.nominate(setup.election, me, by=me)
    theirs = services.nominate(setup.election, friend, by=me)
    assert mine.is_standing and not theirs.is_standing
    assert setup.election.standing == [mine]
    services.give_consent(theirs, by=friend)
    assert theirs.is_standing
    with pytest.raises(ElectionsError, match="already nominated"):
        services.nominate(setup.election, friend, by=me)


def test_staff_recording_consent_on_behalf_is_audited(world):
    setup = make_election(world, status=Status.nominations_open, candidates=0)
    staff = world.people["staff"]
    candidate = services.nominate(setup.election, world.ambassador, by=staff, consent=True,
                                  on_behalf=True)
    assert candidate.is_standing and candidate.consent_recorded_by_id == staff.id
    events = actions("election.consent_recorded_on_behalf")
    assert [(e.actor_id, e.subject_id) for e in events] == [(staff.id, world.ambassador.id)]


def test_only_service_users_in_scope_can_stand(world):
    setup = make_election(world, status=Status.nominations_open, candidates=0)
    for person in (world.people["staff"], world.outsiders["service_user"]):
        with pytest.raises(ElectionsError, match="cannot stand"):
            services.nominate(setup.election, person, by=setup.manager)


def test_nominations_closed_refuse_new_nominees(world):
    setup = make_election(world, status=Status.nominations_closed)
    with pytest.raises(IllegalMove, match="not open"):
        services.nominate(setup.election, world.people["service_user"],
                          by=world.people["service_user"])


def test_withdrawal_before_voting_only(world):
    setup = make_election(world, status=Status.nominations_closed, candidates=3)
    services.withdraw(setup.candidates[2], by=setup.candidates[2].person)
    assert len(setup.election.standing) == 2
    open_box(setup)
    with pytest.raises(IllegalMove):
        services.withdraw(setup.candidates[1], by=setup.manager)


def test_statement_limits_and_photo_needs_consent(world, app):
    import io

    from PIL import Image

    setup = make_election(world, status=Status.nominations_open, candidates=1)
    candidate = setup.candidates[0]
    with pytest.raises(ElectionsError, match="too long"):
        services.update_candidate(candidate, statement="x" * 2000, easy_read="",
                                  by=setup.manager)
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(buffer, "PNG")
    with pytest.raises(ElectionsError, match="agreed"):
        services.update_candidate(candidate, statement="Hi", easy_read="I like tea.",
                                  photo=buffer.getvalue(), by=setup.manager)
    with pytest.raises(ElectionsError, match="not a photo"):
        services.update_candidate(candidate, statement="Hi", easy_read="", photo=b"GIF89 junk",
                                  photo_consent=True, by=setup.manager)
    services.update_candidate(candidate, statement="Hi", easy_read="I like tea.",
                              photo=buffer.getvalue(), photo_consent=True, by=setup.manager)
    assert candidate.has_photo and candidate.photo.startswith(b"\xff\xd8")
    assert candidate.photo_consent_at is not None


def test_unopposed_seats_are_filled_without_a_vote(world):
    setup = make_election(world, status=Status.nominations_closed, seats=2, candidates=2)
    election = setup.election
    assert election.unopposed
    with pytest.raises(IllegalMove, match="no vote"):
        services.open_voting(election, "", by=setup.manager)
    services.count_votes(election, by=setup.manager)
    services.publish_results(election, by=setup.manager)
    assert election.result["unopposed"] is True
    assert {p.id for p in election.elected_people} == {c.person_id for c in setup.candidates}


# --- the roll -----------------------------------------------------------------------------


def test_roll_is_fixed_when_voting_opens(world):
    setup = make_election(world, status=Status.nominations_closed)
    su = world.people["service_user"]
    services.mark_ineligible(setup.election, su, "Has moved to hospital care", by=setup.manager)
    open_box(setup)
    late = make_person(world.org, "Late Arrival", roles=[(Role.service_user, world.home)])
    entries = {e.person_id: e for e in db.session.scalars(
        select(RollEntry).where(RollEntry.election_id == setup.election.id))}
    assert late.id not in entries
    assert world.outsiders["service_user"].id not in entries
    assert world.people["staff"].id not in entries
    assert entries[su.id].eligible is False
    assert entries[world.ambassador.id].eligible is True
    with pytest.raises(IllegalMove, match="fixed"):
        services.mark_ineligible(setup.election, world.ambassador, "x", by=setup.manager)


def test_ineligible_needs_a_reason_and_can_be_undone(world):
    setup = make_election(world, status=Status.nominations_open)
    su = world.people["service_user"]
    with pytest.raises(ElectionsError, match="Say why"):
        services.mark_ineligible(setup.election, su, " ", by=setup.manager)
    services.mark_ineligible(setup.election, su, "Asked not to take part", by=setup.manager)
    services.mark_eligible(setup.election, su, by=setup.manager)
    assert dict(services.roll_preview(setup.election))[su] is None


# --- casting ------------------------------------------------------------------------------


def test_casting_marks_the_roll_and_keeps_the_ballot_anonymous(world):
    setup = make_election(world, seats=2, candidates=3)
    su = world.people["service_user"]
    receipt = vote(setup, su, [setup.candidates[2].id, setup.candidates[0].id])
    entry = setup.entry(su)
    assert entry.voted and entry.channel is Channel.online
    sealed = db.session.scalars(select(SealedBallot)).one()
    assert sealed.receipt_hash == services.receipt_hash(receipt)
    assert receipt not in sealed.receipt_hash
    assert len(sealed.id) == 32
    # Sealed: the plain ballot (the choices packed as the box packs them) is not in it.
    from involve.elections.ballot_box import _plain, width_for

    plain = _plain([setup.candidates[2].id, setup.candidates[0].id], width_for(3))
    assert plain not in sealed.sealed and plain[:8] not in sealed.sealed
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    ballot = db.session.scalars(select(Ballot)).one()
    assert ballot.choices == sorted([setup.candidates[2].id, setup.candidates[0].id])
    assert len(ballot.id) == 32
    assert services.receipt_counted(setup.election, receipt)
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0


@pytest.mark.parametrize("status, message", [
    (Status.nominations_closed, "not opened yet"),
    (Status.voting_closed, "closed"),
])
def test_voting_before_opening_or_after_closing_is_refused(world, status, message):
    setup = make_election(world, status=status)
    entry = db.session.scalar(select(RollEntry))
    with pytest.raises(IllegalMove, match=message):
        services.cast_ballot(setup.election, entry.id if entry else 0,
                             [setup.candidates[0].id], channel=Channel.online)
    assert ballots(setup.election) == 0


def test_already_voted_on_any_channel_cannot_vote_again(world):
    setup = make_election(world)
    su = world.people["service_user"]
    services.mark_paper_voter(setup.election, su, by=setup.manager)
    db.session.commit()
    with pytest.raises(ElectionsError, match="already voted"):
        services.roll_entry_for(setup.election, su)
    with pytest.raises(ElectionsError, match="already voted"):
        vote(setup, su, [setup.candidates[0].id])
    db.session.rollback()
    assert ballots(setup.election) == 0


def test_ineligible_and_people_off_the_roll_cannot_vote(world):
    setup = make_election(world, status=Status.nominations_closed)
    su = world.people["service_user"]
    services.mark_ineligible(setup.election, su, "Lives elsewhere now", by=setup.manager)
    open_box(setup)
    with pytest.raises(ElectionsError, match="Lives elsewhere now"):
        services.roll_entry_for(setup.election, su)
    with pytest.raises(ElectionsError, match="not counted"):
        services.cast_ballot(setup.election, setup.entry(su).id, [setup.candidates[0].id],
                             channel=Channel.online)
    with pytest.raises(ElectionsError, match="not on the roll"):
        services.roll_entry_for(setup.election, world.outsiders["service_user"])
    assert ballots(setup.election) == 0


def test_too_many_ticks_and_strangers_are_refused(world):
    setup = make_election(world, seats=1)
    c = [x.id for x in setup.candidates]
    entry = setup.entry(world.people["service_user"])
    for choices, message in [(c[:2], "Choose up to 1"), ([], "not chosen"),
                             ([c[0], c[0]], "twice"), ([999999], "not one of")]:
        with pytest.raises(ElectionsError, match=message):
            services.cast_ballot(setup.election, entry.id, choices, channel=Channel.online)
    assert not setup.entry(world.people["service_user"]).voted
    assert ballots(setup.election) == 0


def test_duplicate_and_gapped_rankings_are_refused(world):
    setup = make_election(world, method=Method.stv, seats=1)
    a, b, c = (x.id for x in setup.candidates)
    with pytest.raises(ElectionsError, match="same number"):
        services.choices_from_ranks(setup.election, {a: 1, b: 1})
    with pytest.raises(ElectionsError, match="without a gap"):
        services.choices_from_ranks(setup.election, {a: 1, b: 3})
    with pytest.raises(ElectionsError, match="without a gap"):
        services.choices_from_ranks(setup.election, {a: 2})
    with pytest.raises(ElectionsError, match="twice"):
        services.cast_ballot(setup.election, setup.entry(world.ambassador).id, [a, b, a],
                             channel=Channel.online)
    assert services.choices_from_ranks(setup.election, {c: 1, a: 2}) == (c, a)
    assert ballots(setup.election) == 0


# --- voting codes -------------------------------------------------------------------------


def test_voting_codes_work_once_for_their_own_election(world):
    setup = make_election(world)
    other = make_election(world, title="Another election")
    issued = dict((e.person_id, code) for e, code in
                  services.issue_voting_codes(setup.election, by=setup.manager))
    db.session.commit()
    code = issued[world.people["service_user"].id]
    stored = setup.entry(world.people["service_user"]).code_hash
    assert code not in stored and stored == services.code_hash(code.lower())
    entry = services.entry_for_code(setup.election, code.lower().replace("-", " "))
    with pytest.raises(ElectionsError, match="different election"):
        services.entry_for_code(other.election, code)
    with pytest.raises(ElectionsError, match="do not know"):
        services.entry_for_code(setup.election, "ZZZZ-ZZZZ")
    services.cast_ballot(setup.election, entry.id, [setup.candidates[0].id],
                         channel=Channel.code)
    db.session.commit()
    with pytest.raises(ElectionsError, match="already been used"):
        services.entry_for_code(setup.election, code)
    assert setup.entry(world.people["service_user"]).channel is Channel.code


def test_reprinting_cards_replaces_old_codes(world):
    setup = make_election(world)
    su = world.people["service_user"]
    first = services.issue_voting_codes(setup.election, by=setup.manager, person_ids=[su.id])
    second = services.issue_voting_codes(setup.election, by=setup.manager, person_ids=[su.id])
    with pytest.raises(ElectionsError, match="do not know"):
        services.entry_for_code(setup.election, first[0][1])
    assert services.entry_for_code(setup.election, second[0][1]).person_id == su.id


# --- paper --------------------------------------------------------------------------------


def test_paper_batches_must_reconcile(world):
    setup = make_election(world, seats=1)
    services.mark_paper_voter(setup.election, world.people["service_user"], by=setup.manager)
    services.mark_paper_voter(setup.election, world.ambassador, by=setup.manager)
    db.session.commit()
    with pytest.raises(ElectionsError, match="you said 3 papers but typed 2"):
        services.enter_paper_batch(setup.election, 3, "1\n2\n", by=setup.manager)
    with pytest.raises(ElectionsError, match="does not reconcile"):
        services.enter_paper_batch(setup.election, 3, "1\n2\n1", by=setup.manager)
    with pytest.raises(ElectionsError, match="Line 2: You ticked 2"):
        services.enter_paper_batch(setup.election, 2, "1\n1 2", by=setup.manager)
    db.session.rollback()
    assert ballots(setup.election) == 0
    assert db.session.scalar(select(func.count()).select_from(PaperBatch)) == 0
    services.enter_paper_batch(setup.election, 1, "2", by=setup.manager)
    services.close_voting(setup.election, by=setup.manager)
    with pytest.raises(ElectionsError, match="do not match the roll yet"):
        services.count_votes(setup.election, setup.key, by=setup.manager)
    services.enter_paper_batch(setup.election, 1, "2", by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=3)
    assert setup.election.result["turnout"]["by_channel"]["paper"] == 2
    assert setup.election.elected_candidates == [setup.candidates[1]]


# --- count and publish --------------------------------------------------------------------


def test_stv_count_publish_terms_and_notices(world, outbox):
    from tests.factories import link_family

    setup = make_election(world, method=Method.stv, seats=1, candidates=3)
    a, b, c = setup.candidates
    vote(setup, world.people["service_user"], [b.id, a.id])
    vote(setup, world.ambassador, [b.id])
    vote(setup, a.person, [a.id])
    vote(setup, c.person, [c.id, a.id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=42)
    result = setup.election.result
    assert result["quota"] is not None and result["seed"] == 42
    assert setup.election.count_seed == 42
    assert setup.election.turnout == {"roll": 5, "voted": 4, "by_channel": {
        "online": 4, "code": 0, "assisted": 0, "paper": 0}, "blank": 0, "spoilt": 0}
    assert str(setup.election.turnout_percent) == "80.0"
    assert published_results(world.home.id, None, organisation_id=world.org.id) == []
    elected = services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    from involve.elections.tasks import send_results_notices

    link_family(world.people["family"], c.person)
    assert send_results_notices.call_local(setup.election.id) >= 1
    terms = list(db.session.scalars(select(AmbassadorTerm).where(
        AmbassadorTerm.election_id == setup.election.id)))
    assert [t.person_id for t in terms] == [p.id for p in elected]
    assert terms[0].service_id == world.home.id
    assert published_results(world.home.id, None, organisation_id=world.org.id) == [setup.election]
    assert published_results(None, None, organisation_id=world.org.id) == []
    assert setup.election.elected_people == elected
    recipients = {m["To"] for m in outbox}
    assert world.people["service_user"].user.email in recipients
    assert world.people["family"].user.email in recipients
    assert world.people["board"].user.email in recipients
    assert world.people["staff"].user.email not in recipients
    assert all("Results:" in m["Subject"] for m in outbox)
    assert not any(c.person.full_name + " chose" in m.get_body().get_content() for m in outbox)


def test_results_notices_reach_a_real_smtp_server(world, smtp_server):
    setup = make_election(world, status=Status.nominations_closed, candidates=1)
    services.count_votes(setup.election, setup.key, by=setup.manager)
    services.publish_results(setup.election, by=setup.manager)
    db.session.commit()
    from involve.elections.tasks import send_results_notices

    sent = send_results_notices.call_local(setup.election.id)
    messages = smtp_server.wait_for(sent)
    assert sent >= 2 and len(messages) == sent
    assert setup.candidates[0].person.full_name in messages[0].get_payload()[0].get_payload(
        decode=True).decode()


def test_an_election_with_no_ballots_cannot_be_counted(world):
    setup = make_election(world, status=Status.voting_closed)
    with pytest.raises(ElectionsError, match="No ballots were cast"):
        services.count_votes(setup.election, setup.key, by=setup.manager)
    assert setup.election.status is Status.voting_closed
