"""Rendered pages kept for a few seconds, and the data version that says when one is stale.

Every organisation has a *data version* (``organisation.data_version``), raised in the same
transaction as any write to one of its rows: what the ORM flushes, and bulk UPDATE, DELETE
and INSERT statements run through the session, by a page, a command or a background task
alike (:func:`_versions_follow_writes`). The writes are noted as they happen and the versions
raised as the transaction commits, so PostgreSQL holds the organisation's row only for the
commit, not for a long import. A write whose organisation cannot be told raises every
organisation's version. Rows no page shows are left out (:data:`UNVERSIONED`).

A page kept here is served again only to the very same request: the same account and server
session (the whole signed cookie's content, so the chosen service and the CSRF token too), the
same address, and only while the versions of the organisations it read are unchanged and for
at most ``PAGE_CACHE_SECONDS`` (pages say "today" and "in 2 hours"). Before a kept page is
served, one statement checks the server session (ended, idle or too old: the usual path
handles it) and reads the versions; a page is kept only after one view read the versions
*before* rendering, so a write committed while it rendered is never hidden. Pages that show
or change something in the session (flashed messages, a new CSRF token), set cookies, or
answer anything but 200 HTML are never kept. Anonymous pages are kept only when they read
some organisation's rows (the public archive). Each process keeps its own pages in memory:
nothing is shared between processes, accounts or organisations.

The permission checks stay where they are: a kept page was made by the view, after its
``requires`` check, for this session and this organisation's data as it still is, so the
check would answer the same.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_login.config import COOKIE_NAME
from sqlalchemy import Select, bindparam, event, func, or_, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from involve.extensions import db, utcnow

# Rows no page shows: a server session's idle stamp is written once a minute, and its end is
# checked on every request anyway; the scheduler's claims of due times.
UNVERSIONED = frozenset({"user_session", "scheduled_run"})
ALL = "all"  # a write whose organisations cannot be told: every organisation's version
_PENDING = "page_cache_pending"  # session.info: organisations written, not yet raised
_NEW = "page_cache_new"  # session.info: rows the flush under way inserts
_MAX_BODY = 512 * 1024


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
        if "organisation_id" in table.c:
            query = select(table.c.organisation_id).distinct()
            organisations = set(session.scalars(query.where(where) if where is not None
                                                else query))
        elif state.bind_arguments.get("mapper") is not None:
            query = select(state.bind_arguments["mapper"].class_)
            organisations = {_organisation_of(obj) for obj in session.scalars(
                query.where(where) if where is not None else query)}
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
    content_type: str = ""


class Store:
    """The pages one process keeps: at most ``size``, the least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pages: OrderedDict[tuple, Kept] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Kept | None:
        with self.lock:
            kept = self.pages.get(key)
            if kept is not None:
                self.pages.move_to_end(key)
            return kept

    def put(self, key: tuple, kept: Kept) -> None:
        with self.lock:
            self.pages[key] = kept
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()


def store() -> Store:
    return current_app.extensions["page_cache"]


_ORGS = bindparam("organisations", expanding=True)


@functools.cache
def _session_check() -> Select:
    """One statement: the server session, its account's organisation, and the versions."""
    from involve.people.models import Organisation, Person, User, UserSession

    versions = (select(func.coalesce(func.sum(Organisation.data_version), 0))
                .where(or_(Organisation.id == Person.organisation_id, Organisation.id.in_(_ORGS)))
                .scalar_subquery())
    return (select(UserSession.user_id, UserSession.created_at, UserSession.last_seen_at,
                   Person.organisation_id, versions)
            .join(User, User.id == UserSession.user_id).join(Person, Person.id == User.person_id)
            .where(UserSession.token_hash == bindparam("token")))


@functools.cache
def _versions() -> Select:
    from involve.people.models import Organisation

    return (select(func.coalesce(func.sum(Organisation.data_version), 0))
            .where(Organisation.id.in_(_ORGS)))


def _key() -> tuple:
    cookie = repr(sorted(session.items())).encode()
    return (request.url, hashlib.sha256(cookie).digest())


def serve_kept_page() -> Response | None:
    """Answer with a kept page when nothing it shows can have changed (before every request)."""
    for name in ("page_cache", "page_cache_seen", "page_cache_parents"):
        g.pop(name, None)
    if (not current_app.config["PAGE_CACHE_SECONDS"] or request.method != "GET"
            or request.endpoint in (None, "static") or "_flashes" in session):
        return None
    from involve.auth.services import SESSION_KEY, session_expired, token_hash
    from involve.auth.views import TOUCH_EVERY

    token, user_id = session.get(SESSION_KEY), session.get("_user_id")
    if (token or user_id) and not (isinstance(token, str) and token and user_id):
        return None
    if not user_id and request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME",
                                                                  COOKIE_NAME)):
        return None
    manager = current_app.login_manager
    if (user_id and manager.session_protection in ("basic", "strong")
            and session.get("_id") != manager._session_identifier_generator()
            and (manager.session_protection == "strong" or session.get("_fresh") is not False)):
        return None  # Flask-Login's session protection acts on the usual path
    key = _key()
    kept = store().get(key)
    others = kept.organisations if kept else ()
    connection = db.session.connection()
    if token:
        row = connection.execute(_session_check(), {"token": token_hash(token),
                                                    "organisations": list(others)}).first()
        now = utcnow()
        if (row is None or str(row.user_id) != user_id or session_expired(row, now)
                or now - row.last_seen_at >= TOUCH_EVERY):
            return None  # the usual path signs out, or stamps the session as seen
        version, own = row[4], row.organisation_id
    elif kept is not None:
        version, own = connection.execute(_versions(), {"organisations": list(others)}
                                          ).scalar_one(), None
    else:
        version, own = None, None
    fresh = time.monotonic() - current_app.config["PAGE_CACHE_SECONDS"]
    if kept is not None and kept.body is not None and kept.version == version \
            and kept.at >= fresh:
        return Response(kept.body, content_type=kept.content_type)
    g.page_cache = (key, own, others, version)
    g.page_cache_seen = set()
    g.page_cache_parents = [] if own is None else None
    return None


def keep_page(response: Response) -> Response:
    """Keep a page the view just made, when it may be served again (after every request)."""
    state = g.pop("page_cache", None)
    if state is None:
        return response
    key, own, others, version = state
    if (response.status_code != 200 or response.mimetype != "text/html"
            or response.is_streamed or session.modified or "_flashes" in session
            or response.headers.getlist("Set-Cookie")):
        return response
    read = _organisations_read()
    if read is None:
        return response
    read.discard(own)
    if own is None and not read:
        return response  # an anonymous page that read no organisation's rows
    body = response.get_data()
    if len(body) > _MAX_BODY:
        return response
    if version is None or not read <= set(others):
        kept = Kept(tuple(sorted(read | set(others))), None, time.monotonic())
    else:
        kept = Kept(others, version, time.monotonic(), body, response.content_type or "")
    store().put(key, kept)
    return response


def init_app(app: Flask) -> None:
    """Version every write, and serve and keep pages (before the domains' own hooks run)."""
    _versions_follow_writes()
    app.extensions["page_cache"] = Store(app.config["PAGE_CACHE_ENTRIES"])
    app.before_request(serve_kept_page)
    app.after_request(keep_page)
