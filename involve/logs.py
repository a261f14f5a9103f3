"""Structured logs: one JSON object a line on stdout, for the web processes and the worker.

Gunicorn's access lines are built from its request atoms, with the path but never the query
string (invitation, reset and unsubscribe links may carry tokens there) and no referrer; the
bounce webhook's standing token is left out of its path.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# Gunicorn's access atoms kept in a line: remote address, method, path without the query
# string, status, response size and duration in milliseconds.
ACCESS_FIELDS = {"h": "remote", "m": "method", "U": "path", "s": "status", "B": "bytes",
                 "M": "duration_ms"}


# Paths whose last part is a standing secret: the bounce webhook's token never expires and
# stops an organisation's mail, so a log line keeps the path without it.
SECRET_PATHS = re.compile(r"^(/newsletters/bounces/webhook/)[^/]+")

# Requests whose time and address must not be kept: sending feedback, which may be an
# anonymous concern (a line at a moment, from an address, would place it among sign-ins).
UNLOGGED_POSTS = ("/feedback/give/",)


class LeaveOutPrivateRequests(logging.Filter):
    """Drop the access lines of requests that send feedback (see ``UNLOGGED_POSTS``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "gunicorn.access" or not isinstance(record.args, Mapping):
            return True
        path = str(record.args.get("U") or "")
        return not (record.args.get("m") == "POST" and path.startswith(UNLOGGED_POSTS))


class JSONFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            entry["message"] = "request"
            for atom, name in ACCESS_FIELDS.items():
                value = record.args.get(atom)
                if name == "path" and value is not None:
                    value = SECRET_PATHS.sub(r"\1…", str(value))
                if value not in (None, "-"):
                    entry[name] = int(value) if name != "path" and str(value).isdigit() \
                        else value
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping: everything as JSON lines on stdout."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout",
               "filters": ["private"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSONFormatter}},
        "filters": {"private": {"()": LeaveOutPrivateRequests}},
        "handlers": {"stdout": handler},
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            # Gunicorn's own loggers write through the root handler, once.
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": level, "handlers": [], "propagate": True},
        },
    }


def configure(level: str = "INFO") -> None:
    """Send every log record to stdout as JSON lines (the worker calls this)."""
    import logging.config

    logging.config.dictConfig(logging_config(level))
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
