"""CSV import of people: a preview with every row's problems, then one confirmed import."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db, utcnow
from involve.people.models import (
    CommunicationNeeds,
    ImportStatus,
    PeopleImport,
    Person,
    Role,
    RoleGrant,
    User,
)
from tests.conftest import login
from tests.people.helpers import csv_bytes, make_import, org_admin, resident_rows


def _people() -> int:
    return db.session.scalar(select(func.count(Person.id)))


def _upload(client, content: bytes, name: str = "people.csv"):
    response = client.post("/people/import", data={"file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    return client.get(response.headers["Location"])


def _token(response) -> str:
    return re.search(r"/people/import/([\w-]+)", response.request.path).group(1)


def test_preview_shows_every_kind_of_row_problem_and_imports_nothing(client, world):
    login(client, world.people["admin"])
    rows = [
        {"full_name": "", "role": "service_user", "service": "Rose Court"},
        {"full_name": "Dup One", "email": "same@example.org"},
        {"full_name": "Dup Two", "email": "SAME@example.org"},
        {"full_name": "Taken", "email": world.people["staff"].user.email},
        {"full_name": "Bad Date", "starts_on": "31/01/2026", "role": "staff",
         "service": "Rose Court"},
        {"full_name": "Bad Role", "role": "wizard", "service": "Rose Court"},
        {"full_name": "Bad Service", "role": "staff", "service": "Nowhere"},
        {"full_name": "Bad Need", "communication_needs": "large_print;telepathy"},
        {"full_name": "No Service", "role": "service_user"},
        {"full_name": "Bad Email", "email": "not-an-email"},
        {"full_name": "Fine Person", "role": "service_user", "service": "rose court",
         "communication_needs": "Large print; easy_read"},
    ]
    before = _people()
    page = _upload(client, csv_bytes(rows)).text
    assert "The full name is missing." in page
    assert "The email same@example.org is also on line 3 of the file." in page
    assert f"Someone already has the email {world.people['staff'].user.email}." in page
    assert "is not a date written as YYYY-MM-DD" in page
    assert "The role “wizard” is not one we know." in page
    assert "There is no service called “Nowhere”." in page
    assert "The communication need “telepathy” is not one we know." in page
    assert "The role Service user needs a service." in page
    assert "is not an email address." in page
    assert "9 rows have problems" in page
    assert "Import 11 people" not in page
    assert _people() == before


def test_preview_reports_unknown_and_missing_columns(client, world):
    login(client, world.people["admin"])
    content = b"name,email,shoe_size\nAda,a@example.org,5\n"
    page = _upload(client, content).text
    assert "Unknown columns: name, shoe_size." in page
    assert "The file needs a column called full_name." in page
    assert "Nothing has been imported." in page


def test_wrong_encoding_is_named_plainly_and_bom_is_accepted(client, world):
    login(client, world.people["admin"])
    rows = [{"full_name": "Zoë Brontë", "role": "service_user", "service": "Rose Court"}]
    page = _upload(client, csv_bytes(rows, encoding="cp1252")).text
    assert "The file is not saved as UTF-8 text (the first problem is on line 2)." in page
    page = _upload(client, b"\xef\xbb\xbf" + csv_bytes(rows)).text
    assert "Import 1 person" in page and "Zoë Brontë" in page


def test_confirm_imports_exactly_the_previewed_rows(client, world):
    admin = org_admin(world)
    login(client, admin)
    rows = [
        {"full_name": "Winifred Ward", "preferred_name": "Win", "email": "win@example.org",
         "role": "service_user", "service": world.home.slug, "starts_on": "2026-02-01",
         "communication_needs": "large_print;Easy read"},
        {"full_name": "Tomasz Nowak", "username": "tomasz", "role": "family",
         "service": "Rose Court"},
        {"full_name": "Board Person", "role": "board"},
    ]
    preview = _upload(client, csv_bytes(rows))
    assert "Import 3 people" in preview.text
    token = _token(preview)
    before = _people()
    response = client.post(f"/people/import/{token}/confirm", follow_redirects=True)
    assert "3 people have been imported." in response.text
    assert "Finished" in response.text
    assert _people() == before + 3
    win = db.session.scalar(select(Person).where(Person.full_name == "Winifred Ward"))
    assert win.display_name == "Win" and win.user.email == "win@example.org"
    assert win.user.password_hash is None
    [grant] = win.grants
    assert (grant.role, grant.service_id, grant.starts_on.isoformat()) == (
        Role.service_user, world.home.id, "2026-02-01")
    assert win.communication_needs.formats == ["large_print", "easy_read"]
    tomasz = db.session.scalar(select(User).where(User.username == "tomasz")).person
    assert tomasz.grants[0].role == Role.family
    board = db.session.scalar(select(Person).where(Person.full_name == "Board Person"))
    assert board.grants[0].service_id is None and board.user is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "people.imported"))
    assert event.details["rows"] == 3 and event.actor_id == admin.id
    assert db.session.scalar(select(PeopleImport)).content == b""  # no second copy kept
    # Confirming twice does not import twice.
    response = client.post(f"/people/import/{token}/confirm", follow_redirects=True)
    assert "already been imported" in response.text
    assert _people() == before + 3


def test_confirm_refused_when_the_database_changed_since_the_preview(client, world):
    login(client, world.people["admin"])
    rows = [{"full_name": "Early Bird", "email": "early@example.org"},
            {"full_name": "Later", "email": "later@example.org"}]
    token = _token(_upload(client, csv_bytes(rows)))
    from tests.factories import make_person

    make_person(world.org, "Got There First", email="early@example.org")
    db.session.commit()
    before = _people()
    response = client.post(f"/people/import/{token}/confirm", follow_redirects=True)
    assert "The file still has problems." in response.text
    assert "Someone already has the email early@example.org." in response.text
    assert _people() == before
    assert db.session.scalar(select(PeopleImport)).status == ImportStatus.previewed


def test_an_upload_is_only_for_the_admin_who_made_it(client, world):
    login(client, world.people["admin"])
    token = _token(_upload(client, csv_bytes(resident_rows(2, "Rose Court"))))
    login(client, org_admin(world))
    before = _people()
    assert client.get(f"/people/import/{token}").status_code == 403
    assert client.post(f"/people/import/{token}/confirm").status_code == 403
    assert _people() == before


def test_empty_and_missing_files(client, world):
    login(client, world.people["admin"])
    response = client.post("/people/import", data={}, content_type="multipart/form-data")
    assert "Choose a CSV file." in response.text
    response = client.post("/people/import", data={"file": (io.BytesIO(b""), "x.csv")},
                           content_type="multipart/form-data")
    assert "The file is empty." in response.text or "Choose a CSV file." in response.text
    page = _upload(client, b"full_name\n").text
    assert "The file has column names but no people." in page
    assert db.session.scalar(select(func.count(PeopleImport.id))) == 1


def test_large_file_runs_as_a_task_with_progress(client, world):
    login(client, world.people["admin"])
    rows = resident_rows(620, "Rose Court")
    preview = _upload(client, csv_bytes(rows))
    assert "Import 620 people" in preview.text
    token = _token(preview)
    seen: list[int] = []
    from sqlalchemy import event

    def watch(conn, clauseelement, multiparams, params, execution_options):
        # observe the progress each batch commits, with its rows
        if getattr(clauseelement, "is_update", False) \
                and clauseelement.table.name == "people_import":
            seen.append(1)

    engine = db.engine
    event.listen(engine, "before_execute", watch)
    try:
        response = client.post(f"/people/import/{token}/confirm", follow_redirects=True)
    finally:
        event.remove(engine, "before_execute", watch)
    assert "The import of 620 people has started." in response.text
    assert "620 of 620 people imported." in response.text
    # the confirm, the task's claim, a commit per batch (200, 200, 200, 20), the finish
    assert len(seen) == 1 + 1 + 4 + 1
    upload = db.session.scalar(select(PeopleImport))
    assert (upload.status, upload.rows_done, upload.total_rows) == (ImportStatus.done, 620, 620)
    assert db.session.scalar(select(func.count(RoleGrant.id)).where(
        RoleGrant.service_id == world.home.id)) >= 620


def test_progress_page_while_running(client, world):
    login(client, world.people["admin"])
    upload = make_import(world.org.id, world.people["admin"], csv_bytes(
        resident_rows(3, "Rose Court")))
    upload.status, upload.total_rows, upload.rows_done = ImportStatus.running, 900, 250
    upload.heartbeat_at = utcnow()
    db.session.commit()
    page = client.get(f"/people/import/{upload.token}/progress").text
    assert "Importing: 250 of 900 people." in page
    assert '<meta http-equiv="refresh"' not in page  # no page that moves by itself
    assert "Refresh to see how far it has got" in page


def test_failed_task_imports_nobody(client, world):
    from involve.people.tasks import run_import

    upload = make_import(world.org.id, world.people["admin"], csv_bytes(
        [{"full_name": "Clash", "email": world.people["staff"].user.email}]))
    upload.status = ImportStatus.queued
    db.session.commit()
    before = _people()
    run_import(upload.id)
    db.session.refresh(upload)
    assert upload.status == ImportStatus.failed and "Upload it again" in upload.error
    assert upload.content == b"", "the file of a failed import is kept"
    assert _people() == before
    assert db.session.scalar(select(func.count(CommunicationNeeds.id))) == 0


def test_an_admin_of_one_service_imports_only_into_it(client, world):
    login(client, world.people["admin"])
    rows = [{"full_name": "Here", "role": "staff", "service": "Rose Court"},
            {"full_name": "There", "role": "staff", "service": "Willow House"},
            {"full_name": "Everywhere", "role": "board"}]
    page = _upload(client, csv_bytes(rows)).text
    assert "You cannot add people to Willow House." in page
    assert "Only an administrator for the whole organisation" in page
    assert "2 rows have problems" in page
    login(client, org_admin(world))
    page = _upload(client, csv_bytes(rows)).text
    assert "Import 3 people" in page


def test_old_uploads_are_forgotten(client, world):
    from datetime import timedelta

    from involve.extensions import utcnow
    from involve.people.tasks import forget_old_uploads

    admin = world.people["admin"]
    content = csv_bytes(resident_rows(1, "Rose Court"))
    old, fresh, failed = (make_import(world.org.id, admin, content) for _ in range(3))
    old.created_at = failed.created_at = utcnow() - timedelta(days=3)
    failed.status = ImportStatus.failed
    db.session.commit()
    forget_old_uploads()
    remaining = {u.id: u for u in db.session.scalars(select(PeopleImport))}
    assert set(remaining) == {fresh.id, failed.id}
    assert remaining[failed.id].content == b"" and remaining[fresh.id].content == content


def test_an_import_left_by_a_stopped_worker_fails_plainly_and_forgets_its_file(client, world):
    from datetime import timedelta

    from involve.extensions import utcnow
    from involve.people.tasks import forget_old_uploads

    admin = world.people["admin"]
    content = csv_bytes(resident_rows(3, "Rose Court"))
    stuck, queued, recent = (make_import(world.org.id, admin, content) for _ in range(3))
    stuck.status, queued.status, recent.status = (ImportStatus.running, ImportStatus.queued,
                                                  ImportStatus.running)
    stuck.created_at = queued.created_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    before = _people()
    forget_old_uploads()
    for upload in (stuck, queued):
        db.session.refresh(upload)
        assert upload.status == ImportStatus.failed and upload.content == b""
        assert "worker was restarted, and nobody was imported" in upload.error
    db.session.refresh(recent)
    assert recent.status == ImportStatus.running and recent.content == content
    assert _people() == before
    login(client, admin)
    page = client.get(f"/people/import/{stuck.token}/progress").text
    assert "Not imported" in page and "Upload the file again" in page
