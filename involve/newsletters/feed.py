"""The Atom feed of a newsletter's public issues, built with xml.etree so text is escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from involve.newsletters.delivery import absolute_url
from involve.newsletters.models import Issue

ATOM = "http://www.w3.org/2005/Atom"


def _iso(value: datetime | None) -> str:
    return (value or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _updated(issue: Issue) -> datetime | None:
    # A published issue's words never change again; its row does (sending, the trail), so
    # the time it was published is when the entry last changed.
    return issue.published_at or issue.updated_at


def atom(title: str, page_url: str, feed_url: str, issues: list[Issue]) -> bytes:
    """An Atom 1.0 document listing ``issues`` (newest first)."""
    from involve.text import render_markdown

    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(root, f"{{{ATOM}}}title").text = title
    ET.SubElement(root, f"{{{ATOM}}}id").text = feed_url
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=feed_url)
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=page_url)
    # The feed changed when its newest entry did (now, for a feed with none yet).
    ET.SubElement(root, f"{{{ATOM}}}updated").text = _iso(
        max((_updated(i) for i in issues), default=None))
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = title
    for issue in issues:
        url = absolute_url("newsletters.issue", issue_id=issue.id)
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = issue.title
        ET.SubElement(entry, f"{{{ATOM}}}id").text = url
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=url)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(_updated(issue))
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _iso(issue.published_at)
        if issue.summary:
            ET.SubElement(entry, f"{{{ATOM}}}summary").text = issue.summary
        # Atom's type="html" holds HTML as escaped text; ElementTree does the escaping.
        ET.SubElement(entry, f"{{{ATOM}}}content", type="html").text = str(
            render_markdown(issue.body.replace("](/newsletters/",
                                               f"]({absolute_url('newsletters.index')}")))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
