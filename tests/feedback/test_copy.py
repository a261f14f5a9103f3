"""The words people read: sentences, not labels glued together."""

from __future__ import annotations

from datetime import date

from involve.extensions import db
from involve.feedback import services
from involve.feedback.models import SubmissionKind
from tests.conftest import login
from tests.feedback.helpers import make_feedback, make_submission


def test_copy_reads_as_sentences(app, world, client):
    """No "freedom to speak up (staff) about", no "menu.: Name", no "0 day(s)"."""
    assert SubmissionKind.speak_up.noun == "freedom to speak up concern"
    login(client, world.people["staff"])
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "speak_up", "theme_id": "0", "body": "Rotas are unsafe."}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "We have your freedom to speak up concern about" in page
    assert "(staff) about" not in page
    item = make_feedback(world)
    services.answer_feedback(item, answer="Yes.", by=world.people["board"], action={
        "we_will": "Change the winter menu.", "owner": world.people["manager"],
        "due_on": date.today()})
    submission = make_submission(world)
    services.acknowledge(submission, by=world.people["manager"])
    db.session.commit()
    login(client, world.people["board"])
    page = client.get(f"/feedback/ambassador/{item.id}").get_data(as_text=True)
    assert "menu.:" not in page and "Change the winter menu." in page
    assert "Owner: " in page and "day(s)" not in page
    assert "the same day it was received" in page
    login(client, world.people["manager"])
    page = client.get(f"/feedback/submissions/{submission.id}").get_data(as_text=True)
    assert "day(s)" not in page and "(the same day it was received)" in page
