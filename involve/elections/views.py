"""Pages of ambassador elections: running them, standing, voting on every channel, results.

Nothing here logs a request body or a choice. Ballot choices travel only in the voter's own form
posts until the single cast, and the receipt is shown once.
"""

from __future__ import annotations

import random
import secrets
import time
from typing import Any

import segno
from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup

from involve.auth.forms import DisplayForm
from involve.auth.views import display_prefs, remember_display
from involve.elections import bp, queries, services
from involve.elections.forms import (
    CancelForm,
    CandidateForm,
    CodeForm,
    ElectionForm,
    IneligibleForm,
    KeyForm,
    MoveForm,
    NominateForm,
    PaperBatchForm,
    PersonForm,
    ReceiptForm,
    UndoPaperForm,
)
from involve.elections.models import (
    BallotOrder,
    Candidate,
    Channel,
    Election,
    ElectionsError,
    Method,
    RollEntry,
    Status,
)
from involve.elections.queries import elections_for, roll_entry_of, waiting_voters
from involve.extensions import db, limiter, utcnow
from involve.images import photo_response
from involve.kernel import clock
from involve.kernel.forms import EmptyForm
from involve.kernel.steps import attempt, done, refuse
from involve.people.models import Person, Role
from involve.people.policy import service_choices_query
from involve.permissions import can, current_actor, loader, requires
from involve.pickers import Picker, service_picker

VOTER_PASS = "election_voter"  # session: a code or assisted voter's pass for one election
PASS_SECONDS = 20 * 60         # how long a code or assisted ballot stays open on a device
ELECTIONS_PER_PAGE = 25


load_election = loader(Election)
load_candidate = loader(Candidate)

#: The pages a voter may reach while a helped vote is open on a staff member's tablet: the
#: ballot, its check and cast, "Stop", the candidates' photos and the text size (and files).
HELPED_VOTE_PAGES = {"elections.ballot", "elections.confirm", "elections.cast", "elections.leave",
                     "elections.display", "elections.candidate_photo", "auth.display"}
#: Pages that end a helped vote as well as the staff member's session: they give the voter
#: nothing of the staff member's, and signing out must always be possible.
ENDS_A_HELPED_VOTE = {"auth.sign_out", "auth.sign_out_everywhere"}


@bp.before_app_request
def keep_a_helped_vote_on_its_ballot() -> Response | None:
    """While a helped vote is open, the staff member's pages stay shut: any other page sends
    the voter back to their ballot, until it is cast or closed with "Stop"."""
    if request.endpoint in (None, "static", "healthz") or request.endpoint in ENDS_A_HELPED_VOTE:
        return None  # not a page (and static files stay free of the session)
    held = session.get(VOTER_PASS)
    if not held or held.get("channel") != Channel.assisted.value:
        return None
    if time.time() - held.get("at", 0) > PASS_SECONDS:
        return None  # left too long: the ballot page closes it and says so
    election_id = held.get("election")
    if request.endpoint in HELPED_VOTE_PAGES and (request.view_args or {}).get(
            "election_id", election_id) == election_id:
        return None
    flash("Someone is voting on this tablet. Other pages open again once they have voted, or "
          "once their ballot is closed with “Stop”.", "info")
    return redirect(url_for("elections.ballot", election_id=election_id), 303)


def _to_election(election: Election, anchor: str = "") -> Response:
    return redirect(url_for("elections.election", election_id=election.id) + anchor)


def _person_in(election: Election, person_id: int | None) -> Person:
    person = db.session.get(Person, person_id) if person_id else None
    if person is None or person.organisation_id != election.organisation_id:
        abort(404)
    return person


# --- elections ----------------------------------------------------------------------------


@bp.get("/")
@requires("elections.view")
def index():
    """Elections in the services the viewer belongs to, newest first, a page at a time."""
    page = db.paginate(elections_for(current_actor()), per_page=ELECTIONS_PER_PAGE,
                       error_out=False)
    return render_template("elections/index.html", page=page)


def _service_choices(picker: Picker, chosen: Any = None) -> list[tuple[str, str]]:
    """The first few services the actor may run an election for (or those found by name),
    after "Whole organisation" where they may run one for it."""
    choices = picker.choices(chosen)
    if current_actor().has_role([Role.board, Role.admin], None):
        choices.insert(0, ("0", "Whole organisation"))
    return choices


def _details(form: ElectionForm) -> dict[str, Any]:
    """An election's details as the form gives them (all but who votes, fixed once created)."""
    return {"title": form.title.data.strip(), "description": form.description.data or "",
            "seats": form.seats.data, "method": Method(form.method.data),
            "term_months": form.term_months.data,
            "nominations_open_on": form.nominations_open_on.data,
            "nominations_close_on": form.nominations_close_on.data,
            "voting_opens_on": form.voting_opens_on.data,
            "voting_closes_on": form.voting_closes_on.data,
            "ballot_order": BallotOrder(form.ballot_order.data)}


@bp.route("/new", methods=["GET", "POST"])
@requires("elections.create")
def new():
    """Create an election (it starts in draft)."""
    form = ElectionForm()
    picker = service_picker(service_choices_query(current_actor(),
                                                  [Role.manager, Role.board, Role.admin]))
    form.service_id.choices = _service_choices(picker, form.service_id.data)
    if form.validate_on_submit():
        actor = current_actor()
        try:
            election = services.create_election(
                organisation_id=actor.person.organisation_id,
                service_id=form.service_id.data or None, by=actor.person, **_details(form))
        except ElectionsError as error:
            refuse(error)
        else:
            done("Election created. Open nominations when you are ready.")
            return _to_election(election)
    return render_template("elections/edit.html", form=form, election=None, picker=picker)


@bp.get("/<int:election_id>")
@requires("elections.view", load=load_election)
def election(election: Election):
    """One election: its stage, candidates, and what you can do now."""
    if election.status is Status.draft and not can("elections.manage", election):
        abort(404)
    actor = current_actor()
    entry = roll_entry_of(election, actor.person_id) if actor.signed_in else None
    mine = next((c for c in election.candidates if c.person_id == actor.person_id), None)
    return render_template("elections/election.html", election=election, entry=entry,
                           mine=mine, moves=_moves(election), form=EmptyForm())


def _moves(election: Election) -> list[tuple[str, str, str, str | None]]:
    """The buttons a manager sees: (action, label, button class, page to go to or None)."""
    s = election.status
    box = url_for("elections.ballot_box", election_id=election.id)
    moves = {
        Status.draft: [("open_nominations", "Open nominations", "button-primary", None)],
        Status.nominations_open: [("close_nominations", "Close nominations", "button-primary",
                                   None)],
        Status.nominations_closed: [
            ("count", "Fill the seats unopposed", "button-primary", None) if election.unopposed
            else ("open_voting", "Open voting now", "button-primary", None)
            if election.ballot_box_confirmed_at
            else ("open_voting", "Open voting: type back the key from the card",
                  "button-primary", url_for("elections.open_voting", election_id=election.id))
            if election.ballot_box_key
            else ("open_voting", "Open voting: make the ballot box key", "button-primary", box),
            ("reopen_nominations", "Reopen nominations", "button", None)],
        Status.voting_open: [("close_voting", "Close voting", "button-primary", None)],
        Status.voting_closed: [("count", "Count the votes", "button-primary",
                                url_for("elections.count", election_id=election.id))],
        Status.counted: [("publish", "Publish the results", "button-primary", None)],
    }
    return moves.get(s, [])


MOVES = {
    "open_nominations": services.open_nominations,
    "reopen_nominations": services.open_nominations,
    "close_nominations": services.close_nominations,
    "open_voting": services.open_voting,  # once the key is confirmed
    "close_voting": services.close_voting,
    "count": services.count_votes,
    "publish": services.publish_results,
}

MOVE_DONE = {
    "open_nominations": "Nominations are open.",
    "reopen_nominations": "Nominations are open again.",
    "close_nominations": "Nominations are closed.",
    "open_voting": "Voting is open. The roll is now fixed.",
    "close_voting": "Voting is closed.",
    "count": "The votes are counted. Check the results, then publish them.",
    "publish": "The results are published and people are being told.",
}


@bp.post("/<int:election_id>/move")
@requires("elections.manage", load=load_election)
def move(election: Election):
    """Move the election on to its next stage."""
    form = MoveForm()
    action = form.action.data if form.validate_on_submit() else None
    if action not in MOVES:
        flash("That is not a step this election can take.", "error")
        return _to_election(election)
    try:
        MOVES[action](election, by=current_actor().person)
    except ElectionsError as error:
        refuse(error)
        return _to_election(election)
    db.session.commit()
    if action == "publish":
        from involve.elections.tasks import send_results_notices

        send_results_notices(election.id)
    flash(MOVE_DONE[action], "success")
    return _to_election(election)


@bp.route("/<int:election_id>/edit", methods=["GET", "POST"])
@requires("elections.manage", load=load_election)
def edit(election: Election):
    """Change an election's details before voting opens."""
    form = ElectionForm(obj=election)
    form.service_id.choices = [(election.service_id or 0, election.scope_label)]
    if request.method == "GET":
        form.method.data = election.method.value
        form.ballot_order.data = election.ballot_order.value
        form.service_id.data = election.service_id or 0
    if form.validate_on_submit():
        try:
            services.update_election(election, by=current_actor().person, **_details(form))
        except ElectionsError as error:
            refuse(error)
            return _to_election(election)
        done("Election saved.")
        return _to_election(election)
    return render_template("elections/edit.html", form=form, election=election)


@bp.route("/<int:election_id>/cancel", methods=["GET", "POST"])
@requires("elections.manage", load=load_election)
def cancel(election: Election):
    """Cancel an election, saying why."""
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_election(election, form.reason.data, by=current_actor().person)
        except ElectionsError as error:
            refuse(error)
            return _to_election(election)
        done("The election is cancelled.")
        return _to_election(election)
    return render_template("elections/cancel.html", form=form, election=election)


# --- the ballot box key -------------------------------------------------------------------


def _opens_later(election: Election) -> bool:
    """Voting is set to open on a day still to come: typing the key back only confirms it."""
    return bool(election.voting_opens_on and election.voting_opens_on > clock.today())


def _key_page(election: Election, form: KeyForm, step: str) -> str:
    return render_template("elections/key.html", election=election, form=form, step=step,
                           opens_later=_opens_later(election))


@bp.route("/<int:election_id>/ballot-box", methods=["GET", "POST"])
@requires("elections.manage", load=load_election)
def ballot_box(election: Election):
    """Make the ballot box key and show its card, once, to print before voting opens."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return render_template("elections/ballot_box.html", election=election, form=form)
    try:
        key = services.make_ballot_box(election, by=current_actor().person)
    except ElectionsError as error:
        refuse(error)
        return _to_election(election)
    db.session.commit()
    qr = Markup(segno.make(key.replace(" ", ""), error="m").svg_inline(
        scale=6, title="QR code of the ballot box key"))
    response = Response(render_template("elections/key_card.html", election=election, key=key,
                                        qr=qr, form=KeyForm(formdata=None), made_at=utcnow(),
                                        opens_later=_opens_later(election)))
    # The key is shown this once and kept nowhere: not in a cache either.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:election_id>/open-voting", methods=["GET", "POST"])
@requires("elections.manage", load=load_election)
def open_voting(election: Election):
    """Confirm the key typed (or scanned) back from the printed card, and open voting: now,
    or by itself on the day voting opens when that is still to come."""
    form = KeyForm()
    if form.validate_on_submit():
        later = _opens_later(election)
        try:
            if later:
                services.confirm_ballot_box(election, form.key.data, by=current_actor().person)
            else:
                size = services.open_voting(election, form.key.data, by=current_actor().person)
        except services.BadKey as error:
            db.session.rollback()
            form.key.errors = [str(error)]
        except ElectionsError as error:
            refuse(error)
            return _to_election(election)
        else:
            db.session.commit()
            if later:
                flash(f"The key is right. Voting opens by itself on "
                      f"{election.voting_opens_on:%A %-d %B %Y}. Keep the card safe.", "success")
            else:
                flash(f"Voting is open. The roll is now fixed: {size} "
                      f"{'person' if size == 1 else 'people'} can vote. Keep the card safe.",
                      "success")
            return _to_election(election)
    return _key_page(election, form, "open")


@bp.route("/<int:election_id>/count", methods=["GET", "POST"])
@requires("elections.manage", load=load_election)
def count(election: Election):
    """Open the ballot box with the key from the card and count the votes."""
    form = KeyForm()
    if form.validate_on_submit():
        try:
            services.count_votes(election, form.key.data, by=current_actor().person)
        except services.BadKey as error:
            db.session.rollback()
            form.key.errors = [str(error)]
        except services.PaperMismatch as error:
            refuse(error)
            return redirect(url_for("elections.paper_check", election_id=election.id))
        except ElectionsError as error:
            refuse(error)
            return _to_election(election)
        else:
            db.session.commit()
            services.reclaim_sealed_space()
            flash(MOVE_DONE["count"], "success")
            return _to_election(election)
    return _key_page(election, form, "count")


# --- nominations --------------------------------------------------------------------------


@bp.route("/<int:election_id>/nominate", methods=["GET", "POST"])
@requires("elections.nominate", load=load_election)
def nominate(election: Election):
    """Nominate yourself or another service user; staff may record consent for them."""
    actor = current_actor()
    staff = actor.has_role([Role.staff, Role.manager, Role.admin], election.service_id)
    taken = {c.person_id for c in election.candidates}
    people = [p for p in services.eligible_people(election) if p.id not in taken]
    form = NominateForm()
    form.person_id.choices = [(0, "Choose a person")] + [
        (p.id, "Me" if p.id == actor.person_id else p.full_name) for p in people]
    if form.validate_on_submit():
        person = _person_in(election, form.person_id.data)
        try:
            services.nominate(election, person, by=actor.person,
                              consent=staff and form.consent.data,
                              on_behalf=staff and person.id != actor.person_id)
        except ElectionsError as error:
            refuse(error)
        else:
            done(f"{person.full_name} is nominated.")
            return _to_election(election, "#candidates")
    return render_template("elections/nominate.html", form=form, election=election,
                           staff=staff)


@bp.get("/candidates/<int:candidate_id>")
@requires("elections.view", load=load_candidate)
def candidate(candidate: Candidate):
    """A candidate: photo, name, statement and easy-read statement."""
    return render_template("elections/candidate.html", candidate=candidate,
                           election=candidate.election, form=EmptyForm())


@bp.route("/candidates/<int:candidate_id>/edit", methods=["GET", "POST"])
@requires("elections.candidate", load=load_candidate)
def candidate_edit(candidate: Candidate):
    """A candidate's statements and photo, written by them or by staff with them."""
    form = CandidateForm(obj=candidate)
    if candidate.person_id == current_actor().person_id:
        # Filling it in themselves: the box speaks to them, not about them.
        form.photo_consent.label.text = "I agree to this photo of me being shown"
    if form.validate_on_submit():
        upload = form.photo.data
        photo = upload.read() if upload and getattr(upload, "filename", "") else None
        try:
            services.update_candidate(
                candidate, statement=form.statement.data or "",
                easy_read=form.easy_read.data or "", photo=photo,
                photo_consent=form.photo_consent.data,
                photo_consent_note=form.photo_consent_note.data or "",
                by=current_actor().person)
        except ElectionsError as error:
            refuse(error)
        else:
            done("Saved.")
            return redirect(url_for("elections.candidate", candidate_id=candidate.id))
    return render_template("elections/candidate_edit.html", form=form, candidate=candidate,
                           election=candidate.election,
                           own=candidate.person_id == current_actor().person_id)


def _candidate_step(candidate: Candidate, step: Any, thanks: str) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    attempt(lambda: step(candidate, by=current_actor().person), thanks)
    return redirect(url_for("elections.candidate", candidate_id=candidate.id))


@bp.post("/candidates/<int:candidate_id>/consent")
@requires("elections.candidate", load=load_candidate)
def consent(candidate: Candidate):
    """Agree to stand (or record, as staff, that the nominee agreed)."""
    return _candidate_step(candidate, services.give_consent, "Agreed to stand.")


@bp.post("/candidates/<int:candidate_id>/withdraw")
@requires("elections.candidate", load=load_candidate)
def withdraw(candidate: Candidate):
    """Withdraw from the election, before voting opens."""
    return _candidate_step(candidate, services.withdraw, "Withdrawn from the election.")


@bp.get("/candidates/<int:candidate_id>/photo")
@requires("elections.candidate_photo", load=load_candidate)
def candidate_photo(candidate: Candidate):
    """A candidate's photo."""
    return photo_response(candidate.photo if candidate.has_photo else None)


# --- the roll -----------------------------------------------------------------------------


@bp.get("/<int:election_id>/roll")
@requires("elections.roll", load=load_election)
def roll(election: Election):
    """The roll: who may vote, who is marked unable to and why, and who has voted."""
    page = queries.roll_page(election, request.args.get("page", 1, type=int))
    voters, entered = services.paper_figures(election)
    return render_template("elections/roll.html", election=election, page=page,
                           rows=page.items,
                           form=EmptyForm(), ineligible_form=IneligibleForm(),
                           paper_voters=voters, paper_entered=entered)


def _roll_step(election: Election, step: Any, thanks: str, form_class: Any = PersonForm,
               **extra: Any) -> Response:
    form = form_class()
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()))[0] if form.errors else "Please try again.",
              "error")
        return redirect(url_for("elections.roll", election_id=election.id))
    person = _person_in(election, form.person_id.data)
    args = {name: getattr(form, name).data for name in extra}
    attempt(lambda: step(election, person, *args.values(), by=current_actor().person),
            thanks.format(name=person.full_name))
    # Back to the page of the roll the form was on.
    page = request.form.get("page", type=int)
    return redirect(url_for("elections.roll", election_id=election.id,
                            page=page if page and page > 1 else None) + f"#p{person.id}")


@bp.post("/<int:election_id>/roll/ineligible")
@requires("elections.roll", load=load_election)
def roll_ineligible(election: Election):
    """Mark a person as unable to vote in this election, with a reason."""
    return _roll_step(election, services.mark_ineligible, "{name} is marked as unable to vote.",
                      IneligibleForm, reason=True)


@bp.post("/<int:election_id>/roll/eligible")
@requires("elections.roll", load=load_election)
def roll_eligible(election: Election):
    """Put a person back on the roll before voting opens."""
    return _roll_step(election, services.mark_eligible, "{name} is back on the roll.")


@bp.post("/<int:election_id>/roll/paper")
@requires("elections.roll", load=load_election)
def roll_paper(election: Election):
    """Mark on the roll that a person voted on paper."""
    return _roll_step(election, services.mark_paper_voter, "{name} is marked as voted on paper.")


@bp.route("/<int:election_id>/roll/paper/undo", methods=["GET", "POST"])
@requires("elections.roll", load=load_election)
def roll_paper_undo(election: Election):
    """Undo a "voted on paper" mark made by mistake: a confirmation step, with a reason."""
    form = UndoPaperForm()
    person_id = request.values.get("person_id", type=int)
    if not person_id:
        flash("Choose the person on the roll whose paper mark is wrong.", "error")
        return redirect(url_for("elections.roll", election_id=election.id))
    person = _person_in(election, person_id)
    if form.validate_on_submit():
        try:
            services.unmark_paper_voter(election, person, form.reason.data,
                                        by=current_actor().person)
        except ElectionsError as error:
            refuse(error)
        else:
            done(f"The paper mark for {person.full_name} is undone.")
            return redirect(url_for("elections.roll", election_id=election.id)
                            + f"#p{person.id}")
    form.person_id.data = person.id
    return render_template("elections/paper_undo.html", election=election, form=form,
                           person=person, entry=roll_entry_of(election, person.id))


@bp.post("/<int:election_id>/cards")
@requires("elections.roll", load=load_election)
def cards(election: Election):
    """Print voting cards (new codes for everyone who has not voted, or one person)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    person_id = request.form.get("person_id", type=int)
    try:
        issued = services.issue_voting_codes(
            election, by=current_actor().person,
            person_ids=[person_id] if person_id else None)
    except ElectionsError as error:
        refuse(error)
        return redirect(url_for("elections.roll", election_id=election.id))
    db.session.commit()
    # The address the person is using, as on invitation cards.
    link = url_for("elections.code", election_id=election.id, _external=True)
    qr = Markup(segno.make(link, error="m").svg_inline(
        scale=5, title="QR code: opens the voting page for this election"))
    response = Response(render_template("elections/cards.html", election=election,
                                        issued=issued, link=link, qr=qr))
    # The codes are shown this once: keep them out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- voting -------------------------------------------------------------------------------


def _voter(election: Election) -> tuple[RollEntry, Channel, Person | None]:
    """Who is voting on this device: a code or assisted voter's pass, or the signed-in person."""
    actor = current_actor()
    held = session.get(VOTER_PASS)
    if held and time.time() - held.get("at", 0) > PASS_SECONDS:
        # A shared tablet left alone must not keep someone's ballot open for the next person.
        session.pop(VOTER_PASS, None)
        raise services.NotOnRoll("The ballot was left open too long and has been closed. "
                                 "Start again with the code, or ask for help.")
    if held and held.get("election") == election.id:
        entry = db.session.get(RollEntry, held["entry"])
        channel = Channel(held["channel"])
        helper = None
        if channel is Channel.assisted:
            if held.get("helper") != actor.person_id:
                session.pop(VOTER_PASS, None)
                raise services.NotOnRoll("This ballot was opened by someone else. "
                                         "Open it again from the assisted voting page.")
            helper = actor.person
        name = entry.person.full_name if entry and channel is Channel.assisted else "You"
        try:
            return services.check_can_vote(election, entry, name), channel, helper
        except ElectionsError:
            if channel is Channel.assisted:
                # A ballot that can no longer be cast (voting closed, the person voted on
                # paper) must not keep holding the staff member's pages.
                session.pop(VOTER_PASS, None)
            raise
    if not actor.signed_in:
        raise services.NotOnRoll("Sign in to vote, or use the code on your voting card.")
    return services.roll_entry_for(election, actor.person), Channel.online, None


def _cannot_vote(election: Election, error: ElectionsError) -> str:
    return render_template("elections/cannot_vote.html", election=election, message=str(error))


def _read_ranks(election: Election) -> dict[int, int]:
    ranks = {}
    for c in election.standing:
        raw = request.values.get(f"rank-{c.id}", "").strip()
        if raw:
            try:
                ranks[c.id] = int(raw)
            except ValueError:
                ranks[c.id] = 0
    return ranks


def _order_seed() -> int:
    """The seed of this ballot's order of names, carried in its own form posts."""
    seed = request.values.get("order", type=int)
    return seed if seed is not None and 0 <= seed < 2**31 else secrets.randbelow(2**31)


def _on_ballot(election: Election, seed: int) -> list[Candidate]:
    """The candidates in this ballot's order: alphabetical, or shuffled for each ballot."""
    listed = list(election.listed)
    if election.ballot_order is BallotOrder.shuffled:
        random.Random(seed).shuffle(listed)
    return listed


def _display_button(election: Election, form_id: str, back: str) -> dict[str, str]:
    """The text size button of a ballot page: it posts the page's form ``form_id`` (the order
    of names and the choices so far) to :func:`display`. Choices never go in an address,
    which access logs, browser history and Referer headers keep."""
    return {"form": form_id, "url": url_for("elections.display", election_id=election.id,
                                            back=back)}


def _ballot_page(election: Election, form: EmptyForm, entry: RollEntry, channel: Channel,
                 helper: Person | None, *, ranks: dict[int, int] | None = None,
                 ticked: set[int] | None = None, error: str | None = None,
                 seed: int | None = None) -> str:
    seed = _order_seed() if seed is None else seed
    ranks, ticked = ranks or {}, ticked or set()
    return render_template("elections/ballot.html", election=election, form=form,
                           ranks=ranks, ticked=ticked, voter=entry.person,
                           channel=channel, helper=helper, error=error, order=seed,
                           candidates=_on_ballot(election, seed),
                           display_post=_display_button(election, "ballot-form", "ballot"))


@bp.route("/<int:election_id>/ballot", methods=["GET", "POST"])
@requires("public", load=load_election)
def ballot(election: Election):
    """The ballot, built for a tablet; ranked ballots are filled in one button press at a time.

    Coming back from the confirm page ("No, change my choices") or the text size page keeps
    what was chosen (posted back, never in the address).
    """
    try:
        entry, channel, helper = _voter(election)
    except ElectionsError as error:
        if not current_actor().signed_in and not session.get(VOTER_PASS):
            return redirect(url_for("elections.code", election_id=election.id))
        return _cannot_vote(election, error)
    form = EmptyForm()
    ranks: dict[int, int] = {}
    ticked: set[int] = set()
    standing = {c.id for c in election.standing}
    if request.method == "POST" and form.validate_on_submit():
        if election.method.ranked:
            # Renumbered 1, 2, 3 in their order, so an edited form cannot muddle them.
            given = {cid: n for cid, n in _read_ranks(election).items() if n > 0}
            ranks = {cid: i + 1 for i, cid in enumerate(sorted(given, key=given.__getitem__))}
            if "add" in request.form:
                chosen = request.form.get("add", type=int)
                if chosen in {c.id for c in election.standing} and chosen not in ranks:
                    ranks[chosen] = len(ranks) + 1
            elif "undo" in request.form and ranks:
                ranks.pop(max(ranks, key=ranks.__getitem__))
            elif "clear" in request.form:
                ranks = {}
        else:
            ticked = {c for c in request.form.getlist("choice", type=int) if c in standing}
    return _ballot_page(election, form, entry, channel, helper, ranks=ranks, ticked=ticked)


@bp.route("/<int:election_id>/ballot/confirm", methods=["GET", "POST"])
@requires("public", load=load_election)
def confirm(election: Election):
    """Say the choice back in words before it is cast (shown again, unchanged, on the way
    back from the text size page, which posts the choices back)."""
    try:
        entry, channel, helper = _voter(election)
    except ElectionsError as error:
        return _cannot_vote(election, error)
    form = EmptyForm()
    if request.method == "POST" and not form.validate_on_submit():
        abort(400)
    values = request.values
    if request.method == "GET":
        return redirect(url_for("elections.ballot", election_id=election.id))
    ranks: dict[int, int] = {}
    ticked: set[int] = set()
    blank = values.get("choice") == "none" or "blank" in values
    try:
        if blank:
            choices: tuple[int, ...] = ()
        elif election.method.ranked:
            ranks = _read_ranks(election)
            choices = services.choices_from_ranks(election, ranks)
        else:
            ticked = set(values.getlist("choice", type=int))
            choices = services.choices_from_ticks(election, values.getlist("choice", type=int))
    except ElectionsError as error:
        return _ballot_page(election, form, entry, channel, helper,
                            ranks={k: v for k, v in ranks.items() if v > 0}, ticked=ticked,
                            error=str(error)), 400
    seed = _order_seed()
    return render_template("elections/confirm.html", election=election, form=form,
                           choices=choices, blank=blank, order=seed,
                           words=services.describe_choices(election, choices),
                           voter=entry.person, channel=channel, helper=helper,
                           display_post=_display_button(election, "ballot-state", "confirm"))


#: Fields of a ballot page's form that the text size page carries back to it.
BALLOT_STATE = ("order", "choice", "blank")


@bp.post("/<int:election_id>/ballot/display")
@requires("public", load=load_election)
def display(election: Election):
    """Text size and colours from a ballot or its check, coming back to it as it was left.

    The ballot's state (the order of names, the choices so far) comes in the ballot page's
    form post, rides in hidden fields of the settings form, and goes back with a 307 redirect
    (the browser posts the same form again to the ballot page): never in an address.
    """
    try:
        _voter(election)
    except ElectionsError as error:
        return _cannot_vote(election, error)
    back = "elections.confirm" if request.args.get("back") == "confirm" else "elections.ballot"
    form = DisplayForm()
    if "text_size" in request.form:
        if form.validate_on_submit():
            remember_display(form)
            return redirect(url_for(back, election_id=election.id), 307)
    elif EmptyForm().validate_on_submit():
        prefs = display_prefs()
        form.text_size.data, form.high_contrast.data = prefs["text_size"], prefs["high_contrast"]
    else:
        abort(400)
    carried = [(name, value) for name, value in request.form.items(multi=True)
               if name in BALLOT_STATE or name.startswith("rank-")]
    response = Response(render_template("auth/display.html", form=form, carried=carried,
                                        action=request.full_path))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:election_id>/ballot/cast")
@requires("public", load=load_election)
def cast(election: Election):
    """Cast the ballot: mark the roll and put the ballot in the box, in one transaction."""
    try:
        entry, channel, helper = _voter(election)
    except ElectionsError as error:
        return _cannot_vote(election, error)
    if not EmptyForm().validate_on_submit():
        abort(400)
    choices = request.form.getlist("choice", type=int)
    try:
        receipt = services.cast_ballot(election, entry.id, choices, channel=channel,
                                       helper=helper, blank=request.form.get("blank") == "1")
    except ElectionsError as error:
        refuse(error)
        return redirect(url_for("elections.ballot", election_id=election.id))
    session.pop(VOTER_PASS, None)
    # The receipt is shown in this answer and kept nowhere else: not in the session cookie,
    # which the browser keeps readable. The page is made before the commit, while what it
    # shows is still loaded, so casting stays a handful of statements.
    response = Response(render_template(
        "elections/receipt.html", election=election, assisted=channel is Channel.assisted,
        receipt={"code": receipt,
                 "mark": services.receipt_mark(services.receipt_hash(receipt))}))
    db.session.commit()
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:election_id>/ballot/leave")
@requires("public", load=load_election)
def leave(election: Election):
    """Close a code or assisted ballot without voting ("this is not me", or "stop")."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    held = session.pop(VOTER_PASS, None) or {}
    flash("The ballot is closed. Nothing was cast.", "success")
    if held.get("channel") == Channel.assisted.value and can("elections.assist", election):
        # Staff who stopped a helped vote go back to the list of people to help.
        return redirect(url_for("elections.assist", election_id=election.id))
    return redirect(url_for("elections.code", election_id=election.id))


@bp.route("/<int:election_id>/code", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@requires("public", load=load_election)
def code(election: Election):
    """Vote with the code on a voting card, without signing in."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            entry = services.entry_for_code(election, form.code.data)
        except ElectionsError as error:
            form.code.errors = [str(error)]
        else:
            session[VOTER_PASS] = {"election": election.id, "entry": entry.id,
                                   "channel": Channel.code.value, "at": time.time()}
            return redirect(url_for("elections.ballot", election_id=election.id))
    return render_template("elections/code.html", election=election, form=form)


@bp.route("/<int:election_id>/assist", methods=["GET", "POST"])
@requires("elections.assist", load=load_election)
def assist(election: Election):
    """Open the ballot for a named voter on a shared tablet, then step back."""
    form = PersonForm()
    if form.validate_on_submit():
        person = _person_in(election, form.person_id.data)
        if not queries.may_help(current_actor(), election, person.id):
            abort(404)  # a person of a service the helper holds no role in
        try:
            entry = services.start_assisted_vote(election, person, by=current_actor().person)
        except ElectionsError as error:
            refuse(error)
        else:
            db.session.commit()
            session[VOTER_PASS] = {"election": election.id, "entry": entry.id,
                                   "channel": Channel.assisted.value,
                                   "helper": current_actor().person_id, "at": time.time()}
            return redirect(url_for("elections.ballot", election_id=election.id))
    waiting = (waiting_voters(election, current_actor())
               if election.status is Status.voting_open else [])
    return render_template("elections/assist.html", election=election, waiting=waiting,
                           form=EmptyForm())


@bp.get("/<int:election_id>/not-voted")
@requires("elections.assist", load=load_election)
def not_voted(election: Election):
    """A list to print of who has not voted yet, to offer them help: names only, never how
    anyone voted."""
    waiting = (waiting_voters(election, current_actor())
               if election.status is Status.voting_open else [])
    return render_template("elections/not_voted.html", election=election, waiting=waiting)


# --- paper, count and results -------------------------------------------------------------


@bp.route("/<int:election_id>/paper", methods=["GET", "POST"])
@requires("elections.manage", load=load_election)
def paper(election: Election):
    """Enter paper ballots in batches that reconcile with the paper voters on the roll."""
    form = PaperBatchForm()
    if form.validate_on_submit():
        try:
            services.enter_paper_batch(election, form.declared.data, form.ballots.data or "",
                                       spoilt=form.spoilt.data or 0, blank=form.blank.data or 0,
                                       by=current_actor().person)
        except ElectionsError as error:
            refuse(error)
        else:
            done(f"Batch of {form.declared.data} papers saved.")
            return redirect(url_for("elections.paper", election_id=election.id))
    return render_template("elections/paper.html", election=election, form=form,
                           check=services.paper_check(election))


@bp.get("/<int:election_id>/paper/check")
@requires("elections.manage", load=load_election)
def paper_check(election: Election):
    """Do the paper voters on the roll match the papers entered? In words, with what to do."""
    return render_template("elections/paper_check.html", election=election,
                           check=services.paper_check(election))


@bp.get("/<int:election_id>/paper/ballot")
@requires("elections.manage", load=load_election)
def paper_ballot(election: Election):
    """A large-print paper ballot to print, numbered as the paper ballot entry page reads it."""
    return render_template("elections/paper_ballot.html", election=election)


def _results_shown(election: Election) -> bool:
    """Results are for everyone once published; before that, for those running the count."""
    return election.status is Status.results_published or (
        election.status is Status.counted and can("elections.manage", election))


@bp.get("/<int:election_id>/results")
@requires("elections.view", load=load_election)
def results(election: Election):
    """Results: hidden until voting closes and the count is done; then for managers to check,
    and for everyone once published. Easy read first, the count's details after."""
    shown = _results_shown(election)
    marks = services.published_receipt_marks(election) if shown else []
    return render_template("elections/results.html", election=election, shown=shown,
                           marks=marks, form=ReceiptForm(), chart=_chart(election) if shown
                           else None,
                           words=queries.result_in_words(election) if shown else [])


@bp.get("/<int:election_id>/results/poster")
@requires("elections.view", load=load_election)
def results_poster(election: Election):
    """The result as an easy-read poster to print: who was elected, with their photos."""
    if not _results_shown(election):
        abort(404)
    return render_template("elections/results_poster.html", election=election,
                           words=queries.result_in_words(election))


def _chart(election: Election) -> dict[str, Any] | None:
    result = election.result or {}
    if result.get("unopposed") or not result.get("stages"):
        return None
    votes = [float(v) for v in result["stages"][-1]["votes"]]
    first = [float(v) for v in result["stages"][0]["votes"]]
    top = max(first + votes + [1.0])
    rows = []
    for i, name in enumerate(result["candidates"]):
        rows.append({"name": name, "first": result["stages"][0]["votes"][i],
                     "final": result["stages"][-1]["votes"][i],
                     "width": round(first[i] / top * 400, 1),
                     "elected": name in result["elected"]})
    return {"rows": rows, "height": 40 * len(rows) + 10}


@bp.post("/<int:election_id>/results/check")
@requires("public", load=load_election)
def check_receipt(election: Election):
    """Check that the ballot with a receipt code was counted."""
    form = ReceiptForm()
    counted = None
    if election.status is not Status.results_published:
        flash("You can check your receipt once the results are published.", "error")
    elif form.validate_on_submit():
        counted = services.receipt_counted(election, form.receipt.data)
    return render_template("elections/receipt_check.html", election=election, form=form,
                           counted=counted)


@bp.get("/<int:election_id>/ballots.blt")
@requires("elections.manage", load=load_election)
def export_ballots(election: Election):
    """The ballots as a BLT file, in random order, for anyone to recount."""
    from involve.elections.blt import write_blt

    if not election.results_visible or not election.result or election.unopposed:
        abort(404)
    ids = election.result["candidate_ids"]
    index = {cid: i for i, cid in enumerate(ids)}
    # Blank ballots chose nobody: they are in the turnout, not in the count.
    ballots = [(1, [index[c] for c in b.choices if c in index])
               for b in services.ballots_in_random_order(election) if b.choices]
    text = write_blt(election.result["candidates"], ballots, election.seats,
                     title=election.title)
    return Response(text, mimetype="text/plain", headers={
        "Content-Disposition": f"attachment; filename=election-{election.id}.blt"})
