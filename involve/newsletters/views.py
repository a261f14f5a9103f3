"""Pages of newsletters: writing, previews, publishing, sending, archives, subscribing."""

from __future__ import annotations

import smtplib

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from involve import audit
from involve.extensions import csrf, db, limiter, utcnow
from involve.images import photo_response
from involve.kernel import clock
from involve.kernel.forms import EmptyForm
from involve.kernel.steps import done, refuse
from involve.mail import render_message, send
from involve.newsletters import bounces, bp, delivery, feed, queries, services
from involve.newsletters.blocks import available as newsletter_blocks
from involve.newsletters.forms import (
    ImageForm,
    IssueForm,
    NewIssueForm,
    PreferencesForm,
    PublishForm,
    SubscribeForm,
    TestEmailForm,
)
from involve.newsletters.models import (
    Issue,
    IssueImage,
    IssueStatus,
    NewslettersError,
    Subscriber,
    Suppression,
)
from involve.people.models import Organisation, Role, Service
from involve.people.policy import service_choices_query
from involve.permissions import (
    EVERY_ROLE,
    can,
    current_actor,
    first_allowed,
    loader,
    public,
    requires,
    within_organisation,
)
from involve.pickers import Picker, service_picker

load_issue = loader(Issue)
load_image = loader(IssueImage)
ISSUES_PER_PAGE = 25  # issues, and archives to open, a page


def _manageable_scopes(picker: Picker, chosen: str | None) -> list[tuple[str, str]]:
    """The places the signed-in person may publish a newsletter for: the whole organisation
    where they may, then the first few of their services (or those found by name)."""
    choices = []
    if current_actor().has_role([Role.admin, Role.board], None):
        choices.append(("organisation", "The whole organisation"))
    return choices + picker.choices(chosen)


# --- the newsletters list --------------------------------------------------------------

@bp.get("/")
@requires("newsletters.browse")
def index():
    """Newsletters: the issues a manager looks after and the archives a reader can open,
    each a page at a time (``page`` and ``archives``), however many services there are."""
    actor = current_actor()
    issues = None
    if can("newsletters.manage"):
        issues = db.paginate(queries.manager_issues_query(
            actor.organisation_id, actor.service_ids([Role.manager, Role.admin]),
            actor.has_role([Role.admin, Role.board], None)), per_page=ISSUES_PER_PAGE,
            error_out=False)
    archives = db.paginate(service_choices_query(actor, EVERY_ROLE),
                           page=request.args.get("archives", 1, type=int),
                           per_page=ISSUES_PER_PAGE, error_out=False)
    return render_template("newsletters/index.html", issues=issues, archives=archives,
                           organisation=actor.person.organisation_id)


@bp.route("/new", methods=["GET", "POST"])
@requires("newsletters.manage")
def new_issue():
    """Start a new issue."""
    form = NewIssueForm()
    picker = service_picker(service_choices_query(current_actor(), [Role.manager, Role.admin]))
    form.scope.choices = _manageable_scopes(picker, form.scope.data)
    if form.validate_on_submit():
        actor = current_actor()
        service = None
        if form.scope.data != "organisation":
            service = db.get_or_404(Service, int(form.scope.data))
        # The choices already hold only the actor's scopes; check again all the same.
        allowed = can("newsletters.manage", service) if service is not None \
            else actor.has_role([Role.admin, Role.board], None)
        if not allowed:
            abort(403)
        try:
            issue = services.create_issue(
                organisation_id=actor.person.organisation_id, service=service,
                title=form.title.data, summary=form.summary.data or "", body=form.body.data or "",
                audiences=form.audiences.data, by=actor.person)
        except NewslettersError as error:
            refuse(error)
            return render_template("newsletters/new.html", form=form, picker=picker)
        done("The draft is saved. Add blocks and pictures, then preview it.")
        return redirect(url_for("newsletters.edit", issue_id=issue.id))
    return render_template("newsletters/new.html", form=form, picker=picker)


@bp.route("/issues/<int:issue_id>/edit", methods=["GET", "POST"])
@requires("newsletters.manage", load=load_issue)
def edit(issue: Issue):
    """Write a draft: its words, readers, blocks and pictures."""
    form = IssueForm(obj=issue)
    if form.validate_on_submit():
        try:
            services.update_issue(issue, title=form.title.data, summary=form.summary.data or "",
                                  body=form.body.data or "", audiences=form.audiences.data,
                                  by=current_actor().person)
        except NewslettersError as error:
            return refuse(error, url_for("newsletters.edit", issue_id=issue.id))
        done("Your changes are saved.")
        return redirect(url_for("newsletters.edit", issue_id=issue.id))
    return render_template("newsletters/edit.html", issue=issue, form=form,
                           image_form=ImageForm(), publish_form=PublishForm(),
                           blocks=newsletter_blocks())


@bp.post("/issues/<int:issue_id>/blocks")
@requires("newsletters.manage", load=load_issue)
def insert_block(issue: Issue):
    """Add a block of the platform's news to the end of the draft."""
    try:
        section = services.insert_block(issue, request.form.get("kind", ""),
                                        by=current_actor().person)
    except NewslettersError as error:
        return refuse(error, url_for("newsletters.edit", issue_id=issue.id))
    db.session.commit()
    if "Nothing yet." in section:
        flash("The block is added. There is nothing to show in it yet: you can edit or remove "
              "it.", "success")
    else:
        flash("The block is added at the end of the issue.", "success")
    return redirect(url_for("newsletters.edit", issue_id=issue.id) + "#issue-body")


@bp.post("/issues/<int:issue_id>/images")
@requires("newsletters.manage", load=load_issue)
def upload_image(issue: Issue):
    """Add a picture, with its description, to the end of the draft."""
    form = ImageForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("newsletters.edit", issue_id=issue.id))
    try:
        services.add_image(issue, data=form.photo.data.read(), alt_text=form.alt_text.data,
                           by=current_actor().person)
    except NewslettersError as error:
        return refuse(error, url_for("newsletters.edit", issue_id=issue.id))
    done("The picture is added at the end of the issue.")
    return redirect(url_for("newsletters.edit", issue_id=issue.id))


@bp.get("/images/<int:image_id>.jpg")
@requires("newsletters.read", load=load_image)
def image(picture: IssueImage):
    """A picture of an issue, for those who may read the issue."""
    public_issue = picture.issue.is_public and picture.issue.is_published
    return photo_response(picture.data, cache="public, max-age=86400" if public_issue
                          else "private, max-age=3600")


@bp.get("/mail-images/<token>.jpg")
@public
def mail_image(token: str):
    """A picture for a mail client, which cannot sign in: its signed address is the key."""
    try:
        picture = db.get_or_404(IssueImage, services.read_image_token(token))
    except NewslettersError:
        abort(404)
    return photo_response(picture.data, cache="private, max-age=86400")


# --- reading and previews ----------------------------------------------------------------

@bp.get("/issues/<int:issue_id>")
@requires("newsletters.read", load=load_issue)
def issue(issue: Issue):
    """An issue as a web page."""
    return render_template("newsletters/issue.html", issue=issue)


@bp.get("/issues/<int:issue_id>/print")
@requires("newsletters.read", load=load_issue)
def print_view(issue: Issue):
    """An issue as a large-print page to print."""
    return render_template("newsletters/print.html", issue=issue, now=utcnow())


@bp.get("/issues/<int:issue_id>/preview")
@requires("newsletters.manage", load=load_issue)
def preview(issue: Issue):
    """Previews for the manager: the email's plain text, and links to the other forms."""
    composed = delivery.compose(issue)
    person = current_actor().person
    raw = composed.personal(0, _own_address() or "you@example.org", person.display_name)
    message = delivery.parse(raw)
    text = message.get_body(preferencelist=("plain",)).get_content()
    test_form = TestEmailForm(formdata=None, email=_own_address() or "")
    return render_template("newsletters/preview.html", issue=issue, text=text,
                           headers=message, form=EmptyForm(), test_form=test_form)


@bp.get("/issues/<int:issue_id>/preview/email")
@requires("newsletters.manage", load=load_issue)
def preview_email(issue: Issue):
    """The email's HTML part exactly as readers will get it."""
    composed = delivery.compose(issue)
    person = current_actor().person
    raw = composed.personal(0, _own_address() or "you@example.org", person.display_name)
    html = delivery.parse(raw).get_body(preferencelist=("html",)).get_content()
    response = Response(html, mimetype="text/html")
    # Mail HTML carries its CSS in style attributes; allow them on this page only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' http: https: data:; "
        "frame-ancestors 'none'; form-action 'none'")
    return response


def _own_address() -> str | None:
    person = current_actor().person
    return person.user.email if person and person.user else None


@bp.post("/issues/<int:issue_id>/test-email")
@requires("newsletters.manage", load=load_issue)
def test_email(issue: Issue):
    """Send a test copy of the email, marked TEST, to any address the manager types."""
    form = TestEmailForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("newsletters.preview", issue_id=issue.id))
    try:
        address = services.normalise_email(form.email.data)
    except NewslettersError as error:
        return refuse(error, url_for("newsletters.preview", issue_id=issue.id))
    person = current_actor().person
    name = person.display_name if address == (_own_address() or "").lower() else ""
    try:
        delivery.send_test(issue, address, name)
    except (smtplib.SMTPException, OSError) as error:
        flash(f"The test email could not be sent: {error}", "error")
        return redirect(url_for("newsletters.preview", issue_id=issue.id))
    audit.record("newsletter.test_sent", actor=person, obj=issue,
                 domain=address.rsplit("@", 1)[-1])
    done(f"A test email is on its way to {address}.")
    return redirect(url_for("newsletters.preview", issue_id=issue.id))


# --- publishing and sending --------------------------------------------------------------

@bp.post("/issues/<int:issue_id>/publish")
@requires("newsletters.manage", load=load_issue)
def publish(issue: Issue):
    """Publish now, or at a chosen time."""
    form = PublishForm()
    if not form.validate_on_submit():
        flash("Please give the time as a date and time, or leave it empty.", "error")
        return redirect(url_for("newsletters.edit", issue_id=issue.id))
    at = clock.from_local(form.publish_at.data)  # typed in the organisation's time
    try:
        services.publish_issue(issue, by=current_actor().person, at=at, send=form.send.data)
    except NewslettersError as error:
        return refuse(error, url_for("newsletters.edit", issue_id=issue.id))
    db.session.commit()
    if issue.status == IssueStatus.scheduled:
        flash("The issue will be published at the time you chose.", "success")
        return redirect(url_for("newsletters.edit", issue_id=issue.id))
    if issue.status == IssueStatus.sending:
        _start_task(issue)
        flash("The issue is published and is being emailed.", "success")
        return redirect(url_for("newsletters.progress", issue_id=issue.id))
    flash("The issue is published. It is in the archive for its readers.", "success")
    return redirect(url_for("newsletters.issue", issue_id=issue.id))


@bp.post("/issues/<int:issue_id>/unschedule")
@requires("newsletters.manage", load=load_issue)
def unschedule(issue: Issue):
    """Take a scheduled issue back to draft."""
    try:
        services.unschedule_issue(issue, by=current_actor().person)
    except NewslettersError as error:
        return refuse(error, url_for("newsletters.edit", issue_id=issue.id))
    done("The issue is a draft again and will not be published by itself.")
    return redirect(url_for("newsletters.edit", issue_id=issue.id))


def _start_task(issue: Issue) -> None:
    from involve.newsletters.tasks import send_issue

    send_issue(issue.id)


@bp.post("/issues/<int:issue_id>/send")
@requires("newsletters.manage", load=load_issue)
def send_issue(issue: Issue):
    """Email the published issue to everyone in its audiences."""
    try:
        count = services.start_sending(issue, by=current_actor().person)
    except NewslettersError as error:
        return refuse(error, url_for("newsletters.progress" if issue.is_published
                              else "newsletters.edit", issue_id=issue.id))
    db.session.commit()
    _start_task(issue)
    flash(f"Sending to {count} {'person' if count == 1 else 'people'}.", "success")
    return redirect(url_for("newsletters.progress", issue_id=issue.id))


@bp.post("/issues/<int:issue_id>/resume")
@requires("newsletters.manage", load=load_issue)
def resume(issue: Issue):
    """Carry on sending after a pause."""
    try:
        services.resume_sending(issue, by=current_actor().person)
    except NewslettersError as error:
        return refuse(error, url_for("newsletters.progress", issue_id=issue.id))
    db.session.commit()
    _start_task(issue)
    flash("Sending again.", "success")
    return redirect(url_for("newsletters.progress", issue_id=issue.id))


@bp.get("/issues/<int:issue_id>/progress")
@requires("newsletters.manage", load=load_issue)
def progress(issue: Issue):
    """How the sending is going: sent, waiting, retrying and refused, with reasons."""
    if issue.status == IssueStatus.paused:
        flash(f"Sending is paused. {issue.paused_reason} Check the mail settings, "
              "then choose \u201cResume sending\u201d.", "error")
    return render_template("newsletters/progress.html", issue=issue,
                           report=queries.progress_report(issue),
                           failed=queries.failed_deliveries(issue.id),
                           retrying=queries.retrying_deliveries(issue.id),
                           explain=queries.explain_failure, form=EmptyForm())


@bp.get("/issues/<int:issue_id>/progress.json")
@requires("newsletters.manage", load=load_issue)
def progress_json(issue: Issue):
    """The progress page's figures and words, for its live updates while a send runs."""
    response = jsonify(queries.progress_report(issue))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/issues/<int:issue_id>/print-list")
@requires("newsletters.manage", load=load_issue)
def print_list(issue: Issue):
    """Who needs a printed copy, and why, so staff know how many to print."""
    return render_template("newsletters/print_list.html", issue=issue,
                           copies=queries.print_list(issue))


# --- archives and feeds ------------------------------------------------------------------

def _service_by_slug(slug: str) -> Service:
    return within_organisation(db.session.scalar(select(Service).where(Service.slug == slug)))


def _readable(query) -> list[Issue]:
    return first_allowed(query, lambda issue: can("newsletters.read", issue), 200)


def _service_issues(service: Service) -> list[Issue]:
    return _readable(queries.archive_query(service.id, service.organisation_id))


def _public(query) -> list[Issue]:
    return first_allowed(query, lambda issue: issue.is_public, 50)


@bp.get("/services/<slug>")
@public
def archive(slug: str):
    """A service's newsletter page: its issues (those you may read) and the subscribe form."""
    service = _service_by_slug(slug)
    return render_template("newsletters/archive.html", service=service, organisation=None,
                           issues=_service_issues(service),
                           form=SubscribeForm())


@bp.get("/organisations/<int:organisation_id>")
@public
def organisation_archive(organisation_id: int):
    """The organisation-wide newsletter's issues (those you may read)."""
    organisation = within_organisation(db.session.get(Organisation, organisation_id))
    return render_template("newsletters/archive.html", service=None, organisation=organisation,
                           issues=_readable(queries.archive_query(None, organisation.id)),
                           form=None)


@bp.get("/services/<slug>/feed.atom")
@public
def feed_service(slug: str):
    """An Atom feed of a service's public issues."""
    service = _service_by_slug(slug)
    issues = _public(queries.archive_query(service.id, service.organisation_id))
    return _atom(feed.atom(f"{service.name} newsletter",
                           delivery.absolute_url("newsletters.archive", slug=service.slug),
                           delivery.absolute_url("newsletters.feed_service",
                                                 slug=service.slug), issues))


@bp.get("/organisations/<int:organisation_id>/feed.atom")
@public
def feed_organisation(organisation_id: int):
    """An Atom feed of the organisation's public issues."""
    organisation = within_organisation(db.session.get(Organisation, organisation_id))
    issues = _public(queries.archive_query(None, organisation.id))
    # Addresses from BASE_URL, not the request: a feed's id must never change.
    return _atom(feed.atom(f"{organisation.name} newsletter",
                           delivery.absolute_url("newsletters.organisation_archive",
                                                 organisation_id=organisation.id),
                           delivery.absolute_url("newsletters.feed_organisation",
                                                 organisation_id=organisation.id), issues))


def _atom(xml: bytes) -> Response:
    return Response(xml, mimetype="application/atom+xml")


# --- subscribing, confirming, preferences, unsubscribing --------------------------------

@bp.post("/services/<slug>/subscribe")
@limiter.limit(lambda: current_app.config.get("NEWSLETTER_SUBSCRIBE_LIMIT", "5 per minute"),
               methods=["POST"])
@public
def subscribe(slug: str):
    """Ask for the newsletter by email; a confirmation link is sent (double opt-in)."""
    service = _service_by_slug(slug)
    form = SubscribeForm()
    if not form.validate_on_submit():
        return render_template("newsletters/archive.html", service=service, organisation=None,
                               issues=_service_issues(service),
                               form=form), 400
    try:
        subscriber = services.subscribe(service, email=form.email.data,
                                        name=form.name.data or "")
    except NewslettersError as error:
        db.session.rollback()
        form.email.errors = [str(error)]
        return render_template("newsletters/archive.html", service=service, organisation=None,
                               issues=_service_issues(service),
                               form=form), 400
    db.session.commit()
    link = url_for("newsletters.confirm", token=services.confirm_token(subscriber),
                   _external=True)
    try:
        send(render_message("newsletters/mail/confirm", to=subscriber.email,
                            subject=f"Please confirm: {service.name} newsletter",
                            service=service, link=link))
    except (smtplib.SMTPException, OSError):
        # The request is kept (unconfirmed); asking again sends the link again.
        form.email.errors = ["We could not send the confirmation email just now. Please "
                             "check the address, or try again in a few minutes."]
        return render_template("newsletters/archive.html", service=service, organisation=None,
                               issues=_service_issues(service),
                               form=form), 503
    return render_template("newsletters/check_email.html", service=service,
                           email=subscriber.email)


def _welcome(subscriber: Subscriber, key: str) -> None:
    """The welcome email after confirming: what comes, and how to change or stop it."""
    service = subscriber.service
    try:
        send(render_message(
            "newsletters/mail/welcome", to=subscriber.email,
            subject=f"Welcome to the {service.name} newsletter", service=service,
            name=subscriber.name,
            archive_url=delivery.absolute_url("newsletters.archive", slug=service.slug),
            preferences_url=delivery.absolute_url("newsletters.preferences", token=key)))
    except (smtplib.SMTPException, OSError):
        pass  # the subscription stands; the first newsletter carries the same links


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str):
    """Confirm a subscription from the emailed link (a button, because scanners follow links)."""
    try:
        subscriber = services.read_confirm_token(token)
    except NewslettersError as error:
        return render_template("newsletters/link_problem.html", message=str(error)), 400
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.confirm_subscription(subscriber)
        except NewslettersError as error:
            refuse(error)
            return redirect(url_for("newsletters.archive", slug=subscriber.service.slug))
        key = services.recipient_token(subscriber.service.organisation_id, subscriber.email)
        db.session.commit()
        _welcome(subscriber, key)
        flash("Thank you: you will get the newsletter by email.", "success")
        return redirect(url_for("newsletters.archive", slug=subscriber.service.slug))
    return render_template("newsletters/confirm.html", subscriber=subscriber, form=form)


def _recipient(token: str) -> tuple[int, str] | str:
    """The organisation and address of a recipient link, or the words saying why not.

    A signed link made before links named their organisation is read as the one
    organisation that has the address; with several, it cannot tell which, and says so.
    """
    try:
        organisation_id, email = services.read_recipient_token(token)
    except NewslettersError as error:
        return str(error)
    if organisation_id is None:
        known = queries.organisations_knowing(email)
        if len(known) != 1:
            return ("This link is from an older email and cannot tell which newsletter it is "
                    "for. Please use the link in your newest newsletter email.")
        organisation_id = known.pop()
    return organisation_id, email


def _test_link():
    """Where the links of a preview or test email lead: a page saying they do nothing."""
    try:
        services.read_recipient_token(services.TEST_KEY)
    except NewslettersError as error:
        return render_template("newsletters/link_problem.html", message=str(error))
    abort(404)


def _newsletter_named(organisation_id: int, email: str, key: str | None) -> tuple[str, str] | None:
    """The newsletter a one-click link names (its ``list``), among the address's own."""
    if not key:
        return None
    for choice in queries.newsletters_for(organisation_id, email):
        if choice[0] == key:
            return choice
    raise NewslettersError("This link is not valid. Please check you copied all of it, or "
                           "use the link in the newest newsletter email.")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@public
def unsubscribe(token: str):
    """One-click unsubscribe (RFC 8058): POST stops the newsletter the email came from at
    once (or, asked on the page, every newsletter of the organisation); GET shows buttons."""
    if token == services.TEST_KEY:
        return _test_link()
    try:
        organisation_id, email = services.read_recipient_token(token)
    except NewslettersError as error:
        return render_template("newsletters/link_problem.html", message=str(error)), 400
    if organisation_id is None:
        # A link sent before links named their organisation stopped every newsletter to the
        # address; it still does, in each organisation that has the address, and no more.
        if request.method == "POST":
            services.unsubscribe_everywhere_known(email)
            db.session.commit()
            return render_template("newsletters/unsubscribed.html", email=email, token=None,
                                   organisation=None, newsletter=None), 200
        return render_template("newsletters/unsubscribe.html", email=email, token=token,
                               organisation=None, newsletter=None, already=False)
    organisation = db.get_or_404(Organisation, organisation_id)
    if "." in token:
        # An older signed link: its page moves to the address's key, which never expires.
        token = services.recipient_token(organisation.id, email)
        db.session.commit()
    try:
        newsletter = _newsletter_named(organisation.id, email, request.args.get("list"))
    except NewslettersError as error:
        return render_template("newsletters/link_problem.html", message=str(error)), 400
    if request.method == "POST":
        everything = request.form.get("stop") == "all" or newsletter is None
        services.unsubscribe(organisation.id, email,
                             None if everything else newsletter[0])
        db.session.commit()
        return render_template("newsletters/unsubscribed.html", email=email, token=token,
                               organisation=organisation,
                               newsletter=None if everything else newsletter), 200
    stopped = queries.is_suppressed(organisation.id, email) or (
        newsletter is not None and email in queries.stopped_addresses(
            organisation.id, newsletter[0], [email]))
    return render_template("newsletters/unsubscribe.html", email=email, token=token,
                           organisation=organisation, newsletter=newsletter, already=stopped)


@bp.post("/bounces/webhook/<token>")
@limiter.limit(lambda: current_app.config.get("BOUNCE_WEBHOOK_LIMIT", "60 per minute"))
@csrf.exempt  # a mail provider cannot hold a form's key: the signed token stands in for it
@public
def bounce_webhook(token: str):
    """A mail provider's report of hard bounces for the organisation the token names: a JSON
    list of addresses (see the README). Answers JSON; a bad report changes nothing (400)."""
    organisation_id = bounces.webhook_organisation(token)
    if organisation_id is None or db.session.get(Organisation, organisation_id) is None:
        abort(404)
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: not a list of bounces
        payload = None
    try:
        read, suppressed = bounces.record_webhook(organisation_id, payload)
    except NewslettersError as error:
        db.session.rollback()
        return jsonify(error=str(error)), 400
    db.session.commit()
    return jsonify(read=read, suppressed=suppressed)


@bp.route("/preferences/<token>", methods=["GET", "POST"])
@public
def preferences(token: str):
    """What an address receives from one organisation: each of its newsletters by email or
    not, and a printed copy."""
    if token == services.TEST_KEY:
        return _test_link()
    found = _recipient(token)
    if isinstance(found, str):
        return render_template("newsletters/link_problem.html", message=found), 400
    organisation_id, email = found
    organisation = db.get_or_404(Organisation, organisation_id)
    if "." in token:
        # An older signed link: the page moves to the address's key, which never expires.
        key = services.recipient_token(organisation.id, email)
        db.session.commit()
        return redirect(url_for("newsletters.preferences", token=key), 307)
    from involve.newsletters.models import NewsletterPreference

    suppression = db.session.scalar(select(Suppression).where(
        Suppression.organisation_id == organisation.id, Suppression.email == email))
    saved = db.session.scalar(select(NewsletterPreference).where(
        NewsletterPreference.organisation_id == organisation.id,
        NewsletterPreference.email == email))
    offered = queries.newsletters_for(organisation.id, email)
    form = PreferencesForm()
    form.newsletters.choices = offered
    if form.validate_on_submit():
        try:
            services.set_preferences(organisation.id, email, wanted=form.newsletters.data or [],
                                     offered=[key for key, _ in offered],
                                     wants_print=form.wants_print.data)
        except NewslettersError as error:
            return refuse(error, url_for("newsletters.preferences", token=token))
        done("Your choices are saved.")
        return redirect(url_for("newsletters.preferences", token=token))
    if request.method == "GET":
        stopped = set(saved.stopped_lists) if saved else set()
        form.newsletters.data = [] if suppression is not None \
            else [key for key, _ in offered if key not in stopped]
        form.wants_print.data = bool(saved and saved.wants_print)
    # Only people with an account are on the print list (staff know where to take the copy).
    return render_template("newsletters/preferences.html", email=email, form=form,
                           organisation=organisation, suppression=suppression,
                           subscriptions=queries.subscriptions(organisation.id, email),
                           can_print=queries.user_email_owner(organisation.id, email)
                           is not None)
