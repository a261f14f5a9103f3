"""Permission matrix for the people and administration endpoints."""

import pytest

from involve.extensions import db
from involve.images import clean_photo
from tests.people.helpers import csv_bytes, make_import
from tests.permission_matrix import EVERYONE, Case, check_case

MANAGERS = {"admin", "manager"}


def _su(w):
    return w.people["service_user"].id


def _with_photo(w):
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, format="PNG")
    person = w.people["service_user"]
    person.photo, person.has_photo = clean_photo(out.getvalue()), True
    db.session.commit()


def _link(w):
    from sqlalchemy import select

    from involve.people.models import FamilyLink

    return db.session.scalar(select(FamilyLink))


def _grant(w):
    return w.people["service_user"].grants[0]


def _upload(w):
    upload = make_import(w.org.id, w.people["admin"], csv_bytes([{"full_name": ""}]))
    db.session.commit()
    return upload.token


CASES = [
    Case("people.home", lambda w, c: "/", EVERYONE, away="allow"),
    Case("people.choose_service", lambda w, c: "/switch-service", EVERYONE, away="allow"),
    Case("people.switch_service", lambda w, c: "/switch-service", EVERYONE, method="POST",
         data={"service": ""}, away="allow"),
    Case("people.people_list", lambda w, c: "/people", MANAGERS, away="allow"),
    Case("people.add_person", lambda w, c: "/people/new", MANAGERS, away="allow"),
    Case("people.person", lambda w, c: f"/people/{_su(w)}", MANAGERS),
    Case("people.edit_person", lambda w, c: f"/people/{_su(w)}/edit", MANAGERS),
    Case("people.set_status", lambda w, c: f"/people/{_su(w)}/status", MANAGERS,
         method="POST", data={"status": "active"}),
    Case("people.grant_role", lambda w, c: f"/people/{_su(w)}/roles", MANAGERS, method="POST"),
    Case("people.end_role", lambda w, c: f"/people/{_su(w)}/roles/{c.id}/end", MANAGERS,
         method="POST", data={"ends_on": "not a date"}, setup=_grant),
    Case("people.link_family", lambda w, c: f"/people/{_su(w)}/family", MANAGERS,
         method="POST"),
    Case("people.unlink_family", lambda w, c: f"/people/{_su(w)}/family/{c.id}/remove",
         MANAGERS, method="POST", setup=_link),
    Case("people.needs", lambda w, c: f"/people/{_su(w)}/needs", MANAGERS),
    Case("people.upload_photo", lambda w, c: f"/people/{_su(w)}/photo", MANAGERS,
         method="POST"),
    Case("people.remove_photo", lambda w, c: f"/people/{_su(w)}/photo/remove", MANAGERS,
         method="POST"),
    Case("people.photo", lambda w, c: f"/people/{_su(w)}/photo.jpg", MANAGERS,
         setup=_with_photo),
    Case("people.invite_email", lambda w, c: f"/people/{_su(w)}/invite", MANAGERS,
         method="POST"),
    Case("people.invitation_card", lambda w, c: f"/people/{_su(w)}/invitation-card", MANAGERS,
         method="POST"),
    Case("people.reset_email", lambda w, c: f"/people/{_su(w)}/password-reset", MANAGERS,
         method="POST"),
    Case("people.reset_card", lambda w, c: f"/people/{_su(w)}/reset-card", MANAGERS,
         method="POST"),
    Case("people.services", lambda w, c: "/services", {"admin"}, away="allow"),
    Case("people.add_service", lambda w, c: "/services/new", {"admin"}, away="allow"),
    Case("people.edit_service", lambda w, c: f"/services/{w.home.id}/edit", {"admin"}),
    Case("people.archive_service", lambda w, c: f"/services/{w.home.id}/archive", {"admin"},
         method="POST"),
    Case("people.restore_service", lambda w, c: f"/services/{w.home.id}/restore", {"admin"},
         method="POST"),
    Case("people.import_upload", lambda w, c: "/people/import", {"admin"}, away="allow"),
    Case("people.import_preview", lambda w, c: f"/people/import/{c}", {"admin"},
         setup=_upload),
    Case("people.import_confirm", lambda w, c: f"/people/import/{c}/confirm", {"admin"},
         method="POST", setup=_upload),
    Case("people.import_progress", lambda w, c: f"/people/import/{c}/progress", {"admin"},
         setup=_upload),
    Case("people.export_people", lambda w, c: "/people/export.csv", {"admin"}, method="POST",
         away="allow"),
    Case("people.audit_log", lambda w, c: "/audit", {"admin"}, away="allow"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)


def test_missing_objects_are_not_found(app, world, client):
    from tests.conftest import login

    login(client, world.people["admin"])
    assert client.get("/people/999999").status_code == 404
    assert client.get("/services/999999/edit").status_code == 404
    assert client.get("/people/import/nothing-here").status_code == 404
    grant_of_other = world.people["staff"].grants[0].id
    assert client.post(f"/people/{_su(world)}/roles/{grant_of_other}/end").status_code == 404
