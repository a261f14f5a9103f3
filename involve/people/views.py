"""Pages for a person's home, and for managing services and people."""

from __future__ import annotations

from flask import render_template, request

from involve import home_panels
from involve.extensions import db
from involve.people import bp, queries
from involve.people.models import Person, Service
from involve.permissions import current_actor, requires


def load_person(person_id: int) -> Person:
    return db.get_or_404(Person, person_id)


@bp.get("/")
@requires("signed_in")
def home():
    """A person's home page: what is next for them, from every part of Involve."""
    actor = current_actor()
    return render_template("people/home.html", panels=home_panels(actor))


@bp.get("/people")
@requires("people.view")
def people_list():
    """Everyone in the services the viewer manages, searchable, a page at a time."""
    actor = current_actor()
    search = request.args.get("q", "")
    query = queries.people_query(search=search, service_ids=actor.service_ids(
        ["admin", "manager"]))
    page = db.paginate(query, per_page=25, error_out=False)
    return render_template("people/list.html", page=page, search=search)


@bp.get("/people/<int:person_id>")
@requires("people.view", load=load_person)
def person(person: Person):
    """One person: roles, family links, communication needs and account."""
    return render_template("people/person.html", person=person)


@bp.get("/services")
@requires("services.manage")
def services():
    """The organisation's services."""
    return render_template("people/services.html",
                           services=db.session.scalars(db.select(Service).order_by(Service.name)))



@bp.get("/audit")
@requires("audit.view")
def audit_log():
    """The audit log, newest first."""
    from involve.audit import events_query

    page = db.paginate(events_query(), per_page=50, error_out=False)
    return render_template("people/audit.html", page=page)
