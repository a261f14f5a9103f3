"""Helpers for the people tests: CSV files and kept imports."""

from __future__ import annotations

import csv
import io
import secrets

from involve.extensions import db
from involve.people.importing import COLUMNS
from involve.people.models import PeopleImport, Person


def csv_bytes(rows: list[dict[str, str]], columns: list[str] | None = None,
              encoding: str = "utf-8") -> bytes:
    """A CSV file of ``rows`` with a header of ``columns`` (all the known ones by default)."""
    columns = columns or COLUMNS
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode(encoding)


def resident_rows(n: int, service: str, start: int = 0) -> list[dict[str, str]]:
    """``n`` valid rows of service users of a service."""
    return [{"full_name": f"Imported Person {i}", "email": f"imported{i}@example.org",
             "role": "service_user", "service": service, "starts_on": "2026-01-05"}
            for i in range(start, start + n)]


def make_import(org_id: int, by: Person, content: bytes) -> PeopleImport:
    """A kept upload, as if previewed by ``by``."""
    upload = PeopleImport(token=secrets.token_urlsafe(24), organisation_id=org_id,
                          created_by_id=by.id, filename="people.csv", content=content)
    db.session.add(upload)
    db.session.flush()
    return upload


def org_admin(world) -> Person:
    """An administrator for the whole organisation (the world's admins hold one service)."""
    from involve.people.models import Role
    from tests.factories import make_person

    person = make_person(world.org, "Olive Orgadmin", roles=[(Role.admin, None)])
    db.session.commit()
    return person
