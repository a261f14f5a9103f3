"""Stages on their dates, reminders to offer help, voting cards at the address in use, and who
is emailed the results: with a real database and a real SMTP server on loopback."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.elections import services, tasks
from involve.elections.models import Election, Method, Status
from involve.extensions import db
from involve.people.models import PersonStatus, Role
from involve.scheduling import ScheduledRun
from tests.elections.helpers import make_election, organisation_wide_election, vote
from tests.elections.test_views import signed_in, text
from tests.factories import link_family, make_person
from tests.meetings.helpers import plain_text

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)


def fresh(election_id: int) -> Election:
    db.session.expire_all()
    return db.session.get(Election, election_id)


def dated_moves() -> list[dict]:
    return [e.details | {"actor": e.actor_id} for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "election.moved")
        .order_by(AuditEvent.id))]


def test_nominations_open_and_close_on_their_dates_once_each(app, world):
    setup = make_election(world, status=Status.draft)
    election = setup.election
    services.update_election(election, by=setup.manager, nominations_open_on=YESTERDAY,
                             nominations_close_on=YESTERDAY)
    db.session.commit()
    assert tasks.move_on_dates(YESTERDAY) == 1  # the day they open
    assert fresh(election.id).status is Status.nominations_open
    assert tasks.move_on_dates(YESTERDAY) == 0  # still that day: they close at its end
    assert tasks.move_on_dates(TODAY) == 1
    assert fresh(election.id).status is Status.nominations_closed
    # Audited like a move by hand, with no person behind it.
    assert [(m["before"], m["after"], m["actor"], m.get("on_its_date")) for m in dated_moves()] \
        == [("draft", "nominations_open", None, True),
            ("nominations_open", "nominations_closed", None, True)]
    # The manager may still move it by hand: reopened nominations stay open.
    services.open_nominations(fresh(election.id), by=setup.manager)
    db.session.commit()
    assert tasks.move_on_dates(TODAY) == 0
    assert fresh(election.id).status is Status.nominations_open


def test_the_periodic_task_claims_its_due_time(app, world):
    setup = make_election(world, status=Status.draft)
    services.update_election(setup.election, by=setup.manager, nominations_open_on=TODAY)
    db.session.commit()
    assert tasks.move_elections_on_their_dates.call_local() == 1
    assert fresh(setup.election.id).status is Status.nominations_open
    assert db.session.scalar(select(func.count()).where(
        ScheduledRun.task == "involve.elections.tasks.move_elections_on_their_dates")) == 1


def test_voting_does_not_open_on_its_date_without_the_key_and_managers_are_told(
        app, world, smtp_server):
    setup = make_election(world, status=Status.nominations_closed, candidates=3)
    election = setup.election
    services.update_election(election, by=setup.manager, voting_opens_on=TODAY)
    db.session.commit()
    assert tasks.move_on_dates(TODAY) == 0
    assert fresh(election.id).status is Status.nominations_closed
    messages = smtp_server.wait_for(1)
    assert [m["To"] for m in messages] == [setup.manager.user.email]
    words = plain_text(messages[0])
    assert "could not open voting today" in messages[0]["Subject"]
    assert "the ballot box key card has not been made" in words
    assert f"/elections/{election.id}" in words
    # Tried again at every run, but told once a day.
    assert tasks.move_on_dates(TODAY) == 0
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1
    # A card is made but its key never typed back: still closed.
    services.make_ballot_box(fresh(election.id), by=setup.manager)
    db.session.commit()
    assert tasks.move_on_dates(TODAY) == 0
    assert fresh(election.id).status is Status.nominations_closed


def test_voting_opens_on_its_date_once_the_key_was_typed_back_ahead(app, world):
    setup = make_election(world, status=Status.nominations_closed, candidates=3)
    election_id = setup.election.id
    client = signed_in(app, setup.manager)
    client.post(f"/elections/{election_id}/edit", data={
        "title": setup.election.title, "service_id": world.home.id, "seats": 1,
        "term_months": 12, "method": "block", "ballot_order": "alphabetical",
        "voting_opens_on": (TODAY + timedelta(days=3)).isoformat()})
    assert fresh(election_id).voting_opens_on == TODAY + timedelta(days=3)
    card = text(client.post(f"/elections/{election_id}/ballot-box"))
    key = re.search(r'class="key-text">([A-Z2-7 ]+)<', card).group(1)
    assert "voting opens by itself at the start of" in card and "Check the key" in card
    # Left before typing it back, the election page leads back to typing it, not a new card.
    page = text(client.get(f"/elections/{election_id}"))
    assert "Open voting: type back the key from the card" in page
    assert "Check the key" in text(client.get(f"/elections/{election_id}/open-voting"))
    # A wrong key confirms nothing.
    wrong = text(client.post(f"/elections/{election_id}/open-voting",
                             data={"key": key[:-4] + "AAAA"}))
    assert "not the key of this ballot box" in wrong
    assert fresh(election_id).ballot_box_confirmed_at is None
    page = text(client.post(f"/elections/{election_id}/open-voting", data={"key": key},
                            follow_redirects=True))
    assert "The key is right. Voting opens by itself on" in page
    election = fresh(election_id)
    assert election.status is Status.nominations_closed and election.ballot_box_confirmed_at
    assert "Open voting now" in page
    assert tasks.move_on_dates(TODAY) == 0  # not its day yet
    assert tasks.move_on_dates(TODAY + timedelta(days=3)) == 1
    election = fresh(election_id)
    assert election.status is Status.voting_open
    assert services.roll_entry_for(election, world.people["service_user"]).eligible
    # A new card replaces the confirmed key: it must be typed back again.
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "election.ballot_box_confirmed")) == 1


def test_opening_by_hand_after_confirming_the_key(app, world):
    setup = make_election(world, status=Status.nominations_closed, candidates=3)
    client = signed_in(app, setup.manager)
    url = f"/elections/{setup.election.id}"
    refused = text(client.post(f"{url}/move", data={"action": "open_voting"},
                               follow_redirects=True))
    assert "has not been made" in refused
    assert fresh(setup.election.id).status is Status.nominations_closed
    key = services.make_ballot_box(fresh(setup.election.id), by=setup.manager)
    db.session.commit()
    refused = text(client.post(f"{url}/move", data={"action": "open_voting"},
                               follow_redirects=True))
    assert "has not been typed back yet" in refused
    services.confirm_ballot_box(fresh(setup.election.id), key, by=setup.manager)
    db.session.commit()
    opened = text(client.post(f"{url}/move", data={"action": "open_voting"},
                              follow_redirects=True))
    assert "Voting is open" in opened
    assert fresh(setup.election.id).status is Status.voting_open


def test_voting_closes_at_the_end_of_its_day(app, world):
    setup = make_election(world, status=Status.voting_open)
    election = setup.election
    election.voting_closes_on = YESTERDAY
    db.session.commit()
    assert tasks.move_on_dates(YESTERDAY) == 0
    assert tasks.move_on_dates(TODAY) == 1
    assert fresh(election.id).status is Status.voting_closed
    assert dated_moves()[-1]["after"] == "voting_closed"
    assert dated_moves()[-1]["actor"] is None


def test_dates_in_the_wrong_order_are_refused_and_nothing_changes(app, world):
    setup = make_election(world, status=Status.draft)
    client = signed_in(app, setup.manager)
    response = client.post(f"/elections/{setup.election.id}/edit", data={
        "title": "Changed title", "service_id": world.home.id, "seats": 1, "term_months": 12,
        "method": "block", "ballot_order": "alphabetical",
        "nominations_open_on": TODAY.isoformat(),
        "nominations_close_on": YESTERDAY.isoformat()}, follow_redirects=True)
    assert "nominations open, then close" in text(response)
    election = fresh(setup.election.id)
    assert election.title == "Rose Court ambassador election"
    assert election.nominations_open_on is None and election.nominations_close_on is None


def test_staff_are_reminded_to_offer_help_with_names_only(app, world, smtp_server):
    setup = make_election(world, status=Status.voting_open)
    voted, waiting = world.people["service_user"], world.ambassador
    vote(setup, voted, [setup.candidates[0].id])
    assert tasks.help_reminders(TODAY) == 2  # the home staff member and manager
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == sorted(
        [world.people["staff"].user.email, world.people["manager"].user.email])
    words = plain_text(messages[0])
    assert waiting.full_name in words and voted.full_name not in words
    assert f"/elections/{setup.election.id}/not-voted" in words
    assert tasks.help_reminders(TODAY) == 0  # once a day
    assert tasks.remind_staff_to_offer_help.call_local() == 0
    assert len(smtp_server.wait_for(3, timeout=0.5)) == 2
    # The printable list: names only, for those who may help in this service.
    page = text(signed_in(app, world.people["staff"]).get(
        f"/elections/{setup.election.id}/not-voted"))
    assert waiting.full_name in page and voted.full_name not in page
    assert "never how anyone voted" in page
    assert signed_in(app, world.outsiders["staff"]).get(
        f"/elections/{setup.election.id}/not-voted").status_code in (403, 404)


def test_voting_cards_link_to_the_address_in_use(app, world):
    setup = make_election(world, status=Status.voting_open)
    client = signed_in(app, setup.manager)
    # The tablet reaches the server at its address on the care home's network.
    name = app.config.get("SESSION_COOKIE_NAME", "session")
    client.set_cookie(name, client.get_cookie(name).value, domain="192.168.1.20")
    page = text(client.post(f"/elections/{setup.election.id}/cards",
                            base_url="http://192.168.1.20:8000"))
    link = f"http://192.168.1.20:8000/elections/{setup.election.id}/code"
    assert f"<strong>{link}</strong>" in page
    assert "http://localhost" not in page


def test_results_are_emailed_only_to_accounts_in_use(app, world, smtp_server):
    setup = make_election(world, status=Status.voting_open)
    su = world.people["service_user"]
    vote(setup, su, [setup.candidates[0].id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    invited = make_person(world.org, "Never Set Up", roles=[(Role.family, world.home)])
    invited.user.password_hash = None  # an invitation never taken up
    link_family(invited, su)
    deactivated = make_person(world.org, "Account Stopped", roles=[(Role.family, world.home)])
    deactivated.user.set_password("an old password 123")
    deactivated.user.password_hash = None  # set up once, then deactivated
    link_family(deactivated, su)
    left = make_person(world.org, "Has Left", roles=[(Role.family, world.home)])
    left.status = PersonStatus.left
    link_family(left, su)
    db.session.commit()
    client = signed_in(app, setup.manager)
    client.post(f"/elections/{setup.election.id}/move", data={"action": "publish"})
    to = {m["To"] for m in smtp_server.wait_for(1)}
    assert su.user.email in to and world.people["family"].user.email in to
    assert not to & {invited.user.email, deactivated.user.email, left.user.email}


def test_ambassador_terms_won_show_on_the_person_page_and_the_people_list(app, world):
    setup = make_election(world, status=Status.voting_open)
    vote(setup, world.people["service_user"], [setup.candidates[1].id])
    services.close_voting(setup.election, by=setup.manager)
    services.count_votes(setup.election, setup.key, by=setup.manager, seed=1)
    starts = TODAY - timedelta(days=30)
    services.publish_results(setup.election, by=setup.manager, on=starts)
    db.session.commit()
    winner = setup.candidates[1].person
    ends = services._add_months(starts, 12) - timedelta(days=1)
    client = signed_in(app, world.people["manager"])
    page = text(client.get(f"/people/{winner.id}"))
    assert "Ambassador for" in page and "In this term now" in page

    def day(d: date) -> str:
        return d.strftime("%A %-d %B %Y")

    assert day(starts) in page and day(ends) in page
    listed = text(client.get("/people", query_string={"q": winner.full_name}))
    assert f"<strong>Ambassador</strong> (Rose Court), {day(starts)} to {day(ends)}" in listed
    # Those not elected have no term.
    loser = setup.candidates[0].person
    assert "Ambassador for" not in text(client.get(f"/people/{loser.id}"))
    # A term that has ended stays on the person's page, and leaves the list.
    from involve.people.models import AmbassadorTerm

    term = db.session.scalars(select(AmbassadorTerm).where(
        AmbassadorTerm.person_id == winner.id)).one()
    term.ends_on = YESTERDAY
    db.session.commit()
    assert "Ended" in text(client.get(f"/people/{winner.id}"))
    listed = text(client.get("/people", query_string={"q": winner.full_name}))
    assert "<strong>Ambassador</strong>" not in listed


def test_a_reminder_that_could_not_be_sent_is_sent_at_the_next_run(app, world, smtp_server):
    make_election(world, status=Status.voting_open)
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens: the mail server is down
    try:
        assert tasks.help_reminders(TODAY) == 0
    finally:
        app.config["MAIL_PORT"] = port
    assert db.session.scalar(select(func.count()).where(
        ScheduledRun.task == tasks.HELP_REMINDER)) == 0
    assert tasks.help_reminders(TODAY) == 2
    assert len(smtp_server.wait_for(2)) == 2


def test_in_an_organisation_wide_election_staff_hear_about_their_own_services(
        app, world, smtp_server):
    organisation_wide_election(world, world.people["board"])
    home_su, away_su = world.people["service_user"], world.outsiders["service_user"]
    assert tasks.help_reminders(TODAY) == 4  # staff and manager of each service
    by_address = {m["To"]: plain_text(m) for m in smtp_server.wait_for(4)}
    home = by_address[world.people["staff"].user.email]
    away = by_address[world.outsiders["staff"].user.email]
    assert home_su.full_name in home and away_su.full_name not in home
    assert away_su.full_name in away and home_su.full_name not in away


def test_the_printable_list_names_only_the_people_of_the_helpers_own_services(app, world):
    election, _ = organisation_wide_election(world, world.people["board"])
    home_su, away_su = world.people["service_user"], world.outsiders["service_user"]
    url = f"/elections/{election.id}"
    everywhere = make_person(world.org, "Wendy Everywhere", roles=[(Role.manager, None)])
    db.session.commit()
    for person, shown, hidden in (
            (world.people["staff"], [home_su], [away_su]),
            (world.people["manager"], [home_su], [away_su]),
            (world.outsiders["staff"], [away_su], [home_su]),
            (everywhere, [home_su, away_su], [])):
        client = signed_in(app, person)
        for path in ("not-voted", "assist"):
            page = text(client.get(f"{url}/{path}"))
            for voter in shown:
                assert voter.full_name in page, (person.full_name, path)
            for voter in hidden:
                assert voter.full_name not in page, (person.full_name, path)
    # Nor can a helper open the ballot of someone of another service by posting their id.
    staff = signed_in(app, world.people["staff"])
    assert staff.post(f"{url}/assist", data={"person_id": away_su.id}).status_code == 404
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "election.assisted_ballot_opened")) == 0


def test_two_workers_move_and_remind_once_each_and_each_organisation_its_own(
        app, world, smtp_server):
    """The worst case: two workers run the same work at once (a retry, or a second worker
    whose due time differs). Each move is made once and each helper is emailed once, and
    nobody hears of another organisation's voters."""
    import threading

    from tests.factories import make_org, make_service

    make_election(world, status=Status.voting_open)
    draft = make_election(world, status=Status.draft, title="Dated")
    services.update_election(draft.election, by=draft.manager, nominations_open_on=TODAY)
    org = make_org("Elsewhere Trust")
    lodge = make_service(org, "Elsewhere Lodge")
    their_manager = make_person(org, "Their Manager", roles=[(Role.manager, lodge)])
    their_voter = make_person(org, "Their Voter", roles=[(Role.service_user, lodge)])
    theirs = services.create_election(organisation_id=org.id, service_id=lodge.id,
                                      title="Lodge vote", seats=1, method=Method.block,
                                      by=their_manager)
    services.open_nominations(theirs, by=their_manager)
    for n in (1, 2):
        services.nominate(theirs, make_person(org, f"Their Candidate {n}", roles=[
            (Role.service_user, lodge)]), by=their_manager, consent=True, on_behalf=True)
    services.close_nominations(theirs, by=their_manager)
    services.open_voting(theirs, services.make_ballot_box(theirs, by=their_manager),
                         by=their_manager)
    their_draft = services.create_election(organisation_id=org.id, service_id=lodge.id,
                                           title="Lodge dated", seats=1, method=Method.block,
                                           by=their_manager, nominations_open_on=TODAY)
    db.session.commit()
    start = threading.Barrier(2)
    results: list[tuple[int, int]] = []

    def worker() -> None:
        with app.app_context():
            start.wait()
            results.append((tasks.move_on_dates(TODAY), tasks.help_reminders(TODAY)))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(moved for moved, _ in results) == 2  # one dated move in each organisation
    assert sum(sent for _, sent in results) == 3  # home staff and manager, their manager
    messages = smtp_server.wait_for(4, timeout=1)
    assert len(messages) == 3
    by_address = {m["To"]: plain_text(m) for m in messages}
    assert their_voter.full_name in by_address[their_manager.user.email]
    for person in (world.people["staff"], world.people["manager"]):
        assert their_voter.full_name not in by_address[person.user.email]
        assert world.people["service_user"].full_name in by_address[person.user.email]
    assert world.people["service_user"].full_name not in by_address[their_manager.user.email]
    assert fresh(draft.election.id).status is Status.nominations_open
    assert fresh(their_draft.id).status is Status.nominations_open
    assert len([m for m in dated_moves() if m.get("on_its_date")]) == 2
