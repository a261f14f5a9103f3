"""Recruitment: see views.py for the pages and services.py for every state change."""

from flask import Blueprint

bp = Blueprint("recruitment", __name__, url_prefix="/recruitment")

NAV: list = []

from involve.recruitment import views  # noqa: E402,F401
