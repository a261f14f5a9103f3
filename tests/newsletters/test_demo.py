"""The demo data loads once and shows real content."""

from sqlalchemy import func, select

from involve.extensions import db
from involve.newsletters import demo
from involve.newsletters.models import Issue, IssueStatus
from involve.people import demo as people_demo


def test_demo_is_idempotent(app):
    org = people_demo.seed()
    db.session.flush()
    demo.seed(org)
    db.session.flush()
    first = db.session.scalar(select(func.count(Issue.id)))
    demo.seed(org)
    db.session.flush()
    assert db.session.scalar(select(func.count(Issue.id))) == first == 3
    statuses = {i.title: i.status for i in db.session.scalars(select(Issue))}
    assert statuses["Rose Court news: spring"] == IssueStatus.published
    assert statuses["Rose Court news: summer (draft)"] == IssueStatus.draft
    spring = db.session.scalar(select(Issue).where(Issue.title == "Rose Court news: spring"))
    assert "## You said, we did" in spring.body
