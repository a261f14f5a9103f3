"""Markdown to safe HTML, and Markdown to plain text for mail.

Python-Markdown's output is never trusted: nh3 cleans it against an explicit allow-list.
"""

from __future__ import annotations

import functools
import re

import markdown as _markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre",
    "h2", "h3", "h4", "hr", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

# Shown beside every Markdown editor, because Python-Markdown needs the blank line.
EDITOR_HINT = ("You can use Markdown: **bold**, *italic*, [a link](https://example.org). "
               "Leave a blank line before a list, and start each item with - or 1.")


def render_markdown(source: str | None) -> Markup:
    """Turn Markdown into HTML that is safe to put in a page or an email.

    The result depends on the text alone, so each process keeps the latest few hundred:
    a newsletter, minutes or a statement read by many is converted once, not on every view.
    """
    return _render_cached(source or "")


@functools.lru_cache(maxsize=512)
def _render_cached(source: str) -> Markup:
    html = _markdown.markdown(source, extensions=["sane_lists", "tables"], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=ALLOWED_SCHEMES, link_rel="noopener noreferrer")
    return Markup(clean)


_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
_HEADING = re.compile(r"^#{1,6}\s*(.+?)\s*#*$", re.MULTILINE)


def markdown_to_text(source: str | None) -> str:
    """Plain text for the text part of an email: links spelled out, emphasis dropped."""
    text = source or ""

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if match.group(0).startswith("!"):
            return f"[Picture: {label}]" if label else "[Picture]"
        return f"{label} ({url})" if label and label != url else url

    text = _LINK.sub(link, text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _HEADING.sub(lambda m: m.group(1).upper(), text)
    return text.strip() + "\n"


def images_without_alt(source: str | None) -> list[str]:
    """The addresses of Markdown images that have no alt text."""
    return [m.group(2) for m in _LINK.finditer(source or "")
            if m.group(0).startswith("!") and not m.group(1).strip()]
