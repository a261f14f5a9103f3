"""Pages for ambassador feedback, the board's review, briefings, and feedback from everyone."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import (
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from involve.extensions import db, limiter, utcnow
from involve.feedback import bp, forms, queries, services, tasks
from involve.feedback.models import (
    AmbassadorFeedback,
    BoardAgendaEntry,
    Briefing,
    FeedbackComment,
    FeedbackError,
    FeedbackStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Theme,
)
from involve.kernel import clock
from involve.kernel.spreadsheet import safe_cell
from involve.kernel.steps import attempt, done, refuse
from involve.people.models import Person, Role, Service
from involve.people.policy import service_choices_query, services_where
from involve.permissions import can, current_actor, loader, public, requires, within_organisation
from involve.pickers import person_picker, service_picker

load_feedback = loader(AmbassadorFeedback)
load_comment = loader(FeedbackComment)
load_briefing = loader(Briefing)
load_submission = loader(Submission)
load_theme = loader(Theme)
load_entry = loader(BoardAgendaEntry)


def load_service(slug: str) -> Service:
    return within_organisation(db.session.scalar(
        select(Service).where(Service.slug == slug, Service.archived_at.is_(None))))


def _org_id() -> int:
    return current_actor().person.organisation_id


def _theme_choices(org_id: int, blank: str | None = None) -> list[tuple[int, str]]:
    choices = [(t.id, t.name) for t in queries.themes(org_id)]
    return ([(0, blank)] if blank else []) + choices


# --- the hub ---------------------------------------------------------------------------------

@bp.get("/")
@requires("signed_in")
def index():
    """Everything about feedback that the person can do, in one place."""
    actor = current_actor()
    return render_template("feedback/index.html",
                           mine=queries.my_submissions(actor.person_id, limit=5))


# --- ambassador feedback ---------------------------------------------------------------------

@bp.route("/ambassador/new", methods=["GET", "POST"])
@requires("feedback.record")
def record():
    """Record what people told an ambassador."""
    actor = current_actor()
    form = forms.AmbassadorFeedbackForm()
    if request.method == "GET" and request.args.get("service", type=int):
        form.service_id.data = request.args.get("service", type=int)
    # Services and ambassadors: the first few of each, or those found by name.
    recordable = service_picker(queries.recordable_services_query(actor))
    form.service_id.choices = recordable.choices(form.service_id.data)
    form.theme_id.choices = _theme_choices(_org_id())
    ambassadors = person_picker(queries.ambassadors_for_query(actor))
    others = ambassadors.choices(form.ambassador_id.data)
    on_behalf = bool(others or ambassadors.search)
    form.ambassador_id.choices = [(actor.person_id, "Me")] if actor.is_ambassador() else []
    form.ambassador_id.choices += others
    if form.validate_on_submit():
        service = db.session.get(Service, form.service_id.data)
        chosen = form.ambassador_id.data
        ambassador = ambassadors.get(chosen) if chosen and chosen != actor.person_id else None
        if ambassador is None or not actor.has_role([Role.staff, Role.manager], service.id):
            ambassador = actor.person
        try:
            item = services.record_feedback(
                service=service, theme=db.session.get(Theme, form.theme_id.data),
                kind=form.kind.data, what_was_said=form.what_was_said.data,
                people_count=form.people_count.data, may_name=form.may_name.data,
                said_by=form.said_by.data or "", safeguarding=form.safeguarding.data,
                ambassador=ambassador, by=actor.person)
        except FeedbackError as error:
            refuse(error)
        else:
            db.session.commit()
            _after_recording(item, "Thank you. The feedback is saved and will go to the board.")
            return redirect(url_for("feedback.feedback_item", feedback_id=item.id))
    return render_template("feedback/record.html", form=form, on_behalf=on_behalf,
                           pickers=(recordable, ambassadors))


def _after_recording(item: AmbassadorFeedback, thanks: str) -> None:
    """Alert the managers about a possible safeguarding matter and say what to do now."""
    if item.safeguarding:
        tasks.alert_safeguarding(item.id)
        flash("Thank you. Because this may be a safeguarding matter, please tell the "
              "manager or the person in charge now, in person. We have also emailed the "
              "managers.", "error")
    else:
        flash(thanks, "success")


@bp.route("/ambassador/<int:feedback_id>/safeguarding", methods=["GET", "POST"])
@requires("feedback.safeguarding", load=load_feedback)
def safeguarding(item: AmbassadorFeedback):
    """Record what was done about a possible safeguarding matter (the board reads it)."""
    form = forms.SafeguardingForm()
    if form.validate_on_submit():
        try:
            services.record_safeguarding(
                item, action_taken=form.action_taken.data,
                referral_made=form.referral_made.data == "yes",
                referred_to=form.referred_to.data or "", outcome=form.outcome.data or "",
                by=current_actor().person)
        except FeedbackError as error:
            refuse(error)
        else:
            done("What was done is recorded. The board can read it.")
            return redirect(url_for("feedback.feedback_item", feedback_id=item.id)
                            + "#safeguarding")
    elif request.method == "POST":
        flash("Please check the form.", "error")
    return render_template("feedback/safeguarding.html", form=form, item=item)


@bp.get("/ambassador")
@requires("feedback.list")
def feedback_list():
    """Ambassador feedback in the services the person may see."""
    actor = current_actor()
    status = request.args.get("status", "")
    if status not in {s.value for s in FeedbackStatus}:
        status = ""
    page = db.paginate(queries.feedback_query(actor, status=status), per_page=25,
                       error_out=False)
    return render_template("feedback/list.html", page=page, status=status,
                           statuses=list(FeedbackStatus))


@bp.get("/ambassador/<int:feedback_id>")
@requires("feedback.view", load=load_feedback)
def feedback_item(item: AmbassadorFeedback):
    """One item of ambassador feedback: what was said, the discussion and the board's answer."""
    return render_template("feedback/item.html", item=item, form=forms.CommentForm(),
                           actions=queries.linked_actions(item))


@bp.post("/ambassador/<int:feedback_id>/comments")
@requires("feedback.comment", load=load_feedback)
def comment(item: AmbassadorFeedback):
    """Add a comment to the discussion."""
    form = forms.CommentForm()
    if not form.validate_on_submit():
        flash("Write your comment before sending it.", "error")
    else:
        attempt(lambda: services.add_comment(item, author=current_actor().person,
                                             body=form.body.data), "Your comment is added.")
    return redirect(url_for("feedback.feedback_item", feedback_id=item.id) + "#discussion")


@bp.route("/comments/<int:comment_id>/hide", methods=["GET", "POST"])
@requires("feedback.moderate", load=load_comment)
def hide_comment(comment: FeedbackComment):
    """Hide a comment, saying why; its author is told."""
    form = forms.HideCommentForm()
    if form.validate_on_submit():
        try:
            services.hide_comment(comment, reason=form.reason.data, by=current_actor().person)
        except FeedbackError as error:
            refuse(error)
        else:
            db.session.commit()
            tasks.tell_comment_hidden(comment.id)
            flash("The comment is hidden and its author has been told.", "success")
            return redirect(url_for("feedback.feedback_item", feedback_id=comment.feedback_id))
    return render_template("feedback/hide_comment.html", form=form, comment=comment)


# --- the board -------------------------------------------------------------------------------

@bp.get("/board")
@requires("feedback.review")
def board():
    """The board's queue: open ambassador feedback by service and theme."""
    actor = current_actor()
    next_meeting = queries.next_board_meeting(actor)
    entry = None
    if next_meeting is not None:
        entry = db.session.scalar(select(BoardAgendaEntry).where(
            BoardAgendaEntry.meeting_id == next_meeting.id,
            BoardAgendaEntry.organisation_id == actor.organisation_id))
    return render_template("feedback/board.html", queue=queries.board_queue(actor),
                           next_meeting=next_meeting, entry=entry, now=utcnow())


@bp.get("/board/agenda/<int:entry_id>")
@requires("feedback.board_agenda", load=load_entry)
def board_agenda_list(entry: BoardAgendaEntry):
    """The live list under a board meeting's "Ambassador feedback" item."""
    return render_template("feedback/board_agenda.html", entry=entry)


@bp.post("/board/agenda/<int:entry_id>/refresh")
@requires("feedback.board_agenda", load=load_entry)
def board_agenda_refresh(entry: BoardAgendaEntry):
    """Add newer feedback to the agenda item, and show where each item is now."""
    actor = current_actor()
    try:
        added = services.refresh_board_agenda(entry, queries.board_open_items(actor),
                                              by=actor.person)
    except FeedbackError as error:
        refuse(error)
    else:
        db.session.commit()
        flash("The agenda item is up to date: " + (
            f"{added} newer item{'s' if added != 1 else ''} added." if added
            else "nothing new to add."), "success")
    return redirect(url_for("feedback.board_agenda_list", entry_id=entry.id))


@bp.post("/board/agenda")
@requires("feedback.review")
def board_agenda():
    """Put an "Ambassador feedback" item on the next board meeting's agenda."""
    actor = current_actor()
    try:
        entry = services.add_to_board_agenda(queries.board_open_items(actor),
                                             by=actor.person)
    except FeedbackError as error:
        refuse(error)
    else:
        db.session.commit()
        flash(f"The next board meeting's agenda now lists {entry.item_count} "
              f"item{'s' if entry.item_count != 1 else ''} of ambassador feedback.", "success")
    return redirect(url_for("feedback.board"))


@bp.route("/ambassador/<int:feedback_id>/answer", methods=["GET", "POST"])
@requires("feedback.review", load=load_feedback)
def answer(item: AmbassadorFeedback):
    """Write the board's answer, optionally with an action."""
    actor = current_actor()
    form = forms.AnswerForm(obj=None if request.method == "POST" else item)
    has_actions = services.actions_available()
    owners = queries.action_owners(item.service_id)
    form.owner_id.choices = [(0, "Choose a person")] + [(p.id, p.full_name) for p in owners]
    if form.validate_on_submit():
        action = None
        if has_actions and (form.we_will.data or "").strip():
            action = {"we_will": form.we_will.data,
                      "owner": db.session.get(Person, form.owner_id.data or 0),
                      "due_on": form.due_on.data}
        try:
            services.answer_feedback(item, answer=form.answer.data, by=actor.person,
                                     action=action)
        except FeedbackError as error:
            refuse(error)
        else:
            db.session.commit()
            tasks.tell_ambassador_answered(item.id)
            flash("The answer is saved and the ambassador has been told.", "success")
            return redirect(url_for("feedback.feedback_item", feedback_id=item.id))
    elif request.method == "POST":
        flash("Please check the form.", "error")
    return render_template("feedback/answer.html", form=form, item=item, has_actions=has_actions)


@bp.post("/ambassador/<int:feedback_id>/move")
@requires("feedback.review", load=load_feedback)
def move(item: AmbassadorFeedback):
    """Move an item to under review or closed."""
    try:
        services.move_feedback(item, request.form.get("to", ""), by=current_actor().person)
    except (FeedbackError, ValueError) as error:
        db.session.rollback()  # leave nothing half-done behind
        message = str(error) if isinstance(error, FeedbackError) else "That is not a step."
        flash(message, "error")
    else:
        done(f"This feedback is now {item.status.label.lower()}.")
    return redirect(url_for("feedback.feedback_item", feedback_id=item.id))


# --- briefings -------------------------------------------------------------------------------

@bp.get("/briefings")
@requires("feedback.briefings")
def briefings():
    """Board briefings for ambassadors."""
    return render_template("feedback/briefings.html",
                           briefings=queries.briefings_for(current_actor()))


@bp.route("/briefings/new", methods=["GET", "POST"])
@requires("feedback.brief")
def briefing_new():
    """Post a briefing for the ambassadors of a service, or of every service."""
    actor = current_actor()
    form = forms.BriefingForm()
    picker = service_picker(service_choices_query(actor, [Role.board]))
    form.service_id.choices = ([("0", "Every service")] if actor.has_role([Role.board], None)
                               else []) + picker.choices(form.service_id.data)
    if form.validate_on_submit():
        service = picker.get(form.service_id.data) if form.service_id.data else None
        try:
            item = services.post_briefing(org=queries.organisation_of(actor), service=service,
                                          title=form.title.data, body=form.body.data,
                                          by=actor.person)
        except FeedbackError as error:
            refuse(error)
        else:
            done("The briefing is posted for the ambassadors.")
            return redirect(url_for("feedback.briefing", briefing_id=item.id))
    return render_template("feedback/briefing_new.html", form=form, picker=picker)


@bp.get("/briefings/<int:briefing_id>")
@requires("feedback.briefings", load=load_briefing)
def briefing(item: Briefing):
    """One briefing, who has shared it, and what people said back."""
    actor = current_actor()
    shared = any(s.ambassador_id == actor.person_id for s in item.shares)
    return render_template("feedback/briefing.html", briefing=item, shared=shared)


@bp.post("/briefings/<int:briefing_id>/shared")
@requires("feedback.share", load=load_briefing)
def briefing_shared(item: Briefing):
    """An ambassador says "I have shared this"."""
    attempt(lambda: services.mark_shared(item, ambassador=current_actor().person),
            "Thank you for sharing the briefing.")
    return redirect(url_for("feedback.briefing", briefing_id=item.id))


@bp.route("/briefings/<int:briefing_id>/said-back", methods=["GET", "POST"])
@requires("feedback.share", load=load_briefing)
def said_back(item: Briefing):
    """Record what people said back about a briefing, as ambassador feedback."""
    actor = current_actor()
    form = forms.SaidBackForm()
    # The services the ambassador's terms cover (every one for an organisation-wide term):
    # the first few, or found by name.
    query = service_choices_query(actor).where(
        services_where(actor, Service.id, actor.term_service_ids()))
    if item.service_id is not None:
        query = query.where(Service.id == item.service_id)
    picker = service_picker(query)
    form.service_id.choices = picker.choices(form.service_id.data)
    form.theme_id.choices = _theme_choices(_org_id())
    if form.validate_on_submit():
        try:
            feedback = services.record_said_back(
                item, service=db.session.get(Service, form.service_id.data),
                theme=db.session.get(Theme, form.theme_id.data), kind=form.kind.data,
                what_was_said=form.what_was_said.data, people_count=form.people_count.data,
                ambassador=actor.person, safeguarding=form.safeguarding.data)
        except FeedbackError as error:
            refuse(error)
        else:
            db.session.commit()
            _after_recording(feedback, "Thank you. What people said back is saved for the "
                                       "board.")
            return redirect(url_for("feedback.feedback_item", feedback_id=feedback.id))
    return render_template("feedback/said_back.html", form=form, briefing=item, picker=picker)


# --- feedback from everyone ------------------------------------------------------------------

@bp.get("/give")
@public
def give_choose():
    """Choose the service to give feedback about: a search and a page of services at a time.

    Someone looking at one service (their only one, or the one they chose) goes straight to
    its form, which links back here to choose another.
    """
    from involve.people.queries import contains_text, current_service_id

    search = request.args.get("q", "")[:100].strip()
    current = current_service_id()
    service = db.session.get(Service, current) if current is not None else None
    if service is not None and not search and "another" not in request.args:
        return redirect(url_for("feedback.give", slug=service.slug))
    actor = current_actor()
    query = service_choices_query(actor) if actor.signed_in else (
        select(Service).where(Service.archived_at.is_(None))
        .order_by(Service.name, Service.id))
    if search:
        query = query.where(contains_text(Service.name, search))
    page = db.paginate(query, per_page=25, error_out=False)
    return render_template("feedback/give_choose.html", page=page, search=search)


THANKS_KEY = "feedback_reference"  # the session's note of the code to show once


@bp.route("/give/<slug>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@requires("public", load=load_service)
def give(service: Service):
    """The form for everyone: a compliment, suggestion, concern or complaint."""
    actor = current_actor()
    form = forms.GiveFeedbackForm()
    is_staff = actor.has_role([Role.staff, Role.manager], service.id)
    if is_staff:
        form.kind.choices = [*form.kind.choices,
                             (SubmissionKind.speak_up.value, SubmissionKind.speak_up.label)]
    form.theme_id.choices = _theme_choices(service.organisation_id, "Choose if you like")
    settings = services.settings_for(service.organisation_id)
    guardian = settings.speak_up_guardian if is_staff and settings else None
    if guardian is not None:
        form.to_guardian.label.text = (f"It may be about a manager: send it to our Freedom to "
                                       f"Speak Up guardian, {guardian.full_name}, instead")
    if form.validate_on_submit():
        on_behalf = is_staff and form.on_behalf.data
        try:
            submission = services.submit(
                service=service, kind=form.kind.data, body=form.body.data,
                theme=db.session.get(Theme, form.theme_id.data) if form.theme_id.data else None,
                anonymous=form.anonymous.data,
                submitter=actor.person if actor.signed_in and not on_behalf else None,
                recorded_by=actor.person if on_behalf else None,
                name=form.name.data or "", contact=form.contact.data or "",
                to_guardian=is_staff and bool(form.to_guardian.data))
        except FeedbackError as error:
            refuse(error)
        else:
            db.session.commit()
            # The code is handed over once, on a page whose address holds nothing: on the
            # lounge tablet the next person must not find what was said in the history.
            session[THANKS_KEY] = submission.reference
            tasks.send_receipt(submission.id)
            if submission.guardian_id is not None:
                tasks.tell_guardian(submission.id)
            return redirect(url_for("feedback.thanks", slug=service.slug))
    elif request.method == "POST":
        flash("Please check the form: something is missing.", "error")
    return render_template("feedback/give.html", form=form, service=service, is_staff=is_staff,
                           guardian=guardian)


@bp.get("/give/<slug>/thanks")
@requires("public", load=load_service)
def thanks(service: Service):
    """Thank the person and give them their reference code (shown once, never the words)."""
    reference = session.pop(THANKS_KEY, None)
    submission = None
    if reference:
        submission = db.session.scalar(select(Submission).where(
            Submission.reference == reference))
    response = make_response(render_template("feedback/thanks.html", service=service,
                                             submission=submission))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/status/<token>")
@public
def status(token: str):
    """What became of a submission, for whoever holds its signed link."""
    try:
        submission = services.submission_from_token(token)
    except FeedbackError as error:
        db.session.rollback()  # leave nothing half-done behind
        return render_template("feedback/problem.html", message=str(error)), 404
    response = make_response(render_template(
        "feedback/status.html", submission=submission,
        link=url_for("feedback.status", token=token, _external=True)))
    response.headers["Cache-Control"] = "no-store"  # the words may be about someone's health
    return response


@bp.route("/status", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def status_lookup():
    """Type a reference code to see what became of a submission."""
    form = forms.ReferenceForm()
    if form.validate_on_submit():
        try:
            submission = services.submission_from_reference(form.reference.data)
        except FeedbackError as error:
            refuse(error)
        else:
            return redirect(url_for("feedback.status", token=services.status_token(submission)))
    return render_template("feedback/status_lookup.html", form=form)


@bp.get("/guardian")
@requires("feedback.guardian")
def guardian():
    """Speak-up concerns sent to me as the Freedom to Speak Up guardian."""
    actor = current_actor()
    return render_template("feedback/guardian.html", items=queries.guardian_submissions(
        actor.person_id, actor.organisation_id))


@bp.get("/mine")
@requires("signed_in")
def mine():
    """What I have told the organisation, and its answers."""
    return render_template("feedback/mine.html",
                           submissions=queries.my_submissions(current_actor().person_id))


@bp.get("/submissions")
@requires("feedback.submissions")
def submissions():
    """Compliments, suggestions, concerns and complaints in the services the person runs."""
    ids = _answerable_service_ids()
    kind = request.args.get("kind", "")
    kind = kind if kind in {k.value for k in SubmissionKind} else ""
    organisation_id = current_actor().organisation_id
    overdue = queries.overdue_submissions(ids, organisation_id=organisation_id)
    page = None
    if not request.args.get("overdue"):
        query = queries.submissions_query(ids, kind=kind, organisation_id=organisation_id)
        page = db.paginate(query, per_page=25, error_out=False)
    return render_template("feedback/submissions.html", page=page,
                           items=page.items if page else overdue, overdue=overdue, kind=kind,
                           kinds=list(SubmissionKind))


def _answerable_service_ids() -> set[int] | None:
    """Services whose submissions the person reads and answers (None: all)."""
    return current_actor().service_ids([Role.board, Role.manager])


@bp.get("/submissions/<int:submission_id>")
@requires("feedback.submission", load=load_submission)
def submission(item: Submission):
    """One submission, its deadlines and its answer."""
    return render_template("feedback/submission.html", submission=item,
                           can_respond=can("feedback.submissions", item),
                           reopen_form=forms.ReopenForm(), extend_form=forms.ExtendForm())


@bp.post("/submissions/<int:submission_id>/reopen")
@requires("feedback.submissions", load=load_submission)
def reopen_submission(item: Submission):
    """Reopen an answered complaint: the person is not satisfied with the answer."""
    form = forms.ReopenForm()
    if not form.validate_on_submit():
        flash("Say why the complaint is reopened (what the person is not satisfied with).",
              "error")
        return redirect(url_for("feedback.submission", submission_id=item.id))
    try:
        services.reopen_complaint(item, reason=form.reason.data, by=current_actor().person)
    except FeedbackError as error:
        refuse(error)
    else:
        db.session.commit()
        flash(f"{item.reference} is reopened. Answer it by {item.answer_by:%-d %B %Y}.",
              "success")
    return redirect(url_for("feedback.submission", submission_id=item.id))


@bp.post("/submissions/<int:submission_id>/extend")
@requires("feedback.submissions", load=load_submission)
def extend_submission(item: Submission):
    """Give a complaint more time, with a reason the person is told."""
    form = forms.ExtendForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(errors[0], "error")
        return redirect(url_for("feedback.submission", submission_id=item.id))
    try:
        services.extend_deadline(item, answer_by=form.answer_by.data, reason=form.reason.data,
                                 by=current_actor().person)
    except FeedbackError as error:
        refuse(error)
    else:
        db.session.commit()
        tasks.tell_submitter_extended(item.id)
        told = (" The person has been emailed the reason." if tasks.reachable_by_email(item)
                else " They left no email address: tell them the reason another way.")
        flash(f"{item.reference} is now due by {item.answer_by:%-d %B %Y}.{told}", "success")
    return redirect(url_for("feedback.submission", submission_id=item.id))


@bp.post("/submissions/<int:submission_id>/acknowledge")
@requires("feedback.submissions", load=load_submission)
def acknowledge(item: Submission):
    """Acknowledge a submission."""
    try:
        services.acknowledge(item, by=current_actor().person)
    except FeedbackError as error:
        refuse(error)
    else:
        db.session.commit()
        tasks.tell_submitter_acknowledged(item.id)
        flash(f"{item.reference} is acknowledged.", "success")
    return redirect(url_for("feedback.submission", submission_id=item.id))


@bp.route("/submissions/<int:submission_id>/answer", methods=["GET", "POST"])
@requires("feedback.submissions", load=load_submission)
def answer_submission(item: Submission):
    """Answer a submission: the answer, the outcome, what we learned and where to go next."""
    form = forms.AnswerSubmissionForm()
    if request.method == "GET":
        form.escalation_route.data = services.escalation_route_for(item.organisation_id)
    if form.validate_on_submit():
        try:
            services.answer_submission(item, answer=form.answer.data, by=current_actor().person,
                                       outcome=form.outcome.data or None,
                                       learning=form.learning.data or "",
                                       escalation_route=form.escalation_route.data or "")
        except FeedbackError as error:
            refuse(error)
        else:
            db.session.commit()
            tasks.tell_submitter_answered(item.id)
            flash(f"{item.reference} is answered.", "success")
            return redirect(url_for("feedback.submission", submission_id=item.id))
    elif request.method == "POST":
        flash("Please check the form.", "error")
    return render_template("feedback/answer_submission.html", form=form, submission=item)


def _summary() -> tuple[forms.SummaryForm, queries.ComplaintsSummary]:
    """The summary over the range asked for (the last year unless the form says otherwise)."""
    form = forms.SummaryForm(request.args)
    today = clock.today()
    start, end = today - timedelta(days=365), today
    if request.args and form.validate():
        start, end = form.start.data, form.end.data
        if end < start:
            start, end = end, start
    else:
        form.start.data, form.end.data = start, end
    return form, queries.complaints_summary(_answerable_service_ids(), start, end,
                                            organisation_id=current_actor().organisation_id)


@bp.get("/complaints/summary")
@requires("feedback.submissions")
def summary():
    """A summary of feedback and complaints over any date range."""
    form, summary = _summary()
    return render_template("feedback/summary.html", form=form, summary=summary)


@bp.get("/complaints/summary.csv")
@requires("feedback.submissions")
def summary_csv():
    """The same summary as a CSV file (figures, then one row per item, without its words)."""
    _form, summary = _summary()
    start, end = summary.start, summary.end
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["measure", "value"])
    writer.writerow(["from", start.isoformat()])
    writer.writerow(["to", end.isoformat()])
    writer.writerow(["received", summary.total])
    writer.writerow(["complaints", summary.complaints])
    for label, counter in (("type", summary.by_kind), ("theme", summary.by_theme),
                           ("outcome", summary.by_outcome), ("service", summary.by_service)):
        for key, count in sorted(counter.items()):
            writer.writerow([safe_cell(f"{label}: {key}"), count])
    writer.writerow(["complaints acknowledged in time", summary.acknowledged_in_time])
    writer.writerow(["complaints due to be acknowledged", summary.acknowledge_due])
    writer.writerow(["complaints answered in time", summary.answered_in_time])
    writer.writerow(["complaints due to be answered", summary.answer_due])
    writer.writerow(["average days to acknowledge", summary.average_days_to_acknowledge or ""])
    writer.writerow(["average days to answer", summary.average_days_to_answer or ""])
    writer.writerow(["overdue now", len(summary.overdue)])
    writer.writerow([])
    writer.writerow(["reference", "service", "type", "theme", "received", "acknowledged",
                     "answered", "days to acknowledge", "days to answer", "outcome", "overdue"])
    for row in summary.rows:
        writer.writerow([row.reference, safe_cell(row.service.name), row.kind.label,
                         safe_cell(row.theme.name if row.theme else ""), row.received_at.date(),
                         row.acknowledged_at.date() if row.acknowledged_at else "",
                         row.answered_at.date() if row.answered_at else "",
                         row.days_to_acknowledge if row.days_to_acknowledge is not None else "",
                         row.days_to_answer if row.days_to_answer is not None else "",
                         row.outcome.label if row.outcome else "", row.overdue() or ""])
    name = f"feedback-summary-{start.isoformat()}-to-{end.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the organisation's settings ------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@requires("feedback.settings")
def settings():
    """The organisation's feedback settings: the ombudsman route, set once for every answer."""
    actor = current_actor()
    form = forms.SettingsForm()
    if request.method == "GET":
        form.escalation_route.data = services.escalation_route_for(actor.organisation_id)
        current = services.settings_for(actor.organisation_id)
        form.speak_up_guardian_id.data = (current.speak_up_guardian_id or 0) if current else 0
    # Everyone with an email address is too many to list: the first few, and a search.
    picker = person_picker(queries.guardian_choices_query(actor.organisation_id))
    form.speak_up_guardian_id.choices = [
        ("0", "Nobody: speak-up concerns go to the managers"),
        *picker.choices(form.speak_up_guardian_id.data)]
    if form.validate_on_submit():
        guardian = (picker.get(form.speak_up_guardian_id.data)
                    if form.speak_up_guardian_id.data else None)
        try:
            services.save_settings(actor.organisation_id,
                                   escalation_route=form.escalation_route.data, by=actor.person,
                                   speak_up_guardian=guardian)
        except FeedbackError as error:
            refuse(error)
        else:
            done("The settings are saved.")
            return redirect(url_for("feedback.settings"))
    elif request.method == "POST":
        flash("Please check the form.", "error")
    return render_template("feedback/settings.html", form=form, picker=picker)


# --- themes ----------------------------------------------------------------------------------

@bp.route("/themes", methods=["GET", "POST"])
@requires("feedback.themes")
def themes():
    """The organisation's list of feedback themes."""
    actor = current_actor()
    org = queries.organisation_of(actor)
    form = forms.ThemeForm()
    if form.validate_on_submit():
        try:
            services.add_theme(org, form.name.data, by=actor.person)
        except FeedbackError as error:
            refuse(error)
        else:
            done("The theme is added.")
            return redirect(url_for("feedback.themes"))
    return render_template("feedback/themes.html", form=form,
                           themes=queries.themes(org.id, include_archived=True))


@bp.post("/themes/<int:theme_id>/archive")
@requires("feedback.themes", load=load_theme)
def theme_archive(theme: Theme):
    """Take a theme off the list, or bring it back."""
    services.set_theme_archived(theme, theme.archived_at is None, by=current_actor().person)
    db.session.commit()
    flash(f"{theme.name} is {'off the list' if theme.archived_at else 'back on the list'}.",
          "success")
    return redirect(url_for("feedback.themes"))


STATUS_BADGES = {
    FeedbackStatus.received: "badge-warn", FeedbackStatus.under_review: "badge-warn",
    FeedbackStatus.answered: "badge-ok", FeedbackStatus.closed: "",
    SubmissionStatus.received: "badge-warn", SubmissionStatus.acknowledged: "badge-warn",
    SubmissionStatus.answered: "badge-ok",
}


@bp.app_template_filter("days_after")
def days_after(days: int | None) -> str:
    """Whole days after receipt, in words: "the same day", "1 day after it was received"."""
    if not days:
        return "the same day it was received"
    return f"{days} day{'s' if days != 1 else ''} after it was received"


@bp.app_template_filter("queue_words")
def queue_words(item: AmbassadorFeedback) -> str:
    """An item's words for a list, as the policy allows: a possible safeguarding matter is
    quoted only to those who may read what was done about it."""
    if item.safeguarding and not can("feedback.safeguarding_read", item):
        return "May be a safeguarding matter: open the item to read it."
    return services.first_line(item.what_was_said)


@bp.app_template_filter("feedback_badge")
def feedback_badge(status: object) -> str:
    return STATUS_BADGES.get(status, "")  # type: ignore[call-overload]
