"""CSV export of people (admins, audited, safe from formulas) and the audit log page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from involve import audit
from involve.audit import AuditEvent
from involve.extensions import db, utcnow
from involve.people.importing import safe_cell
from involve.people.models import Role
from tests.conftest import login
from tests.factories import make_person
from tests.people.helpers import org_admin


def test_export_content_scope_and_audit(client, world):
    make_person(world.org, "=HYPERLINK(\"http://evil\")", roles=[(Role.service_user, world.home)],
                email="x@example.org", needs=["large_print", "audio"])
    db.session.commit()
    admin = world.people["admin"]
    login(client, admin)
    response = client.post("/people/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    text = response.data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    names = {row["full_name"] for row in rows}
    assert "Staff Home" in names and "Staff Away" not in names  # only the admin's service
    evil = next(row for row in rows if "HYPERLINK" in row["full_name"])
    assert evil["full_name"].startswith("'=")
    assert evil["communication_needs"] == "large_print;audio"
    assert evil["role"] == "service_user" and evil["service"] == world.home.slug
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "people.exported"))
    assert event.actor_id == admin.id and event.details["rows"] == len(names)
    login(client, world.people["manager"])
    assert client.post("/people/export.csv").status_code == 403


def test_export_everyone_for_an_organisation_admin(client, world):
    login(client, org_admin(world))
    text = client.post("/people/export.csv").data.decode("utf-8-sig")
    assert "Staff Away" in text and "Staff Home" in text


def test_safe_cell():
    for dangerous in ("=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx"):
        assert safe_cell(dangerous).startswith("'")
    assert safe_cell("Ada") == "Ada" and safe_cell(None) == ""


def test_audit_log_filters(client, world):
    admin, staff = world.people["admin"], world.people["staff"]
    old = audit.record("role.granted", actor=admin, subject=staff, role="staff")
    old.at = utcnow() - timedelta(days=40)
    audit.record("role.ended", actor=admin, subject=staff, role="staff")
    audit.record("sign_in", actor=world.people["family"])
    db.session.commit()
    login(client, admin)
    page = client.get("/audit").text
    assert "role.granted" in page and "role.ended" in page and "sign_in" in page
    page = client.get("/audit?action=sign_in").text
    assert "Family or carer Home" in page and "role.ended</td>" not in page
    page = client.get("/audit?person=staff+home").text
    assert "role.ended" in page and "sign_in</td>" not in page
    since = (utcnow() - timedelta(days=7)).date().isoformat()
    page = client.get(f"/audit?since={since}&action=").text
    assert "role.ended</td>" in page and "role.granted</td>" not in page
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    page = client.get(f"/audit?until={until}").text
    assert "role.granted</td>" in page and "role.ended</td>" not in page
    page = client.get(f"/audit?person_id={world.people['family'].id}").text
    assert "sign_in</td>" in page and "role.ended</td>" not in page
    assert "1 event." in client.get("/audit?since=not-a-date&action=sign_in").text


def test_audit_log_pages(client, world):
    admin = world.people["admin"]
    for _ in range(55):
        audit.record("sign_in", actor=admin)
    db.session.commit()
    login(client, admin)
    page = client.get("/audit?action=sign_in").text
    assert "Page 1 of 2" in page and "action=sign_in" in page and "Older events" in page
    assert "Page 2 of 2" in client.get("/audit?action=sign_in&page=2").text
