"""Newsletters: see views.py for the pages and services.py for every state change."""

from flask import Blueprint

bp = Blueprint("newsletters", __name__, url_prefix="/newsletters")

NAV: list = []

from involve.newsletters import views  # noqa: E402,F401
