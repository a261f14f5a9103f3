"""Background work for elections: the stages on their dates, reminders to offer help, and
telling people the results."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import date

from flask import current_app, has_request_context, url_for

from involve import mail
from involve.elections import services
from involve.elections.models import Election, ElectionsError, Status
from involve.elections.queries import waiting_voters
from involve.elections.services import mailable, notice_recipients
from involve.extensions import app_config, db, huey, with_app_context
from involve.kernel import clock
from involve.kernel.clock import crontab
from involve.people.models import Person, Role
from involve.scheduling import claim, periodic_task, unclaim

#: Claims: one per election, move and date (a move by date happens once, so a manager who
#: moves the election back by hand is not overruled), and one per notice and recipient.
DATED_MOVE = "elections.dated_move"
NOT_MOVED = "elections.not_moved"
HELP_REMINDER = "elections.help_reminder"

MOVE_WORDS = {"open_nominations": "open nominations", "close_nominations": "close nominations",
              "open_voting": "open voting", "close_voting": "close voting"}


@periodic_task(crontab(minute="*/15"))
def move_elections_on_their_dates() -> int:
    """Every quarter of an hour: open and close nominations and voting on their dates."""
    return move_on_dates()


def move_on_dates(today: date | None = None) -> int:
    """Make every move the elections' dates call for; returns how many were made.

    A move that cannot be made (voting is due but the ballot box key was never typed back) is
    not made: the people running the election are told in plain words, once a day, and it is
    tried again at the next run.
    """
    today = today or clock.today()
    moved = 0
    for election_id in services.elections_due(today):
        election = db.session.get(Election, election_id)
        due = services.due_move(election, today)
        if due is None:
            continue
        action, day = due
        key = f"{election.id}:{action}:{day.isoformat()}"
        if not claim(DATED_MOVE, key):
            continue  # made once already (a manager may have moved it back since)
        try:
            services.move_on_date(election, action)
            db.session.commit()
        except ElectionsError as error:
            db.session.rollback()
            unclaim(DATED_MOVE, key)  # it may still be made today, once put right
            _tell_runners(db.session.get(Election, election_id), action, str(error), today)
            continue
        except Exception:
            db.session.rollback()
            unclaim(DATED_MOVE, key)  # not made (the database was busy): the next run tries
            raise
        moved += 1
    return moved


def _tell_runners(election: Election, action: str, reason: str, today: date) -> int:
    sent = 0
    with _request_context():
        link = _link("elections.election", election_id=election.id)
        for person in services.election_runners(election):
            message = _message(person, "elections/mail/not_moved",
                               f"{election.title}: could not {MOVE_WORDS[action]} today",
                               election=election, action=MOVE_WORDS[action], reason=reason,
                               link=link)
            sent += _send_once(NOT_MOVED, f"{today.isoformat()}:{election.id}:{action}:"
                               f"{person.id}", message)
    return sent


@periodic_task(crontab(hour="9", minute="30"))
def remind_staff_to_offer_help() -> int:
    """Every morning while voting is open: ask staff to offer help to those not yet voted."""
    return help_reminders()


def help_reminders(today: date | None = None) -> int:
    """Email the staff and managers of each election with voting open the names of those who
    have not voted yet (names only: never how anyone voted), with a link to a printable list.
    Each person at most once a day for each election. Returns how many messages went."""
    today = today or clock.today()
    sent = 0
    elections = db.session.scalars(db.select(Election).where(
        Election.status == Status.voting_open).order_by(Election.id)).all()
    with _request_context():
        for election in elections:
            waiting = waiting_voters(election)
            if not waiting:
                continue
            links = {"list": _link("elections.not_voted", election_id=election.id),
                     "assist": _link("elections.assist", election_id=election.id)}
            helpers = services.election_helpers(election)
            homes = services.services_held([e.person_id for e in waiting], [Role.service_user])
            scopes = services.services_held([p.id for p in helpers], [Role.staff, Role.manager])
            for person in helpers:
                # Each is asked about the people of their own services (all, for an
                # organisation-wide role): in an organisation-wide election, not everyone's.
                mine = scopes.get(person.id, set())
                names = [e.person.full_name for e in waiting
                         if None in mine or homes.get(e.person_id, set()) & (mine | {None})]
                if not names:
                    continue
                message = _message(person, "elections/mail/offer_help",
                                   f"{election.title}: {len(names)} "
                                   f"{'person has' if len(names) == 1 else 'people have'} "
                                   "not voted yet", election=election, names=names, **links)
                sent += _send_once(HELP_REMINDER, f"{today.isoformat()}:{election.id}:"
                                   f"{person.id}", message)
    return sent


def _message(person: Person, template: str, subject: str, **context: object):
    address = mailable(person)
    if address is None:
        return None  # no account in use: they see it in Involve
    return mail.render_message(template, to=address, subject=subject, person=person,
                               **context)


def _send_once(task: str, key: str, message) -> int:
    """Record a message before it goes (a retry never sends it twice); give the record back
    if it could not be sent, so a later run tries again."""
    if message is None or not claim(task, key):
        return 0
    if mail.send_each([message]):
        return 1
    unclaim(task, key)
    return 0


def _link(endpoint: str, **values: object) -> str:
    return app_config("BASE_URL").rstrip("/") + url_for(endpoint, **values)


@huey.task()
@with_app_context
def send_results_notices(election_id: int) -> int:
    """Email the electorate, their families and the board that results are published.

    Only people whose account is in use are emailed (see :func:`services.mailable`); the rest
    see the results on their home page. Returns how many messages were sent.
    """
    election = db.session.get(Election, election_id)
    if election is None or election.results_published_at is None:
        return 0
    messages = []
    # Templates expect a request (display preferences, the signed-in actor); a worker has none.
    with _request_context():
        results_url = _link("elections.results", election_id=election.id)
        for person in notice_recipients(election):
            message = _message(person, "elections/mail/results", f"Results: {election.title}",
                               election=election, results_url=results_url)
            if message is not None:
                messages.append(message)
    if messages:
        mail.send(messages)
    return len(messages)


def _request_context() -> AbstractContextManager:
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=app_config("BASE_URL"))
