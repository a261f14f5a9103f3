"""Pages stay within a bounded number of SQL statements however much feedback there is."""

from __future__ import annotations

import pytest

from involve.extensions import db
from tests.conftest import count_queries, login
from tests.feedback.helpers import make_feedback, make_submission


def _statements(client, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


@pytest.mark.parametrize("url, who", [
    ("/feedback/board", "board"), ("/feedback/ambassador", "manager"),
    ("/feedback/submissions", "manager"), ("/feedback/complaints/summary", "manager"),
    ("/", "manager"),
])
def test_statements_do_not_grow_with_the_rows(app, world, client, url, who):
    login(client, world.people[who])
    make_feedback(world, safeguarding=True)
    make_submission(world, days_ago=9)
    db.session.commit()
    few = _statements(client, url)
    for n in range(8):
        make_feedback(world, theme_name=["Food", "Care", "Safety"][n % 3], safeguarding=True)
        make_submission(world, kind=["complaint", "concern"][n % 2], days_ago=n)
    db.session.commit()
    assert _statements(client, url) <= few + 1

