"""Every page works with the demo data: a crawl for each demo sign-in and for visitors.

Signed in as each demo person, the crawl starts at the home page and follows every same-site
link, breadth first. No page may fail (500), and no link shown to someone may lead them to a
page they cannot open (403) or that is missing (404). Each HTML page also gets a quick sanity
check: one <h1>, a <title>, alt text on every picture, a CSRF field in every POST form.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from sqlalchemy import or_, select
from werkzeug.exceptions import HTTPException

from involve.elections.models import Election
from involve.extensions import csrf, db
from involve.people.demo import SIGN_INS
from involve.people.models import Service, User
from tests.conftest import login

PAGE_LIMIT = 250
# Pages with the same shape (numbers and slugs aside) mostly share a template; a few of each
# are enough, and keep the budget for pages of other kinds.
SAME_SHAPE_LIMIT = 8
DOWNLOAD = re.compile(r"(\.ics|\.csv|\.atom|\.pdf|/feed(\.\w+)?)$")
SKIP = re.compile(r"^/static/|sign-out")
SITE = "http://localhost"  # the test app's BASE_URL: links in full to it are same-site too


class _Page(HTMLParser):
    """The links of a page and what the sanity check needs to know about it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.h1 = 0
        self.title = ""
        self.in_title = False
        self.in_body = False  # an inline SVG's <title> is not the page's
        self.images_without_alt: list[str] = []
        self.images: list[str] = []
        self.forms: list[dict] = []  # each: action, method, has_csrf, fields
        self.open_forms: list[dict] = []
        self.select: str | None = None  # the name of the <select> being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "body":
            self.in_body = True
        elif tag == "title" and not self.in_body:
            self.in_title = True
        elif tag == "img":
            self.images.append(a.get("src") or "")
            if "alt" not in a:
                self.images_without_alt.append(a.get("src") or "?")
        elif tag == "form":
            form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                    "has_csrf": False, "fields": []}
            self.forms.append(form)
            self.open_forms.append(form)
        elif tag == "input" and a.get("name") == "csrf_token":
            for form in self.open_forms:
                form["has_csrf"] = True
        elif tag == "input" and a.get("name") and self.open_forms:
            kind = (a.get("type") or "text").lower()
            value = a.get("value") or ""
            if kind in ("text", "search") and not value:
                value = "a"  # a search word, so searches run too
            if kind not in ("checkbox", "radio", "submit", "button") or "checked" in a:
                self.open_forms[-1]["fields"].append((a["name"], value))
        elif tag == "select" and self.open_forms:
            self.select = a.get("name")
        elif tag == "option" and self.select and ("selected" in a or not any(
                name == self.select for name, _ in self.open_forms[-1]["fields"])):
            fields = self.open_forms[-1]["fields"]
            fields[:] = [(n, v) for n, v in fields if n != self.select]
            fields.append((self.select, a.get("value") or ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "form" and self.open_forms:
            self.open_forms.pop()
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data


def sanity_problems(html: str, url: str, csrf_exempt: Callable[[str], bool] = lambda path: False,
                    ) -> tuple[list[str], list[str]]:
    """The page's links, pictures and search forms to follow, and what is wrong with its HTML."""
    page = _Page()
    page.feed(html)
    page.close()
    links = page.links + page.images
    for form in page.forms:
        if form["method"] == "get":
            action = form["action"] or urlsplit(url).path
            links.append(f"{action}?{urlencode(form['fields'])}" if form["fields"] else action)
    problems = []
    if page.h1 != 1:
        problems.append(f"{page.h1} <h1> elements (want exactly one)")
    if not page.title.strip():
        problems.append("no <title>")
    for src in page.images_without_alt:
        problems.append(f"<img src={src!r}> has no alt")
    for form in page.forms:
        action = form["action"] or urlsplit(url).path
        if form["method"] == "post" and not form["has_csrf"] and not csrf_exempt(action):
            problems.append(f"POST form to {form['action']!r} has no csrf_token field")
    return links, problems


def normalise(href: str) -> str | None:
    """A same-site path (with its query) to visit, or None for links the crawl leaves alone."""
    if href.startswith(SITE):
        href = href[len(SITE):] or "/"
    if not href.startswith("/") or href.startswith("//"):
        return None  # links in Involve are made with url_for: an absolute path, or another site
    parts = urlsplit(href)
    if SKIP.search(parts.path):
        return None
    # Every page links to the display settings with itself as ``next``: one visit is enough.
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if k != "next"))
    return parts.path + (f"?{query}" if query else "")


def csrf_exempt(app: Flask, path: str) -> bool:
    """Does the view at ``path`` take POSTs without a CSRF token on purpose (``csrf.exempt``)?

    One-click unsubscribe is: mail programs post to it (RFC 8058) and cannot send a token.
    """
    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(path).path, method="POST")
    except HTTPException:
        return False
    view = app.view_functions[endpoint]
    return f"{view.__module__}.{view.__name__}" in csrf._exempt_views


def shape(url: str) -> str:
    """The URL with its numbers and tokens blurred, so pages of one kind count together."""
    parts = urlsplit(url)
    path = re.sub(r"/[^/]*\d[^/]*", "/N", parts.path)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


@dataclass
class Crawl:
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    html_problems: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


def crawl(client, starts: list[str], *, signed_in: bool, limit: int = PAGE_LIMIT) -> Crawl:
    """Visit ``starts`` and every same-site link from them, breadth first."""
    result = Crawl()
    queue: deque[tuple[str, str | None]] = deque((url, None) for url in starts)
    seen: set[str] = set(starts)
    shapes: Counter = Counter()
    while queue and result.pages < limit:
        url, referrer = queue.popleft()
        response = client.get(url)
        result.pages += 1
        result.statuses[response.status_code] += 1
        where = f"{url} (linked from {referrer})" if referrer else url
        status = response.status_code
        found: list[str] = []
        if status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location", "")
            location = urlsplit(location)._replace(scheme="", netloc="").geturl()
            # Signed in, nothing should send you to sign in; a visitor may only be sent there
            # by a start page, never by a link the site showed them.
            if location.startswith("/sign-in") and (signed_in or referrer):
                result.problems.append(f"redirected to sign-in: {where}")
            found = [location]
        elif status != 200:  # 500s, and 403 or 404 behind a link shown to this person
            result.problems.append(f"{status} {where}")
            continue
        elif DOWNLOAD.search(urlsplit(url).path) or "html" not in response.content_type:
            continue  # a download: answering 200 is enough
        else:
            found, html_problems = sanity_problems(response.get_data(as_text=True), url,
                                                   partial(csrf_exempt, client.application))
            result.html_problems.extend(f"{url}: {p}" for p in html_problems)
        for href in found:
            target = normalise(href)
            if target is None or target in seen:
                continue
            seen.add(target)
            if shapes[shape(target)] >= SAME_SHAPE_LIMIT:
                continue
            shapes[shape(target)] += 1
            queue.append((target, url))
    return result


def _report(who: str, result: Crawl) -> str:
    lines = [f"{who}: {result.pages} pages, statuses {dict(result.statuses)}"]
    lines += [f"  {p}" for p in result.problems]
    lines += [f"  HTML: {p}" for p in result.html_problems]
    return "\n".join(lines)


@pytest.mark.parametrize("sign_in", [s for s, _ in SIGN_INS])
def test_every_page_works_for_each_demo_sign_in(app, demo, sign_in):
    # In the demo, ``ada`` is also the elected Rose Court ambassador: her crawl covers theirs.
    user = db.session.scalar(select(User).where(or_(User.email == sign_in,
                                                    User.username == sign_in)))
    client = app.test_client()
    login(client, user.person)
    result = crawl(client, ["/"], signed_in=True)
    print(_report(sign_in, result))
    assert result.pages > 1, f"{sign_in}: the crawl found no links on the home page"
    assert not result.problems and not result.html_problems, _report(sign_in, result)


def test_every_public_page_works_for_visitors(app, demo):
    services = db.session.scalars(select(Service).order_by(Service.id)).all()
    starts = ["/sign-in", "/display", "/feedback/give", "/feedback/status", "/invitation",
              "/invitation/set-password", "/reset-password",
              f"/newsletters/organisations/{demo.id}"]
    starts += [f"/newsletters/services/{s.slug}" for s in services]
    starts += [f"/feedback/give/{s.slug}" for s in services]
    # Voting with a code from a card: open to anyone holding one.
    starts += [f"/elections/{e.id}/code" for e in db.session.scalars(select(Election))]
    result = crawl(app.test_client(), starts, signed_in=False)
    print(_report("visitor", result))
    assert not result.problems and not result.html_problems, _report("visitor", result)


def test_the_sanity_check_sees_what_it_should():
    """The checker itself: a page breaking each rule is caught; links and searches are found."""
    bad = ('<html><head><title> </title></head><body><svg><title>Icon</title></svg>'
           '<h1>One</h1><h1>Two</h1><img src="/x.jpg">'
           '<form method="post" action="/people/1/edit"><button>Save</button></form>'
           '<form method="get" action="/people"><input type="search" name="q">'
           '<select name="role"><option value="">Any</option><option value="staff" selected>'
           'Staff</option></select></form><a href="/meetings/">Meetings</a></body></html>')
    links, problems = sanity_problems(bad, "/")
    assert problems == ["2 <h1> elements (want exactly one)", "no <title>",
                        "<img src='/x.jpg'> has no alt",
                        "POST form to '/people/1/edit' has no csrf_token field"]
    assert links == ["/meetings/", "/x.jpg", "/people?q=a&role=staff"]
    good = ('<html><head><title>Home</title></head><body><h1>Home</h1><img src="/x" alt="">'
            '<form method="post"><input type="hidden" name="csrf_token" value="t"></form>'
            '</body></html>')
    assert sanity_problems(good, "/") == (["/x"], [])
    assert normalise("/display?next=%2Fpeople") == "/display"
    assert normalise("http://localhost/people?b=2&a=1") == "/people?a=1&b=2"
    assert normalise("https://example.org/") is None and normalise("/static/x.css") is None
