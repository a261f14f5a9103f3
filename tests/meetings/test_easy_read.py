"""Easy read beyond a flag: pictures on items and minutes, attachments checked as uploads are,
easy-read pages, large print whose headings are larger than its text, and plain-text mail."""

import io
import re
from datetime import date
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from involve.extensions import db
from involve.meetings import services
from involve.meetings.models import AgendaItem, MinutesAttachment
from tests.conftest import login
from tests.meetings.helpers import add_item, held_meeting, make_meeting, plain_text


def _png(colour="green", size=(60, 40)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # the maker: must not survive the re-encoding
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _attachments():
    return db.session.scalar(select(func.count(MinutesAttachment.id)))


def test_an_item_carries_a_picture_shown_on_the_easy_read_agenda(app, world, client):
    meeting = make_meeting(world)
    item = add_item(meeting, world, "The garden")
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/items/{item.id}/picture", data={
        "picture": (io.BytesIO(_png()), "garden.png"), "alt_text": "The garden with new benches"},
        content_type="multipart/form-data", follow_redirects=True)
    assert "The picture is saved." in response.text
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert item.has_picture and item.picture_alt == "The garden with new benches"
    assert item.picture.startswith(b"\xff\xd8")  # re-encoded as JPEG
    assert b"SecretCamera" not in item.picture
    picture = client.get(f"/meetings/items/{item.id}/picture.jpg")
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert picture.headers["X-Content-Type-Options"] == "nosniff"

    easy = client.get(f"/meetings/{meeting.id}/agenda/easy-read").text
    assert f'src="/meetings/items/{item.id}/picture.jpg" alt="The garden with new benches"' \
        in easy
    assert 'class="large-print easy-read-page"' in easy and 'class="er-row"' in easy
    # Before the agenda is out, people who are not staff see neither page nor picture.
    login(client, world.people["service_user"])
    assert client.get(f"/meetings/{meeting.id}/agenda/easy-read").status_code == 404
    assert client.get(f"/meetings/items/{item.id}/picture.jpg").status_code == 404
    services.publish_agenda(db.session.get(type(meeting), meeting.id), by=None)
    db.session.commit()
    assert client.get(f"/meetings/items/{item.id}/picture.jpg").status_code == 200
    assert "The garden with new benches" in client.get(
        f"/meetings/{meeting.id}/agenda/easy-read").text


def test_a_bad_picture_is_refused_and_nothing_changes(app, world, client):
    meeting = make_meeting(world)
    item = add_item(meeting, world, "The garden")
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/items/{item.id}/picture", data={
        "picture": (io.BytesIO(b"<script>alert(1)</script>"), "x.png"), "alt_text": "A bench"},
        content_type="multipart/form-data", follow_redirects=True)
    assert "That file is not a photo we can use." in response.text
    response = client.post(f"/meetings/items/{item.id}/picture", data={
        "picture": (io.BytesIO(_png()), "garden.png"), "alt_text": "  "},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Say what the picture shows" in response.text
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert not item.has_picture and item.picture is None
    assert client.get(f"/meetings/items/{item.id}/picture.jpg").status_code == 404


def test_minutes_take_a_pdf_and_a_picture_and_refuse_anything_else(app, world, client):
    meeting = held_meeting(world)
    db.session.commit()
    login(client, world.people["staff"])  # the minute-taker

    def upload(data, name, description):
        return client.post(f"/meetings/{meeting.id}/minutes/attachments", data={
            "file": (io.BytesIO(data), name), "description": description},
            content_type="multipart/form-data", follow_redirects=True)

    # Bad input first: each refused in plain words, and nothing kept.
    assert "not a PDF or a picture we can use" in upload(
        b"MZ\x90\x00 an executable", "menu.pdf", "Menu").text
    assert "not a PDF or a picture we can use" in upload(
        b"<html><script>alert(1)</script>", "menu.html", "Menu").text
    assert "Say what the file is" in upload(PDF, "menu.pdf", " ").text
    too_big = b"%PDF-1.4\n" + b"0" * (services.PDF_MAX_BYTES + 1)
    assert "The PDF is too large" in upload(too_big, "big.pdf", "Big").text
    assert _attachments() == 0

    assert "The file is attached" in upload(PDF, "../../winter menu.pdf", "Winter menu").text
    assert "The file is attached" in upload(_png("blue"), "lounge.png",
                                            "The new lounge chairs").text
    pdf, picture = db.session.scalars(select(MinutesAttachment).order_by(
        MinutesAttachment.id)).all()
    assert pdf.filename == "winter_menu.pdf" and pdf.kind.value == "pdf"
    assert picture.kind.value == "picture" and picture.filename == "lounge.jpg"

    served = client.get(f"/meetings/attachments/{pdf.id}")
    assert served.mimetype == "application/pdf" and served.data == PDF
    assert served.headers["Content-Disposition"] == 'attachment; filename="winter_menu.pdf"'
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    image = client.get(f"/meetings/attachments/{picture.id}")
    assert image.mimetype == "image/jpeg" and b"SecretCamera" not in image.data

    # The pictures show on the minutes and on the easy-read minutes, with their alt text.
    minutes = client.get(f"/meetings/{meeting.id}/minutes").text
    assert 'alt="The new lounge chairs"' in minutes and "Winter menu" in minutes
    easy = client.get(f"/meetings/{meeting.id}/minutes/easy-read").text
    assert f'src="/meetings/attachments/{picture.id}" alt="The new lounge chairs"' in easy

    # Before publication a file can be taken off again.
    client.post(f"/meetings/attachments/{pdf.id}/remove")
    assert _attachments() == 1


def test_attachments_are_for_minute_readers_only(app, world, client):
    meeting = held_meeting(world)
    services.save_minutes(meeting, summary="", notes={}, by=world.people["manager"])
    attachment = services.add_minutes_attachment(meeting, data=PDF, filename="a.pdf",
                                                 description="Notes", by=world.people["manager"])
    db.session.commit()
    login(client, world.people["family"])  # may read published minutes, not drafts
    assert client.get(f"/meetings/attachments/{attachment.id}").status_code == 403
    login(client, world.outsiders["manager"])
    assert client.get(f"/meetings/attachments/{attachment.id}").status_code == 403
    from tests.factories import make_strangers

    login(client, make_strangers(world)["manager"])
    assert client.get(f"/meetings/attachments/{attachment.id}").status_code == 404


def test_the_easy_read_minutes_show_pictures_left_and_short_sentences_right(app, world,
                                                                            client):
    meeting = make_meeting(world)
    item = add_item(meeting, world, "The garden")
    meeting.starts_at = meeting.starts_at.replace(year=meeting.starts_at.year - 1)
    meeting.ends_at = meeting.ends_at.replace(year=meeting.ends_at.year - 1)
    services.mark_held(meeting, by=None)
    services.set_item_picture(item, data=_png(), alt_text="Benches in the garden",
                              by=world.people["manager"])
    services.save_minutes(meeting, summary="We will buy **two** benches.",
                          notes={item.id: ("Long notes", "Buy two benches.")},
                          by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    easy = client.get(f"/meetings/{meeting.id}/minutes/easy-read").text
    row = easy[easy.index("Benches in the garden") - 400:]
    assert row.index('class="er-picture"') < row.index('class="er-words"')
    assert "We decided:" in easy and "Buy two benches." in easy
    assert "<strong>two</strong>" in easy and "Long notes" not in easy


def _split_css(css: str) -> tuple[str, str]:
    """The rules outside any @media print block, and those inside one."""
    screen, printed, rest = [], [], css
    while "@media print" in rest:
        before, after = rest.split("@media print", 1)
        screen.append(before)
        start, depth = after.index("{"), 0
        for n, char in enumerate(after[start:], start):
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth == 0:
                printed.append(after[start + 1:n])
                rest = after[n + 1:]
                break
    screen.append(rest)
    return "".join(screen), "".join(printed)


def _rules(css: str, selector: str) -> list[str]:
    return [body for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)
            if selector in [s.strip() for s in sel.split(",")]]


def _size(body: str) -> str:
    return re.search(r"font-size:\s*([\d.]+\w+)", body).group(1)


def test_large_print_headings_are_larger_than_its_text():
    css = (Path(__file__).resolve().parents[2] / "static/css/involve.css").read_text()
    screen, printed = _split_css(css)
    # On screen the headings are sized in em: relative to the larger text, and above 1.
    for heading in ("h1", "h2", "h3"):
        sizes = [_size(b) for b in _rules(screen, f".large-print {heading}")]
        assert sizes and all(s.endswith("em") and not s.endswith("rem") and float(s[:-2]) > 1
                             for s in sizes), (heading, sizes)
    # On paper every heading is larger than the 20pt text.
    text = max(float(_size(b)[:-2]) for b in _rules(printed, ".large-print") if "font-size" in b)
    for heading in ("h1", "h2", "h3"):
        sizes = [float(_size(b)[:-2]) for b in _rules(printed, f".large-print {heading}")
                 if _size(b).endswith("pt")]
        assert sizes and min(sizes) > text, (heading, sizes, text)
    # Easy-read text is larger than body text; its headings are larger again.
    assert all(float(_size(b)[:-2]) > 1 for b in _rules(screen, ".easy-read h3"))


def test_the_minutes_email_text_part_is_plain_text(app, world, outbox):
    meeting = held_meeting(world)
    services.save_minutes(meeting, summary="## Food\n\nWe chose **fish** on [Fridays]"
                          "(https://example.org/menu).\n\n- Soup\n- Bread",
                          notes={}, by=world.people["manager"])
    services.approve_minutes(meeting, approved_on=date.today(), how="",
                             by=world.people["manager"])
    services.publish_minutes(meeting, by=world.people["manager"])
    message = next(m for m in outbox if m["To"] == world.people["family"].user.email)
    text = plain_text(message)
    assert "We chose fish on Fridays (https://example.org/menu)." in text
    assert "FOOD" in text and "**" not in text and "## " not in text and "](" not in text
