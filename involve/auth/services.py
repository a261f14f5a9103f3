"""Every state change of signing in, invitations and password reset."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from involve import audit
from involve.extensions import db, utcnow
from involve.kernel.errors import DomainError
from involve.kernel.tokens import SignedLink
from involve.people.models import (
    Invitation,
    InvitationPurpose,
    Person,
    SignInAttempt,
    User,
    UserSession,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on a card


AuthError = DomainError  # the kernel's refusal, by this domain's name


INVITATION_LINK = SignedLink(
    "invitation", max_age=lambda: timedelta(days=current_app.config["INVITATION_MAX_AGE_DAYS"]),
    expired="This invitation has expired. Ask for a new one.",
    invalid="This invitation link is not valid. Check it was copied in full.")
RESET_LINK = SignedLink(
    "reset", max_age=lambda: timedelta(hours=current_app.config["RESET_MAX_AGE_HOURS"]),
    expired="This reset link has expired. Ask for a new one.",
    invalid="This reset link is not valid. Check it was copied in full.")


def find_user(sign_in: str) -> User | None:
    """The account whose email or username is ``sign_in`` (case does not matter)."""
    value = sign_in.strip().lower()
    if not value:
        return None
    return db.session.scalar(select(User).where(
        (func.lower(User.email) == value) | (func.lower(User.username) == value)))


# One answer for every refused sign-in (unknown name, wrong password, locked, not set up), so
# the page never tells a stranger which accounts exist or are locked.
SIGN_IN_FAILED = ("That sign-in name and password do not match, or there have been too many "
                  "tries. Please check them and try again in a few minutes, or ask a member "
                  "of staff to help.")

# An address where the account signed in successfully this recently is "known": the
# account-wide slow-down never applies to it.
KNOWN_ADDRESS_DAYS = 90


class SignInRefused(AuthError):
    """A refused sign-in. ``newly_locked`` is the account this try locked, to tell its owner."""

    def __init__(self, newly_locked: User | None = None) -> None:
        super().__init__(SIGN_IN_FAILED)
        self.newly_locked = newly_locked


def authenticate(sign_in: str, password: str, *, address: str) -> User:
    """Check a sign-in from ``address``; slow down and lock password guessing.

    Every refusal raises :class:`SignInRefused` with the same message after the same work
    (the same queries and exactly one password hash check), whether the name is unknown, the
    password wrong, the account locked or not yet set up.

    - **Lock, per (account, address)**: after ``LOCK_AFTER_FAILURES`` failures from one
      address within ``LOCK_MINUTES``, that address cannot sign in to that account until
      the oldest of them is ``LOCK_MINUTES`` old. The owner elsewhere is not affected, so a
      stranger cannot lock them out; the owner is told by email and the lock is audited.
    - **Delay, per account**: after ``ACCOUNT_SLOW_AFTER_FAILURES`` failures from all
      addresses within ``LOCK_MINUTES``, addresses the account has not signed in from (in
      ``KNOWN_ADDRESS_DAYS``) get one try per ``ACCOUNT_SLOW_SECONDS``; tries in between are
      refused unchecked. It never locks, and known addresses are never slowed.
    - **Per address** across accounts, Flask-Limiter's ``SIGN_IN_LIMIT`` answers 429.
    """
    config = current_app.config
    now = utcnow()
    user = find_user(sign_in)
    user_id = user.id if user is not None else None
    # The same queries for an unknown name, on an id no account has: they find nothing, as
    # quickly as they find an account's few rows (unknown names' rows are never counted).
    counted_id = user_id if user_id is not None else 0
    window = now - timedelta(minutes=config["LOCK_MINUTES"])
    failed = (SignInAttempt.user_id == counted_id) & SignInAttempt.succeeded.is_(False) \
        & (SignInAttempt.at > window)
    pair_failures = db.session.scalar(select(func.count(SignInAttempt.id)).where(
        failed, SignInAttempt.ip_address == address)) or 0
    account_failures, last_failure = db.session.execute(select(
        func.count(SignInAttempt.id), func.max(SignInAttempt.at)).where(failed)).one()
    known_address = db.session.scalar(select(SignInAttempt.id).where(
        SignInAttempt.user_id == counted_id, SignInAttempt.ip_address == address,
        SignInAttempt.succeeded.is_(True),
        SignInAttempt.at > now - timedelta(days=KNOWN_ADDRESS_DAYS)).limit(1)) is not None
    locked = pair_failures >= config["LOCK_AFTER_FAILURES"]
    slowed = (not known_address and account_failures >= config["ACCOUNT_SLOW_AFTER_FAILURES"]
              and last_failure is not None and last_failure > now - timedelta(
                  seconds=config["ACCOUNT_SLOW_SECONDS"]))
    real_hash = user.password_hash if user is not None else None
    checked = real_hash if real_hash and not locked and not slowed else _dummy_hash()
    matches = check_password_hash(checked, password) and checked is real_hash
    if matches and user.is_active:
        db.session.execute(delete(SignInAttempt).where(
            SignInAttempt.user_id == user.id, SignInAttempt.ip_address == address,
            SignInAttempt.succeeded.is_(False)))
        db.session.add(SignInAttempt(user_id=user.id, ip_address=address, succeeded=True,
                                     at=now))
        user.last_sign_in_at = now
        audit.record("sign_in", actor=user.person_id)
        return user
    reason = ("unknown" if user is None else "locked" if locked else "slowed" if slowed
              else "not_set_up" if real_hash is None else "password")
    if not locked:  # tries at a locked door are not counted again: the lock ends on time
        db.session.add(SignInAttempt(user_id=user_id, ip_address=address, at=now))
    audit.record("sign_in.failed", subject=user.person_id if user else None, reason=reason)
    newly_locked = None
    if user is not None and not locked and pair_failures + 1 == config["LOCK_AFTER_FAILURES"]:
        audit.record("account.locked", subject=user.person_id, minutes=config["LOCK_MINUTES"])
        newly_locked = user
    raise SignInRefused(newly_locked)


# --- sessions: kept on the server, so signing out ends them everywhere -----------------------

SESSION_KEY = "_session"  # the Flask session key holding the random session token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """Record a new signed-in session for ``user``; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash(token)))
    db.session.flush()
    return token


def find_session(token: str | None) -> UserSession | None:
    """The session a cookie's token names, with its account and person, in one query."""
    if not token or not isinstance(token, str):
        return None
    return db.session.scalar(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
        .options(joinedload(UserSession.user).joinedload(User.person)))


def session_expired(row: UserSession, now: datetime | None = None) -> bool:
    """True for a session older than the longest a sign-in lasts, or left idle too long."""
    now = now or utcnow()
    config = current_app.config
    if row.created_at <= now - current_app.permanent_session_lifetime:
        return True
    idle = config["IDLE_SIGN_OUT_MINUTES"]
    return bool(idle) and row.last_seen_at < now - timedelta(minutes=idle)


def end_session(row: UserSession) -> None:
    """End one session on the server: its cookie, and every copy of it, stop working."""
    db.session.delete(row)


def end_all_sessions(user: User, *, by: Person | None = None, reason: str) -> int:
    """End every session of ``user`` (a new password, or "sign out everywhere")."""
    ended = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    if ended.rowcount or by is not None:
        audit.record("sessions.ended", actor=by, subject=user.person_id, reason=reason,
                     sessions=ended.rowcount)
    return ended.rowcount


def forget_old_sign_ins(now: datetime | None = None) -> None:
    """Delete expired sessions and sign-in attempts no rule looks at any more."""
    now = now or utcnow()
    config = current_app.config
    oldest = now - current_app.permanent_session_lifetime
    db.session.execute(delete(UserSession).where(UserSession.created_at <= oldest))
    idle = config["IDLE_SIGN_OUT_MINUTES"]
    if idle:
        db.session.execute(delete(UserSession).where(
            UserSession.last_seen_at < now - timedelta(minutes=idle)))
    db.session.execute(delete(SignInAttempt).where(
        SignInAttempt.succeeded.is_(False), SignInAttempt.at < now - timedelta(days=1)))
    db.session.execute(delete(SignInAttempt).where(
        SignInAttempt.at < now - timedelta(days=KNOWN_ADDRESS_DAYS)))


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def _code_hash(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_code() -> str:
    """A short code for a card, in two groups of four: easy to read out and type.

    Invitation cards, voting cards, ballot receipts and feedback references all use it.
    """
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def invite(person: Person, *, email: str | None, username: str | None,
           by: Person) -> tuple[Invitation, str]:
    """Create (or refresh) an account for ``person`` and an invitation to set it up.

    Returns the invitation and its code; the code is shown once (on the card or in the
    link) and only its hash is kept.
    """
    email = (email or "").strip().lower() or None
    username = (username or "").strip().lower() or None
    if person.user is not None and person.user.has_had_password:
        raise AuthError(f"{person.full_name} has already set up their account, so an invitation "
                        "cannot be used. To help them back in, start a password reset.")
    if not email and not username:
        raise AuthError("Give an email address or a username, so the person can sign in.")
    for field, value in (("email", email), ("username", username)):
        if value:
            other = db.session.scalar(select(User).where(getattr(User, field) == value))
            if other is not None and other.person_id != person.id:
                raise AuthError(f"That {field} is already used by someone else.")
    user = person.user
    if user is None:
        user = User(person=person, email=email, username=username)
        db.session.add(user)
    else:
        user.email, user.username = email or user.email, username or user.username
    db.session.flush()
    days = current_app.config["INVITATION_MAX_AGE_DAYS"]
    invitation, code = _new_card(user, InvitationPurpose.invitation, by=by,
                                 lasts=timedelta(days=days))
    audit.record("invitation.created", actor=by, subject=person, obj=invitation)
    return invitation, code


def _close_open_cards(user: User) -> None:
    now = utcnow()
    db.session.execute(update(Invitation).where(
        Invitation.user_id == user.id, Invitation.accepted_at.is_(None),
        Invitation.expires_at > now).values(expires_at=now))


def _new_card(user: User, purpose: InvitationPurpose, *, by: Person,
              lasts: timedelta) -> tuple[Invitation, str]:
    # A new code replaces any open one: a lost card or an old email stops working.
    _close_open_cards(user)
    code = new_code()
    invitation = Invitation(user=user, purpose=purpose, code_hash=_code_hash(code),
                            created_by_id=by.id, expires_at=utcnow() + lasts)
    db.session.add(invitation)
    db.session.flush()
    return invitation, code


def issue_reset_card(user: User, *, by: Person) -> tuple[Invitation, str]:
    """A reset card for an account in use: a code (and QR) to choose a new password.

    For people without email, handed over in person. Who may issue one is checked by the
    caller (:func:`involve.people.services.reset_card`).
    """
    if not user.has_had_password:
        raise AuthError(f"{user.person.full_name} has not set up their account yet. "
                        "Send an invitation instead.")
    hours = current_app.config["RESET_CARD_MAX_AGE_HOURS"]
    invitation, code = _new_card(user, InvitationPurpose.reset, by=by,
                                 lasts=timedelta(hours=hours))
    audit.record("password.reset_card", actor=by, subject=user.person_id, obj=invitation)
    return invitation, code


def invitation_token(invitation: Invitation, code: str) -> str:
    """The signed token for an invitation link."""
    return INVITATION_LINK.make({"i": invitation.id, "c": code})


def invitation_from_token(token: str) -> tuple[Invitation, str]:
    """The invitation and code a link carries, or :class:`AuthError` if it is not valid."""
    data = INVITATION_LINK.read(token)
    return invitation_from_code(data["c"]), data["c"]


def invitation_from_code(code: str) -> Invitation:
    """The open invitation for a code typed from a card."""
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.code_hash == _code_hash(code)))
    if invitation is None:
        raise AuthError("We do not recognise that code. Check it against your card.")
    check_open(invitation)
    return invitation


def check_open(invitation: Invitation) -> None:
    """Raise :class:`AuthError` unless the invitation can still be accepted."""
    if invitation.accepted_at is not None:
        raise AuthError("This invitation has already been used. You can sign in.")
    if invitation.expires_at <= utcnow():
        raise AuthError("This invitation has expired. Ask for a new one.")
    if invitation.purpose == InvitationPurpose.invitation and invitation.user.has_had_password:
        # Only ever activates an account that never had a password: it cannot take one over.
        raise AuthError("This account is already set up. Please sign in, or ask a member "
                        "of staff for a password reset.")


def accept_invitation(invitation: Invitation, password: str) -> User:
    """Set the password from an invitation or a reset card, and close it."""
    check_open(invitation)
    user = invitation.user
    _set_password(user, password)
    invitation.accepted_at = utcnow()
    if invitation.purpose == InvitationPurpose.reset:
        audit.record("password.reset", actor=user.person_id, obj=invitation, method="card")
    else:
        audit.record("invitation.accepted", actor=user.person_id, obj=invitation)
    return user


def _set_password(user: User, password: str) -> None:
    """Every way of choosing a password ends here: sessions end, open codes close, unlocked."""
    if len(password) < 8:
        raise AuthError("Choose a password of at least 8 characters.")
    user.set_password(password)
    end_all_sessions(user, reason="password_changed")
    _close_open_cards(user)
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.user_id == user.id,
                                                   SignInAttempt.succeeded.is_(False)))


def request_reset(email: str) -> User | None:
    """The account to send a reset link to, if ``email`` belongs to one that can sign in.

    The request is audited either way; the caller answers the same whatever is found.
    """
    user = find_user(email)
    if user is None or not user.email or not user.is_active:
        audit.record("password.reset_requested", found=False)
        return None
    audit.record("password.reset_requested", subject=user.person_id, found=True)
    return user


def reset_token(user: User) -> str:
    """A signed reset token that stops working once the password changes."""
    return RESET_LINK.make({"u": user.id, "f": _fingerprint(user)})


def user_from_reset_token(token: str) -> User:
    """The account a reset link is for, or :class:`AuthError`."""
    data = RESET_LINK.read(token)
    user = db.session.get(User, data["u"])
    if user is None or _fingerprint(user) != data["f"]:
        raise AuthError("This reset link has already been used. Ask for a new one.")
    return user


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def reset_password(user: User, password: str) -> None:
    """Change the password from a reset link; every session ends and the account unlocks."""
    _set_password(user, password)
    audit.record("password.reset", actor=user.person_id, method="link")


def save_display_settings(user: User, *, text_size: str, high_contrast: bool) -> None:
    """Remember a person's text size and contrast."""
    if text_size not in {"normal", "large", "larger"}:
        raise AuthError("Choose a text size from the list.")
    user.text_size, user.high_contrast = text_size, high_contrast

