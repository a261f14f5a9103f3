"""The organisation boundary as an outsider tries it: crawl every page one organisation's
people can reach, then ask for each address as the other organisation's people.

Each replayed address must answer "not found" (or "forbidden", or send the person elsewhere),
or, where the page is not about one object (a list, a form to start something), show nothing
of the first organisation: none of its names appear in the page.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import urlsplit

import pytest
from sqlalchemy import or_, select

from involve.extensions import db
from involve.people.demo import ELMFIELD_SIGN_INS, SIGN_INS
from involve.people.models import User
from tests.conftest import login
from tests.test_demo_pages import DOWNLOAD, normalise, sanity_problems, shape

LIMIT = 150
SAME_SHAPE = 4
# Words that only the demo's organisation shows: its name and its services' names.
MARKERS = {
    "elmfield": ("Elmfield", "Elm Lodge"),
    "brookfield": ("Brookfield", "Rose Court", "Willow House"),
}


def _person(sign_in: str):
    user = db.session.scalar(select(User).where(or_(User.email == sign_in,
                                                    User.username == sign_in)))
    return user.person


def _reachable(client) -> list[str]:
    """Every same-site address the signed-in person reaches from the home page (bounded)."""
    queue, seen, shapes, found = deque(["/"]), {"/"}, {}, []
    while queue and len(found) < LIMIT:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200:
            continue
        found.append(url)
        if DOWNLOAD.search(urlsplit(url).path) or "html" not in response.content_type:
            continue
        links, _ = sanity_problems(response.get_data(as_text=True), url)
        for href in links:
            target = normalise(href)
            if target is None or target in seen or "/sign-out" in target:
                continue
            seen.add(target)
            key = shape(target)
            if shapes.get(key, 0) >= SAME_SHAPE:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            queue.append(target)
    return found


def _leaks(client, urls: list[str], markers: tuple[str, ...]) -> list[str]:
    problems = []
    for url in urls:
        response = client.get(url)
        if response.status_code in (302, 303, 403, 404):
            continue
        if response.status_code != 200:
            problems.append(f"{response.status_code} {url}")
            continue
        text = response.get_data(as_text=True)
        shown = [m for m in markers if m in text]
        if shown:
            problems.append(f"{url} shows {shown}")
    return problems


@pytest.mark.parametrize(("owners", "visitors", "markers"), [
    (ELMFIELD_SIGN_INS, SIGN_INS, MARKERS["elmfield"]),
    (SIGN_INS, ELMFIELD_SIGN_INS, MARKERS["brookfield"]),
], ids=["elmfield-pages-as-brookfield", "brookfield-pages-as-elmfield"])
def test_no_page_of_one_organisation_reaches_the_other(app, demo, owners, visitors, markers):
    urls: set[str] = set()
    for sign_in, _ in owners:
        client = app.test_client()
        login(client, _person(sign_in))
        urls.update(_reachable(client))
    # Pages of the person's own (the home page, their display settings) are not the owners'.
    urls -= {"/", "/display"}
    assert len(urls) > 20, f"the crawl reached only {sorted(urls)}"
    problems = []
    for sign_in, _ in visitors:
        client = app.test_client()
        login(client, _person(sign_in))
        problems += [f"{sign_in}: {p}" for p in _leaks(client, sorted(urls), markers)]
    assert not problems, "\n".join(problems)
