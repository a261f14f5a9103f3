"""Permission matrix for the newsletter endpoints."""

import pytest

from involve.extensions import db
from involve.newsletters.bounces import webhook_token
from involve.newsletters.models import IssueImage, IssueStatus
from involve.newsletters.services import image_token, recipient_token
from tests.newsletters.helpers import make_issue
from tests.permission_matrix import ANONYMOUS, EVERYONE, Case, check_case

MANAGERS = {"manager", "admin"}
FAMILY_READERS = {"family", "manager", "admin"}
PUBLIC = {ANONYMOUS}


def draft(world):
    issue = make_issue(world)
    db.session.commit()
    return issue


def published(world):
    issue = make_issue(world, audiences=["families"], status=IssueStatus.published)
    db.session.commit()
    return issue


def picture(world):
    issue = published(world)
    image = IssueImage(issue_id=issue.id, alt_text="A garden", data=b"\xff\xd8jpeg")
    db.session.add(image)
    db.session.commit()
    return image


def _issue(path=""):
    return lambda w, c: f"/newsletters/issues/{c.id}{path}"


CASES = [
    Case("newsletters.index", lambda w, c: "/newsletters/", EVERYONE, away="allow"),
    Case("newsletters.new_issue", lambda w, c: "/newsletters/new", MANAGERS, away="allow"),
    Case("newsletters.edit", _issue("/edit"), MANAGERS, setup=draft),
    Case("newsletters.insert_block", _issue("/blocks"), MANAGERS, method="POST",
         data={"kind": "meetings"}, setup=draft),
    Case("newsletters.upload_image", _issue("/images"), MANAGERS, method="POST", setup=draft),
    Case("newsletters.image", lambda w, c: f"/newsletters/images/{c.id}.jpg", FAMILY_READERS,
         setup=picture),
    Case("newsletters.mail_image",
         lambda w, c: f"/newsletters/mail-images/{image_token(c.id)}.jpg", PUBLIC,
         setup=picture),
    Case("newsletters.issue", _issue(), FAMILY_READERS, setup=published),
    Case("newsletters.print_view", _issue("/print"), FAMILY_READERS, setup=published),
    Case("newsletters.preview", _issue("/preview"), MANAGERS, setup=draft),
    Case("newsletters.preview_email", _issue("/preview/email"), MANAGERS, setup=draft),
    Case("newsletters.test_email", _issue("/test-email"), MANAGERS, method="POST",
         setup=draft),
    Case("newsletters.publish", _issue("/publish"), MANAGERS, method="POST", setup=draft),
    Case("newsletters.unschedule", _issue("/unschedule"), MANAGERS, method="POST",
         setup=draft),
    Case("newsletters.send_issue", _issue("/send"), MANAGERS, method="POST", setup=published),
    Case("newsletters.resume", _issue("/resume"), MANAGERS, method="POST", setup=published),
    Case("newsletters.progress", _issue("/progress"), MANAGERS, setup=published),
    Case("newsletters.progress_json", _issue("/progress.json"), MANAGERS, setup=published),
    Case("newsletters.print_list", _issue("/print-list"), MANAGERS, setup=published),
    Case("newsletters.archive", lambda w, c: f"/newsletters/services/{w.home.slug}", PUBLIC),
    Case("newsletters.organisation_archive", lambda w, c: f"/newsletters/organisations/{w.org.id}",
         PUBLIC),
    Case("newsletters.feed_service", lambda w, c: f"/newsletters/services/{w.home.slug}/feed.atom",
         PUBLIC),
    Case("newsletters.feed_organisation",
         lambda w, c: f"/newsletters/organisations/{w.org.id}/feed.atom", PUBLIC),
    Case("newsletters.subscribe", lambda w, c: f"/newsletters/services/{w.home.slug}/subscribe",
         PUBLIC, method="POST", data={"email": "not an address"}),
    Case("newsletters.confirm", lambda w, c: "/newsletters/confirm/not-a-token", PUBLIC),
    Case("newsletters.unsubscribe",
         lambda w, c: f"/newsletters/unsubscribe/{recipient_token(w.org.id, 'x@example.org')}",
         PUBLIC),
    # A provider posts JSON; a form post reaches the endpoint and is refused as bad input.
    Case("newsletters.bounce_webhook",
         lambda w, c: f"/newsletters/bounces/webhook/{webhook_token(w.org.id)}", PUBLIC,
         method="POST"),
    Case("newsletters.preferences",
         lambda w, c: f"/newsletters/preferences/{recipient_token(w.org.id, 'x@example.org')}",
         PUBLIC),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)
