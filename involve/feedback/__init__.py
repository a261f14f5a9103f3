"""Feedback: see views.py for the pages and services.py for every state change."""

from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

NAV: list = []

from involve.feedback import views  # noqa: E402,F401
