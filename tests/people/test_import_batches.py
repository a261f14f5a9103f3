"""Background imports in batches: hidden until the end, resumed after a stopped worker,
all-or-nothing when they fail part-way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from involve.extensions import db, utcnow
from involve.people import services
from involve.people.models import (
    CommunicationNeeds,
    ImportStatus,
    PeopleImport,
    Person,
    RoleGrant,
    User,
)
from involve.people.tasks import run_import, watch_import
from tests.conftest import login
from tests.people.helpers import csv_bytes, make_import, resident_rows


def _count(model, *, hidden_too: bool = False) -> int:
    query = select(func.count(model.id))
    if hidden_too:
        query = query.execution_options(include_pending_imports=True)
    return db.session.scalar(query)


def _queued(world, rows: list[dict[str, str]]) -> PeopleImport:
    upload = make_import(world.org.id, world.people["admin"], csv_bytes(rows))
    upload.status, upload.total_rows, upload.heartbeat_at = (
        ImportStatus.queued, len(rows), utcnow())
    db.session.commit()
    return upload


def _abandon_after(upload: PeopleImport, batches: int) -> None:
    """What a worker killed part-way leaves: a claimed import with some batches committed."""
    claimed = services.claim_import(upload.id)
    db.session.commit()
    rows = services.check_import(claimed).rows
    for _ in range(batches):
        services.write_import_batch(claimed, rows, attempt=claimed.attempt)
        db.session.commit()


def _age(upload: PeopleImport) -> None:
    upload.heartbeat_at = utcnow() - services.IMPORT_STALE_AFTER - timedelta(seconds=1)
    db.session.commit()


def test_rows_written_part_way_are_hidden_everywhere(client, world):
    people_before, users_before = _count(Person), _count(User)
    upload = _queued(world, resident_rows(620, "Rose Court"))
    _abandon_after(upload, 2)
    assert _count(Person, hidden_too=True) == people_before + 400
    assert (_count(Person), _count(User)) == (people_before, users_before)
    assert db.session.scalar(select(User).where(User.email == "imported3@example.org")) is None
    login(client, world.people["admin"])
    page = client.get("/people?q=Imported").text
    assert "Imported Person" not in page
    db.session.refresh(upload)
    assert (upload.status, upload.rows_done) == (ImportStatus.running, 400)


def test_a_stopped_import_is_resumed_by_its_watch_and_lands_once(client, world):
    people_before = _count(Person)
    upload = _queued(world, resident_rows(620, "Rose Court"))
    _abandon_after(upload, 2)
    watch_import(upload.id)  # the heartbeat is fresh: the worker may still be at it
    db.session.refresh(upload)
    assert (upload.status, upload.attempt, upload.rows_done) == (ImportStatus.running, 1, 400)
    login(client, world.people["admin"])
    page = client.get(f"/people/import/{upload.token}/progress").text
    assert "Importing: 400 of 620 people." in page
    assert "Nobody from the file appears in Involve until all 620 people are in." in page

    _age(upload)
    page = client.get(f"/people/import/{upload.token}/progress").text
    assert "Stopped part-way" in page and "carries on from there by itself" in page
    watch_import(upload.id)
    db.session.refresh(upload)
    assert (upload.status, upload.attempt, upload.rows_done) == (ImportStatus.done, 2, 620)
    assert upload.content == b""
    assert _count(Person) == _count(Person, hidden_too=True) == people_before + 620
    emails = db.session.scalars(select(User.email).where(User.email.like("imported%"))).all()
    assert len(emails) == len(set(emails)) == 620
    assert db.session.scalar(select(func.count(RoleGrant.id)).where(
        RoleGrant.service_id == world.home.id, RoleGrant.import_id.is_(None))) >= 620
    run_import(upload.id)  # a late duplicate of the task does nothing
    assert _count(Person, hidden_too=True) == people_before + 620


def test_a_run_taken_over_cannot_write_again(world):
    upload = _queued(world, resident_rows(620, "Rose Court"))
    first = services.claim_import(upload.id)
    db.session.commit()
    rows = services.check_import(first).rows
    assert services.claim_import(upload.id) is None  # running, heartbeat fresh
    db.session.rollback()
    _age(upload)
    second = services.claim_import(upload.id)
    db.session.commit()
    assert second.attempt == 2
    with pytest.raises(services.ImportTakenOver):
        services.write_import_batch(upload, rows, attempt=1)
    db.session.rollback()
    assert _count(Person, hidden_too=True) == _count(Person)


def test_an_import_failing_part_way_imports_nobody_and_forgets_its_file(client, world):
    # Two imports share an email: the second cannot see the first's hidden rows when it
    # checks its file, so the database refuses its third batch.
    people_before = _count(Person)
    first = _queued(world, resident_rows(620, "Rose Court"))
    _abandon_after(first, 3)
    second = _queued(world, resident_rows(600, "Rose Court", start=1000)
                     + resident_rows(1, "Rose Court", start=550))
    run_import(second.id)
    db.session.refresh(second)
    assert second.status == ImportStatus.failed and second.content == b""
    assert second.error == services.IMPORT_CLASH_MESSAGE
    assert _count(Person) == people_before
    assert _count(Person, hidden_too=True) == people_before + 600  # the first's, still hidden
    for model in (Person, User, RoleGrant, CommunicationNeeds):
        assert db.session.scalar(select(func.count(model.id)).where(
            model.import_id == second.id).execution_options(include_pending_imports=True)) == 0


def test_an_import_that_stops_too_often_fails_plainly(client, world):
    people_before = _count(Person)
    upload = _queued(world, resident_rows(620, "Rose Court"))
    _abandon_after(upload, 1)
    for _ in range(services.IMPORT_MAX_ATTEMPTS - 1):
        _age(upload)
        services.claim_import(upload.id)
        db.session.commit()
    _age(upload)
    watch_import(upload.id)
    db.session.refresh(upload)
    assert upload.status == ImportStatus.failed and upload.content == b""
    assert _count(Person, hidden_too=True) == people_before
    login(client, world.people["admin"])
    page = client.get(f"/people/import/{upload.token}/progress").text
    assert "Not imported" in page and "stopped part-way 3 times" in page


def test_the_hourly_backstop_deletes_hidden_rows_too(world):
    people_before = _count(Person)
    upload = _queued(world, resident_rows(620, "Rose Court"))
    _abandon_after(upload, 1)
    upload.heartbeat_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    assert services.fail_stale_imports() == 1
    db.session.commit()
    db.session.refresh(upload)
    assert upload.status == ImportStatus.failed and upload.content == b""
    assert _count(Person, hidden_too=True) == people_before
