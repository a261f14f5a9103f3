"""Signed links: one purpose each, a life, and plain answers to a bad or old token."""

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from involve.kernel.errors import DomainError
from involve.kernel.tokens import SignedLink


class LinkRefused(DomainError):
    pass


DAY = SignedLink("kernel.test", max_age=timedelta(days=1), invalid="Bad link.",
                 expired="Old link.", error=LinkRefused)


def test_a_token_reads_back_and_is_refused_for_another_purpose(app):
    token = DAY.make({"i": 1})
    assert DAY.read(token) == {"i": 1}
    with pytest.raises(LinkRefused, match="Bad link."):
        SignedLink("kernel.other", error=LinkRefused, invalid="Bad link.").read(token)
    with pytest.raises(LinkRefused, match="Bad link."):
        DAY.read(token[:-2] + "xx")


def test_an_old_token_says_it_is_old(app, monkeypatch):
    import itsdangerous.timed

    token = DAY.make([1, 2])
    later = itsdangerous.timed.time.time() + 86400 + 60
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    with pytest.raises(LinkRefused, match="Old link."):
        DAY.read(token)


def test_links_already_out_in_the_world_keep_working(app):
    key = app.config["SECRET_KEY"]
    old_status = URLSafeSerializer(key, salt="feedback-status").dumps("ABCD-2345")
    assert SignedLink("feedback-status", format="json").read(old_status) == "ABCD-2345"
    old_invite = URLSafeTimedSerializer(key, salt="invitation").dumps({"i": 3, "c": "X"})
    assert SignedLink("invitation", max_age=timedelta(days=7)).read(old_invite) == \
        {"i": 3, "c": "X"}
    plain = SignedLink("newsletters.image", format="plain")
    assert plain.read(plain.make(12)) == "12"
