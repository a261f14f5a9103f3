"""Configuration: defaults, then the environment, then the instance folder.

Precedence (later wins): the defaults below, ``instance/config.py`` when present,
environment variables (``INVOLVE_*`` and ``DATABASE_URL``), then the mapping passed
to :func:`involve.create_app` (tests use that).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ORGANISATION_TIMEZONE": "Europe/London",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "SIGN_IN_LIMIT": "10 per minute",
    "LOCK_AFTER_FAILURES": 5,
    "LOCK_MINUTES": 15,
    "ACCOUNT_SLOW_AFTER_FAILURES": 20,  # from all addresses in LOCK_MINUTES: slow down, never lock
    "ACCOUNT_SLOW_SECONDS": 30,
    "RESET_CARD_MAX_AGE_HOURS": 48,
    "INVITATION_MAX_AGE_DAYS": 14,
    "RESET_MAX_AGE_HOURS": 2,
    "MAIL_TRANSPORT": None,  # "smtp", "file" or "memory"; None chooses smtp when MAIL_SERVER is set
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_TIMEOUT": 30,
    "MAIL_FROM": "Involve <involve@localhost>",
    "BASE_URL": "http://127.0.0.1:5000",
    "HUEY_BACKEND": "sqlite",  # sqlite, postgres, redis or immediate
    "HUEY_URL": None,
    "PHOTO_MAX_PIXELS": 1024,
    "UPLOAD_MAX_BYTES": 8 * 1024 * 1024,
    "PER_PAGE": 25,
    "IDLE_SIGN_OUT_MINUTES": 30,  # shared tablets: sign out a session left unused; 0 = never
    "TRUST_PROXY": False,
    # Rendered pages kept per process (involve/page_cache.py): for at most this many seconds
    # (0: never kept; pages say "in 2 hours" and "3 days late", never seconds), and at most
    # this many pages.
    "PAGE_CACHE_SECONDS": 60,
    "PAGE_CACHE_ENTRIES": 2000,
    "RECRUITMENT_RETENTION_DAYS": 180,
    "COMPLAINT_ACKNOWLEDGE_DAYS": 3,
    "COMPLAINT_ANSWER_DAYS": 20,
    # Whose bank holidays the complaints clock skips: england, wales, scotland,
    # northern-ireland, or none.
    "BANK_HOLIDAYS": "england",
    "NEWSLETTER_SUBSCRIBE_LIMIT": "5 per minute",
    # Newsletter delivery (involve/newsletters/delivery.py): rows claimed at a time, how long
    # a claim lives without a sign of life, the first wait of a send held up by its server,
    # and how long a hold-up lasts before the author is emailed about it.
    "NEWSLETTER_BATCH_SIZE": 500,
    "NEWSLETTER_CLAIM_LEASE_SECONDS": 40,
    "NEWSLETTER_OUTAGE_RETRY_SECONDS": 5,
    "NEWSLETTER_HOLD_UP_NOTICE_SECONDS": 300,
    # Bounces: the domain of the return path (bounces+<token>@domain; empty: MAIL_FROM's
    # address), and the mailbox that receives them, read every five minutes
    # (pop3://, pop3s://, imap:// or imaps://user:password@host:port; empty: not read).
    "NEWSLETTER_BOUNCE_DOMAIN": "",
    "NEWSLETTER_BOUNCE_MAILBOX": "",
    # Requests to the bounce webhook from one address (a provider sends up to 1,000 bounces
    # in each): a flood of guessed tokens is held back like the other public forms.
    "BOUNCE_WEBHOOK_LIMIT": "60 per minute",
}

# Environment variables read as INVOLVE_<NAME>; values are parsed by the default's type.
_ENV_NAMES = [
    "SECRET_KEY", "BASE_URL", "MAIL_TRANSPORT", "MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME",
    "MAIL_PASSWORD", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_FROM", "HUEY_BACKEND", "HUEY_URL",
    "RATELIMIT_STORAGE_URI", "SESSION_COOKIE_SECURE", "ORGANISATION_TIMEZONE",
    "LOCK_AFTER_FAILURES", "LOCK_MINUTES", "SIGN_IN_LIMIT", "TRUST_PROXY",
    "RECRUITMENT_RETENTION_DAYS", "COMPLAINT_ACKNOWLEDGE_DAYS", "COMPLAINT_ANSWER_DAYS",
    "BANK_HOLIDAYS", "NEWSLETTER_SUBSCRIBE_LIMIT", "PHOTO_MAX_PIXELS",
    "IDLE_SIGN_OUT_MINUTES", "ACCOUNT_SLOW_AFTER_FAILURES", "ACCOUNT_SLOW_SECONDS",
    "RESET_CARD_MAX_AGE_HOURS", "PAGE_CACHE_SECONDS", "PAGE_CACHE_ENTRIES",
    "MAIL_TIMEOUT", "NEWSLETTER_BATCH_SIZE", "NEWSLETTER_CLAIM_LEASE_SECONDS",
    "NEWSLETTER_OUTAGE_RETRY_SECONDS", "NEWSLETTER_HOLD_UP_NOTICE_SECONDS",
    "NEWSLETTER_BOUNCE_DOMAIN", "NEWSLETTER_BOUNCE_MAILBOX", "BOUNCE_WEBHOOK_LIMIT",
]


def _parse(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)
    return value


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Read ``INVOLVE_*`` settings and ``DATABASE_URL`` from the environment."""
    found: dict[str, Any] = {}
    for name in _ENV_NAMES:
        raw = environ.get(f"INVOLVE_{name}")
        if raw is not None:
            found[name] = _parse(raw, DEFAULTS.get(name))
    if environ.get("DATABASE_URL"):
        found["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    return found


def normalise_database_url(url: str) -> str:
    """Make ``postgres://`` and ``postgresql://`` URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def instance_secret_key(instance_path: str) -> str:
    """Return the secret key kept in the instance folder, making it on first run.

    The key never lives in the repository: it is written once, readable by the owner only.
    Several processes may start at once (gunicorn workers, the task worker): each writes a
    whole key to a private temporary file and links it into place, which succeeds for exactly
    one of them; the others read the winner's key. No process ever reads a half-written file.
    """
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp makes it mode 0600
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic, and fails if another process got there first
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return path.read_text().strip()
