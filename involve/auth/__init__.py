"""Auth: signing in and out, invitations, password reset and personal display settings."""

from flask import Blueprint

from involve.kernel.domains import Domain

bp = Blueprint("auth", __name__)

from involve.auth import views  # noqa: E402,F401

DOMAIN = Domain("auth", bp, order=20)
