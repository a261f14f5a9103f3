"""Every state change of feedback: plain functions that never commit and never read a request."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from involve import audit
from involve.auth.services import new_code
from involve.extensions import db, utcnow
from involve.feedback import procedure
from involve.feedback.models import (
    AmbassadorFeedback,
    AnonymousDailyCount,
    BoardAgendaEntry,
    BoardAgendaListing,
    Briefing,
    BriefingShare,
    ComplaintOutcome,
    FeedbackComment,
    FeedbackError,
    FeedbackKind,
    FeedbackSettings,
    FeedbackStatus,
    SafeguardingRecord,
    StepKind,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    SubmissionStep,
    Theme,
)
from involve.feedback.queries import term_in_force
from involve.kernel import clock
from involve.kernel.tokens import SignedLink
from involve.people.models import AmbassadorTerm, Organisation, Person, Service

DEFAULT_THEMES = ["Food", "Activities", "Care", "Environment", "Staff", "Safety", "Other"]


def _required(text: str | None, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise FeedbackError(message)
    return text


# --- themes ----------------------------------------------------------------------------------

def ensure_default_themes(org: Organisation) -> list[Theme]:
    """Give the organisation the standard themes unless it has some already."""
    existing = list(db.session.scalars(select(Theme).where(Theme.organisation_id == org.id)))
    if existing:
        return existing
    themes = [Theme(organisation_id=org.id, name=name, position=n)
              for n, name in enumerate(DEFAULT_THEMES)]
    db.session.add_all(themes)
    db.session.flush()
    return themes


def add_theme(org: Organisation, name: str, *, by: Person) -> Theme:
    """Add a theme to the organisation's list (names are unique)."""
    name = _required(name, "Give the theme a name.")
    name = " ".join(name.split())[:80]
    same = db.session.scalar(select(Theme).where(Theme.organisation_id == org.id,
                                                 func.lower(Theme.name) == name.lower()))
    if same is not None:  # "food" beside "Food" would split the board's figures in two
        raise FeedbackError(f"There is already a theme called {same.name}.")
    position = len(list(db.session.scalars(select(Theme.id).where(
        Theme.organisation_id == org.id))))
    theme = Theme(organisation_id=org.id, name=name, position=position)
    db.session.add(theme)
    db.session.flush()
    audit.record("feedback.theme_added", actor=by, obj=theme, name=name)
    return theme


def set_theme_archived(theme: Theme, archived: bool, *, by: Person) -> Theme:
    """Take a theme off the list for new feedback (old feedback keeps it), or bring it back."""
    theme.archived_at = utcnow() if archived else None
    audit.record("feedback.theme_archived" if archived else "feedback.theme_restored",
                 actor=by, obj=theme, name=theme.name)
    return theme


# --- ambassador feedback ---------------------------------------------------------------------

def ambassador_terms_for(person: Person, service_id: int, on: date | None = None) -> bool:
    """True when ``person`` has an ambassador term in force covering ``service_id``."""
    return db.session.scalar(select(AmbassadorTerm.id).where(
        AmbassadorTerm.person_id == person.id, term_in_force(service_id, on),
    ).limit(1)) is not None


def record_feedback(*, service: Service, theme: Theme, kind: FeedbackKind | str,
                    what_was_said: str, ambassador: Person, by: Person, people_count: int = 1,
                    may_name: bool = False, said_by: str = "", safeguarding: bool = False,
                    briefing: Briefing | None = None) -> AmbassadorFeedback:
    """Record what people told an ambassador; ``by`` is the ambassador or staff on their behalf.

    Names are kept only when people agreed to be named. A safeguarding tick is audited; the
    caller alerts the service's managers once the record is saved.
    """
    what_was_said = _required(what_was_said, "Write down what people said.")
    if not ambassador_terms_for(ambassador, service.id):
        raise FeedbackError(f"{ambassador.full_name} is not an ambassador for {service.name}.")
    if theme.archived_at is not None:
        raise FeedbackError("That theme is no longer in use. Please choose another.")
    if people_count is None or people_count < 1:
        raise FeedbackError("Say roughly how many people said this (at least one).")
    item = AmbassadorFeedback(
        service_id=service.id, theme=theme, kind=FeedbackKind(kind), what_was_said=what_was_said,
        people_count=people_count, may_name=may_name, said_by=said_by.strip() if may_name else "",
        safeguarding=safeguarding, ambassador_id=ambassador.id, recorded_by_id=by.id,
        briefing=briefing, status=FeedbackStatus.received)
    db.session.add(item)
    db.session.flush()
    if by.id != ambassador.id:
        audit.record("feedback.recorded_on_behalf", actor=by, obj=item, subject=ambassador)
    else:
        audit.record("feedback.recorded", actor=by, obj=item)
    if safeguarding:
        audit.record("feedback.safeguarding_flagged", actor=by, obj=item)
    return item


def add_comment(item: AmbassadorFeedback, *, author: Person, body: str) -> FeedbackComment:
    """Add a comment to an item's discussion."""
    body = _required(body, "Write your comment before sending it.")
    comment = FeedbackComment(feedback=item, author_id=author.id, body=body)
    db.session.add(comment)
    db.session.flush()
    return comment


def hide_comment(comment: FeedbackComment, *, reason: str, by: Person) -> FeedbackComment:
    """Hide a comment with a reason (audited); the caller tells its author."""
    reason = _required(reason, "Say why you are hiding this comment.")
    if comment.is_hidden:
        raise FeedbackError("This comment is already hidden.")
    comment.hidden_at = utcnow()
    comment.hidden_by_id = by.id
    comment.hidden_reason = reason
    audit.record("feedback.comment_hidden", actor=by, obj=comment, subject=comment.author_id,
                 reason=reason)
    return comment


def move_feedback(item: AmbassadorFeedback, status: FeedbackStatus | str, *,
                  by: Person) -> AmbassadorFeedback:
    """Move an item along received -> under review -> answered -> closed (answering has its own
    function, which needs the answer's words)."""
    status = FeedbackStatus(status)
    if status == FeedbackStatus.answered:
        raise FeedbackError("Write the answer to mark this feedback answered.")
    item.move_to(status, by=by, audit_action="feedback.moved")
    return item


def answer_feedback(item: AmbassadorFeedback, *, answer: str, by: Person,
                    action: dict[str, Any] | None = None) -> tuple[AmbassadorFeedback, Any]:
    """Give (or change) the board's answer; with ``action`` (we_will, owner, due_on) also create
    an action in the meetings' tracker, linked back to this item.

    Returns the item and the action (or None).
    """
    answer = _required(answer, "Write the board's answer before saving it.")
    if item.status == FeedbackStatus.closed:
        raise FeedbackError("This feedback is closed, so it cannot be changed or answered.")
    if action:
        _check_action(action)
    before = item.move_to(FeedbackStatus.answered)
    item.answer = answer
    item.answered_by_id = by.id
    if item.answered_at is None:
        item.answered_at = utcnow()
    created = None
    if action:
        created = _create_action(item, action, by)
    item.audit_move(before, "feedback.answered", by=by, action_id=getattr(created, "id", None))
    return item, created


def actions_available() -> bool:
    """True when the meetings' action tracker is installed."""
    try:
        from involve.meetings.services import create_action  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


def _check_action(action: dict[str, Any]) -> str:
    we_will = _required(action.get("we_will"), "Say what will be done for the action.")
    if action.get("owner") is None:
        raise FeedbackError("Choose who owns the action.")
    if action.get("due_on") is None:
        raise FeedbackError("Give the action a due date.")
    if action["due_on"] < clock.today():
        raise FeedbackError("The action's due date is in the past. Choose today or later.")
    return we_will


def _create_action(item: AmbassadorFeedback, action: dict[str, Any], by: Person) -> Any:
    try:
        from involve.meetings.services import MeetingsError, create_action
    except (ImportError, AttributeError) as error:
        raise FeedbackError("Actions need the meetings' action tracker, which is not set up."
                            ) from error
    from involve.text import markdown_to_text

    we_will = _check_action(action)
    try:
        return create_action(service_id=item.service_id,
                             you_said=markdown_to_text(item.what_was_said)[:2000],
                             we_will=we_will, owner=action["owner"], due_on=action["due_on"],
                             by=by, source="feedback", source_id=item.id,
                             name_who_said=item.may_name)
    except MeetingsError as error:
        raise FeedbackError(str(error)) from error


# --- board meetings --------------------------------------------------------------------------

def add_to_board_agenda(items: list[AmbassadorFeedback], *, by: Person) -> BoardAgendaEntry:
    """Put an "Ambassador feedback" item listing ``items`` on the next board meeting's agenda."""
    try:
        from involve.meetings.queries import next_meeting_of_kind
        from involve.meetings.services import add_agenda_item
    except (ImportError, AttributeError) as error:
        raise FeedbackError("Board meetings are not set up, so there is no agenda to add to."
                            ) from error
    meeting = next_meeting_of_kind("board", None, organisation_id=by.organisation_id)
    if meeting is None:
        raise FeedbackError("There is no board meeting coming up. Plan one first.")
    if db.session.scalar(select(BoardAgendaEntry.id).where(
            BoardAgendaEntry.meeting_id == meeting.id)):
        raise FeedbackError("The next board meeting already has an Ambassador feedback item. "
                            "Refresh it to add newer feedback.")
    if not items:
        raise FeedbackError("There is no ambassador feedback to put on the agenda.")
    entry = BoardAgendaEntry(organisation_id=meeting.organisation_id, meeting_id=meeting.id,
                             item_count=len(items), added_by_id=by.id)
    db.session.add(entry)
    db.session.flush()
    _list_on_entry(entry, items)
    agenda_item = add_agenda_item(meeting, title="Ambassador feedback",
                                  description=agenda_description(entry), raised_by=None, by=by)
    entry.agenda_item_id = getattr(agenda_item, "id", None)
    audit.record("feedback.board_agenda_item", actor=by, obj=entry, meeting_id=meeting.id,
                 count=len(items))
    return entry


def refresh_board_agenda(entry: BoardAgendaEntry, items: list[AmbassadorFeedback], *,
                         by: Person) -> int:
    """Add feedback received since the agenda item was made, and rewrite its list so that
    items answered since show as they are now. Returns how many items were added."""
    try:
        from involve.meetings.models import AgendaItem
        from involve.meetings.services import MeetingsError, reword_item
    except (ImportError, AttributeError) as error:
        raise FeedbackError("Board meetings are not set up, so there is no agenda to refresh."
                            ) from error
    agenda_item = db.session.get(AgendaItem, entry.agenda_item_id or 0)
    if agenda_item is None:
        raise FeedbackError("The Ambassador feedback item is no longer on that agenda.")
    listed = {item.id for item in entry.items}
    added = [item for item in items if item.id not in listed]
    _list_on_entry(entry, added)
    entry.item_count = len(listed) + len(added)
    entry.refreshed_at = utcnow()
    try:
        reword_item(agenda_item, title=agenda_item.title,
                    description=agenda_description(entry), by=by)
    except MeetingsError as error:
        raise FeedbackError(str(error)) from error
    audit.record("feedback.board_agenda_refreshed", actor=by, obj=entry, added=len(added))
    return len(added)


def _list_on_entry(entry: BoardAgendaEntry, items: list[AmbassadorFeedback]) -> None:
    db.session.add_all(BoardAgendaListing(entry_id=entry.id, feedback_id=item.id)
                       for item in items)
    db.session.flush()
    db.session.expire(entry, ["items"])


def agenda_description(entry: BoardAgendaEntry) -> str:
    """The agenda item's text: one line per item (a Markdown list, readable as plain text
    too), each saying where it is now, and where the live list is."""
    lines = [f"{n}. {item.service.name}, {item.theme.name} ({item.kind.label.lower()}, "
             f"{item.status.label.lower()}): {_agenda_words(item)}"
             for n, item in enumerate(entry.items, start=1)]
    link = current_app.config["BASE_URL"].rstrip("/") + f"/feedback/board/agenda/{entry.id}"
    return ("Ambassador feedback for the board:\n\n" + "\n".join(lines)
            + f"\n\nThe live list: {link}")


def _agenda_words(item: AmbassadorFeedback) -> str:
    """What an agenda may quote: the agenda reaches more people than the item itself, so a
    possible safeguarding matter is named, never quoted."""
    if item.safeguarding:
        return "may be a safeguarding matter; the board reads it in the review queue."
    return first_line(item.what_was_said)


def first_line(text: str, limit: int = 120) -> str:
    from involve.text import markdown_to_text

    plain = " ".join(markdown_to_text(text).split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


# --- briefings -------------------------------------------------------------------------------

def post_briefing(*, org: Organisation, service: Service | None, title: str, body: str,
                  by: Person) -> Briefing:
    """Post a board briefing for the ambassadors of ``service`` (None: every service)."""
    title = _required(title, "Give the briefing a title.")
    body = _required(body, "Write the briefing before posting it.")
    briefing = Briefing(organisation_id=org.id, service_id=service.id if service else None,
                        title=title, body=body, posted_by_id=by.id)
    db.session.add(briefing)
    db.session.flush()
    audit.record("feedback.briefing_posted", actor=by, obj=briefing)
    return briefing


def mark_shared(briefing: Briefing, *, ambassador: Person) -> BriefingShare:
    """Record that an ambassador has shared a briefing (once per ambassador)."""
    existing = db.session.scalar(select(BriefingShare).where(
        BriefingShare.briefing_id == briefing.id, BriefingShare.ambassador_id == ambassador.id))
    if existing is not None:
        raise FeedbackError("You have already marked this briefing as shared. Thank you.")
    share = BriefingShare(briefing_id=briefing.id, ambassador_id=ambassador.id)
    try:
        with db.session.begin_nested():
            db.session.add(share)
    except IntegrityError as error:  # two clicks at once: the database keeps one
        raise FeedbackError("You have already marked this briefing as shared. Thank you."
                            ) from error
    return share


def record_said_back(briefing: Briefing, *, service: Service, theme: Theme,
                     kind: FeedbackKind | str, what_was_said: str, people_count: int,
                     ambassador: Person, safeguarding: bool = False) -> AmbassadorFeedback:
    """What people said back about a briefing becomes ambassador feedback, linked to it (with
    the same safeguarding flag, audited, and the caller's alert to the managers)."""
    if briefing.service_id is not None and briefing.service_id != service.id:
        raise FeedbackError("This briefing was for another service.")
    return record_feedback(service=service, theme=theme, kind=kind, what_was_said=what_was_said,
                           people_count=people_count, ambassador=ambassador, by=ambassador,
                           briefing=briefing, safeguarding=safeguarding)


def record_safeguarding(item: AmbassadorFeedback, *, action_taken: str, referral_made: bool,
                        referred_to: str = "", outcome: str = "",
                        by: Person) -> SafeguardingRecord:
    """Record what was done about feedback flagged as a possible safeguarding matter."""
    if not item.safeguarding:
        raise FeedbackError("This feedback is not marked as a possible safeguarding matter.")
    action_taken = _required(action_taken, "Say what was done.")
    referred_to = " ".join((referred_to or "").split())
    if referral_made and not referred_to:
        raise FeedbackError("Say who the referral was made to.")
    record = SafeguardingRecord(feedback=item, action_taken=action_taken,
                                referral_made=referral_made,
                                referred_to=referred_to if referral_made else "",
                                outcome=(outcome or "").strip(), recorded_by_id=by.id)
    db.session.add(record)
    db.session.flush()
    audit.record("feedback.safeguarding_recorded", actor=by, obj=item,
                 referral_made=referral_made)
    return record


# --- the organisation's settings --------------------------------------------------------------

DEFAULT_ESCALATION_ROUTE = (
    "If you are not happy with our answer, you can ask the Local Government and Social Care "
    "Ombudsman to look at your complaint: www.lgo.org.uk, 0300 061 0614.")


def settings_for(organisation_id: int) -> FeedbackSettings | None:
    """The organisation's feedback settings, if it has set them."""
    return db.session.scalar(select(FeedbackSettings).where(
        FeedbackSettings.organisation_id == organisation_id))


def escalation_route_for(organisation_id: int) -> str:
    """Where people go next when not happy with an answer: the organisation's own words, or
    the Local Government and Social Care Ombudsman."""
    settings = settings_for(organisation_id)
    return settings.escalation_route if settings and settings.escalation_route \
        else DEFAULT_ESCALATION_ROUTE


def save_settings(organisation_id: int, *, escalation_route: str, by: Person,
                  speak_up_guardian: Person | None = None) -> FeedbackSettings:
    """Set the organisation's ombudsman route once, for every answer to a complaint, and its
    Freedom to Speak Up guardian (None: speak-up concerns go to the managers only)."""
    if speak_up_guardian is not None and (
            speak_up_guardian.organisation_id != organisation_id
            or speak_up_guardian.status != "active" or speak_up_guardian.user is None
            or not speak_up_guardian.user.email):
        raise FeedbackError("The guardian must be someone in this organisation who can sign in "
                            "and has an email address.")
    route = _required(escalation_route, "Say where people can go if they are not happy with "
                                        "the answer (the ombudsman route).")
    if len(route) > 2000:
        raise FeedbackError("Keep the ombudsman route under 2,000 characters.")
    settings = settings_for(organisation_id)
    if settings is None:
        settings = FeedbackSettings(organisation_id=organisation_id)
        db.session.add(settings)
    settings.escalation_route = route
    settings.speak_up_guardian_id = speak_up_guardian.id if speak_up_guardian else None
    settings.updated_by_id = by.id
    settings.updated_at = utcnow()
    db.session.flush()
    audit.record("feedback.settings_saved", actor=by, obj=settings)
    return settings


# --- feedback from everyone ------------------------------------------------------------------

def _new_reference() -> str:
    while True:
        reference = new_code()
        if not db.session.scalar(select(Submission.id).where(Submission.reference == reference)):
            return reference


def submit(*, service: Service, kind: SubmissionKind | str, body: str, theme: Theme | None = None,
           anonymous: bool = False, submitter: Person | None = None,
           recorded_by: Person | None = None, name: str = "", contact: str = "",
           to_guardian: bool = False) -> Submission:
    """Receive a compliment, suggestion, concern, complaint or speak-up concern.

    ``submitter`` is the signed-in person giving their own feedback; ``recorded_by`` is staff
    writing it down for someone (named in ``name``). A speak-up concern is always staff's own,
    so its recorder is its submitter; ``to_guardian`` sends it to the organisation's Freedom to
    Speak Up guardian instead of the service's managers. Anonymous submissions keep no link at
    all: no person, no recorder, no name, no contact, and an audit event with neither actor nor
    address, timed to the day only so it cannot be matched with a sign-in.
    """
    body = _required(body, "Please write what you want to tell us.")
    kind = SubmissionKind(kind)
    if kind == SubmissionKind.speak_up and recorded_by is not None:
        submitter, recorded_by = recorded_by, None
    guardian_id = None
    if to_guardian:
        if kind != SubmissionKind.speak_up:
            raise FeedbackError("Only a freedom to speak up concern can go to the guardian.")
        settings = settings_for(service.organisation_id)
        if settings is None or settings.speak_up_guardian_id is None:
            raise FeedbackError("There is no Freedom to Speak Up guardian set up yet. Send it "
                                "to the managers, or ask the board who to speak to.")
        guardian_id = settings.speak_up_guardian_id
    now = utcnow()
    if anonymous:
        submitter = recorded_by = None
        name = contact = ""
        now = datetime(now.year, now.month, now.day, tzinfo=UTC)
    submission = Submission(
        reference=_new_reference(), service_id=service.id, kind=kind, theme=theme, body=body,
        anonymous=anonymous, submitter_id=submitter.id if submitter else None,
        recorded_by_id=recorded_by.id if recorded_by else None, name=name.strip()[:200],
        contact=contact.strip()[:254], received_at=now, status=SubmissionStatus.received,
        guardian_id=guardian_id)
    if kind == SubmissionKind.complaint:
        submission.acknowledge_by, submission.answer_by = procedure.deadlines(now.date())
    db.session.add(submission)
    db.session.flush()
    if anonymous:
        # No audit event: one would sit between other people's events and place this among
        # them. The day's count for the service says that anonymous concerns came in.
        _count_anonymous(service, now.date(), kind)
    else:
        audit.record("feedback.submission_received", actor=recorded_by or submitter,
                     obj=submission, subject=submitter, kind=kind.value,
                     on_behalf=recorded_by is not None)
    return submission


def _count_anonymous(service: Service, day: date, kind: SubmissionKind) -> None:
    """Add one to the day's count of anonymous submissions of a kind for a service."""
    def find() -> AnonymousDailyCount | None:
        return db.session.scalar(select(AnonymousDailyCount).where(
            AnonymousDailyCount.service_id == service.id, AnonymousDailyCount.day == day,
            AnonymousDailyCount.kind == kind).with_for_update())

    counted = find()
    if counted is None:
        try:
            with db.session.begin_nested():  # two at once: the second finds the first's row
                db.session.add(AnonymousDailyCount(service_id=service.id, day=day, kind=kind,
                                                   count=0))
        except IntegrityError:
            pass
        counted = find()
    db.session.execute(update(AnonymousDailyCount).where(
        AnonymousDailyCount.id == counted.id).values(count=AnonymousDailyCount.count + 1))


def mix_anonymous(today: date) -> int:
    """Rewrite the anonymous submissions of today and yesterday, and their daily counts, in a
    random order in one transaction; returns how many submissions were rewritten.

    On PostgreSQL every row carries the id of the transaction that last wrote it (``xmin``),
    a number that rises for everyone's writes alike, and sits on disk in the order it was
    written: an anonymous concern's own transaction would place it among the sign-ins and other
    actions around it. After this, its transaction is the mix's and its place on disk is random,
    so it can only be placed before the mix; the dead row versions are then cleared
    (:func:`clear_dead_rows`). The feedback tasks run it every few minutes.
    """
    since = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=1)
    ids = list(db.session.scalars(select(Submission.id).where(
        Submission.anonymous.is_(True), Submission.received_at >= since)))
    counts = list(db.session.scalars(select(AnonymousDailyCount.id).where(
        AnonymousDailyCount.day >= since.date())))
    random = secrets.SystemRandom()
    random.shuffle(ids)
    random.shuffle(counts)
    for submission_id in ids:
        db.session.execute(update(Submission).where(Submission.id == submission_id)
                           .values(anonymous=True))
    for count_id in counts:
        db.session.execute(update(AnonymousDailyCount).where(AnonymousDailyCount.id == count_id)
                           .values(count=AnonymousDailyCount.count))
    return len(ids)


def clear_dead_rows() -> None:
    """Clear the old versions of rewritten rows on PostgreSQL (outside any transaction)."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite keeps no transaction id on a row, and a random id orders its rows
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in (Submission.__tablename__, AnonymousDailyCount.__tablename__):
            connection.execute(text(f"VACUUM {table}"))


def acknowledge(submission: Submission, *, by: Person) -> Submission:
    """Acknowledge a submission (the first step of the complaints procedure)."""
    if submission.status != SubmissionStatus.received:
        raise FeedbackError(f"This was already acknowledged on "
                            f"{submission.acknowledged_at:%-d %B %Y}.")
    submission.status = SubmissionStatus.acknowledged
    submission.acknowledged_at = max(utcnow(), submission.received_at)
    submission.acknowledged_by_id = by.id
    audit.record("feedback.submission_acknowledged", actor=by, obj=submission)
    return submission


def answer_submission(submission: Submission, *, answer: str, by: Person,
                      outcome: ComplaintOutcome | str | None = None, learning: str = "",
                      escalation_route: str = "") -> Submission:
    """Answer a submission. A complaint must be acknowledged first and needs an outcome."""
    if submission.status == SubmissionStatus.answered:
        raise FeedbackError("This has already been answered.")
    if submission.is_complaint and submission.status == SubmissionStatus.received:
        raise FeedbackError("Acknowledge this complaint before answering it: the procedure "
                            "asks for an acknowledgement first.")
    answer = _required(answer, "Write the answer before saving it.")
    if submission.is_complaint and not outcome:
        raise FeedbackError("Choose the outcome of the complaint.")
    now = utcnow()
    if submission.acknowledged_at is None:  # a compliment or suggestion answered at once
        submission.acknowledged_at = max(now, submission.received_at)
        submission.acknowledged_by_id = by.id
    submission.status = SubmissionStatus.answered
    submission.answer = answer
    submission.answered_at = max(now, submission.received_at)
    submission.answered_by_id = by.id
    submission.outcome = ComplaintOutcome(outcome) if outcome else None
    submission.learning = learning.strip()
    submission.escalation_route = escalation_route.strip()
    audit.record("feedback.submission_answered", actor=by, obj=submission,
                 outcome=submission.outcome.value if submission.outcome else None)
    return submission


def reopen_complaint(submission: Submission, *, reason: str, by: Person,
                     today: date | None = None) -> SubmissionStep:
    """Reopen an answered complaint because the person is not satisfied with the answer.

    The answer and outcome given are kept on the step as history; the complaint goes back to
    acknowledged with a fresh answer deadline counted from today.
    """
    if not submission.is_complaint:
        raise FeedbackError("Only a complaint can be reopened.")
    if submission.status != SubmissionStatus.answered:
        raise FeedbackError("This complaint is still open: answer it rather than reopen it.")
    reason = _required(reason, "Say why the complaint is reopened (what the person is not "
                               "satisfied with).")
    today = today or clock.today()
    step = SubmissionStep(
        submission=submission, kind=StepKind.reopened, reason=reason,
        answer_by_before=submission.answer_by,
        answer_by_after=procedure.add_working_days(today, procedure.answer_days()),
        previous_answer=submission.answer,
        previous_outcome=submission.outcome.value if submission.outcome else "",
        taken_by_id=by.id)
    submission.status = SubmissionStatus.acknowledged
    submission.answer = ""
    submission.answered_at = None
    submission.answered_by_id = None
    submission.outcome = None
    submission.answer_by = step.answer_by_after
    db.session.add(step)
    db.session.flush()
    audit.record("feedback.complaint_reopened", actor=by, obj=submission)
    return step


def extend_deadline(submission: Submission, *, answer_by: date | None, reason: str,
                    by: Person) -> SubmissionStep:
    """Give a complaint more time to answer, with a reason the person is told."""
    if not submission.is_complaint:
        raise FeedbackError("Only a complaint has a deadline to extend.")
    if submission.status == SubmissionStatus.answered:
        raise FeedbackError("This complaint is already answered.")
    reason = _required(reason, "Say why more time is needed: the person is told the reason.")
    if answer_by is None:
        raise FeedbackError("Give the new date by which it will be answered.")
    if submission.answer_by and answer_by <= submission.answer_by:
        raise FeedbackError(f"The new date must be after the current one, "
                            f"{submission.answer_by:%-d %B %Y}.")
    if answer_by <= clock.today():
        raise FeedbackError("The new date must be in the future.")
    step = SubmissionStep(submission=submission, kind=StepKind.extended, reason=reason,
                          answer_by_before=submission.answer_by, answer_by_after=answer_by,
                          taken_by_id=by.id)
    submission.answer_by = answer_by
    db.session.add(step)
    db.session.flush()
    audit.record("feedback.complaint_extended", actor=by, obj=submission,
                 answer_by=answer_by.isoformat())
    return step


STATUS_LINK = SignedLink("feedback-status", format="json", error=FeedbackError,
                         invalid="That link is not right. Please check it, or use your "
                                 "reference code.")


def status_token(submission: Submission) -> str:
    """A signed link token that lets whoever holds it read the submission and its answer."""
    return STATUS_LINK.make(submission.reference)


def submission_from_token(token: str) -> Submission:
    """The submission a status link points to; a bad or unknown link raises FeedbackError."""
    return submission_from_reference(STATUS_LINK.read(token))


def submission_from_reference(reference: str) -> Submission:
    """The submission with a reference code (typed in any case, with or without the dash)."""
    code = "".join(ch for ch in (reference or "").upper() if ch.isalnum())
    if len(code) != 8:
        raise FeedbackError("A reference code has 8 letters and numbers, like ABCD-2345.")
    found = db.session.scalar(select(Submission).where(
        Submission.reference == f"{code[:4]}-{code[4:]}"))
    if found is None:
        raise FeedbackError("We cannot find that reference code. Please check it.")
    return found
