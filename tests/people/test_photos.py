"""Photos: cleaned, consent recorded, served privately; anything else refused."""

from __future__ import annotations

import io

from PIL import Image

from involve.extensions import db
from tests.conftest import login


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (60, 40), "blue")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x9286] = "GPS-ish comment"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _upload(client, person, data: bytes, consent: bool = True, name: str = "photo.jpg"):
    form = {"photo": (io.BytesIO(data), name), "consent_note": "Agreed with her daughter"}
    if consent:
        form["consent"] = "y"
    return client.post(f"/people/{person.id}/photo", data=form,
                       content_type="multipart/form-data", follow_redirects=True)


def test_photo_is_cleaned_and_served_privately(client, world):
    person = world.people["service_user"]
    original = _jpeg_with_exif()
    assert b"SecretCam" in original
    login(client, world.people["manager"])
    response = _upload(client, person, original)
    assert "The photo is saved." in response.text
    db.session.refresh(person)
    assert person.has_photo and person.photo_consent_at is not None
    assert person.photo_consent_note == "Agreed with her daughter"
    served = client.get(f"/people/{person.id}/photo.jpg")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "no-store"  # never kept in a shared browser
    assert b"SecretCam" not in served.data
    assert not Image.open(io.BytesIO(served.data)).getexif()
    login(client, world.outsiders["manager"])
    assert client.get(f"/people/{person.id}/photo.jpg").status_code == 403


def test_photo_refused_without_consent_or_not_a_picture(client, world):
    person = world.people["service_user"]
    login(client, world.people["manager"])
    response = _upload(client, person, _jpeg_with_exif(), consent=False)
    assert "Confirm that the person" in response.text
    response = _upload(client, person, b"%PDF-1.4 not a photo", name="photo.pdf")
    assert "That file is not a photo we can use." in response.text
    truncated = _jpeg_with_exif()[:300]
    response = _upload(client, person, truncated)
    assert "That file is not a photo we can use." in response.text
    db.session.refresh(person)
    assert not person.has_photo and person.photo is None and person.photo_consent_at is None
    assert client.get(f"/people/{person.id}/photo.jpg").status_code == 404


def test_photo_removed(client, world):
    person = world.people["service_user"]
    login(client, world.people["manager"])
    _upload(client, person, _jpeg_with_exif())
    response = client.post(f"/people/{person.id}/photo/remove", follow_redirects=True)
    assert "The photo is removed." in response.text
    response = client.post(f"/people/{person.id}/photo/remove", follow_redirects=True)
    assert "There is no photo to remove." in response.text
    db.session.refresh(person)
    assert not person.has_photo and person.photo is None


def test_a_large_photo_is_made_smaller_and_an_oversized_file_is_refused(app, client, world,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_PIXELS", 600)
    person = world.people["service_user"]
    login(client, world.people["manager"])
    big = io.BytesIO()
    Image.new("RGB", (3000, 2000), "green").save(big, format="PNG")
    response = _upload(client, person, big.getvalue(), name="big.png")
    assert "The photo is saved." in response.text
    db.session.refresh(person)
    assert Image.open(io.BytesIO(person.photo)).size == (600, 400)

    kept = person.photo
    response = _upload(client, person, b"\xff\xd8" + b"\0" * (9 * 1024 * 1024), name="huge.jpg")
    assert "The photo is too large." in response.text
    db.session.refresh(person)
    assert person.photo == kept  # the photo already there is untouched
