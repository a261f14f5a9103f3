"""Pages for meetings: series, agendas, suggestions, attendance, minutes, actions, calendars."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from involve.extensions import db, utcnow
from involve.images import photo_response
from involve.kernel import clock
from involve.kernel.errors import DomainError
from involve.kernel.forms import EmptyForm
from involve.kernel.steps import attempt
from involve.kernel.tokens import SignedLink
from involve.meetings import bp, calendars, queries, services
from involve.meetings.forms import (
    AcceptForm,
    ActionForm,
    ActionUpdateForm,
    AddItemForm,
    ApproveForm,
    AttachmentForm,
    AttendanceForm,
    CancelForm,
    DeclineForm,
    MeetingForm,
    MinutesForm,
    MoveForm,
    PictureForm,
    RewordForm,
    SeriesForm,
    SuggestForm,
)
from involve.meetings.models import (
    Action,
    AgendaItem,
    Attendance,
    ItemStatus,
    Meeting,
    MeetingSeries,
    MeetingsError,
    MeetingStatus,
    MinutesAttachment,
)
from involve.people.models import Person, Role, Service
from involve.people.policy import service_choices_query
from involve.people.queries import people_query
from involve.permissions import can, current_actor, loader, public, requires, within_organisation
from involve.pickers import Picker, as_id, person_picker, service_picker

PER_PAGE = 25

# --- loaders (404 when missing) ----------------------------------------------------------


load_series = loader(MeetingSeries)


def load_meeting(meeting_id: int) -> Meeting:
    return within_organisation(queries.load_meeting(meeting_id))


load_item = loader(AgendaItem)
load_action = loader(Action)
load_attachment = loader(MinutesAttachment)
load_service = loader(Service)


# --- helpers -----------------------------------------------------------------------------

def _person(person_id: int | None) -> Person | None:
    return db.session.get(Person, person_id) if person_id else None


def _to_meeting(meeting: Meeting, anchor: str = "") -> Any:
    return redirect(url_for("meetings.meeting", meeting_id=meeting.id) + anchor)


def _people_picker(meeting: Meeting) -> Picker:
    """Invitees, staff and managers of the meeting's scope: the first few, or found by name."""
    return person_picker(queries.people_choices_query(meeting))


def _people_choices(picker: Picker, blank: str, *chosen: Any) -> list[tuple[str, str]]:
    return [("0", blank), *picker.choices(*chosen)]


#: A series' calendar feed address: the series and its key, signed (it never expires).
FEED_LINK = SignedLink("meetings.feed", format="json")


def feed_token(series: MeetingSeries) -> str:
    """The unguessable address part of a series' calendar feed."""
    return FEED_LINK.make([series.id, series.feed_key])


# --- series ------------------------------------------------------------------------------

@bp.get("/")
@requires("meetings.list")
def index():
    """The meetings a person can see: coming meetings and their series, a page at a time."""
    actor = current_actor()
    search = request.args.get("q", "")[:100]
    series = db.paginate(queries.series_query(actor, search), per_page=PER_PAGE,
                         error_out=False)
    coming = queries.next_meetings(queries.series_query(actor))
    # "You said, we did" of each service the person belongs to, so that it is easy to find.
    you_said_services = db.paginate(queries.you_said_services_query(actor), per_page=PER_PAGE,
                                    page=request.args.get("services_page", 1, type=int),
                                    error_out=False)
    return render_template("meetings/index.html", series=series, coming=coming,
                           you_said_services=you_said_services, search=search)


@bp.route("/series/new", methods=["GET", "POST"])
@requires("meetings.create")
def new_series():
    """Start a new series of meetings for a service (or the organisation)."""
    actor = current_actor()
    form = SeriesForm()
    picker = service_picker(service_choices_query(actor, [Role.manager, Role.admin]))
    form.scope.choices = picker.choices(form.scope.data)
    if actor.has_role([Role.admin], None):
        form.scope.choices.append(("0", "The whole organisation"))
    if form.validate_on_submit():
        service_id = form.scope.data or None
        org_id = actor.person.organisation_id
        ok, created = attempt(lambda: services.create_series(
                organisation_id=org_id, service_id=service_id, name=form.name.data,
                kind=form.kind.data, invited_roles=form.invited_roles.data,
                invite_ambassadors=form.invite_ambassadors.data,
                share_with_families=form.share_with_families.data,
                share_with_partners=form.share_with_partners.data,
                default_room=form.default_room.data or "", by=actor.person),
                "The series is ready. Now plan its first meeting.")
        if ok:
            return redirect(url_for("meetings.series", series_id=created.id))
    return render_template("meetings/series_form.html", form=form, picker=picker)


@bp.route("/series/<int:series_id>/edit", methods=["GET", "POST"])
@requires("meetings.manage_series", load=load_series)
def edit_series(series: MeetingSeries):
    """Change a series' name, who is invited and who may read its minutes."""
    form = SeriesForm(obj=series)
    del form.scope  # meetings keep the service they were planned for
    if request.method == "GET":
        form.kind.data = series.kind.value
        form.invited_roles.data = list(series.invited_roles)
    if form.validate_on_submit():
        ok, _ = attempt(lambda: services.change_series(
            series, name=form.name.data, kind=form.kind.data,
            invited_roles=form.invited_roles.data or [],
            invite_ambassadors=form.invite_ambassadors.data,
            share_with_families=form.share_with_families.data,
            share_with_partners=form.share_with_partners.data,
            default_room=form.default_room.data or "", by=current_actor().person),
            "The series is changed. Coming meetings invite anyone newly included.")
        if ok:
            return redirect(url_for("meetings.series", series_id=series.id))
    return render_template("meetings/series_form.html", form=form, series=series)


@bp.get("/series/<int:series_id>")
@requires("meetings.view", load=load_series)
def series(series: MeetingSeries):
    """A series: its meetings and how to subscribe to them in a calendar."""
    meetings = queries.series_meetings(series.id)
    feed_url = url_for("meetings.feed", token=feed_token(series), _external=True)
    return render_template("meetings/series.html", series=series, meetings=meetings,
                           feed_url=feed_url)


@bp.route("/series/<int:series_id>/new-meeting", methods=["GET", "POST"])
@requires("meetings.manage_series", load=load_series)
def new_meeting(series: MeetingSeries):
    """Plan a meeting of a series."""
    from involve.people.queries import people_with_role

    form = MeetingForm()
    staff = {p.id: p for role in (Role.manager, Role.staff)
             for p in people_with_role(role, series.service_id,
                                       organisation_id=series.organisation_id)}
    choices = [(0, "Nobody yet")] + [(p.id, p.full_name) for p in
                                     sorted(staff.values(), key=lambda p: p.full_name)]
    form.chair_id.choices = form.minute_taker_id.choices = choices
    # The people of the series' service (or organisation): the first few, or found by name.
    picker = person_picker(people_query(
        organisation_id=series.organisation_id,
        service_ids=None if series.service_id is None else {series.service_id}))
    form.named_ids.choices = picker.choices(*(form.named_ids.data or []))
    if request.method == "GET":
        form.room.data = series.default_room
        form.chair_id.data = current_actor().person_id if current_actor().person_id in staff \
            else 0
    if form.validate_on_submit():
        named = list(db.session.scalars(picker.query.where(
            Person.id.in_(form.named_ids.data or []))))

        def plan() -> Meeting:
            return services.schedule_meeting(
                series, starts_at=clock.from_local(form.starts_at.data),
                ends_at=clock.from_local(form.ends_at.data), room=form.room.data or "",
                online_link=form.online_link.data or "", chair=_person(form.chair_id.data),
                minute_taker=_person(form.minute_taker_id.data), named_invitees=named,
                hearing_loop=form.hearing_loop.data, easy_read_agenda=form.easy_read_agenda.data,
                step_free=form.step_free.data, access_notes=form.access_notes.data or "",
                by=current_actor().person)

        ok, planned = attempt(
            plan, "The meeting is planned. People can now suggest items for its agenda.")
        if ok:
            return _to_meeting(planned)
    return render_template("meetings/meeting_form.html", form=form, series=series,
                           picker=picker)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@requires("meetings.manage", load=load_meeting)
def edit_meeting(meeting: Meeting):
    """Change a coming meeting's time, place, chair, minute-taker or access notes."""
    from involve.people.queries import people_with_role

    form = MeetingForm(obj=meeting)
    del form.named_ids
    staff = {p.id: p for role in (Role.manager, Role.staff)
             for p in people_with_role(role, meeting.service_id,
                                       organisation_id=meeting.organisation_id)}
    for person in (meeting.chair, meeting.minute_taker):
        if person is not None:
            staff.setdefault(person.id, person)
    choices = [(0, "Nobody yet")] + [(p.id, p.full_name) for p in
                                     sorted(staff.values(), key=lambda p: p.full_name)]
    form.chair_id.choices = form.minute_taker_id.choices = choices
    if request.method == "GET":
        form.starts_at.data = clock.wall_clock(meeting.starts_at)
        form.ends_at.data = clock.wall_clock(meeting.ends_at)
        form.chair_id.data = meeting.chair_id or 0
        form.minute_taker_id.data = meeting.minute_taker_id or 0
    if form.validate_on_submit():
        starts_at = clock.from_local(form.starts_at.data)
        ends_at = clock.from_local(form.ends_at.data)
        try:
            moving = services.is_a_move(meeting, starts_at=starts_at, ends_at=ends_at,
                                        room=form.room.data or "",
                                        online_link=form.online_link.data or "")
        except MeetingsError as error:
            flash(str(error), "error")
            return render_template("meetings/meeting_form.html", form=form,
                                   series=meeting.series, meeting=meeting)
        if moving and request.form.get("confirmed") != "yes":
            # Say who will be emailed before anyone is.
            emailed, other = queries.who_will_be_emailed(meeting)
            return render_template("meetings/meeting_confirm.html", form=form,
                                   meeting=meeting, emailed=emailed, other=other,
                                   starts_at=starts_at, ends_at=ends_at)
        ok, _ = attempt(lambda: services.change_meeting(
            meeting, starts_at=starts_at, ends_at=ends_at, room=form.room.data or "",
            online_link=form.online_link.data or "", chair=_person(form.chair_id.data),
            minute_taker=_person(form.minute_taker_id.data),
            hearing_loop=form.hearing_loop.data, easy_read_agenda=form.easy_read_agenda.data,
            step_free=form.step_free.data, access_notes=form.access_notes.data or "",
            by=current_actor().person),
            lambda sent: "The meeting is changed." + (
                f" {sent} {'person was' if sent == 1 else 'people were'} emailed the new "
                "details. Tell everyone else in person or with a printed agenda." if sent else ""))
        if ok:
            return _to_meeting(meeting)
    return render_template("meetings/meeting_form.html", form=form, series=meeting.series,
                           meeting=meeting)


# --- one meeting -------------------------------------------------------------------------

@bp.get("/<int:meeting_id>")
@requires("meetings.view", load=load_meeting)
def meeting(meeting: Meeting):
    """A meeting: its agenda, suggestions, attendance, minutes and actions."""
    page = queries.meeting_page(meeting, invitees=False)  # counts, not every invitee
    actor = current_actor()
    return render_template(
        "meetings/meeting.html", meeting=meeting, page=page,
        may_manage=can("meetings.manage", meeting), may_write=can("meetings.write_minutes",
                                                                  meeting),
        may_read_minutes=can("meetings.read_minutes", meeting),
        may_suggest=can("meetings.suggest", meeting),
        may_attend=can("meetings.attendance", meeting),
        started=meeting.starts_at <= utcnow(),
        mine=[i for i in page.suggestions + page.declined if i.raised_by_id == actor.person_id
              or i.suggested_by_id == actor.person_id],
        decline_form=DeclineForm(), empty=EmptyForm(),
        other_business_open=meeting.status in services.OTHER_BUSINESS_STATES,
        approve_form=ApproveForm(approved_on=clock.today()), cancel_form=CancelForm())


@bp.get("/<int:meeting_id>/agenda/print")
@requires("meetings.view", load=load_meeting)
def agenda_print(meeting: Meeting):
    """The agenda in large print, and who needs a printed copy."""
    page = queries.meeting_page(meeting, invitees=False)
    needs_copy = db.paginate(queries.print_copies_query(meeting.id), per_page=PER_PAGE,
                             error_out=False) if can("people.view_needs", meeting) else None
    return render_template("meetings/agenda_print.html", meeting=meeting, page=page,
                           needs_copy=needs_copy)


@bp.route("/<int:meeting_id>/suggest", methods=["GET", "POST"])
@requires("meetings.suggest", load=load_meeting)
def suggest(meeting: Meeting):
    """Suggest an item for the agenda (staff can record it for someone else)."""
    actor = current_actor()
    form = SuggestForm()
    for_others = can("meetings.record_for_others", meeting)
    picker = person_picker(queries.invited_people_query(meeting).where(
        Person.id != actor.person_id)) if for_others else None
    form.on_behalf_of.choices = [("0", "Myself")] + (
        picker.choices(form.on_behalf_of.data) if picker else [])
    if form.validate_on_submit():
        someone = _person(form.on_behalf_of.data) if for_others else None
        if attempt(lambda: services.suggest_item(
                meeting, title=form.title.data, description=form.description.data or "",
                by=actor.person, on_behalf_of=someone),
                "Thank you. Your suggestion has been sent to the chair, who will decide "
                "whether it goes on the agenda.")[0]:
            return _to_meeting(meeting)
    return render_template("meetings/suggest.html", form=form, meeting=meeting,
                           for_others=for_others, picker=picker)


@bp.route("/items/<int:item_id>/accept", methods=["GET", "POST"])
@requires("meetings.manage", load=load_item)
def accept_item(item: AgendaItem):
    """Put a suggestion onto the agenda, with a presenter and time."""
    form = AcceptForm()
    picker = _people_picker(item.meeting)
    form.presenter_id.choices = _people_choices(picker, "Nobody in particular",
                                                form.presenter_id.data)
    if request.method == "GET":
        form.title.data, form.description.data = item.title, item.description
    if form.validate_on_submit():
        if attempt(lambda: services.accept_suggestion(
                item, by=current_actor().person, presenter=_person(form.presenter_id.data),
                duration_minutes=form.duration_minutes.data,
                title=(form.title.data or "") if "title" in request.form else None,
                description=form.description.data if "description" in request.form else None),
                lambda accepted: f"\"{accepted.title}\" is on the agenda.")[0]:
            return _to_meeting(item.meeting, "#agenda")
        return _to_meeting(item.meeting)
    return render_template("meetings/accept.html", form=form, item=item, meeting=item.meeting,
                           picker=picker)


@bp.route("/<int:meeting_id>/items/new", methods=["GET", "POST"])
@requires("meetings.manage", load=load_meeting)
def add_item(meeting: Meeting):
    """The chair puts an item on the agenda, or (once it is out) under any other business."""
    other_business = meeting.status != MeetingStatus.planned
    form = AddItemForm()
    picker = _people_picker(meeting)
    form.raised_by_id.choices = form.presenter_id.choices = _people_choices(
        picker, "Nobody in particular", form.raised_by_id.data, form.presenter_id.data)
    if form.validate_on_submit():
        if attempt(lambda: services.add_agenda_item(
                meeting, title=form.title.data, description=form.description.data or "",
                raised_by=_person(form.raised_by_id.data), by=current_actor().person,
                presenter=_person(form.presenter_id.data),
                duration_minutes=form.duration_minutes.data, other_business=other_business),
                lambda item: f"\"{item.title}\" is on the agenda"
                + (" under any other business." if other_business else "."))[0]:
            return _to_meeting(meeting, "#agenda")
    return render_template("meetings/item_form.html", form=form, meeting=meeting,
                           other_business=other_business, picker=picker)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@requires("meetings.manage", load=load_item)
def edit_item(item: AgendaItem):
    """Reword an item for the agenda (the suggester's words are kept), and its picture."""
    form = RewordForm()
    if request.method == "GET":
        form.title.data, form.description.data = item.title, item.description
    if form.validate_on_submit():
        if attempt(lambda: services.reword_item(
                item, title=form.title.data, description=form.description.data or "",
                by=current_actor().person),
                "The agenda now shows your wording. The original words are kept.")[0]:
            return _to_meeting(item.meeting, f"#item-{item.id}")
    return render_template("meetings/item_edit.html", form=form, item=item,
                           meeting=item.meeting, picture_form=PictureForm(), empty=EmptyForm())


@bp.post("/items/<int:item_id>/picture")
@requires("meetings.manage", load=load_item)
def item_picture(item: AgendaItem):
    """Give an item a picture for the easy-read agenda, or take it away."""
    actor = current_actor()
    if request.form.get("remove") == "yes":
        if EmptyForm().validate_on_submit():
            attempt(lambda: services.remove_item_picture(item, by=actor.person),
                     "The picture is removed.")
        return redirect(url_for("meetings.edit_item", item_id=item.id))
    form = PictureForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("meetings.edit_item", item_id=item.id))
    data = form.picture.data.read()
    attempt(lambda: services.set_item_picture(item, data=data, alt_text=form.alt_text.data,
                                               by=actor.person),
             "The picture is saved. It shows on the easy-read agenda and minutes.")
    return redirect(url_for("meetings.edit_item", item_id=item.id))


@bp.get("/items/<int:item_id>/picture.jpg")
@requires("meetings.view", load=load_item)
def item_picture_file(item: AgendaItem):
    """An item's picture (only where the item itself may be seen)."""
    meeting = item.meeting
    visible = item.status == ItemStatus.accepted and (
        meeting.agenda_is_public or can("meetings.manage", meeting)
        or can("meetings.attendance", meeting))
    if not visible or not item.has_picture:
        abort(404)
    return photo_response(item.picture)


@bp.post("/items/<int:item_id>/decline")
@requires("meetings.manage", load=load_item)
def decline_item(item: AgendaItem):
    """Decline a suggestion with a reason the suggester sees."""
    form = DeclineForm()
    reason = form.reason.data or ""
    attempt(lambda: services.decline_suggestion(item, reason=reason,
                                                 by=current_actor().person),
             "The suggestion is declined. The person who made it will see your reason.")
    return _to_meeting(item.meeting, "#suggestions")


@bp.post("/items/<int:item_id>/move")
@requires("meetings.manage", load=load_item)
def move_item(item: AgendaItem):
    """Move an agenda item up or down."""
    form = MoveForm()
    direction = form.direction.data or ""
    attempt(lambda: services.move_item(item, direction, by=current_actor().person),
             f"\"{item.title}\" moved {direction}.")
    return _to_meeting(item.meeting, f"#item-{item.id}")


@bp.post("/<int:meeting_id>/publish-agenda")
@requires("meetings.manage", load=load_meeting)
def publish_agenda(meeting: Meeting):
    """Publish the agenda and email it to invitees."""
    if EmptyForm().validate_on_submit():
        attempt(lambda: services.publish_agenda(meeting, by=current_actor().person),
                 lambda sent: f"The agenda is published and emailed to {sent} "
                              f"{'person' if sent == 1 else 'people'}. Print copies for "
                              "everyone else from the large-print agenda.")
    return _to_meeting(meeting)


@bp.post("/<int:meeting_id>/held")
@requires("meetings.manage", load=load_meeting)
def mark_held(meeting: Meeting):
    """Record that the meeting took place."""
    if EmptyForm().validate_on_submit():
        attempt(lambda: services.mark_held(meeting, by=current_actor().person),
                 "The meeting is marked as held. Now write the minutes.")
    return _to_meeting(meeting)


@bp.post("/<int:meeting_id>/cancel")
@requires("meetings.manage", load=load_meeting)
def cancel(meeting: Meeting):
    """Cancel the meeting, with a reason invitees see."""
    form = CancelForm()
    reason = form.reason.data or ""
    attempt(lambda: services.cancel_meeting(meeting, reason=reason, by=current_actor().person),
             "The meeting is cancelled. Invitees with email have been told why.")
    return _to_meeting(meeting)


@bp.route("/<int:meeting_id>/attendance", methods=["GET", "POST"])
@requires("meetings.attendance", load=load_meeting)
def attendance(meeting: Meeting):
    """Take attendance: present, apologies or absent for each invitee, a page at a time or
    found by name, and guests."""
    search = request.args.get("q", "")[:100].strip()
    page = db.paginate(queries.invitees_query(meeting.id, search), per_page=PER_PAGE,
                       error_out=False)
    invitees = page.items
    form = AttendanceForm(guest_count=meeting.guest_count,
                          guest_names="\n".join(meeting.guest_names or []))
    if request.method == "POST" and request.form.get("everyone") == "present":
        if EmptyForm().validate_on_submit():
            attempt(lambda: services.mark_everyone_present(meeting, by=current_actor().person),
                     lambda n: f"Everyone is marked present ({n}). Now change anyone who was "
                               "not here, and save.")
        return redirect(url_for("meetings.attendance", meeting_id=meeting.id))
    marks: dict[int, str | None] = {
        row.person_id: row.attendance.value if row.attendance else None for row in invitees}
    if request.method == "POST":
        # The people the form showed (a page of them), and anyone else it sends a mark for:
        # someone not invited is refused by the service, and nothing is saved.
        shown = request.form.getlist("shown") if "shown" in request.form else list(marks)
        sent = [key.removeprefix("attendance-") for key in request.form
                if key.startswith("attendance-")]
        marks = {}
        for value in [*shown, *sent]:
            person_id = as_id(value) or 0
            mark = request.form.get(f"attendance-{value}", "")
            # What was ticked goes back into the list on a refusal, so that nothing is lost.
            marks[person_id] = mark if mark in Attendance.__members__ else None
    if form.validate_on_submit():
        if attempt(lambda: services.record_attendance(
                meeting, marks=marks, guest_count=form.guest_count.data or 0,
                guest_names=(form.guest_names.data or "").splitlines(),
                by=current_actor().person), "Attendance is saved.")[0]:
            if page.pages > 1 or search:  # carry on with the next page, or another search
                return redirect(url_for("meetings.attendance", meeting_id=meeting.id,
                                        q=search or None, page=page.page))
            return _to_meeting(meeting, "#attendance")
    return render_template("meetings/attendance.html", meeting=meeting, form=form,
                           page=page, invitees=invitees, marks=marks, search=search,
                           counts=queries.attendance_counts(meeting.id),
                           show_needs=can("people.view_needs", meeting),
                           choices=list(Attendance))


@bp.route("/<int:meeting_id>/minutes/edit", methods=["GET", "POST"])
@requires("meetings.write_minutes", load=load_meeting)
def edit_minutes(meeting: Meeting):
    """Write the minutes: notes and decisions per item, and an easy-read summary."""
    if not meeting.is_held:
        flash("The meeting has not been held yet. Mark it as held first, then write the "
              "minutes.", "error")
        return _to_meeting(meeting)
    page = queries.meeting_page(meeting)
    form = MinutesForm(easy_read_summary=meeting.easy_read_summary)
    typed = {item.id: (item.notes, item.decisions) for item in page.agenda}
    if form.validate_on_submit():
        # What was typed goes back into the form on a refusal, so that nothing is lost.
        typed = {item.id: (request.form.get(f"notes-{item.id}", ""),
                           request.form.get(f"decisions-{item.id}", ""))
                 for item in page.agenda}
        ok, _ = attempt(lambda: services.save_minutes(
            meeting, summary=form.easy_read_summary.data or "", notes=typed,
            by=current_actor().person, revision_note=form.revision_note.data or ""),
            lambda revision: f"The minutes are saved (revision {revision.number}).")
        if ok:
            return _to_meeting(meeting, "#minutes")
    return render_template("meetings/minutes_form.html", meeting=meeting, page=page, form=form,
                           typed=typed,
                           published=meeting.status == MeetingStatus.minutes_published)


@bp.post("/<int:meeting_id>/minutes/approve")
@requires("meetings.manage", load=load_meeting)
def approve_minutes(meeting: Meeting):
    """Record the approval of the minutes, with its date."""
    form = ApproveForm()
    if not form.validate_on_submit():
        flash("Enter the date the minutes were approved.", "error")
        return _to_meeting(meeting, "#minutes")
    attempt(lambda: services.approve_minutes(meeting, approved_on=form.approved_on.data,
                                              how=form.how.data or "",
                                              by=current_actor().person),
             "The minutes are approved. You can now publish them.")
    return _to_meeting(meeting, "#minutes")


@bp.post("/<int:meeting_id>/minutes/publish")
@requires("meetings.manage", load=load_meeting)
def publish_minutes(meeting: Meeting):
    """Publish approved minutes to the series' audience."""
    if EmptyForm().validate_on_submit():
        attempt(lambda: services.publish_minutes(meeting, by=current_actor().person),
                 lambda sent: f"The minutes are published and emailed to {sent} "
                              f"{'person' if sent == 1 else 'people'}.")
    return _to_meeting(meeting, "#minutes")


@bp.get("/<int:meeting_id>/minutes")
@requires("meetings.read_minutes", load=load_meeting)
def minutes(meeting: Meeting):
    """The whole minutes as one document, for the screen and for print."""
    page = queries.meeting_page(meeting)
    may_write = can("meetings.write_minutes", meeting)
    history = queries.revisions(meeting.id) if may_write else []
    return render_template("meetings/minutes.html", meeting=meeting, page=page,
                           history=history, may_write=may_write,
                           attachment_form=AttachmentForm(), empty=EmptyForm())


@bp.get("/<int:meeting_id>/minutes/easy-read")
@requires("meetings.read_minutes", load=load_meeting)
def easy_read_minutes(meeting: Meeting):
    """The minutes in easy read: pictures on the left, short sentences on the right."""
    return render_template("meetings/easy_read_minutes.html", meeting=meeting,
                           page=queries.meeting_page(meeting))


@bp.get("/<int:meeting_id>/agenda/easy-read")
@requires("meetings.view", load=load_meeting)
def easy_read_agenda(meeting: Meeting):
    """The agenda in easy read: pictures on the left, short sentences on the right."""
    if not (meeting.agenda_is_public or can("meetings.manage", meeting)
            or can("meetings.attendance", meeting)):
        abort(404)
    return render_template("meetings/easy_read_agenda.html", meeting=meeting,
                           page=queries.meeting_page(meeting))


@bp.post("/<int:meeting_id>/minutes/attachments")
@requires("meetings.write_minutes", load=load_meeting)
def add_attachment(meeting: Meeting):
    """Attach a PDF or a picture to the minutes (checked as every upload is)."""
    form = AttachmentForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    else:
        upload = form.file.data
        data = upload.read()
        attempt(lambda: services.add_minutes_attachment(
            meeting, data=data, filename=upload.filename or "", description=form.description.data,
            by=current_actor().person), "The file is attached to the minutes.")
    return redirect(url_for("meetings.minutes", meeting_id=meeting.id) + "#attachments")


@bp.get("/attachments/<int:attachment_id>")
@requires("meetings.read_minutes", load=load_attachment)
def attachment(attachment: MinutesAttachment):
    """A file attached to the minutes: pictures as JPEG, PDFs as a download."""
    if attachment.is_picture:
        return photo_response(attachment.data)
    response = Response(attachment.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/attachments/<int:attachment_id>/remove")
@requires("meetings.write_minutes", load=load_attachment)
def remove_attachment(attachment: MinutesAttachment):
    """Take a file off minutes that are not published yet."""
    meeting = attachment.meeting
    if EmptyForm().validate_on_submit():
        attempt(lambda: services.remove_minutes_attachment(attachment,
                                                            by=current_actor().person),
                 "The file is removed from the minutes.")
    return redirect(url_for("meetings.minutes", meeting_id=meeting.id) + "#attachments")


@bp.get("/<int:meeting_id>/calendar.ics")
@requires("meetings.view", load=load_meeting)
def meeting_ics(meeting: Meeting):
    """"Add to my calendar": the meeting as an .ics file."""
    body = calendars.meeting_calendar([meeting])
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="meeting-{meeting.id}.ics"'})


@bp.get("/feed/<token>.ics")
@public
def feed(token: str):
    """A series' calendar feed, for calendar apps (the address itself is the key)."""
    try:
        series_id, key = FEED_LINK.read(token)
    except (DomainError, ValueError, TypeError):
        abort(404)
    series = db.session.get(MeetingSeries, series_id)
    if series is None or series.feed_key != key:
        abort(404)
    body = calendars.meeting_calendar(queries.series_meetings(series.id), name=series.name)
    return Response(body, mimetype="text/calendar")


# --- actions -----------------------------------------------------------------------------

@bp.route("/items/<int:item_id>/actions/new", methods=["GET", "POST"])
@requires("meetings.write_minutes", load=load_item)
def new_action(item: AgendaItem):
    """Raise an action from an agenda item."""
    meeting = item.meeting
    form = ActionForm()
    picker = _people_picker(meeting)
    chosen = (form.owner_id.data, form.said_by_id.data)
    form.owner_id.choices = _people_choices(picker, "Choose someone", *chosen)
    form.said_by_id.choices = _people_choices(picker, "Do not say", *chosen)
    if request.method == "GET":
        form.you_said.data = item.title
        form.due_on.data = clock.today() + timedelta(days=28)
    if form.validate_on_submit():
        if attempt(lambda: services.create_action(
                service_id=meeting.service_id, you_said=form.you_said.data,
                we_will=form.we_will.data, owner=_person(form.owner_id.data),
                due_on=form.due_on.data, by=current_actor().person, meeting=meeting,
                agenda_item=item, name_who_said=form.name_who_said.data,
                said_by=_person(form.said_by_id.data)),
                "The action is recorded.")[0]:
            return _to_meeting(meeting, f"#item-{item.id}")
    return render_template("meetings/action_form.html", form=form, item=item, meeting=meeting,
                           picker=picker)


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@requires("meetings.update_action", load=load_action)
def action(action: Action):
    """One action: say how it is going, or what was done."""
    form = ActionUpdateForm(status=action.status.value, we_did=action.we_did,
                            reason=action.will_not_do_reason)
    if form.validate_on_submit():
        if attempt(lambda: services.update_action(
                action, status=form.status.data, we_did=form.we_did.data or "",
                reason=form.reason.data or "", by=current_actor().person),
                "The action is updated.")[0]:
            return redirect(url_for("meetings.action", action_id=action.id))
    return render_template("meetings/action.html", action=action, form=form,
                           overdue=action.is_overdue())


@bp.get("/services/<int:service_id>/you-said-we-did")
@requires("meetings.you_said", load=load_service)
def you_said(service: Service):
    """"You said, we did": what was done about what people said, newest first."""
    return render_template("meetings/you_said.html", service=service,
                           actions=queries.you_said_we_did(service))


@bp.get("/services/<int:service_id>/you-said-we-did/poster")
@requires("meetings.you_said", load=load_service)
def you_said_poster(service: Service):
    """"You said, we did" as a large-print poster to print and pin up."""
    return render_template("meetings/you_said_poster.html", service=service,
                           actions=queries.you_said_we_did(service, limit=6))

