"""Background work for accounts: telling owners their account was locked; tidying sign-ins."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask import current_app, has_request_context

from involve import mail
from involve.extensions import db, huey, with_app_context
from involve.kernel.clock import crontab
from involve.people.models import User
from involve.scheduling import periodic_task


def _request_context() -> AbstractContextManager:
    if has_request_context():
        return nullcontext()
    # In the worker there is no request; templates' context processors expect one.
    return current_app.test_request_context(base_url=current_app.config["BASE_URL"])


@huey.task()
@with_app_context
def tell_account_locked(user_id: int) -> bool:
    """Email the owner that too many wrong passwords locked their account for a while.

    Sent in the background, so the refused sign-in takes no longer than any other.
    """
    user = db.session.get(User, user_id)
    if user is None or not user.email:
        return False
    with _request_context():
        message = mail.render_message(
            "auth/mail/locked", to=user.email, subject="Someone tried to sign in to Involve",
            person=user.person, minutes=current_app.config["LOCK_MINUTES"],
            link=current_app.config["BASE_URL"].rstrip("/") + "/reset-password")
    mail.send(message)
    return True


@periodic_task(crontab(minute="23", hour="3"))
def forget_old_sign_ins() -> None:
    """Every night: remove ended sessions and sign-in attempts no rule needs any more."""
    from involve.auth import services

    services.forget_old_sign_ins()
    db.session.commit()
