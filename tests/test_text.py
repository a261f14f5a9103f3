"""Markdown: pictures uploaded to Involve only, no tag that hides the words after it, and a
picture never without its description. Refused at the form, and dropped when rendered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from involve.elections.forms import CandidateForm, ElectionForm
from involve.extensions import db
from involve.feedback.forms import (
    AmbassadorFeedbackForm,
    AnswerForm,
    AnswerSubmissionForm,
    BriefingForm,
    CommentForm,
    GiveFeedbackForm,
    SaidBackForm,
)
from involve.feedback.models import Submission
from involve.meetings.forms import (
    AcceptForm,
    AddItemForm,
    MinutesForm,
    RewordForm,
    SuggestForm,
)
from involve.newsletters.forms import IssueForm, NewIssueForm
from involve.newsletters.models import Issue
from involve.people.forms import own_pictures_only
from involve.recruitment.forms import VacancyForm
from involve.text import (
    SWALLOWING_TAGS,
    is_own_picture,
    outside_pictures,
    render_markdown,
)
from tests.conftest import login
from tests.newsletters.helpers import make_issue

REMOTE = [
    "![A cat](https://evil.example/pixel.png)",
    "![A cat](http://evil.example/pixel.png)",
    "![A cat](//evil.example/pixel.png)",
    '<img src="https://evil.example/pixel.png" alt="A cat">',
    "<IMG SRC=//evil.example/pixel.png alt=x>",
    "![A cat][pic]\n\n[pic]: https://evil.example/pixel.png",
    "![A cat](//localhost/newsletters/images/1.jpg)",
    "![A cat](https://evil.example/newsletters/images/1.jpg)",
]

# Every field beside a Markdown editor (those the templates render with |markdown).
MARKDOWN_FIELDS = [
    (IssueForm, "body"), (NewIssueForm, "body"), (ElectionForm, "description"),
    (CandidateForm, "statement"), (MinutesForm, "easy_read_summary"),
    (VacancyForm, "description"), (AmbassadorFeedbackForm, "what_was_said"),
    (SaidBackForm, "what_was_said"), (CommentForm, "body"), (AnswerForm, "answer"),
    (BriefingForm, "body"), (GiveFeedbackForm, "body"), (AnswerSubmissionForm, "answer"),
    # Agenda item words, shown as Markdown with their lines kept.
    (SuggestForm, "description"), (AcceptForm, "description"), (AddItemForm, "description"),
    (RewordForm, "description"),
]


@pytest.mark.parametrize(("form", "name"), MARKDOWN_FIELDS,
                         ids=[f"{f.__name__}.{n}" for f, n in MARKDOWN_FIELDS])
def test_every_markdown_field_refuses_pictures_from_elsewhere(form, name):
    assert own_pictures_only in getattr(form, name).kwargs["validators"]


@pytest.mark.parametrize("source", REMOTE)
def test_pictures_from_elsewhere_are_dropped_when_rendered(app, source):
    html = str(render_markdown(f"Before\n\n{source}\n\nAfter"))
    assert "<img" not in html and "evil" not in html and "localhost" not in html
    assert "Before" in html and "After" in html
    assert outside_pictures(source)


def test_pictures_uploaded_to_involve_stay(app):
    html = str(render_markdown("![The garden](/newsletters/images/12.jpg)"))
    assert '<img alt="The garden" src="/newsletters/images/12.jpg">' in html
    # In an email and a feed the same pictures are written in full, at the site's address.
    assert is_own_picture("http://localhost/newsletters/images/12.jpg")
    assert is_own_picture("http://localhost/newsletters/mail-images/eyJp.Zx-1_a.jpg")
    assert not is_own_picture("http://localhost.evil.example/newsletters/images/12.jpg")
    assert not is_own_picture("/newsletters/images/12.jpg?track=1")
    assert not is_own_picture("/static/../newsletters/images/12.jpg")
    assert outside_pictures("![The garden](/newsletters/images/12.jpg)") == []


def test_a_raw_picture_never_shows_without_alt_text(app):
    for source in ('<img src="/newsletters/images/3.jpg">',
                   '<img src="/newsletters/images/3.jpg" alt="  ">',
                   "![](/newsletters/images/3.jpg)"):
        html = str(render_markdown(f"Look {source} here"))
        assert "<img" not in html and "Look" in html and "here" in html
    html = str(render_markdown('<img src="/newsletters/images/3.jpg" alt="Our bench">'))
    assert 'alt="Our bench"' in html


@pytest.mark.parametrize("tag", SWALLOWING_TAGS)
@pytest.mark.parametrize("place", ["block", "inline", "upper"])
def test_an_unclosed_tag_never_swallows_the_words_after_it(app, tag, place):
    opening = {"block": f"\n\n<{tag}>\n\n", "inline": f" <{tag} class=x> ",
               "upper": f" <{tag.upper()}/> "}[place]
    html = str(render_markdown(f"Hello **there**{opening}Words *after* it\n\nMore words"))
    assert "<em>after</em>" in html and "More words" in html
    assert "<strong>there</strong>" in html
    assert f"<{tag}" not in html.lower()


def test_closed_script_and_style_go_with_their_content(app):
    html = str(render_markdown("Tea <script>alert(1)</script> at <style>p{}</style> four"))
    assert "alert" not in html and "p{}" not in html and "Tea" in html and "four" in html


def test_markdown_as_before(app):
    html = str(render_markdown("## Garden\n\nThe **tulips** are out.\n\n- one\n- two\n\n"
                               "`<style>` in code, [a link](https://example.org)"))
    assert "<h2>Garden</h2>" in html and "<strong>tulips</strong>" in html
    assert "<li>one</li>" in html and "<code>&lt;style&gt;</code>" in html
    assert 'href="https://example.org"' in html


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_issue_with_a_tracking_pixel_is_refused_and_nothing_changes(client, world):
    issue = make_issue(world, body="The tulips are out.")
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post("/newsletters/new", data={
        "scope": str(world.home.id), "title": "News", "audiences": ["families"],
        "body": "Hello ![x](https://evil.example/pixel.png)"})
    assert response.status_code == 200
    assert "Only pictures uploaded to Involve can be shown" in response.text
    assert _count(Issue) == 1
    response = client.post(f"/newsletters/issues/{issue.id}/edit", data={
        "title": "Spring news", "audiences": ["families"],
        "body": '<img src="//evil.example/p.gif" alt="">'})
    assert "Only pictures uploaded to Involve can be shown" in response.text
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).body == "The tulips are out."


def test_feedback_with_a_remote_picture_is_refused(client, world):
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "suggestion", "body": "More tea ![x](http://evil.example/p.png)"})
    assert "Only pictures uploaded to Involve can be shown" in response.text
    assert _count(Submission) == 0


def test_minutes_with_a_remote_picture_are_refused_and_nothing_changes(client, world):
    from involve.extensions import utcnow
    from involve.meetings import services as meeting_services
    from involve.meetings.models import AgendaItem, Meeting
    from tests.meetings.helpers import add_item, make_meeting

    meeting = make_meeting(world, starts_at=utcnow() - timedelta(days=1))
    item = add_item(meeting, world)
    meeting_services.mark_held(meeting, by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/minutes/edit", data={
        "easy_read_summary": "We met.", f"notes-{item.id}": "![x](https://evil.example/p.png)",
        f"decisions-{item.id}": "None"}, follow_redirects=True)
    assert "Only pictures uploaded to Involve can be shown" in response.text
    db.session.expire_all()
    assert not db.session.get(Meeting, meeting.id).easy_read_summary
    assert not db.session.get(AgendaItem, item.id).notes


def test_kept_lines_show_as_typed_and_lists_as_lists():
    html = str(render_markdown("Tea at four\nCake at five\n\n1. Scones\n2. Jam", keep_lines=True))
    assert html == ("<p>Tea at four<br>\nCake at five</p>\n"
                    "<ol>\n<li>Scones</li>\n<li>Jam</li>\n</ol>")
    # Without, Markdown joins the lines into one paragraph (as a newsletter wants).
    assert str(render_markdown("Tea at four\nCake at five")) == "<p>Tea at four\nCake at five</p>"
    assert "onerror" not in str(render_markdown('<img src=x onerror="alert(1)">\nx',
                                                keep_lines=True))


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>\nnext", "<script>alert(1)", "<style>p{display:none}",
    "[click](javascript:alert(1))", "[click](java&#x09;script:alert(1))",
    "[click](\x01javascript:alert(1))", '<a href="jav&#10;ascript:alert(1)">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD4=)", "<img src=x onerror=alert(1)>",
    "![A cat](https://evil.example/pixel.png)", '<p style="background:url(//evil.example)">x',
    "<iframe src=https://evil.example>", "<svg><script>alert(1)</script>",
    "<form action=https://evil.example><input name=q>", "<b>unclosed\n<i>tags",
    "<table><tr><td>unclosed", "<div onclick=alert(1)>hi",
])
def test_agenda_item_text_lets_nothing_unsafe_through(app, source):
    html = str(render_markdown(f"Tea at four\n{source}\nCake at five", keep_lines=True))
    lowered = html.lower()
    for unsafe in ("<script", "<style", "javascript:", "data:", "onerror", "onclick",
                   "style=", "<iframe", "<svg", "<form", "<input", "evil.example/pixel"):
        assert unsafe not in lowered, (unsafe, html)
    assert "Cake at five" in html  # nothing swallows the words after it
    assert html.count("<b>") == html.count("</b>") and html.count("<td>") == html.count("</td>")
