"""Every state change of newsletters: writing, publishing, sending, subscribing.

Services never commit and never read the request; an illegal move raises a
:class:`~involve.newsletters.models.NewslettersError` with a plain-words message.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from involve import audit
from involve.extensions import db, utcnow
from involve.images import ImageRejected, clean_photo
from involve.kernel.tokens import SignedLink
from involve.newsletters.models import (
    Audience,
    IllegalMove,
    Issue,
    IssueImage,
    IssueStatus,
    MissingAltText,
    NewsletterPreference,
    NewslettersError,
    Subscriber,
    SubscriptionError,
    Suppression,
    SuppressionReason,
    list_key,
    new_link_key,
)
from involve.people.models import Person, Service
from involve.text import images_without_alt

CONFIRM_MAX_AGE = timedelta(days=3)
RECIPIENT_SALT = "newsletters.recipient"


# --- signed links ------------------------------------------------------------------------

CONFIRM_LINK = SignedLink(
    "newsletters.confirm", max_age=CONFIRM_MAX_AGE, error=SubscriptionError,
    expired="This confirmation link has expired. Please ask for a new one.",
    invalid="This confirmation link is not valid. Please check you copied all of it, or ask "
            "for a new one.")


def confirm_token(subscriber: Subscriber) -> str:
    """The link token that confirms a subscription (double opt-in)."""
    return CONFIRM_LINK.make([subscriber.id, subscriber.email])


def link_keys(organisation_id: int, emails: list[str]) -> dict[str, str]:
    """The link key of each address for one organisation's newsletters, made for those that
    have none (insert-if-missing: two workers at once make one key per address)."""
    emails = sorted({e.strip().lower() for e in emails})
    found: dict[str, str] = {}
    for start in range(0, len(emails), 1000):
        chunk = emails[start:start + 1000]
        found.update(db.session.execute(select(
            NewsletterPreference.email, NewsletterPreference.link_key).where(
            NewsletterPreference.organisation_id == organisation_id,
            NewsletterPreference.email.in_(chunk))).all())
        missing = [e for e in chunk if e not in found]
        if missing:
            db.session.execute(_insert_preferences_if_missing([
                dict(organisation_id=organisation_id, email=e, link_key=new_link_key(),
                     stopped_lists=[], wants_print=False, updated_at=utcnow())
                for e in missing]))
            found.update(db.session.execute(select(
                NewsletterPreference.email, NewsletterPreference.link_key).where(
                NewsletterPreference.organisation_id == organisation_id,
                NewsletterPreference.email.in_(missing))).all())
    return found


def _insert_preferences_if_missing(rows: list[dict]):
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(NewsletterPreference.__table__).values(rows).on_conflict_do_nothing(
        index_elements=["organisation_id", "email"])


def recipient_token(organisation_id: int, email: str) -> str:
    """The opaque key in one address's unsubscribe and preferences links for one
    organisation's newsletters: the same in every email, and it never expires."""
    email = email.strip().lower()
    return link_keys(organisation_id, [email])[email]


TEST_KEY = "TEST"
_NOT_VALID = ("This link is not valid. Please check you copied all of it, or use the link "
              "in the newest newsletter email.")
#: The recipient links sent before links had keys: still read, at any age.
RECIPIENT_LINK = SignedLink(RECIPIENT_SALT, format="timed-plain", invalid=_NOT_VALID,
                            error=SubscriptionError)
#: The key in a picture's address in emails (mail clients cannot sign in).
IMAGE_LINK = SignedLink("newsletters.image", format="plain", error=SubscriptionError,
                        invalid="This picture's address is not valid.")


def read_recipient_token(token: str) -> tuple[int | None, str]:
    """The organisation and address a recipient link was made for; raises for a link that
    is not ours. Signed links sent before keys (they carry a dot) still work, at any age:
    their signature proves them ours; those made before links named their organisation give
    None for it."""
    if token == TEST_KEY:
        raise SubscriptionError("This link is in a test email, so it does nothing. The real "
                                "newsletter's links work for each reader.")
    if "." not in token:
        found = db.session.execute(select(
            NewsletterPreference.organisation_id, NewsletterPreference.email).where(
            NewsletterPreference.link_key == token)).first()
        if found is None:
            raise SubscriptionError(_NOT_VALID)
        return found[0], found[1]
    payload = RECIPIENT_LINK.read(token)
    try:
        organisation, _, encoded = payload.rpartition(".")
        email = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        return (int(organisation) if organisation else None), email
    except ValueError:
        raise SubscriptionError(_NOT_VALID) from None


def image_token(image_id: int) -> str:
    """The signed key in a picture's address in emails (mail clients cannot sign in)."""
    return IMAGE_LINK.make(image_id)


def read_image_token(token: str) -> int:
    """The picture a signed key is for; raises SubscriptionError for a tampered one."""
    value = IMAGE_LINK.read(token)
    if not value.isdigit():
        raise SubscriptionError(IMAGE_LINK.invalid)
    return int(value)


def read_confirm_token(token: str) -> Subscriber:
    """The subscription a confirmation link was made for."""
    subscriber_id, email = CONFIRM_LINK.read(token)
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.email != email:
        raise SubscriptionError("This confirmation link is no longer valid. Please subscribe "
                                "again.")
    return subscriber


# --- writing -----------------------------------------------------------------------------

def _clean_audiences(audiences: list[str]) -> list[str]:
    chosen = [a.value for a in Audience if a.value in set(audiences)]
    if not chosen:
        raise NewslettersError("Choose at least one group of readers.")
    return chosen


def create_issue(*, organisation_id: int, service: Service | None, title: str,
                 audiences: list[str], by: Person, summary: str = "",
                 body: str = "") -> Issue:
    """Start a draft issue for a service (or the organisation when ``service`` is None)."""
    issue = Issue(organisation_id=organisation_id, service_id=service.id if service else None,
                  title=title.strip(), summary=summary.strip(), body=body,
                  audiences=_clean_audiences(audiences), created_by_id=by.id)
    db.session.add(issue)
    db.session.flush()
    audit.record("newsletter.created", actor=by, obj=issue, title=issue.title)
    return issue


def _editable(issue: Issue) -> None:
    if not issue.is_editable:
        raise NewslettersError("This issue is published: it can no longer be changed.")


def update_issue(issue: Issue, *, title: str, summary: str, body: str, audiences: list[str],
                 by: Person) -> Issue:
    """Change a draft's words and readers."""
    _editable(issue)
    issue.title = title.strip()
    issue.summary = summary.strip()
    issue.body = body
    issue.audiences = _clean_audiences(audiences)
    audit.record("newsletter.edited", actor=by, obj=issue)
    return issue


def insert_block(issue: Issue, kind: str, *, by: Person) -> str:
    """Add a section built from the platform's own content to the end of a draft.

    Returns the words added (which say "nothing yet" when there is nothing to show).
    """
    from involve.newsletters.blocks import available, render_block

    _editable(issue)
    if kind not in available():
        raise NewslettersError("There is no such block to add.")
    section = render_block(issue, kind)
    issue.body = (issue.body.rstrip() + "\n\n" + section).strip() + "\n"
    audit.record("newsletter.block_added", actor=by, obj=issue, block=kind)
    return section


def add_image(issue: Issue, *, data: bytes, alt_text: str, by: Person) -> IssueImage:
    """Keep a picture for the issue (re-encoded, metadata dropped) with its description."""
    _editable(issue)
    if not alt_text.strip():
        raise MissingAltText("Describe the picture for people who cannot see it.")
    try:
        clean = clean_photo(data, max_pixels=current_app.config["PHOTO_MAX_PIXELS"])
    except ImageRejected as error:
        raise NewslettersError(str(error)) from None
    image = IssueImage(issue_id=issue.id, alt_text=alt_text.strip(), data=clean)
    db.session.add(image)
    db.session.flush()
    issue.body = (issue.body.rstrip() + "\n\n" + image.markdown).strip() + "\n"
    audit.record("newsletter.image_added", actor=by, obj=issue, image_id=image.id)
    return image


def check_ready(issue: Issue) -> None:
    """Refuse an issue that cannot be published as it is."""
    if not issue.title.strip():
        raise NewslettersError("Give the issue a title before publishing it.")
    if not issue.body.strip():
        raise NewslettersError("The issue is empty. Write something before publishing it.")
    missing = images_without_alt(issue.body)
    if missing:
        raise MissingAltText(
            f"{len(missing)} picture{'s' if len(missing) > 1 else ''} in this issue "
            f"{'have' if len(missing) > 1 else 'has'} no description (alt text): "
            f"{', '.join(missing)}. Write one inside the square brackets, like "
            "![Residents in the garden](...), then publish.")


# --- life: publish and send ----------------------------------------------------------------

def publish_issue(issue: Issue, *, by: Person | None, at: datetime | None = None,
                  send: bool = False) -> Issue:
    """Publish now, or schedule publication for ``at`` (the periodic task publishes it).

    With ``send`` the issue is also emailed as soon as it is published.
    """
    check_ready(issue)
    now = utcnow()
    if at is not None and at > now:
        issue.move_to(IssueStatus.scheduled, by=by, audit_action="newsletter.scheduled",
                      publish_at=at.isoformat(), send=send)
        issue.publish_at = at
        issue.send_when_published = send
        return issue
    issue.move_to(IssueStatus.published, by=by, audit_action="newsletter.published")
    issue.published_at = now
    issue.publish_at = None
    if send:
        start_sending(issue, by=by)
    return issue


def unschedule_issue(issue: Issue, *, by: Person) -> Issue:
    """Take a scheduled issue back to draft."""
    if issue.status == IssueStatus.draft:
        raise IllegalMove("This issue is not scheduled, so there is nothing to cancel.")
    issue.move_to(IssueStatus.draft, by=by, audit_action="newsletter.unscheduled")
    issue.publish_at = None
    issue.send_when_published = False
    return issue


def publish_due_issues(now: datetime | None = None) -> list[Issue]:
    """Publish every scheduled issue whose time has come (run by the periodic task)."""
    now = now or utcnow()
    due = db.session.scalars(select(Issue).where(
        Issue.status == IssueStatus.scheduled, Issue.publish_at <= now)).all()
    published = []
    for issue in due:
        try:
            publish_issue(issue, by=None, send=issue.send_when_published)
        except NewslettersError as error:
            # Leave it scheduled and say why in the trail; the manager sees it on the page.
            audit.record("newsletter.publish_failed", obj=issue, reason=str(error))
            continue
        published.append(issue)
    return published


def start_sending(issue: Issue, *, by: Person | None) -> int:
    """Queue one delivery per recipient and mark the issue as sending; return how many."""
    from involve.newsletters.delivery import queue_deliveries

    if issue.status == IssueStatus.paused:
        raise IllegalMove("Sending of this issue is paused. Choose \u201cResume sending\u201d "
                          "to carry on; nobody will be mailed twice.")
    before = issue.move_to(IssueStatus.sending)
    issue.send_started_at = utcnow()
    issue.paused_reason = ""
    added = queue_deliveries(issue)
    issue.audit_move(before, "newsletter.send_started", by=by, recipients=added)
    return added


def resume_sending(issue: Issue, *, by: Person) -> int:
    """Carry on sending a paused issue, adding anyone who joined the audiences meanwhile."""
    from involve.newsletters.delivery import queue_deliveries, requeue_for_resume

    if issue.status != IssueStatus.paused:
        raise NewslettersError("Sending is not paused, so there is nothing to resume.")
    before = issue.move_to(IssueStatus.sending)
    issue.paused_reason = ""
    requeue_for_resume(issue.id)
    added = queue_deliveries(issue)
    issue.audit_move(before, "newsletter.send_resumed", by=by, added=added)
    return added


# --- subscribers -------------------------------------------------------------------------

def normalise_email(address: str) -> str:
    """A checked, lower-case address; raises SubscriptionError for one that cannot work."""
    try:
        valid = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise SubscriptionError("That does not look like an email address. Please check "
                                "it, for example name@example.com.") from None
    return valid.normalized.lower()


def subscribe(service: Service, *, email: str, name: str = "") -> Subscriber:
    """Ask for a service's public newsletter: an unconfirmed subscriber until they confirm.

    Returns the subscriber; the caller emails the confirmation link.
    """
    email = normalise_email(email)
    existing = db.session.scalar(select(Subscriber).where(
        Subscriber.service_id == service.id, Subscriber.email == email))
    if existing is not None and existing.confirmed_at is not None \
            and not _suppression(service.organisation_id, email):
        raise SubscriptionError("That address is already subscribed to this newsletter.")
    if existing is not None:
        # Not confirmed yet, or stopped since: send the link again; confirming restarts it.
        return existing
    subscriber = Subscriber(service_id=service.id, email=email, name=name.strip()[:200])
    db.session.add(subscriber)
    db.session.flush()
    audit.record("newsletter.subscribe_requested", obj=subscriber)
    return subscriber


def _suppression(organisation_id: int, email: str) -> Suppression | None:
    return db.session.scalar(select(Suppression).where(
        Suppression.organisation_id == organisation_id, Suppression.email == email.lower()))


def confirm_subscription(subscriber: Subscriber) -> Subscriber:
    """Confirm a subscription (second step of the double opt-in), or restart one that was
    stopped: the address comes off the suppression list, since the person has just opened a
    link we emailed to it (so it neither bounces nor is unwanted any more)."""
    suppression = _suppression(subscriber.service.organisation_id, subscriber.email)
    if suppression is not None:
        db.session.delete(suppression)
    preference = db.session.scalar(select(NewsletterPreference).where(
        NewsletterPreference.organisation_id == subscriber.service.organisation_id,
        NewsletterPreference.email == subscriber.email))
    newsletter = list_key(subscriber.service_id)
    if preference is not None and newsletter in preference.stopped_lists:
        suppression = suppression or preference
        preference.stopped_lists = [k for k in preference.stopped_lists if k != newsletter]
    if subscriber.confirmed_at is not None and suppression is None:
        raise SubscriptionError("This subscription is already confirmed. Nothing has changed.")
    restarted = subscriber.confirmed_at is not None
    subscriber.confirmed_at = subscriber.confirmed_at or utcnow()
    audit.record("newsletter.resubscribed" if restarted else "newsletter.subscribed",
                 obj=subscriber)
    return subscriber


def _preference(organisation_id: int, email: str) -> NewsletterPreference:
    email = email.strip().lower()
    link_keys(organisation_id, [email])
    return db.session.scalar(select(NewsletterPreference).where(
        NewsletterPreference.organisation_id == organisation_id,
        NewsletterPreference.email == email))


def unsubscribe(organisation_id: int, email: str, newsletter: str | None = None) -> bool:
    """Stop one organisation's newsletter email to an address (every other organisation's
    is left as it is): only the newsletter named by ``newsletter`` (an
    :attr:`Issue.list_key`), or all of them. False when it was already stopped."""
    from involve.newsletters.delivery import suppress

    email = email.lower()
    if _suppression(organisation_id, email) is not None:
        return False
    if newsletter is not None:
        preference = _preference(organisation_id, email)
        if newsletter in preference.stopped_lists:
            return False
        preference.stopped_lists = [*preference.stopped_lists, newsletter]
        db.session.flush()
        audit.record("newsletter.unsubscribed", obj=preference, newsletter=newsletter,
                     domain=email.rsplit("@", 1)[-1])
        return True
    suppression = suppress(organisation_id, email, SuppressionReason.unsubscribed,
                           "one-click unsubscribe")
    audit.record("newsletter.unsubscribed", obj=suppression, domain=email.rsplit("@", 1)[-1])
    return True


def unsubscribe_everywhere_known(email: str) -> int:
    """Stop an address in every organisation that has it: what a link made before links
    named their organisation promised. Returns how many organisations stopped it now."""
    from involve.newsletters.queries import organisations_knowing

    return sum(unsubscribe(organisation_id, email)
               for organisation_id in sorted(organisations_knowing(email)))


def set_preferences(organisation_id: int, email: str, *, wanted: list[str],
                    offered: list[str], wants_print: bool) -> None:
    """Save an address's choices for one organisation's newsletters: which of the
    ``offered`` newsletters it gets by email (none: every one stopped, those to come as
    well), and a printed copy or not."""
    from involve.newsletters.delivery import suppress

    email = email.lower()
    unknown = set(wanted) - set(offered)
    if unknown:
        raise SubscriptionError("Choose from the newsletters on this page.")
    suppression = _suppression(organisation_id, email)
    if wanted and suppression is not None:
        if suppression.reason == SuppressionReason.hard_bounce:
            raise SubscriptionError("Email to this address could not be delivered before, so "
                                    "we have stopped. Ask the service to check your address.")
        db.session.delete(suppression)
    if not wanted and suppression is None:
        suppress(organisation_id, email, SuppressionReason.unsubscribed, "preferences page")
    preference = _preference(organisation_id, email)
    kept = [key for key in preference.stopped_lists if key not in offered]
    preference.stopped_lists = kept + [key for key in offered if key not in wanted]
    preference.wants_print = wants_print
    db.session.flush()
    audit.record("newsletter.preferences_changed", obj=preference,
                 newsletters=len(wanted), wants_print=wants_print)
