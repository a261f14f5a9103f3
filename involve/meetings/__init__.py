"""Meetings: see views.py for the pages and services.py for every state change."""

from flask import Blueprint

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

NAV: list = []

from involve.meetings import views  # noqa: E402,F401
