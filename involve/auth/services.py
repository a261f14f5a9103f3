"""Every state change of signing in, invitations and password reset."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from involve import audit
from involve.extensions import db, utcnow
from involve.people.models import Invitation, Person, User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on a card


class AuthError(Exception):
    """A sign-in, invitation or reset that cannot go ahead; the message is for the person."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def find_user(sign_in: str) -> User | None:
    """The account whose email or username is ``sign_in`` (case does not matter)."""
    value = sign_in.strip().lower()
    if not value:
        return None
    return db.session.scalar(select(User).where(
        (func.lower(User.email) == value) | (func.lower(User.username) == value)))


SIGN_IN_FAILED = "That sign-in name and password do not match. Please check them and try again."
LOCKED = ("This account is locked for a few minutes after too many tries. "
          "Please wait, or ask a member of staff to help.")


def authenticate(sign_in: str, password: str) -> User:
    """Check a sign-in; count failures and lock the account after too many.

    Raises :class:`AuthError` with the same message for an unknown account and a wrong
    password, so that the page does not tell which accounts exist.
    """
    user = find_user(sign_in)
    now = utcnow()
    if user is None:
        # Spend the time a real check takes, so the answer's speed does not tell either.
        check_password_hash(_dummy_hash(), password)
        audit.record("sign_in.failed", reason="unknown")
        raise AuthError(SIGN_IN_FAILED)
    if user.locked_until and user.locked_until > now:
        audit.record("sign_in.locked_out", subject=user.person_id)
        raise AuthError(LOCKED)
    if not user.check_password(password) or not user.is_active:
        user.failed_sign_ins += 1
        audit.record("sign_in.failed", subject=user.person_id, reason="password")
        if user.failed_sign_ins >= current_app.config["LOCK_AFTER_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOCK_MINUTES"])
            user.failed_sign_ins = 0
            audit.record("account.locked", subject=user.person_id)
        raise AuthError(SIGN_IN_FAILED)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    audit.record("sign_in", actor=user.person_id)
    return user


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
    now = utcnow()
    # A new invitation replaces any open one: a lost card or an old email stops working.
    db.session.execute(update(Invitation).where(
        Invitation.user_id == user.id, Invitation.accepted_at.is_(None),
        Invitation.expires_at > now).values(expires_at=now))
    code = new_code()
    days = current_app.config["INVITATION_MAX_AGE_DAYS"]
    invitation = Invitation(user=user, code_hash=_code_hash(code), created_by_id=by.id,
                            expires_at=now + timedelta(days=days))
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.created", actor=by, subject=person, obj=invitation)
    return invitation, code


def invitation_token(invitation: Invitation, code: str) -> str:
    """The signed token for an invitation link."""
    return _serializer("invitation").dumps({"i": invitation.id, "c": code})


def invitation_from_token(token: str) -> tuple[Invitation, str]:
    """The invitation and code a link carries, or :class:`AuthError` if it is not valid."""
    max_age = current_app.config["INVITATION_MAX_AGE_DAYS"] * 86400
    try:
        data = _serializer("invitation").loads(token, max_age=max_age)
    except SignatureExpired:
        raise AuthError("This invitation has expired. Ask for a new one.") from None
    except BadSignature:
        raise AuthError("This invitation link is not valid. Check it was copied in full.") from None
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


def accept_invitation(invitation: Invitation, password: str) -> User:
    """Set the password on the invited account and close the invitation."""
    check_open(invitation)
    if len(password) < 8:
        raise AuthError("Choose a password of at least 8 characters.")
    user = invitation.user
    user.set_password(password)
    user.failed_sign_ins, user.locked_until = 0, None
    invitation.accepted_at = utcnow()
    audit.record("invitation.accepted", actor=user.person_id, obj=invitation)
    return user


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
    return _serializer("reset").dumps({"u": user.id, "f": _fingerprint(user)})


def user_from_reset_token(token: str) -> User:
    """The account a reset link is for, or :class:`AuthError`."""
    max_age = current_app.config["RESET_MAX_AGE_HOURS"] * 3600
    try:
        data = _serializer("reset").loads(token, max_age=max_age)
    except SignatureExpired:
        raise AuthError("This reset link has expired. Ask for a new one.") from None
    except BadSignature:
        raise AuthError("This reset link is not valid. Check it was copied in full.") from None
    user = db.session.get(User, data["u"])
    if user is None or _fingerprint(user) != data["f"]:
        raise AuthError("This reset link has already been used. Ask for a new one.")
    return user


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash: it changes whenever the password does.

    Kept in the session at sign-in, so a new password signs out every other browser.
    """
    return _fingerprint(user)


def reset_password(user: User, password: str) -> None:
    """Change the password from a reset link and unlock the account."""
    if len(password) < 8:
        raise AuthError("Choose a password of at least 8 characters.")
    user.set_password(password)
    user.failed_sign_ins, user.locked_until = 0, None
    audit.record("password.reset", actor=user.person_id)


def save_display_settings(user: User, *, text_size: str, high_contrast: bool) -> None:
    """Remember a person's text size and contrast."""
    if text_size not in {"normal", "large", "larger"}:
        raise AuthError("Choose a text size from the list.")
    user.text_size, user.high_contrast = text_size, high_contrast

