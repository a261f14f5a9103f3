"""The key pages run a fixed number of SQL statements and send a bounded page, whatever the
organisation's size.

Each key page (every demo role's home page, a meeting, a ballot, a newsletter issue, the
board's queue, the people list, the election roll, the public archive, the services,
elections and newsletters lists) is opened on the demo organisation as `flask demo` builds
it, then on one built with ``--scale`` (extra services of 100 people, each with its meetings,
election and roll, feedback, newsletters and vacancy, written in bulk), then again once
``--scale`` has doubled it. The statements must be the same number at every size and within
the page's budget, so a new N+1 (one statement per person, per row, per panel) fails here;
and the two larger sizes must send pages of the same size, so a list that is not paginated in
SQL fails too. ``benchmarks/pages.py`` measures speed.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import or_, select
from werkzeug.security import generate_password_hash

import involve.people.models
from involve.elections.models import Election, Status
from involve.extensions import db, utcnow
from involve.meetings.models import Meeting, MeetingSeries, SeriesKind
from involve.meetings.services import schedule_meeting
from involve.newsletters.models import Issue, IssueStatus
from involve.people.models import Organisation, Person, Service, User
from tests.conftest import _empty_database, count_queries, login

# The most statements each page may run (what it runs today; lower it when a page gets
# cheaper, never raise it for a list that grows).
BUDGET = {
    "home (admin)": 22,  # the service switcher: a link, not every service
    "home (manager)": 25,
    "home (staff)": 16,
    "home (board)": 18,
    "home (family)": 16,
    "home (partner)": 14,
    "home (ada)": 18,
    "a meeting": 7,
    "a ballot": 9,
    "a newsletter issue": 5,
    "board feedback queue": 10,  # counts, a page of items, answer times, words as allowed
    "people list": 8,  # one more for the ambassador terms in force, all in one statement
    "election roll": 8,
    "public archive": 2,
    "services list": 5,
    "elections list": 5,
    "newsletters list": 8,
    "meetings list": 9,  # series and services "you said" a page each, coming meetings
    "add a person": 4,
    "feedback settings": 6,
    "give feedback: choose": 2,
    "board meeting attendance": 9,
    "board meeting agenda print": 9,
    "board meeting new item": 6,
    "plan a board meeting": 7,
    "new election": 4,
    "new meeting series": 4,
    "new briefing": 4,
    "new newsletter issue": 4,
}
ROLES = {"admin": "admin@brookfield.example", "manager": "manager@brookfield.example",
         "staff": "staff@brookfield.example", "board": "board@brookfield.example",
         "family": "family@brookfield.example", "partner": "partner@brookfield.example",
         "ada": "ada"}
LARGER = 30  # extra services (100 people each): more than any list shows on a page
# Pages of the two larger sizes may differ this much: names and counts are not all as long.
SLACK_BYTES = 400


def _load_demo(app, scale: int) -> Organisation:
    result = app.test_cli_runner().invoke(args=["demo", "--scale", str(scale)])
    assert result.exit_code == 0, result.output
    return db.session.scalar(select(Organisation).where(Organisation.name == "Brookfield Care"))


def _board_meeting(org: Organisation) -> Meeting:
    """A new board meeting, which invites every ambassador of the organisation (one for each
    extra service), as a board would plan one."""
    series = db.session.scalar(select(MeetingSeries).where(
        MeetingSeries.organisation_id == org.id, MeetingSeries.kind == SeriesKind.board))
    board = db.session.scalar(select(User).where(User.email == ROLES["board"])).person
    starts_at = utcnow() + timedelta(days=30)
    meeting = schedule_meeting(series, starts_at=starts_at,
                               ends_at=starts_at + timedelta(hours=2), room="Boardroom",
                               chair=board, by=board)
    db.session.commit()
    return meeting


def _key_pages(org: Organisation) -> list[tuple[str, str, str | None]]:
    rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
    meeting = db.session.scalar(select(Meeting).where(Meeting.service_id == rose.id)
                                .order_by(Meeting.starts_at.desc()))
    ballot = db.session.scalar(select(Election).where(
        Election.organisation_id == org.id, Election.service_id.is_(None),
        Election.status == Status.voting_open))
    issue = db.session.scalar(select(Issue).where(
        Issue.organisation_id == org.id, Issue.status == IssueStatus.published)
        .order_by(Issue.id))
    board_meeting = _board_meeting(org)
    board, board_series = board_meeting.id, board_meeting.series_id
    pages = [(f"home ({role})", "/", who) for role, who in ROLES.items()]
    return pages + [
        ("a meeting", f"/meetings/{meeting.id}", ROLES["manager"]),
        ("a ballot", f"/elections/{ballot.id}/ballot", ROLES["ada"]),
        ("a newsletter issue", f"/newsletters/issues/{issue.id}", ROLES["family"]),
        ("board feedback queue", "/feedback/board", ROLES["board"]),
        ("people list", "/people", ROLES["admin"]),
        ("election roll", f"/elections/{ballot.id}/roll", ROLES["admin"]),
        ("public archive", f"/newsletters/organisations/{org.id}", None),
        ("services list", "/services", ROLES["admin"]),
        ("elections list", "/elections/", ROLES["admin"]),
        ("newsletters list", "/newsletters/", ROLES["admin"]),
        ("meetings list", "/meetings/", ROLES["admin"]),
        ("add a person", "/people/new", ROLES["admin"]),
        ("feedback settings", "/feedback/settings", ROLES["admin"]),
        ("give feedback: choose", "/feedback/give", None),
        ("board meeting attendance", f"/meetings/{board}/attendance", ROLES["admin"]),
        ("board meeting agenda print", f"/meetings/{board}/agenda/print", ROLES["admin"]),
        ("board meeting new item", f"/meetings/{board}/items/new", ROLES["admin"]),
        ("plan a board meeting", f"/meetings/series/{board_series}/new-meeting",
         ROLES["admin"]),
        ("new election", "/elections/new", ROLES["admin"]),
        ("new meeting series", "/meetings/series/new", ROLES["admin"]),
        ("new briefing", "/feedback/briefings/new", ROLES["board"]),
        ("new newsletter issue", "/newsletters/new", ROLES["admin"]),
    ]


def _client(app, who: str | None):
    """A test client signed in as the demo account ``who`` (None: nobody)."""
    client = app.test_client()
    if who:
        user = db.session.scalar(select(User).where(or_(User.email == who,
                                                        User.username == who)))
        login(client, user.person)
    return client


def _measure(app, org: Organisation) -> dict[str, tuple[int, int]]:
    """Each key page's (SQL statements, response bytes), after a first view."""
    found = {}
    for name, path, who in _key_pages(org):
        client = _client(app, who)
        assert client.get(path).status_code == 200, name  # a first view warms any cache
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200, name
        found[name] = (counter.count, len(response.data))
    return found


@pytest.fixture
def cheap_hash(monkeypatch):
    monkeypatch.setattr(involve.people.models, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))


def _people() -> int:
    return db.session.scalar(select(db.func.count(Person.id)))


def test_key_pages_stay_the_same_in_a_larger_organisation(app, cheap_hash):
    small = _measure(app, _load_demo(app, 0))
    people_small = _people()
    db.session.remove()
    _empty_database()

    large = _measure(app, _load_demo(app, LARGER))
    people_large = _people()
    assert people_large >= people_small + LARGER * 100
    larger = _measure(app, _load_demo(app, 2 * LARGER))
    assert _people() >= people_large + LARGER * 100

    grew = {name: (small[name][0], large[name][0], larger[name][0]) for name in small
            if not small[name][0] == large[name][0] == larger[name][0]}
    assert not grew, f"statements grew with the organisation (demo, larger, twice that): {grew}"
    over = {name: (count, BUDGET[name]) for name, (count, _size) in small.items()
            if count > BUDGET[name]}
    assert not over, f"pages over their statement budget (ran, budget): {over}"
    heavier = {name: (large[name][1], larger[name][1]) for name in large
               if abs(larger[name][1] - large[name][1]) > SLACK_BYTES}
    assert not heavier, f"pages grew with the organisation (bytes, larger, twice that): {heavier}"


def test_key_pages_seen_again_run_one_statement(app, cheap_hash):
    """Kept pages (involve/page_cache.py): the second view of a page, with nothing changed,
    costs the one statement that checks the session and the organisation's data version."""
    from involve import page_cache

    org = _load_demo(app, 0)
    app.config["PAGE_CACHE_SECONDS"] = 60
    page_cache.store().clear()
    try:
        counts = {}
        for name, path, who in _key_pages(org):
            client = _client(app, who)
            client.get(path)  # the first view sets the CSRF token
            client.get(path)  # the second notes the organisations it read
            kept = client.get(path).text  # the third reads their versions first: kept
            db.session.expire_all()
            with count_queries() as counter:
                response = client.get(path)
            assert response.status_code == 200 and response.text == kept, name
            counts[name] = counter.count
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        page_cache.store().clear()
    assert counts == {name: 1 for name in counts}
