"""Pages for signing in and out, invitations, password reset and display settings."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from involve import mail
from involve.auth import bp, services, tasks
from involve.auth.forms import (
    CodeForm,
    DisplayForm,
    NewPasswordForm,
    ResetRequestForm,
    SignInForm,
)
from involve.extensions import db, limiter, login_manager, utcnow
from involve.kernel.forms import EmptyForm
from involve.kernel.steps import done, refuse
from involve.people.models import InvitationPurpose, User
from involve.permissions import public, requires

# The idle stamp on the server is refreshed at most this often: no write on every request.
TOUCH_EVERY = timedelta(minutes=1)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in account, if its session is still open on the server.

    One indexed query: the session row by its token's hash, with the account and person.
    """
    g.pop("user_session", None)
    row = services.find_session(session.get(services.SESSION_KEY))
    if row is None or str(row.user_id) != user_id or not row.user.is_active:
        return None
    g.user_session = row
    return row.user


def _start_session(user: User) -> None:
    # A fresh session at sign-in: nothing planted before it survives (session fixation).
    session.clear()
    token = services.start_session(user)
    db.session.commit()
    login_user(user)
    session[services.SESSION_KEY] = token


def _end_session() -> None:
    logout_user()
    session.clear()


@bp.before_app_request
def sign_out_when_idle() -> None:
    """End a session left unused for a while (a shared tablet in a lounge), or too old.

    The last-seen time lives on the server and is written at most once a minute, so the
    cookie is not rewritten on every request.
    """
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    row = g.get("user_session")
    if row is None:
        return
    now = utcnow()
    if services.session_expired(row, now):
        services.end_session(row)
        db.session.commit()
        _end_session()
        flash("You were signed out because Involve was not used for a while. "
              "Please sign in again.", "info")
        return  # the page then treats the visitor as signed out
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()


login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"


def _safe_next(target: str | None) -> str:
    """A page on this site to go back to, or the home page.

    Browsers read a backslash as a slash and drop tabs and newlines, so a path such as
    ``/<backslash>evil.example`` would leave the site: only a plain path is accepted.
    """
    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and not any(ord(c) < 33 or ord(c) == 127 for c in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("people.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT"], methods=["POST"])
@public
def sign_in():
    """Sign in with an email address or username and a password."""
    if current_user.is_authenticated:
        return redirect(url_for("people.home"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.sign_in.data, form.password.data,
                                         address=request.remote_addr or "")
        except services.SignInRefused as refused:
            db.session.commit()  # keep the failure count and the audit event
            if refused.newly_locked is not None and refused.newly_locked.email:
                tasks.tell_account_locked(refused.newly_locked.id)
            flash(str(refused), "error")
        else:
            _start_session(user)  # commits the sign-in and its session together
            flash(f"Welcome, {user.person.display_name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/sign_in.html", form=form)


@bp.post("/sign-out")
@requires("signed_in")
def sign_out():
    """Sign out: the session ends on the server, so a copy of the cookie stops working too."""
    row = g.get("user_session")
    if row is not None:
        services.end_session(row)
        db.session.commit()
    _end_session()
    flash("You have signed out. Goodbye.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.post("/sign-out-everywhere")
@requires("signed_in")
def sign_out_everywhere():
    """End every session of this account: on this device and on every other one."""
    form = EmptyForm()
    if not form.validate_on_submit():
        flash("Please try again.", "error")
        return redirect(url_for("auth.display"))
    services.end_all_sessions(current_user, by=current_user.person, reason="sign_out_everywhere")
    db.session.commit()
    _end_session()
    flash("You are signed out everywhere: on this device and on every other one.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_link(token: str):
    """Set up an account from an emailed invitation link."""
    try:
        invitation, _code = services.invitation_from_token(token)
    except services.AuthError as error:
        return render_template("auth/problem.html", message=str(error)), 400
    return _accept(invitation)


@bp.route("/invitation", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@public
def accept_code():
    """Set up an account with the code printed on an invitation card."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            invitation = services.invitation_from_code(form.code.data)
        except services.AuthError as error:
            flash(str(error), "error")
        else:
            session["invitation_id"] = invitation.id
            return redirect(url_for("auth.accept_card"))
    return render_template("auth/code.html", form=form)


@bp.route("/invitation/set-password", methods=["GET", "POST"])
@public
def accept_card():
    """Choose a password after entering a card's code."""
    from involve.people.models import Invitation

    invitation = db.session.get(Invitation, session.get("invitation_id") or 0)
    if invitation is None:
        flash("Please enter the code on your card first.", "info")
        return redirect(url_for("auth.accept_code"))
    try:
        services.check_open(invitation)
    except services.AuthError as error:
        session.pop("invitation_id", None)
        flash(str(error), "error")
        return redirect(url_for("auth.accept_code"))
    return _accept(invitation)


def _accept(invitation):
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            reset = invitation.purpose == InvitationPurpose.reset
            user = services.accept_invitation(invitation, form.password.data)
        except services.AuthError as error:
            refuse(error)
        else:
            _start_session(user)
            flash("Your new password is saved. Welcome back." if reset
                  else "Your account is ready. Welcome to Involve.", "success")
            return redirect(url_for("people.home"))
    return render_template("auth/accept.html", form=form, invitation=invitation,
                           reset=invitation.purpose == InvitationPurpose.reset)


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"])
@public
def reset_request():
    """Ask for a password reset link by email."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = services.request_reset(form.email.data)
        db.session.commit()
        if user is not None:
            link = url_for("auth.reset", token=services.reset_token(user), _external=True)
            try:
                mail.send(mail.render_message("auth/mail/reset", to=user.email,
                                              subject="Reset your Involve password",
                                              person=user.person, link=link))
            except Exception:  # saying so would tell a stranger the address has an account
                current_app.logger.exception("password reset email to a known account failed")
        # The same answer whether or not the address is known.
        flash("If that address has an account, we have sent it a link to choose a new "
              "password. The link works for two hours.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset(token: str):
    """Choose a new password from a reset link."""
    try:
        user = services.user_from_reset_token(token)
    except services.AuthError as error:
        return render_template("auth/problem.html", message=str(error)), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data)
        except services.AuthError as error:
            refuse(error)
        else:
            done("Your password has changed. Please sign in.")
            return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset.html", form=form)


@bp.route("/display", methods=["GET", "POST"])
@public
def display():
    """Text size and contrast, remembered for the person (or this browser before sign-in)."""
    form = DisplayForm()
    if request.method == "GET":
        prefs = _display_prefs()
        form.text_size.data, form.high_contrast.data = prefs
    if form.validate_on_submit():
        remember_display(form)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/display.html", form=form)


def remember_display(form: DisplayForm) -> None:
    """Keep the display settings of a valid form: for the person (in the database, committed)
    and for this browser before sign-in, and say so."""
    if current_user.is_authenticated:
        services.save_display_settings(current_user, text_size=form.text_size.data,
                                       high_contrast=form.high_contrast.data)
        db.session.commit()
    session["text_size"] = form.text_size.data
    session["high_contrast"] = form.high_contrast.data
    flash("Your display settings are saved.", "success")


def _display_prefs() -> tuple[str, bool]:
    if not has_request_context():  # mail rendered by the background worker
        return "normal", False
    if current_user.is_authenticated:
        return current_user.text_size, current_user.high_contrast
    return session.get("text_size", "normal"), bool(session.get("high_contrast"))


@bp.app_context_processor
def display_prefs():
    size, contrast = _display_prefs()
    return {"text_size": size, "high_contrast": contrast}
