"""Pages for a person's home, and for managing services and people."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import segno
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from involve import home_panels, mail
from involve.extensions import db
from involve.images import photo_response
from involve.kernel import clock
from involve.kernel.steps import attempt, done, refuse
from involve.people import bp, forms, importing, queries, services, tasks
from involve.people.models import (
    FamilyLink,
    ImportStatus,
    Organisation,
    PeopleImport,
    Person,
    Role,
    RoleGrant,
    Service,
    User,
)
from involve.people.policy import may_grant, service_choices_query
from involve.people.services import PeopleError
from involve.permissions import can, current_actor, loader, requires, within_organisation
from involve.pickers import Picker, service_picker

PER_PAGE = 25


def load_person(person_id: int, **_: int) -> Person:
    return within_organisation(db.session.get(Person, person_id))


load_service = loader(Service)


def load_import(token: str) -> PeopleImport:
    return within_organisation(db.session.scalar(
        select(PeopleImport).where(PeopleImport.token == token)))


def _organisation() -> Organisation:
    actor = current_actor()
    return db.get_or_404(Organisation, actor.person.organisation_id)


def _first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "Please check the form."


def _back_to(person: Person, anchor: str = ""):
    return redirect(url_for("people.person", person_id=person.id) + (f"#{anchor}" if anchor
                                                                        else ""))


# --- home and the service switcher ----------------------------------------------------------

@bp.get("/")
@requires("signed_in")
def home():
    """A person's home page: what is next for them, from every part of Involve."""
    actor = current_actor()
    current = queries.current_service_id()
    switch = chosen = None
    if actor.service_ids() is None:
        # An organisation-wide role: a link to a picker with a search, never every service.
        chosen = db.session.get(Service, current) if current else None
    else:
        choices = queries.services_for(actor)  # as many as the person's own grants
        if len(choices) > 1:
            switch = forms.ServiceSwitchForm()
            switch.service.choices = [("", "All my services")] + [(str(s.id), s.name)
                                                                   for s in choices]
            switch.service.data = str(current) if current else ""
    return render_template("people/home.html", panels=home_panels(actor), switch=switch,
                           whole_organisation=switch is None and actor.service_ids() is None,
                           chosen=chosen)


@bp.get("/switch-service")
@requires("signed_in")
def choose_service():
    """Find the service to look at by its name, a page at a time."""
    search = request.args.get("q", "")[:100]
    page = db.paginate(queries.services_for_query(current_actor(), search), per_page=PER_PAGE,
                       error_out=False)
    return render_template("people/choose_service.html", page=page, search=search,
                           current=queries.current_service_id())


@bp.post("/switch-service")
@requires("signed_in")
def switch_service():
    """Choose the service to look at; remembered for this session."""
    form = forms.ServiceSwitchForm()
    choice = form.service.data if form.validate_on_submit() else None
    if choice == "":
        session.pop("current_service_id", None)
        flash("You are now looking at all your services.", "success")
        return redirect(url_for("people.home"))
    service = db.session.scalar(queries.services_for_query(current_actor()).where(
        Service.id == int(choice))) if choice and choice.isdigit() and len(choice) < 19 else None
    if service is None:
        flash("Choose one of your services.", "error")
    else:
        session["current_service_id"] = service.id
        flash(f"You are now looking at {service.name}.", "success")
    return redirect(url_for("people.home"))


# --- people ---------------------------------------------------------------------------------

def _visible_service_ids() -> set[int] | None:
    return current_actor().service_ids([Role.admin, Role.manager])


@bp.get("/people")
@requires("people.view")
def people_list():
    """Everyone in the services the viewer manages, searchable, a page at a time."""
    search = request.args.get("q", "")[:100]
    status = request.args.get("status", "")
    if status not in {"", "active", "left"}:
        status = ""
    query = queries.people_page_query(organisation_id=current_actor().organisation_id,
                                      search=search, service_ids=_visible_service_ids(),
                                      status=status)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    terms = queries.ambassador_terms([p.id for p in page.items], current_only=True)
    return render_template("people/list.html", page=page, search=search, status=status,
                           terms=terms)


def _grant_picker() -> Picker:
    """The services where the actor may give roles, a few at a time, found by name."""
    return service_picker(service_choices_query(current_actor(), [Role.admin, Role.manager]))


def _grant_choices(picker: Picker, chosen: str | None = None) -> list[tuple[str, str]]:
    choices = []
    if current_actor().has_role([Role.admin], None):
        choices.append(("", "Whole organisation"))
    return choices + picker.choices(chosen)


def _chosen_service(value: str) -> Service | None:
    if not value:
        return None
    service = db.session.get(Service, int(value))
    if service is None or service.organisation_id != current_actor().organisation_id:
        abort(400)
    return service


@bp.route("/people/new", methods=["GET", "POST"])
@requires("people.manage")
def add_person():
    """Add a person, with their first role."""
    form = forms.AddPersonForm()
    picker = _grant_picker()
    form.service.choices = _grant_choices(picker, form.service.data)
    if form.validate_on_submit():
        try:
            person = services.add_person(
                _organisation(), full_name=form.full_name.data,
                preferred_name=form.preferred_name.data or "",
                role=form.role.data or None, service=_chosen_service(form.service.data),
                starts_on=form.starts_on.data, actor=current_actor())
        except PeopleError as error:
            refuse(error)
        else:
            done(f"{person.full_name} has been added.")
            return _back_to(person)
    return render_template("people/add.html", form=form, picker=picker)


@bp.get("/people/<int:person_id>")
@requires("people.view", load=load_person)
def person(person: Person):
    """One person: roles, family links, communication needs, photo and account."""
    actor = current_actor()
    links_as_user = db.session.scalars(select(FamilyLink).where(
        FamilyLink.service_user_id == person.id)).all()
    links_as_family = db.session.scalars(select(FamilyLink).where(
        FamilyLink.family_person_id == person.id)).all()
    grant_form = forms.GrantForm()
    picker = _grant_picker()
    grant_form.service.choices = _grant_choices(picker)
    family_form = forms.FamilyLinkForm()
    family_form.family_person.choices = [("", "Choose")] + [
        (str(p.id), p.full_name) for p in queries.family_choices(person)]
    status_form = forms.StatusForm(status=person.status.value)
    invite_form = forms.InviteEmailForm(email=person.user.email if person.user else None)
    card_form = forms.InviteCardForm(username=_suggest_username(person))
    above = services.grant_above(person, actor)
    return render_template(
        "people/person.html", person=person, links_as_user=links_as_user,
        links_as_family=links_as_family, grant_form=grant_form, family_form=family_form,
        status_form=status_form, invite_form=invite_form, card_form=card_form,
        photo_form=forms.PhotoForm(), end_form=forms.EndRoleForm(),
        may_end=lambda g: may_grant(actor, g.role, g.service_id),
        today=clock.today(), show_needs=can("people.view_needs", person),
        terms=queries.ambassador_terms([person.id]).get(person.id, []),
        account_above=above, picker=picker)


def _suggest_username(person: Person) -> str:
    if person.user and person.user.username:
        return person.user.username
    return ".".join(person.full_name.lower().split())[:40]


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@requires("people.manage", load=load_person)
def edit_person(person: Person):
    """Change a person's names."""
    form = forms.PersonForm(obj=person)
    if form.validate_on_submit():
        try:
            services.edit_person(person, full_name=form.full_name.data,
                                 preferred_name=form.preferred_name.data or "",
                                 by=current_actor().person)
        except PeopleError as error:
            refuse(error)
        else:
            done("The details are saved.")
            return _back_to(person)
    return render_template("people/edit.html", form=form, person=person)


@bp.post("/people/<int:person_id>/status")
@requires("people.manage", load=load_person)
def set_status(person: Person):
    """Mark a person active or as having left."""
    form = forms.StatusForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return _back_to(person, "status")
    try:
        services.set_status(person, form.status.data, by=current_actor().person)
    except PeopleError as error:
        refuse(error)
    else:
        db.session.commit()
        flash(f"{person.full_name} is now marked {'active' if form.status.data == 'active' else 'as having left'}.", "success")  # noqa: E501
    return _back_to(person, "status")


@bp.post("/people/<int:person_id>/roles")
@requires("people.manage", load=load_person)
def grant_role(person: Person):
    """Give a person a role."""
    form = forms.GrantForm()
    form.service.choices = _grant_choices(_grant_picker(), form.service.data)
    if not form.validate_on_submit():
        flash(_first_error(form) if form.errors.get("service") is None
              else "You cannot grant roles there. Choose one of your services.", "error")
        return _back_to(person, "roles")
    try:
        grant = services.grant_role(person, role=form.role.data,
                                    service=_chosen_service(form.service.data),
                                    starts_on=form.starts_on.data, actor=current_actor())
    except PeopleError as error:
        refuse(error)
    else:
        done(f"{person.full_name} is now {grant.role.label} ({grant.scope_label}).")
    return _back_to(person, "roles")


@bp.post("/people/<int:person_id>/roles/<int:grant_id>/end")
@requires("people.manage", load=load_person)
def end_role(person: Person):
    """End one of a person's roles (kept as history)."""
    grant = db.get_or_404(RoleGrant, request.view_args["grant_id"])
    if grant.person_id != person.id:
        abort(404)
    form = forms.EndRoleForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return _back_to(person, "roles")
    try:
        services.end_role(grant, ends_on=form.ends_on.data, actor=current_actor())
    except PeopleError as error:
        refuse(error)
    else:
        db.session.commit()
        flash(f"The role {grant.role.label} ({grant.scope_label}) ends on "
              f"{grant.ends_on:%-d %B %Y}.", "success")
    return _back_to(person, "roles")


@bp.post("/people/<int:person_id>/family")
@requires("people.manage", load=load_person)
def link_family(person: Person):
    """Link a family member or carer to this service user."""
    form = forms.FamilyLinkForm()
    form.family_person.choices = [(str(p.id), p.full_name)
                                  for p in queries.family_choices(person)]
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return _back_to(person, "family")
    family = db.get_or_404(Person, int(form.family_person.data))
    try:
        services.link_family(person, family, relationship=form.relationship.data,
                             by=current_actor().person)
    except PeopleError as error:
        refuse(error)
    else:
        done(f"{family.full_name} is linked to {person.full_name}.")
    return _back_to(person, "family")


@bp.post("/people/<int:person_id>/family/<int:link_id>/remove")
@requires("people.manage", load=load_person)
def unlink_family(person: Person):
    """Remove a family link."""
    link = db.session.get(FamilyLink, request.view_args["link_id"])
    if link is None:  # removed already, perhaps by a second press of the button
        flash("That family link has already been removed.", "success")
        return _back_to(person, "family")
    if person.id not in (link.service_user_id, link.family_person_id):
        abort(404)
    services.unlink_family(link, by=current_actor().person)
    done("The family link is removed.")
    return _back_to(person, "family")


@bp.route("/people/<int:person_id>/needs", methods=["GET", "POST"])
@requires("people.manage", load=load_person)
def needs(person: Person):
    """Record a person's communication needs."""
    current = person.communication_needs
    form = forms.NeedsForm(formats=current.formats if current else [],
                           helper=str(current.helper_id) if current and current.helper_id
                           else "", notes=current.notes if current else "")
    form.helper.choices = [("", "Nobody named")] + [
        (str(p.id), p.full_name) for p in queries.helper_choices(person)]
    if current and current.helper_id and str(current.helper_id) not in dict(form.helper.choices):
        form.helper.choices.append((str(current.helper_id), current.helper.full_name))
    if form.validate_on_submit():
        helper = db.session.get(Person, int(form.helper.data)) if form.helper.data else None
        try:
            services.save_needs(person, formats=form.formats.data or [], helper=helper,
                                notes=form.notes.data or "", by=current_actor().person)
        except PeopleError as error:
            refuse(error)
        else:
            done("The communication needs are saved.")
            return _back_to(person, "needs")
    return render_template("people/needs.html", form=form, person=person)


@bp.post("/people/<int:person_id>/photo")
@requires("people.manage", load=load_person)
def upload_photo(person: Person):
    """Upload a person's photo with their consent."""
    form = forms.PhotoForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return _back_to(person, "photo")
    try:
        services.save_photo(person, form.photo.data.read(), consent=form.consent.data,
                            consent_note=form.consent_note.data or "",
                            by=current_actor().person)
    except PeopleError as error:
        refuse(error)
    else:
        done("The photo is saved.")
    return _back_to(person, "photo")


@bp.post("/people/<int:person_id>/photo/remove")
@requires("people.manage", load=load_person)
def remove_photo(person: Person):
    """Remove a person's photo."""
    attempt(lambda: services.remove_photo(person, by=current_actor().person),
            "The photo is removed.")
    return _back_to(person, "photo")


@bp.get("/people/<int:person_id>/photo.jpg")
@requires("people.view", load=load_person)
def photo(person: Person):
    """The person's photo, for those who may see the person."""
    return photo_response(person.photo if person.has_photo else None)


# --- invitations ------------------------------------------------------------------------------

def _invitation_link(invitation, code: str) -> str:
    from involve.auth.services import invitation_token

    return url_for("auth.accept_link", token=invitation_token(invitation, code), _external=True)


def _account_form_failed(form) -> bool:
    if form.validate_on_submit():
        return False
    flash(_first_error(form), "error")
    return True


@bp.post("/people/<int:person_id>/invite")
@requires("people.manage", load=load_person)
def invite_email(person: Person):
    """Invite a person by email: a signed link that expires."""
    form = forms.InviteEmailForm()
    if _account_form_failed(form):
        return _back_to(person, "account")
    actor = current_actor()
    try:
        invitation, code = services.invite_person(person, email=form.email.data,
                                                  username=None, actor=actor)
    except PeopleError as error:
        refuse(error)
        return _back_to(person, "account")
    link = _invitation_link(invitation, code)
    message = mail.render_message(
        "people/mail/invitation", to=invitation.user.email,
        subject="You are invited to Involve", person=person, inviter=actor.person, link=link,
        days=current_app.config["INVITATION_MAX_AGE_DAYS"])
    db.session.commit()
    _send_or_say(message, f"We have emailed an invitation to {invitation.user.email}.",
                 "The invitation is made, but the email could not be sent. Try again later, "
                 "or print an invitation card.")
    return _back_to(person, "account")


def _send_or_say(message, sent: str, failed: str) -> None:
    try:
        mail.send(message)
    except Exception:  # what was made stands; the page says the email did not go
        current_app.logger.exception("account email failed")
        flash(failed, "error")
    else:
        flash(sent, "success")


@bp.post("/people/<int:person_id>/invitation-card")
@requires("people.manage", load=load_person)
def invitation_card(person: Person):
    """Make a printable invitation card: a short code and a QR code of the link."""
    form = forms.InviteCardForm()
    if _account_form_failed(form):
        return _back_to(person, "account")
    try:
        invitation, code = services.invite_person(
            person, email=person.user.email if person.user else None,
            username=form.username.data, actor=current_actor())
    except PeopleError as error:
        refuse(error)
        return _back_to(person, "account")
    db.session.commit()
    return _card_page(person, invitation, code, reset=False)


@bp.post("/people/<int:person_id>/password-reset")
@requires("people.manage", load=load_person)
def reset_email(person: Person):
    """Email the person a link to choose a new password (their account is in use)."""
    from involve.auth.services import reset_token

    if _account_form_failed(forms.ConfirmForm()):
        return _back_to(person, "account")
    actor = current_actor()
    try:
        user = services.reset_by_email(person, actor=actor)
    except PeopleError as error:
        refuse(error)
        return _back_to(person, "account")
    link = url_for("auth.reset", token=reset_token(user), _external=True)
    message = mail.render_message("auth/mail/reset", to=user.email,
                                  subject="Reset your Involve password", person=person,
                                  link=link, started_by=actor.person)
    db.session.commit()
    _send_or_say(message, f"We have emailed {person.display_name} a link to choose a new "
                 "password. It works for two hours.",
                 "The email could not be sent. Try again later, or print a password reset card.")
    return _back_to(person, "account")


@bp.post("/people/<int:person_id>/reset-card")
@requires("people.manage", load=load_person)
def reset_card(person: Person):
    """Make a printable password reset card, to hand to the person."""
    if _account_form_failed(forms.ConfirmForm()):
        return _back_to(person, "account")
    try:
        invitation, code = services.reset_card(person, actor=current_actor())
    except PeopleError as error:
        refuse(error)
        return _back_to(person, "account")
    db.session.commit()
    return _card_page(person, invitation, code, reset=True)


def _card_page(person: Person, invitation, code: str, *, reset: bool) -> Response:
    """The large-print card with a code and a QR code of its link; shown once, never cached."""
    link = _invitation_link(invitation, code)
    qr = segno.make(link, error="m").svg_inline(
        scale=5, border=2, omitsize=True,
        title=f"QR code to {'choose a new password for' if reset else 'set up'} "
              f"{person.display_name}'s account")
    qr = Markup(qr.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - made by segno
    # The code is shown only on this page; nothing keeps it but its hash.
    response = Response(render_template(
        "people/invitation_card.html", person=person, invitation=invitation, code=code,
        qr=qr, code_url=url_for("auth.accept_code", _external=True), reset=reset,
        username=invitation.user.username or invitation.user.sign_in_name))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- services -------------------------------------------------------------------------------

@bp.get("/services", endpoint="services")
@requires("services.manage")
def services_page():
    """The organisation's services, archived ones last, searchable, a page at a time."""
    search = request.args.get("q", "")[:100]
    query = queries.services_page_query(current_actor().organisation_id, search)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("people/services.html", page=page, search=search)


@bp.route("/services/new", methods=["GET", "POST"])
@requires("services.manage")
def add_service():
    """Add a service."""
    form = forms.ServiceForm()
    if form.validate_on_submit():
        try:
            service = services.create_service(
                _organisation(), name=form.name.data, kind=form.kind.data,
                address=form.address.data or "", by=current_actor().person)
        except PeopleError as error:
            refuse(error)
        else:
            done(f"{service.name} has been added.")
            return redirect(url_for("people.services"))
    return render_template("people/service_form.html", form=form, service=None)


@bp.route("/services/<int:service_id>/edit", methods=["GET", "POST"])
@requires("services.manage", load=load_service)
def edit_service(service: Service):
    """Change a service's details."""
    form = forms.ServiceForm(obj=service, kind=service.kind.value)
    if form.validate_on_submit():
        try:
            services.edit_service(service, name=form.name.data, kind=form.kind.data,
                                  address=form.address.data or "", by=current_actor().person)
        except PeopleError as error:
            refuse(error)
        else:
            done(f"{service.name} is saved.")
            return redirect(url_for("people.services"))
    return render_template("people/service_form.html", form=form, service=service)


@bp.post("/services/<int:service_id>/archive")
@requires("services.manage", load=load_service)
def archive_service(service: Service):
    """Archive a service: hidden from pickers, history kept."""
    attempt(lambda: services.archive_service(service, by=current_actor().person),
            f"{service.name} is archived.")
    return redirect(url_for("people.services"))


@bp.post("/services/<int:service_id>/restore")
@requires("services.manage", load=load_service)
def restore_service(service: Service):
    """Bring an archived service back."""
    attempt(lambda: services.restore_service(service, by=current_actor().person),
            f"{service.name} is back in use.")
    return redirect(url_for("people.services"))


# --- import and export ----------------------------------------------------------------------

@bp.route("/people/import", methods=["GET", "POST"])
@requires("people.import")
def import_upload():
    """Upload a CSV file of people to preview."""
    form = forms.ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            kept = services.upload_import(_organisation(), filename=upload.filename or "",
                                          content=upload.read(), by=current_actor().person)
        except PeopleError as error:
            refuse(error)
        else:
            db.session.commit()
            return redirect(url_for("people.import_preview", token=kept.token))
    return render_template("people/import.html", form=form, columns=importing.COLUMNS,
                           formats=importing.COMMUNICATION_FORMATS, roles=list(Role))


@bp.get("/people/import/<token>")
@requires("people.import", load=load_import)
def import_preview(upload: PeopleImport):
    """What the import would do, with every row's problems; nothing is imported yet."""
    if upload.status != ImportStatus.previewed:
        return redirect(url_for("people.import_progress", token=upload.token))
    result = services.check_import(upload)
    return render_template("people/import_preview.html", upload=upload, result=result,
                           form=forms.ConfirmForm(), formats=importing.COMMUNICATION_FORMATS)


@bp.post("/people/import/<token>/confirm")
@requires("people.import", load=load_import)
def import_confirm(upload: PeopleImport):
    """Import the previewed file."""
    try:
        queued = services.confirm_import(upload, by=current_actor().person)
    except PeopleError as error:
        refuse(error)
        return redirect(url_for("people.import_preview", token=upload.token))
    db.session.commit()
    if queued:
        tasks.start_import(upload.id)
        flash(f"The import of {upload.total_rows:,} people has started.", "success")
    else:
        flash(f"{upload.rows_done:,} people have been imported.", "success")
    return redirect(url_for("people.import_progress", token=upload.token))


@bp.get("/people/import/<token>/progress")
@requires("people.import", load=load_import)
def import_progress(upload: PeopleImport):
    """How far an import has got; refreshes itself until it is finished."""
    db.session.refresh(upload)
    finished = upload.status in (ImportStatus.done, ImportStatus.failed)
    return render_template("people/import_progress.html", upload=upload, finished=finished,
                           done=upload.rows_done, stalled=services.import_stalled(upload),
                           stale_minutes=services.IMPORT_STALE_AFTER.seconds // 60 + 1)


@bp.post("/people/export.csv")
@requires("people.export")
def export_people():
    """Download people's details as CSV (audited)."""
    actor = current_actor()
    ids = actor.service_ids([Role.admin])
    query = (queries.people_query(organisation_id=actor.organisation_id, service_ids=ids)
             .options(selectinload(Person.grants).joinedload(RoleGrant.service),
                      selectinload(Person.user), selectinload(Person.communication_needs)))
    rows = []
    count = 0
    for person in db.session.scalars(query):
        count += 1
        user: User | None = person.user
        needs = ";".join(person.communication_needs.formats) if person.communication_needs \
            else ""
        base = [person.full_name, person.preferred_name, user.email if user else "",
                user.username if user else ""]
        grants = [g for g in person.active_grants()
                  if ids is None or g.service_id in ids]
        for grant in grants or [None]:
            rows.append([*base, grant.role.value if grant else "",
                         grant.service.slug if grant and grant.service else "",
                         grant.starts_on.isoformat() if grant else "", needs,
                         person.status.value])
    services.record_export(by=actor.person, rows=count, service_ids=ids)
    db.session.commit()
    filename = f"people-{clock.today().isoformat()}.csv"
    return Response(importing.write_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store"})


# --- audit log ------------------------------------------------------------------------------

@bp.get("/audit")
@requires("audit.view")
def audit_log():
    """The audit log, newest first, filtered by person, action and dates."""
    from involve.audit import AuditEvent, events_query, known_actions

    form = forms.AuditFilterForm(request.args)
    organisation_id = current_actor().organisation_id
    form.action.choices = [("", "Any action")] + [(a, a) for a in
                                                  known_actions(organisation_id)]
    form.validate()
    zone = clock.zone()

    def start_of(day: date | None) -> datetime | None:
        return datetime.combine(day, time.min, zone) if day else None

    until = form.until.data + timedelta(days=1) if form.until.data else None
    query = events_query(organisation_id=organisation_id, action=form.action.data or None,
                         since=start_of(form.since.data), until=start_of(until),
                         person_id=request.args.get("person_id", type=int))
    name = (form.person.data or "").strip().lower()
    if name:
        matching = select(Person.id).where(queries.contains_text(Person.full_name, name))
        query = query.where(AuditEvent.actor_id.in_(matching)
                            | AuditEvent.subject_id.in_(matching))
    query = query.options(selectinload(AuditEvent.actor), selectinload(AuditEvent.subject))
    page = db.paginate(query, per_page=50, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("people/audit.html", page=page, form=form, args=args)
