"""Rendered pages kept for a minute, and the data version that says when one is stale.

Every organisation has a *data version* (``organisation.data_version``), raised in the same
transaction as any write to one of its rows: what the ORM flushes, and bulk UPDATE, DELETE
and INSERT statements run through the session, by a page, a command or a background task
alike (:func:`_versions_follow_writes`). The writes are noted as they happen and the versions
raised as the transaction commits, so PostgreSQL holds the organisation's row only for the
commit, not for a long import. A write whose organisation cannot be told raises every
organisation's version. Rows no page shows are left out (:data:`UNVERSIONED`). Writes in
plain SQL text are not seen: write through the ORM.

A page kept here is served again only to the very same request: the same signed session
cookie (so the same account, server session, chosen service and CSRF token), the same
address, browser and client address (what Flask-Login's session protection reads), and only
while the versions of the organisations it read are unchanged, for at most
``PAGE_CACHE_SECONDS`` (pages say "today" and "in 2 hours", never seconds). A WSGI middleware
(:class:`KeptPages`) answers before Flask runs: one statement checks the server session
(ended, idle or too old, or due its once-a-minute stamp: the usual path handles it) and reads
the versions. A page is kept only by a view that read the versions *before* it rendered, so
a write committed while it rendered is never hidden: the first view notes which
organisations' rows the page reads, the next is kept, the ones after are served. Pages that
show or change something in the session (flashed messages, a new CSRF token), set cookies, or
answer anything but 200 HTML are never kept. Anonymous pages are kept only when they read
some organisation's rows (the public archive). Each process keeps its own pages in memory,
under a hash of the cookie: nothing is shared between processes, sessions or organisations.

The permission checks stay where they are: a kept page was made by the view, after its
``requires`` check, for this session and this organisation's data as it still is, so the
check would answer the same. Rate limits apply to POSTs only, which are never kept.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_login.config import COOKIE_NAME
from itsdangerous import BadSignature
from sqlalchemy import Engine, Select, bindparam, create_engine, event, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from werkzeug.http import parse_cookie
from werkzeug.middleware.proxy_fix import ProxyFix

from involve.extensions import db, utcnow
from involve.permissions import current_actor

# Rows no page shows: a server session's idle stamp is written once a minute, and its end is
# checked on every request anyway; the scheduler's claims of due times.
UNVERSIONED = frozenset({"user_session", "scheduled_run"})
ALL = "all"  # a write whose organisations cannot be told: every organisation's version
_PENDING = "page_cache_pending"  # session.info: organisations written, not yet raised
_NEW = "page_cache_new"  # session.info: rows the flush under way inserts
_STATE = "involve.page_cache"  # the WSGI environ: what a view's page may be kept under
_MAX_BODY = 512 * 1024  # a larger page is not kept
_MAX_BYTES = 64 * 1024 * 1024  # the pages one process keeps, at most
_FEW_ROWS = 50


# --- the data version ------------------------------------------------------------------------

def _organisation_of(obj: Any) -> int | None | str:
    if obj.__table__.name in UNVERSIONED:
        return None
    try:
        return obj.organisation_id  # a column, or a property through the object's parents
    except Exception:  # noqa: BLE001 - a parent not yet set: say every organisation
        return ALL


def _note(session: Session, organisations: Any) -> None:
    pending = session.info.setdefault(_PENDING, set())
    pending.update(org for org in organisations if org is not None)


def _raise_versions(session: Session) -> None:
    """Raise the version of every organisation written in the transaction (as it commits)."""
    session.flush()  # what is still to be written is noted now
    pending = session.info.pop(_PENDING, set())
    if not pending:
        return
    from involve.people.models import Organisation

    statement = update(Organisation)
    if ALL not in pending:  # in one order, so that two commits never wait on each other
        statement = statement.where(Organisation.id.in_(sorted(pending)))
    session.connection().execute(statement.values(data_version=Organisation.data_version + 1))


def _before_flush(session: Session, context: UOWTransaction, instances: Any) -> None:
    # Deleted and changed rows still reach their parents now; new ones only once written.
    _note(session, (_organisation_of(obj) for obj in session.deleted))
    _note(session, (_organisation_of(obj) for obj in session.dirty
                    if session.is_modified(obj)))
    session.info.setdefault(_NEW, []).extend(session.new)


def _after_flush_postexec(session: Session, context: UOWTransaction) -> None:
    _note(session, (_organisation_of(obj) for obj in session.info.pop(_NEW, ())))


def _bulk_write(state: ORMExecuteState) -> None:
    """Bulk UPDATE, DELETE and INSERT through the session raise their organisations too."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    statement = state.statement
    table = statement.table
    if table.name in UNVERSIONED:
        return
    session = state.session
    if state.is_insert:
        rows = state.parameters if isinstance(state.parameters, list) else [
            state.parameters or {}]
        if "organisation_id" in table.c and rows and all("organisation_id" in r for r in rows):
            _note(session, {row["organisation_id"] for row in rows})
        else:
            _note(session, {ALL})
    else:
        where = statement.whereclause
        # The rows as the statement sees them, a running import's too (people/models.py).
        every = {"include_pending_imports": True}
        if "organisation_id" in table.c:
            query = select(table.c.organisation_id).distinct().execution_options(**every)
            organisations = set(session.scalars(query.where(where) if where is not None
                                                else query))
        elif state.bind_arguments.get("mapper") is not None:
            # Rows naming their organisation through a parent: asked of a few rows at most
            # (a person's sign-in attempts), every organisation for more (an import's last
            # step, which must hold SQLite's write lock only for a moment).
            query = (select(state.bind_arguments["mapper"].class_).execution_options(**every)
                     .limit(_FEW_ROWS + 1))
            rows = session.scalars(query.where(where) if where is not None else query).all()
            organisations = ({ALL} if len(rows) > _FEW_ROWS
                             else {_organisation_of(obj) for obj in rows})
        else:
            organisations = {ALL}
        _note(session, organisations)


def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # committed (and raised) or rolled back: start afresh
        session.info.pop(_PENDING, None)
        session.info.pop(_NEW, None)


def _versions_follow_writes() -> None:
    if event.contains(Session, "before_flush", _before_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "do_orm_execute", _bulk_write)
    event.listen(Session, "before_commit", _raise_versions)
    event.listen(Session, "after_transaction_end", _transaction_ended)
    event.listen(db.Model, "load", _seen, propagate=True)
    event.listen(db.Model, "refresh", _seen_again, propagate=True)


# --- what a page read --------------------------------------------------------------------------

def _seen(target: Any, context: Any) -> None:
    """Note the organisation of every row a page being kept loads."""
    if not has_request_context():
        return
    seen = g.get("page_cache_seen")
    if seen is None:
        return
    if target.__table__.name == "organisation":
        seen.add(target.__dict__.get("id"))
    elif "organisation_id" in target.__table__.c:
        seen.add(target.__dict__.get("organisation_id"))
    elif g.page_cache_parents is not None:
        g.page_cache_parents.append(target)


def _seen_again(target: Any, context: Any, attributes: Any) -> None:
    _seen(target, context)  # a row read again after a commit expired it


def _organisations_read() -> set[int] | None:
    """The organisations the page read rows of (None: one could not be told).

    Rows that name their organisation through a parent are followed up only for anonymous
    pages: a signed-in page reads no other organisation's rows but public ones, which name
    their organisation themselves (the organisation, its newsletter issues), and following
    every row's parents would cost a statement a row.
    """
    found = set(g.page_cache_seen)
    for obj in g.page_cache_parents or ():
        organisation = _organisation_of(obj)
        if organisation == ALL:
            return None
        found.add(organisation)
    found.discard(None)
    return found


# --- the kept pages ----------------------------------------------------------------------------

@dataclass
class Kept:
    """A page, the organisations it read besides the viewer's, and their versions then.

    ``body`` is None while only the organisations are known (the first view of an anonymous
    page): the next view reads their versions before it renders, and keeps the page.
    """

    organisations: tuple[int, ...]
    version: int | None
    at: float
    body: bytes | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


class Store:
    """The pages one process keeps: at most ``size`` of them and ``_MAX_BYTES`` of pages, the
    least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pages: OrderedDict[tuple, Kept] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()
        self.engine: Engine | None = None

    def database(self) -> Engine:
        """The app's database through a pool of its own, made in each process on first use.

        The check before a kept page needs no transaction and no ping (the app's pool pings
        every connection it lends: a round trip more on PostgreSQL); a connection gone stale
        fails the statement, and the usual path answers instead.
        """
        if self.engine is None:
            options = {**current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                       "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT"}
            self.engine = create_engine(db.engine.url, **options)
        return self.engine

    def get(self, key: tuple) -> Kept | None:
        with self.lock:
            kept = self.pages.get(key)
            if kept is not None:
                self.pages.move_to_end(key)
            return kept

    def put(self, key: tuple, kept: Kept) -> None:
        with self.lock:
            old = self.pages.pop(key, None)
            self.bytes += len(kept.body or b"") - len(old.body or b"" if old else b"")
            self.pages[key] = kept
            while len(self.pages) > self.size or self.bytes > _MAX_BYTES:
                _, dropped = self.pages.popitem(last=False)
                self.bytes -= len(dropped.body or b"")

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.bytes = 0


def store() -> Store:
    return current_app.extensions["page_cache"]


def _organisations(n: int) -> list:
    # One parameter each, not an expanding IN: a few organisations at most, and the statement
    # for each count is compiled once.
    return [bindparam(f"o{i}") for i in range(n)]


@functools.cache
def _session_check(n: int) -> Select:
    """One statement: the server session, its account's organisation, and the sum of the data
    versions of that organisation and ``n`` others."""
    from involve.people.models import Organisation, Person, User, UserSession

    which = Organisation.id == Person.organisation_id
    if n:
        which = or_(which, Organisation.id.in_(_organisations(n)))
    versions = (select(func.coalesce(func.sum(Organisation.data_version), 0)).where(which)
                .scalar_subquery())
    return (select(UserSession.user_id, UserSession.created_at, UserSession.last_seen_at,
                   versions)
            .join(User, User.id == UserSession.user_id).join(Person, Person.id == User.person_id)
            .where(UserSession.token_hash == bindparam("token")))


@functools.cache
def _versions(n: int) -> Select:
    """The sum of the data versions of ``n`` organisations."""
    from involve.people.models import Organisation

    return (select(func.coalesce(func.sum(Organisation.data_version), 0))
            .where(Organisation.id.in_(_organisations(n))))


def _key(environ: dict, cookie: str) -> tuple:
    """The address, the session cookie as signed (so the whole session), and what
    Flask-Login's session protection reads."""
    return (environ["wsgi.url_scheme"], environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME"),
            environ["PATH_INFO"], environ.get("QUERY_STRING"), environ.get("REMOTE_ADDR"),
            environ.get("HTTP_X_FORWARDED_FOR"), environ.get("HTTP_USER_AGENT"),
            hashlib.sha256(cookie.encode()).digest())  # not the credential itself


def _lookup(app: Flask, engine: Engine, environ: dict) -> Kept | None:
    """The kept page to answer with; or None, having noted in ``environ`` what to keep."""
    if environ["PATH_INFO"].startswith(app.static_url_path + "/"):
        return None
    cookies = parse_cookie(environ)
    cookie: dict[str, Any] = {}
    if raw := cookies.get(app.config["SESSION_COOKIE_NAME"], ""):
        try:
            cookie = app.session_interface.get_signing_serializer(app).loads(
                raw, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except BadSignature:
            return None
    if "_flashes" in cookie:
        return None
    from involve.auth.services import SESSION_KEY, session_expired, token_hash
    from involve.auth.views import TOUCH_EVERY

    token, user_id = cookie.get(SESSION_KEY), cookie.get("_user_id")
    if (token or user_id) and not (isinstance(token, str) and token and user_id):
        return None
    if not user_id and cookies.get(app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)):
        return None  # Flask-Login would sign in from the cookie
    key = _key(environ, raw)
    kept = store().get(key)
    if kept is None:  # a page seen once: the view says what it read, no statement more
        environ[_STATE] = (key, (), None)
        return None
    others = {f"o{i}": organisation for i, organisation in enumerate(kept.organisations)}
    with engine.connect() as connection:  # the ORM session's machinery costs more than this
        if token:
            row = connection.execute(_session_check(len(others)),
                                     {"token": token_hash(token), **others}).first()
        else:
            version = connection.execute(_versions(len(others)), others).scalar_one()
    if token:
        now = utcnow()
        if (row is None or str(row.user_id) != user_id or session_expired(row, now)
                or now - row.last_seen_at >= TOUCH_EVERY):
            return None  # the usual path signs out, or stamps the session as seen
        version = row[3]
    if (kept.body is not None and kept.version == version
            and kept.at >= time.monotonic() - app.config["PAGE_CACHE_SECONDS"]):
        return kept
    environ[_STATE] = (key, kept.organisations, version)
    return None


class KeptPages:
    """WSGI middleware: answers with a kept page before Flask itself is asked."""

    def __init__(self, wsgi_app: Callable, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if environ.get("REQUEST_METHOD") == "GET" and self.app.config["PAGE_CACHE_SECONDS"]:
            with self.app.app_context():
                try:
                    kept = _lookup(self.app, store().database(), environ)
                except DBAPIError:
                    kept = None  # a connection gone stale: the usual path answers
                except Exception:  # noqa: BLE001 - a shortcut must never take a page down
                    self.app.logger.exception("Kept pages: the check failed")
                    kept = None
            if kept is not None:
                start_response("200 OK", [*kept.headers,
                                          ("Content-Length", str(len(kept.body)))])
                return [kept.body]
        return self.wsgi_app(environ, start_response)


def _start_noting() -> None:
    """Before the view: start noting the organisations of the rows it reads."""
    g.pop("page_cache_seen", None)
    g.pop("page_cache_parents", None)
    if _STATE in request.environ:
        signed_in = current_actor().signed_in
        g.page_cache_parents = None if signed_in else []
        g.page_cache_seen = set()


def keep_page(response: Response) -> Response:
    """Keep a page the view just made, when it may be served again (after every request)."""
    state = request.environ.pop(_STATE, None)
    if state is None or "page_cache_seen" not in g:
        return response
    key, others, version = state
    if (response.status_code != 200 or response.mimetype != "text/html"
            or response.is_streamed or session.modified or "_flashes" in session
            or response.headers.getlist("Set-Cookie")):
        return response
    read = _organisations_read()
    if read is None:
        return response
    own = current_actor().organisation_id
    read.discard(own)
    if own is None and not read:
        return response  # an anonymous page that read no organisation's rows
    body = response.get_data()
    if len(body) > _MAX_BODY:
        return response
    if version is None or not read <= set(others):
        kept = Kept(tuple(sorted(read | set(others))), None, time.monotonic())
    else:
        response.vary.add("Cookie")  # as Flask adds it when it saves the session
        headers = [(name, value) for name, value in response.headers.items()
                   if name.lower() not in ("content-length", "set-cookie")]
        kept = Kept(others, version, time.monotonic(), body, headers)
    store().put(key, kept)
    return response


def init_app(app: Flask) -> None:
    """Version every write; serve kept pages ahead of Flask, and keep pages after each view."""
    _versions_follow_writes()
    app.extensions["page_cache"] = Store(app.config["PAGE_CACHE_ENTRIES"])
    # Inside ProxyFix when there is one, so the address it keeps pages under is the public one.
    inner = app.wsgi_app.app if isinstance(app.wsgi_app, ProxyFix) else app.wsgi_app
    wrapped = KeptPages(inner, app)
    if isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app.app = wrapped
    else:
        app.wsgi_app = wrapped  # type: ignore[method-assign]
    app.before_request(_start_noting)
    app.after_request(keep_page)
