"""Demo newsletters: a published Rose Court issue, a draft, and organisation-wide news.

Running it twice adds nothing twice (issues are found by scope and title).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from involve.extensions import db, utcnow
from involve.newsletters.blocks import render_block
from involve.newsletters.models import Issue, IssueStatus, Subscriber
from involve.people.demo import ScaledService, bulk_insert
from involve.people.models import Organisation, Person, Service, User

SPRING = """## Welcome

Spring has arrived at Rose Court. Thank you to everyone who came to the residents' and
relatives' meetings: this issue tells you what you said and what we did about it.

## In the garden

The raised beds are planted. **Ada** chose the sweet peas, and the tomato plants are on the
patio by the lounge. Come and see them on a visit.

## The spring fair

We raised £412 for the minibus. The next trip is to the seaside in June: ask a member of staff
to put your name down.
"""

SUMMER_DRAFT = """## Summer at Rose Court

The summer party is on Saturday 19 July, from 2pm. Families are very welcome.

## New faces

We welcome two new care assistants to the day team.
"""

ORGANISATION = """## A message from the board

This year the board met ambassadors from every service four times. Ambassadors brought
23 questions; every one had an answer within a month.

## What changes this year

- Menus are now chosen with residents each season.
- Every service has a quiet room.
- Minutes of residents' meetings are published in easy read.
"""


def _issue(org: Organisation, service: Service | None, title: str, **values) -> Issue:
    scope = Issue.service_id == service.id if service else Issue.service_id.is_(None)
    issue = db.session.scalar(select(Issue).where(Issue.organisation_id == org.id, scope,
                                                  Issue.title == title))
    if issue is None:
        issue = Issue(organisation_id=org.id, service_id=service.id if service else None,
                      title=title, **values)
        db.session.add(issue)
        db.session.flush()
    return issue


def seed(org: Organisation) -> None:
    """Add the demo issues and a confirmed public subscriber (once)."""
    rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
    manager = db.session.scalar(select(Person).join(User).where(
        User.email == "manager@brookfield.example"))
    admin = db.session.scalar(select(Person).join(User).where(
        User.email == "admin@brookfield.example"))
    if rose is None:
        return
    now = utcnow()
    spring = _issue(org, rose, "Rose Court news: spring", summary="The garden, the fair, and "
                    "what you said", body=SPRING, audiences=["families", "staff", "public"],
                    status=IssueStatus.published, published_at=now - timedelta(days=2),
                    created_by_id=manager.id if manager else None)
    if "You said, we did" not in spring.body:
        spring.body = SPRING + "\n" + render_block(spring, "you_said_we_did")
    _issue(org, rose, "Rose Court news: summer (draft)", summary="Summer party and new faces",
           body=SUMMER_DRAFT, audiences=["families", "service_users"],
           status=IssueStatus.draft, created_by_id=manager.id if manager else None)
    _issue(org, None, "Brookfield Care: the year with our ambassadors",
           summary="What the board heard, and what changed", body=ORGANISATION,
           audiences=["public", "board", "staff", "families"], status=IssueStatus.published,
           published_at=now - timedelta(days=20), created_by_id=admin.id if admin else None)
    if db.session.scalar(select(Subscriber).where(Subscriber.email == "friend@example.org")) \
            is None:
        db.session.add(Subscriber(service_id=rose.id, email="friend@example.org",
                                  name="A friend of Rose Court", confirmed_at=now))


ELM_NEWS = """## Hello from Elm Lodge

Thank you to everyone who came to the residents' meeting. You asked for a trip to the garden
centre: it is booked for May.

## The conservatory

New blinds are ordered, so the conservatory will be cooler after lunch.
"""


def seed_elmfield(org: Organisation) -> None:
    """Elmfield Trust: a published Elm Lodge issue (once)."""
    elm = db.session.scalar(select(Service).where(Service.organisation_id == org.id,
                                                  Service.slug == "elm-lodge"))
    manager = db.session.scalar(select(Person).join(User).where(
        User.email == "manager@elmfield.example"))
    if elm is None:
        return
    _issue(org, elm, "Elm Lodge news: spring", summary="A trip, and cooler afternoons",
           body=ELM_NEWS, audiences=["families", "staff", "service_users", "public"],
           status=IssueStatus.published, published_at=utcnow() - timedelta(days=5),
           created_by_id=manager.id if manager else None)


def seed_scaled(org: Organisation, batch: list[ScaledService]) -> None:
    """For each extra service of ``--scale``: last month's issue, published to families, staff
    and the public, and this month's in draft. Bulk inserts, a batch at a time."""
    now = utcnow()
    issues = []
    for service in batch:
        made = {"organisation_id": org.id, "service_id": service.id,
                "created_by_id": service.manager_id}
        issues += [
            {**made, "title": f"{service.name} news: spring", "summary": "The garden and the fair",
             "body": SPRING.replace("Rose Court", service.name),
             "audiences": ["families", "staff", "public"], "status": IssueStatus.published,
             "published_at": now - timedelta(days=30)},
            {**made, "title": f"{service.name} news: summer (draft)",
             "summary": "Summer party and new faces",
             "body": SUMMER_DRAFT.replace("Rose Court", service.name),
             "audiences": ["families", "service_users"], "status": IssueStatus.draft}]
    bulk_insert(Issue, issues, ids=False)
