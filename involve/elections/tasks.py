"""Background work for elections: telling people the results."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask import current_app, has_request_context

from involve import mail
from involve.elections.models import Election
from involve.elections.services import notice_recipients
from involve.extensions import app_config, db, huey, with_app_context


@huey.task()
@with_app_context
def send_results_notices(election_id: int) -> int:
    """Email the electorate, their families and the board that results are published.

    People without an email address see the results on their home page. Returns how many
    messages were sent.
    """
    election = db.session.get(Election, election_id)
    if election is None or election.results_published_at is None:
        return 0
    # Built by hand: a worker has no request to build addresses from.
    results_url = f"{app_config('BASE_URL').rstrip('/')}/elections/{election.id}/results"
    messages = []
    # Templates expect a request (display preferences, the signed-in actor); a worker has none.
    with _request_context():
        _render(election, results_url, messages)
    if messages:
        mail.send(messages)
    return len(messages)


def _request_context() -> AbstractContextManager:
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=app_config("BASE_URL"))


def _render(election: Election, results_url: str, messages: list) -> None:
    for person in notice_recipients(election):
        if person.user is None or not person.user.email:
            continue
        messages.append(mail.render_message(
            "elections/mail/results", to=person.user.email,
            subject=f"Results: {election.title}", election=election, person=person,
            results_url=results_url))
