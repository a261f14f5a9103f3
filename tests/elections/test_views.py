"""The election pages: running an election, standing, voting on each channel, and results."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.elections import services
from involve.elections.models import Ballot, Election, Method, RollEntry, SealedBallot, Status
from involve.extensions import db
from tests.conftest import login
from tests.elections.helpers import make_election, vote


def signed_in(app, person):
    client = app.test_client()
    login(client, person)
    return client


def ballots() -> int:
    """Ballots in the box: sealed before the count, opened after it."""
    return sum(db.session.scalar(select(func.count()).select_from(t))
               for t in (SealedBallot, Ballot))


def open_voting_on_the_page(client, election_id: int) -> str:
    """Make the key card, read the key off it, and type it back; returns the key."""
    card = text(client.post(f"/elections/{election_id}/ballot-box"))
    key = re.search(r'class="key-text">([A-Z2-7 ]+)<', card).group(1)
    client.post(f"/elections/{election_id}/open-voting", data={"key": key})
    return key


def count_on_the_page(client, election_id: int, key: str):
    return client.post(f"/elections/{election_id}/count", data={"key": key},
                       follow_redirects=True)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_manager_runs_an_election_through_the_pages(app, world, outbox):
    client = signed_in(app, world.people["manager"])
    response = client.post("/elections/new", data={
        "title": "Spring ambassadors", "service_id": world.home.id, "seats": 1,
        "term_months": 12, "method": "block"}, follow_redirects=True)
    assert "Election created" in text(response)
    election = db.session.scalars(select(Election)).one()
    url = f"/elections/{election.id}"

    def move(action):
        return client.post(f"{url}/move", data={"action": action}, follow_redirects=True)

    assert "Nominations are open" in text(move("open_nominations"))
    su, amb = world.people["service_user"], world.ambassador
    response = client.post(f"{url}/nominate", data={"person_id": su.id, "consent": "y"},
                           follow_redirects=True)
    assert "is nominated" in text(response)
    client.post(f"{url}/nominate", data={"person_id": amb.id, "consent": "y"})
    assert "Nominations are closed" in text(move("close_nominations"))
    roll = client.get(f"{url}/roll")
    assert su.full_name in text(roll) and world.outsiders["service_user"].full_name not in text(
        roll)
    card = client.post(f"{url}/ballot-box")
    assert card.headers["Cache-Control"] == "no-store"
    key = re.search(r'class="key-text">([A-Z2-7 ]+)<', text(card)).group(1)
    assert "Keep this card safe, and not with the tablet" in text(card)
    assert text(card).count('class="key-text"') == 2 and "<svg" in text(card)
    wrong = client.post(f"{url}/open-voting", data={"key": key[:-4] + "AAAA"})
    assert "not the key of this ballot box" in text(wrong)
    db.session.expire_all()
    assert election.status is Status.nominations_closed
    opened = client.post(f"{url}/open-voting", data={"key": key.replace(" ", "").lower()},
                         follow_redirects=True)
    assert "Voting is open" in text(opened)
    vote_client = signed_in(app, amb)
    page = vote_client.get(f"{url}/ballot")
    assert "Choose 1 person" in text(page)
    candidate = election.candidates[0]
    confirm = vote_client.post(f"{url}/ballot/confirm", data={"choice": candidate.id})
    assert f"You chose {su.full_name}" in text(confirm)
    cast = vote_client.post(f"{url}/ballot/cast", data={"choice": candidate.id},
                            follow_redirects=True)
    assert "Your vote is cast" in text(cast)
    hidden = vote_client.get(f"{url}/results")
    assert "hidden until voting closes" in text(hidden)
    move("close_voting")
    assert "counted" not in text(move("count"))
    assert "not the key" in text(count_on_the_page(client, election.id, key[5:] + " AAAA"))
    db.session.expire_all()
    assert election.status is Status.voting_closed and ballots() == 1
    assert "counted" in text(count_on_the_page(client, election.id, key))
    assert "Only people running the election" in text(client.get(f"{url}/results"))
    assert "will be shown here when they are published" in text(vote_client.get(f"{url}/results"))
    assert "published" in text(move("publish"))
    results = text(vote_client.get(f"{url}/results"))
    assert su.full_name in results and "<svg" in results and "<table" in results
    assert "1 of" in results
    assert any(m["To"] == amb.user.email for m in outbox)
    home = text(signed_in(app, world.people["family"]).get("/"))
    assert "Results of Spring ambassadors" in home
    assert "Spring ambassadors" in text(signed_in(app, world.people["board"]).get("/elections/"))
    moves = db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "election.moved").order_by(AuditEvent.id)).all()
    assert [m["after"] for m in moves][-1] == "results_published" and len(moves) == 6


def test_illegal_move_on_the_page_says_why_and_changes_nothing(app, world):
    setup = make_election(world, status=Status.draft)
    client = signed_in(app, world.people["manager"])
    response = client.post(f"/elections/{setup.election.id}/move",
                           data={"action": "close_voting"}, follow_redirects=True)
    assert "cannot move to" in text(response)
    response = client.post(f"/elections/{setup.election.id}/move", data={"action": "explode"},
                           follow_redirects=True)
    assert "not a step" in text(response)
    db.session.expire_all()
    assert setup.election.status is Status.draft


def test_editing_a_published_election_is_refused_on_the_page(app, world):
    setup = make_election(world, status=Status.nominations_closed, candidates=1)
    client = signed_in(app, world.people["manager"])
    client.post(f"/elections/{setup.election.id}/move", data={"action": "count"})
    client.post(f"/elections/{setup.election.id}/move", data={"action": "publish"})
    response = client.post(f"/elections/{setup.election.id}/edit", data={
        "title": "New title", "service_id": world.home.id, "seats": 3, "term_months": 6,
        "method": "block"}, follow_redirects=True)
    assert "results of this election are published" in text(response)
    db.session.expire_all()
    assert setup.election.title == "Rose Court ambassador election"
    assert setup.election.seats == 1
    results = text(client.get(f"/elections/{setup.election.id}/results"))
    assert "unopposed" in results


def test_unopposed_election_page_says_so(app, world):
    setup = make_election(world, status=Status.nominations_closed, seats=2, candidates=2)
    page = text(signed_in(app, world.people["service_user"]).get(
        f"/elections/{setup.election.id}"))
    assert "filled unopposed, without a vote" in page


def test_candidate_photo_upload_and_statement(app, world):
    setup = make_election(world, status=Status.nominations_open, candidates=0)
    me = world.people["service_user"]
    client = signed_in(app, me)
    client.post(f"/elections/{setup.election.id}/nominate", data={"person_id": me.id})
    candidate = setup.election.candidates[0]
    assert candidate.is_standing
    buffer = io.BytesIO()
    Image.new("RGB", (80, 80), "blue").save(buffer, "PNG")
    response = client.post(f"/elections/candidates/{candidate.id}/edit", data={
        "statement": "I will **listen**.", "easy_read": "I will listen to you.",
        "photo": (io.BytesIO(buffer.getvalue()), "me.png")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "agreed to their photo" in text(response)
    db.session.expire_all()
    assert not candidate.has_photo and candidate.statement == ""
    response = client.post(f"/elections/candidates/{candidate.id}/edit", data={
        "statement": "I will **listen**.", "easy_read": "I will listen to you.",
        "photo_consent": "y", "photo": (io.BytesIO(buffer.getvalue()), "me.png")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "<strong>listen</strong>" in text(response)
    photo = client.get(f"/elections/candidates/{candidate.id}/photo")
    assert photo.mimetype == "image/jpeg" and photo.data.startswith(b"\xff\xd8")


def test_nominee_consents_and_withdraws_on_the_page(app, world):
    setup = make_election(world, status=Status.nominations_open, candidates=0)
    nominee = world.ambassador
    signed_in(app, world.people["service_user"]).post(
        f"/elections/{setup.election.id}/nominate", data={"person_id": nominee.id,
                                                          "consent": "y"})
    candidate = setup.election.candidates[0]
    assert not candidate.is_standing  # a service user cannot consent for someone else
    client = signed_in(app, nominee)
    assert "Do you want to stand?" in text(client.get(f"/elections/{setup.election.id}"))
    client.post(f"/elections/candidates/{candidate.id}/consent")
    db.session.expire_all()
    assert candidate.is_standing
    again = client.post(f"/elections/candidates/{candidate.id}/consent", follow_redirects=True)
    assert "already agreed" in text(again)
    client.post(f"/elections/candidates/{candidate.id}/withdraw")
    db.session.expire_all()
    assert candidate.withdrawn_at is not None


def test_roll_marking_ineligible_needs_a_reason(app, world):
    setup = make_election(world, status=Status.nominations_closed)
    client = signed_in(app, world.people["manager"])
    su = world.people["service_user"]
    url = f"/elections/{setup.election.id}/roll/ineligible"
    response = client.post(url, data={"person_id": su.id, "reason": ""}, follow_redirects=True)
    assert "Say why" in text(response)
    assert db.session.scalar(select(func.count()).select_from(RollEntry)) == 0
    response = client.post(url, data={"person_id": su.id, "reason": "In hospital"},
                           follow_redirects=True)
    assert "In hospital" in text(response)
    open_voting_on_the_page(client, setup.election.id)
    response = client.post(f"/elections/{setup.election.id}/roll/eligible",
                           data={"person_id": su.id}, follow_redirects=True)
    assert "fixed when voting opened" in text(response)


def test_resident_votes_with_a_code_without_signing_in(app, world):
    setup = make_election(world, seats=2, candidates=3)
    manager = signed_in(app, world.people["manager"])
    cards = manager.post(f"/elections/{setup.election.id}/cards")
    page = text(cards)
    assert cards.headers["Cache-Control"] == "no-store"
    assert "<svg" in page and "<title>QR code" in page
    codes = re.findall(r'class="voting-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', page)
    assert len(codes) == 5
    stored = set(db.session.scalars(select(RollEntry.code_hash)))
    assert not any(code in str(stored) for code in codes)

    voter = app.test_client()
    url = f"/elections/{setup.election.id}"
    assert voter.get(f"{url}/ballot").status_code == 302
    wrong = voter.post(f"{url}/code", data={"code": "AAAA-AAAA"})
    assert "We do not know that code" in text(wrong)
    voter.post(f"{url}/code", data={"code": codes[0].lower()})
    ballot = text(voter.get(f"{url}/ballot"))
    assert "Choose up to 2 people" in ballot
    a, b, c = (x.id for x in setup.candidates)
    too_many = voter.post(f"{url}/ballot/confirm", data={"choice": [a, b, c]})
    assert too_many.status_code == 400 and "You ticked 3 people" in text(too_many)
    assert ballots() == 0
    confirm = text(voter.post(f"{url}/ballot/confirm", data={"choice": [a, c]}))
    assert "Check your choices" in confirm and "Yes, cast my vote" in confirm
    done = voter.post(f"{url}/ballot/cast", data={"choice": [a, c]})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    receipt = re.search(r'class="voting-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', text(done)).group(1)
    assert "Candidate" not in text(done)
    assert ballots() == 1

    used = text(app.test_client().post(f"{url}/code", data={"code": codes[0]}))
    assert "already been used" in used
    other = make_election(world, title="Willow vote")
    elsewhere = text(app.test_client().post(f"/elections/{other.election.id}/code",
                                            data={"code": codes[1]}))
    assert "different election" in elsewhere

    manager.post(f"{url}/move", data={"action": "close_voting"})
    late = text(app.test_client().post(f"{url}/code", data={"code": codes[1]}))
    assert "Voting has closed" in late
    count_on_the_page(manager, setup.election.id, setup.key)
    manager.post(f"{url}/move", data={"action": "publish"})
    check = text(app.test_client().post(f"{url}/results/check", data={"receipt": receipt}))
    assert "was counted" in check
    check = text(app.test_client().post(f"{url}/results/check", data={"receipt": "XXXX-XXXX"}))
    assert "cannot find" in check


def test_ranked_ballot_with_buttons_and_no_javascript(app, world):
    setup = make_election(world, method=Method.stv, seats=1, candidates=3)
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["service_user"])
    a, b, c = (x.id for x in setup.candidates)
    page = text(client.get(f"{url}/ballot"))
    assert "my 1st choice" in page
    page = text(client.post(f"{url}/ballot", data={"add": b}))
    assert f'name="rank-{b}" value="1"' in page and "my 2nd choice" in page
    page = text(client.post(f"{url}/ballot", data={f"rank-{b}": 1, "add": a}))
    assert f'name="rank-{a}" value="2"' in page
    page = text(client.post(f"{url}/ballot", data={f"rank-{b}": 1, f"rank-{a}": 2,
                                                   "undo": "1"}))
    assert f'name="rank-{a}"' not in page
    gap = client.post(f"{url}/ballot/confirm", data={f"rank-{b}": 1, f"rank-{a}": 3})
    assert gap.status_code == 400 and "without a gap" in text(gap)
    dup = client.post(f"{url}/ballot/confirm", data={f"rank-{b}": 1, f"rank-{a}": 1})
    assert dup.status_code == 400 and "same number" in text(dup)
    confirm = text(client.post(f"{url}/ballot/confirm", data={f"rank-{b}": 1, f"rank-{a}": 2}))
    assert "1st choice: Candidate B Standing" in confirm
    assert "2nd choice: Candidate A Standing" in confirm
    dup_cast = client.post(f"{url}/ballot/cast", data={"choice": [b, b]},
                           follow_redirects=True)
    assert "chosen twice" in text(dup_cast) and ballots() == 0
    client.post(f"{url}/ballot/cast", data={"choice": [b, a]})
    again = text(client.get(f"{url}/ballot"))
    assert "already voted" in again
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    assert db.session.scalars(select(Ballot.choices)).one() == [b, a]
    assert c


def test_assisted_vote_records_the_helper_never_the_choice(app, world):
    setup = make_election(world)
    url = f"/elections/{setup.election.id}"
    staff = signed_in(app, world.people["staff"])
    voter = world.people["service_user"]
    page = text(staff.get(f"{url}/assist"))
    assert f"Open the ballot for {voter.full_name}" in page
    ballot = text(staff.post(f"{url}/assist", data={"person_id": voter.id},
                             follow_redirects=True))
    assert f"{voter.full_name} is voting" in ballot and "step back" in ballot
    choice = setup.candidates[1].id
    staff.post(f"{url}/ballot/cast", data={"choice": choice})
    entry = setup.entry(voter)
    assert entry.voted and entry.channel.value == "assisted"
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.like("election.assisted%"))).all()
    assert {e.action for e in events} == {"election.assisted_ballot_opened",
                                          "election.assisted_vote"}
    assert all(e.actor_id == world.people["staff"].id and e.subject_id == voter.id
               for e in events)
    assert all(str(choice) not in str(e.details) for e in events)
    # The staff member's own ballot page is theirs again (staff are not on the roll).
    assert "not on the roll" in text(staff.get(f"{url}/ballot"))
    again = text(staff.post(f"{url}/assist", data={"person_id": voter.id},
                            follow_redirects=True))
    assert "already voted" in again


def test_voting_before_opening_and_when_not_on_the_roll(app, world):
    setup = make_election(world, status=Status.nominations_closed)
    url = f"/elections/{setup.election.id}"
    su = signed_in(app, world.people["service_user"])
    assert "not opened yet" in text(su.get(f"{url}/ballot"))
    assert "not opened yet" in text(su.post(f"{url}/ballot/cast",
                                            data={"choice": setup.candidates[0].id}))
    family = signed_in(app, world.people["family"])
    open_one = make_election(world, title="Open one")
    page = text(family.get(f"/elections/{open_one.election.id}/ballot"))
    assert "not on the roll" in page
    assert ballots() == 0


def test_paper_batches_on_the_page(app, world):
    setup = make_election(world, seats=1)
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["manager"])
    client.post(f"{url}/roll/paper", data={"person_id": world.people["service_user"].id})
    response = client.post(f"{url}/paper", data={"declared": 2, "ballots": "1\n2"},
                           follow_redirects=True)
    assert "does not reconcile" in text(response) and ballots() == 0
    response = client.post(f"{url}/paper", data={"declared": 1, "ballots": "2"},
                           follow_redirects=True)
    assert "Reconciled" in text(response) and ballots() == 1
    again = client.post(f"{url}/roll/paper", data={"person_id": world.people["service_user"].id},
                        follow_redirects=True)
    assert "already voted" in text(again)


def test_ballot_export_is_a_blt_file(app, world):
    from involve.elections import services

    setup = make_election(world, method=Method.stv)
    a, b, _ = setup.candidates
    vote(setup, world.people["service_user"], [a.id, b.id])
    vote(setup, world.ambassador, [b.id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=5)
    db.session.commit()
    response = signed_in(app, world.people["manager"]).get(
        f"/elections/{setup.election.id}/ballots.blt")
    body = text(response)
    assert body.splitlines()[0] == "3 1"
    assert '"Candidate A Standing"' in body


def test_organisation_wide_election_is_open_to_every_service(app, world):
    board = world.people["admin"]
    from involve.people.models import Role
    from tests.elections.helpers import organisation_wide_election
    from tests.factories import grant

    grant(board, Role.board, None)
    election, size = organisation_wide_election(world, board)
    home_su, away_su = world.people["service_user"], world.outsiders["service_user"]
    assert size == 3  # both services' service users and the ambassador
    for person in (home_su, away_su, world.outsiders["family"]):
        page = signed_in(app, person).get(f"/elections/{election.id}")
        assert page.status_code == 200
    assert signed_in(app, world.people["partner"]).get(
        f"/elections/{election.id}").status_code == 403
    assert signed_in(app, world.people["manager"]).post(
        f"/elections/{election.id}/move", data={"action": "close_voting"}).status_code == 403
    client = signed_in(app, away_su)
    client.post(f"/elections/{election.id}/ballot/cast",
                data={"choice": election.candidates[0].id})
    assert ballots() == 1


def test_a_code_ballot_closes_when_left_or_left_too_long(app, world):
    from involve.elections import services
    from involve.elections.views import VOTER_PASS

    setup = make_election(world)
    url = f"/elections/{setup.election.id}"
    codes = [code for _, code in services.issue_voting_codes(setup.election,
                                                              by=setup.manager)]
    db.session.commit()
    tablet = app.test_client()
    tablet.post(f"{url}/code", data={"code": codes[0]})
    assert "This is not me" in text(tablet.get(f"{url}/ballot"))
    left = tablet.post(f"{url}/ballot/leave", follow_redirects=True)
    assert "Nothing was cast" in text(left)
    assert tablet.get(f"{url}/ballot").status_code == 302
    tablet.post(f"{url}/code", data={"code": codes[1]})
    with tablet.session_transaction() as session:
        session[VOTER_PASS] = {**session[VOTER_PASS], "at": 0}
    stale = tablet.post(f"{url}/ballot/cast", data={"choice": setup.candidates[0].id})
    assert "left open too long" in text(stale)
    assert ballots() == 0


def _printed_numbers(page: str) -> list[tuple[int, str]]:
    """(number, name) of each candidate on a printed paper ballot, top to bottom."""
    return [(int(n), name) for n, name in re.findall(
        r'<span class="visually-hidden">Number </span>(\d+)</span>.*?'
        r'<span class="ballot-name">([^<]+)</span>', page, re.S)]


def test_paper_ballot_numbers_candidates_as_the_batch_entry_reads_them(app, world):
    from involve.elections import services
    from involve.extensions import utcnow

    setup = make_election(world, seats=2)
    first, second, third = setup.candidates
    second.easy_read = "I will listen to you."
    second.photo, second.has_photo, second.photo_consent_at = b"jpeg", True, utcnow()
    third.photo, third.has_photo = b"jpeg", True  # no consent recorded: no photo on paper
    db.session.commit()
    url = f"/elections/{setup.election.id}"
    client = signed_in(app, world.people["manager"])
    page = text(client.get(f"{url}/paper/ballot"))
    assert "<h1 id=\"paper-ballot-title\">Rose Court ambassador election</h1>" in page
    assert 'class="paper-ballot large-print"' in page and "data-print" in page
    assert ("Put a tick in the box next to the person you choose. "
            "You can choose up to 2 people.") in page
    assert "Do not write your name on this paper." in page
    assert "I will listen to you." in page
    assert page.count('class="paper-box"') == 3
    assert f"/elections/candidates/{second.id}/photo" in page
    assert f"/elections/candidates/{third.id}/photo" not in page
    numbers = _printed_numbers(page)
    assert numbers == [(1, first.person.full_name), (2, second.person.full_name),
                       (3, third.person.full_name)]
    # The count clerk types the printed number; it must mean the same candidate.
    for number, name in numbers:
        (choices,) = services.parse_paper_lines(setup.election, str(number))
        candidate = next(c for c in setup.candidates if c.id == choices[0])
        assert candidate.person.full_name == name
    # A ballot paper names candidates only: never anyone on the roll, nor who voted how.
    standing = {c.person_id for c in setup.candidates}
    voters = db.session.scalars(select(RollEntry).where(
        RollEntry.election_id == setup.election.id)).all()
    assert len(voters) > len(standing)
    for entry in voters:
        if entry.person_id not in standing:
            assert entry.person.full_name not in page
    # Linked from the election page and the paper voting page, for those who run it.
    assert f"{url}/paper/ballot" in text(client.get(url))
    assert f"{url}/paper/ballot" in text(client.get(f"{url}/paper"))
    for role in ("staff", "service_user", "family"):
        other = signed_in(app, world.people[role])
        assert other.get(f"{url}/paper/ballot").status_code == 403
        assert f"{url}/paper/ballot" not in text(other.get(url))


def test_paper_ballot_words_for_each_method_and_only_standing_candidates(app, world):
    from involve.elections import services

    ranked = make_election(world, method=Method.stv, seats=1, status=Status.nominations_closed)
    services.withdraw(ranked.candidates[0], by=world.people["manager"])
    db.session.commit()
    client = signed_in(app, world.people["manager"])
    page = text(client.get(f"/elections/{ranked.election.id}/paper/ballot"))
    assert "Write 1 next to your first choice, 2 next to your second, and so on." in page
    assert "can still change until voting opens" in page
    assert _printed_numbers(page) == [(1, ranked.candidates[1].person.full_name),
                                      (2, ranked.candidates[2].person.full_name)]

    approval = make_election(world, method=Method.approval, title="Approval election")
    page = text(client.get(f"/elections/{approval.election.id}/paper/ballot"))
    assert "Put a tick in the box next to each person you choose." in page
    assert "as many people as you like" in page
    assert "can still change" not in page

    draft = make_election(world, status=Status.draft, title="Not started")
    page = text(client.get(f"/elections/{draft.election.id}/paper/ballot"))
    assert "Nobody is standing yet" in page and "data-print" not in page


def test_the_markdown_editors_say_how_markdown_works(app, world):
    from involve.text import EDITOR_HINT

    setup = make_election(world, status=Status.nominations_open)
    client = signed_in(app, world.people["manager"])
    page = text(client.get("/elections/new"))
    assert "A few sentences about what ambassadors do. " + EDITOR_HINT in page
    page = text(client.get(f"/elections/candidates/{setup.candidates[0].id}/edit"))
    assert f'<p class="hint" id="statement-hint">{EDITOR_HINT}</p>' in page
