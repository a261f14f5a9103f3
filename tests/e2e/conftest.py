"""Browser journeys: a live Involve server, Debian's chromium through Playwright, and axe-core.

Fixtures and helpers other journeys build on (mark every e2e module with
``pytestmark = pytest.mark.e2e``):

- ``live_server``: a real server in a thread on a fresh SQLite file, CSRF on, mail kept in
  ``live_server.outbox``, tasks run at once, no rate limits. ``live_server.seed(fn)`` runs
  ``fn()`` in the app context, commits and returns its result (return plain values such as
  ids and emails, not ORM objects). The database is emptied after every test.
- ``page`` (1280x900) and ``tablet_page`` (820x1180, touch): Playwright pages whose
  ``goto`` accepts paths relative to the server (``page.goto("/sign-in")``).
- ``live_smtp``: a real SMTP server on loopback (aiosmtpd) that the live server sends its
  mail to for the test, instead of ``live_server.outbox``; ``live_smtp.messages`` as received.
- ``sign_in(page, sign_in_name, password=PASSWORD)`` and ``assert_accessible(page)``:
  importable with ``from tests.e2e.conftest import sign_in, assert_accessible``.

No browser is ever downloaded: chromium comes from Debian (``make browser``). Without it the
journeys are skipped, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from werkzeug.serving import make_server

from involve.extensions import db
from tests.conftest import _empty_database, make_test_app
from tests.factories import PASSWORD

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

T = TypeVar("T")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
    "--disable-dev-shm-usage",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SERVER_ERROR_PATH = "/_e2e/server-error"  # live server only: always answers 500
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# --- the live server ---------------------------------------------------------------------

class LiveServer:
    """A running Involve server and the app behind it."""

    def __init__(self, app: Any, url: str) -> None:
        self.app = app
        self.url = url

    def seed(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` inside the app context, commit, and return what it returned."""
        with self.app.app_context():
            try:
                result = fn()
                db.session.commit()
                return result
            finally:
                db.session.remove()

    @property
    def outbox(self) -> list:
        """The messages the server has sent (memory transport)."""
        return self.app.extensions.setdefault("mail_outbox", [])

    def reset(self) -> None:
        """Empty the database and the outbox, ready for the next journey."""
        with self.app.app_context():
            db.session.rollback()
            _empty_database()
            db.session.remove()
        self.outbox.clear()


@pytest.fixture(scope="session")
def _live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    app = make_test_app(f"sqlite:///{folder / 'live.sqlite3'}", str(folder / "instance"),
                        WTF_CSRF_ENABLED=True, MAIL_TRANSPORT="memory",
                        HUEY_BACKEND="immediate", RATELIMIT_ENABLED=False, TESTING=False)
    with app.app_context():
        db.create_all()
        db.session.remove()
    _add_failing_page(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="involve-live-server",
                              daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


def _add_failing_page(app: Any) -> None:
    # A page that fails, so that journeys can see the friendly 500 page in a real browser.
    from involve.permissions import public

    @public
    def server_error_for_tests() -> str:
        raise RuntimeError("a deliberate failure for the browser journeys")

    app.add_url_rule(SERVER_ERROR_PATH, "e2e_server_error", server_error_for_tests)


@pytest.fixture
def live_server(_live_server: LiveServer) -> Iterator[LiveServer]:
    """The live server, with an empty database when the test starts and after it ends."""
    yield _live_server
    _live_server.reset()


@pytest.fixture
def live_smtp(live_server: LiveServer) -> Iterator[Any]:
    """A real SMTP server on loopback that the live server's mail goes to for the test."""
    from tests.conftest import loopback_smtp

    with loopback_smtp(live_server.app) as sink:
        yield sink


# --- the browser -------------------------------------------------------------------------

def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        reason = ("chromium is not installed: run `make browser` (apt-get install chromium) "
                  "to run the browser journeys")
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; they are required under CI=true", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    # Remember each phase's outcome so page fixtures can take a screenshot on failure.
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


def _open_page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest,
               name: str, **options: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB",
                                  timezone_id="Europe/London", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    try:
        yield page
    finally:
        failed = any(getattr(getattr(request.node, f"_report_{when}", None), "failed", False)
                     for when in ("setup", "call"))
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                page.screenshot(path=str(ARTIFACTS / f"{stem}-{name}.png"), full_page=True)
            except Exception:  # the page may already be gone; the test's own error matters
                pass
        context.close()
    if csp_errors and not failed:
        pytest.fail("The Content-Security-Policy blocked something on the page:\n  "
                    + "\n  ".join(csp_errors), pytrace=False)


@pytest.fixture
def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A desktop-sized page (1280x900) on the live server."""
    yield from _open_page(browser, live_server, request, "page",
                          viewport={"width": 1280, "height": 900})


@pytest.fixture
def tablet_page(browser: Any, live_server: LiveServer,
                request: pytest.FixtureRequest) -> Iterator[Any]:
    """A shared-tablet page (820x1180, touch) on the live server."""
    yield from _open_page(browser, live_server, request, "tablet",
                          viewport={"width": 820, "height": 1180}, has_touch=True)


# --- helpers -----------------------------------------------------------------------------

def sign_in(page: Any, sign_in_name: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and check that it worked."""
    page.goto("/sign-in")
    page.get_by_label("Email or username").fill(sign_in_name)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    if page.url.rstrip("/").endswith("/sign-in") or page.locator(".flash-error").count():
        problems = page.locator(".flash-error, .error-message").all_inner_texts()
        raise AssertionError(f"Signing in as {sign_in_name!r} failed: {problems}")


_axe_source: str | None = None


def axe_source() -> str:
    """axe-core's script, bundled by the axe-playwright-python package."""
    global _axe_source
    if _axe_source is None:
        import axe_playwright_python

        path = Path(axe_playwright_python.__file__).with_name("axe.min.js")
        _axe_source = path.read_text(encoding="utf-8")
    return _axe_source


def assert_accessible(page: Any, *, exclude: list[str] | None = None) -> None:
    """Run axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) and fail on any violation.

    The script is evaluated through the DevTools protocol, which our CSP does not govern, so
    the page keeps its real policy.
    """
    from playwright.sync_api import Error as PlaywrightError

    context: Any = {"exclude": [[sel] for sel in exclude]} if exclude else "document"
    for attempt in range(3):
        # A click may still be navigating: wait for the page that is arriving, then check it.
        page.wait_for_load_state("load")
        try:
            if not page.evaluate("typeof window.axe !== 'undefined'"):
                page.evaluate(axe_source())
            results = page.evaluate(
                "([context, tags]) => axe.run(context === 'document' ? document : context, "
                "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                [context, WCAG_TAGS])
            break
        except PlaywrightError as error:
            if "context was destroyed" not in str(error) or attempt == 2:
                raise
    violations = results["violations"]
    if violations:
        lines = [f"{len(violations)} accessibility problem(s) on {page.url}:"]
        for v in violations:
            lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} — {v['helpUrl']}")
            for node in v["nodes"][:8]:
                target = " ".join(str(t) for t in node["target"])
                summary = (node.get("failureSummary") or "").replace("\n", " ")
                lines.append(f"    {target}: {summary[:300]}")
            if len(v["nodes"]) > 8:
                lines.append(f"    … and {len(v['nodes']) - 8} more")
        _screenshot(page, "axe")
        raise AssertionError("\n".join(lines))


def _screenshot(page: Any, label: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", page.url.split("://", 1)[-1])[-120:]
    try:
        page.screenshot(path=str(ARTIFACTS / f"{label}-{stem}.png"), full_page=True)
    except Exception:  # a screenshot is a help, never the failure itself
        pass

