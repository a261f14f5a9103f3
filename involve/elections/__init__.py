"""Elections: see views.py for the pages and services.py for every state change."""

from flask import Blueprint

bp = Blueprint("elections", __name__, url_prefix="/elections")

NAV: list = []

from involve.elections import views  # noqa: E402,F401
