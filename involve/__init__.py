"""Involve: putting the people who use adult social care services at the heart of how they run."""

from __future__ import annotations

import importlib
import os
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, render_template, request
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from involve import config as config_module
from involve.extensions import configure_huey, csrf, db, limiter, login_manager, migrate
from involve.kernel import domains


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors and commands."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    app.config.update(config_module.DEFAULTS)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        f"sqlite:///{os.path.join(app.instance_path, 'involve.sqlite3')}")
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.from_environment(os.environ))
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret_key(app.instance_path)
    if app.config.get("TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..",
                                                     "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    configure_huey(app)
    importlib.import_module("involve.bad_input").init_app(app)  # before the routes exist

    # Kept pages are served before any domain's hook (the idle sign-out) loads the account.
    importlib.import_module("involve.page_cache").init_app(app)
    # Every domain package (one exposing DOMAIN) registers its parts; see involve/kernel.
    for domain in domains.discover():
        domains.register(app, domain)
    importlib.import_module("involve.audit")  # its model belongs to the metadata
    importlib.import_module("involve.health").init_app(app)
    importlib.import_module("involve.scheduling")  # so does the claim of each due time

    _register_template_helpers(app)
    _register_errors(app)
    _register_security_headers(app)
    from involve.cli import register_commands

    register_commands(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets readers and the writer work at once; foreign keys are off in SQLite by default.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL (no corruption; a power cut may lose the last commits, a crashed
        # process none), and it spares an fsync per commit: delivery commits per message.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def _register_template_helpers(app: Flask) -> None:
    from involve import permissions
    from involve.kernel import clock
    from involve.text import EDITOR_HINT, render_markdown

    # A UTC time in the organisation's time zone, in words people read easily; a date in words.
    app.jinja_env.filters["local"] = clock.format_local
    app.jinja_env.filters["day"] = lambda value: value.strftime(clock.DAY_FORMAT) if value else ""

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.add_extension("jinja2.ext.do")
    # A global, not only a context variable: imported macros (markdown_field) see no context.
    app.jinja_env.globals["editor_hint"] = EDITOR_HINT

    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask import g

        actor = permissions.current_actor()
        # Every render_template calls this (a home page renders one template per panel), and
        # some nav capabilities query: work the navigation out once per request.
        nav = g.get("nav_links")
        if nav is None or g.get("nav_actor") is not actor:
            nav = [link for link in domains.nav_links(app)
                   if permissions.can(link.capability, None, actor)]
            g.nav_links, g.nav_actor = nav, actor
        return {"can": permissions.can, "actor": actor, "nav_links": nav,
                "editor_hint": EDITOR_HINT}


def home_panels(actor: Any) -> list[Markup]:
    """The sections of a person's home page that each domain fills in.

    With a service chosen in the service switcher, every section shows that service only.
    """
    from flask import current_app

    from involve.people.queries import current_service_id

    chosen = current_service_id()
    if chosen is not None:
        actor = actor.narrowed_to(chosen)
    return [html for panel in domains.home_panels(current_app) if (html := panel(actor))]


def _register_errors(app: Flask) -> None:
    messages = {
        400: ("Something was wrong with that request", "Please go back and try again."),
        403: ("You cannot see this page", "Your role does not let you open this page. "
              "If you think you should, ask your manager."),
        404: ("We cannot find that page", "It may have moved, or the link may be wrong."),
        405: ("That did not work", "Please go back and try again."),
        413: ("That file is too large", "Please choose a smaller file."),
        429: ("Please wait a moment", "There have been too many tries. Wait a minute, then try "
              "again."),
        500: ("Something went wrong on our side", "We are sorry. Please try again in a few "
              "minutes. Nothing you entered has been saved twice."),
    }

    def handler(code: int) -> Callable[[Exception], tuple[str, int]]:
        def handle(error: Exception) -> tuple[str, int]:
            if code == 500:
                db.session.rollback()
            title, body = messages[code]
            return render_template("errors/error.html", code=code, title=title, body=body), code
        return handle

    for code in messages:
        app.register_error_handler(code, handler(code))

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template(
            "errors/error.html", code=400, title="This form had expired",
            body="For your safety, forms stop working after a while or in another window. "
                 "Please go back, reload the page and try again."), 400


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        _no_store(response)
        return response


def _no_store(response: Any) -> None:
    """Keep personal data out of browser and proxy caches (a shared tablet's back button).

    Every page for a signed-in person is ``no-store``; so is every other page unless it chose
    its own caching (a public newsletter picture). Static files keep theirs.
    """
    if request.endpoint == "static":
        return
    from flask import g

    user = g.get("_login_user")  # is_anonymous reads nothing from the database
    if user is not None and not user.is_anonymous:
        response.headers["Cache-Control"] = "no-store"
    else:
        response.headers.setdefault("Cache-Control", "no-store")
