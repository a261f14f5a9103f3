"""Markdown to safe HTML, and Markdown to plain text for mail.

Python-Markdown's output is never trusted: nh3 cleans it against an explicit allow-list.
Two more rules hold after that: a picture shows only when it is one uploaded to Involve and
has alt text (a picture from elsewhere in an email tells its sender who opened it), and no
tag may hide the words after it (an unclosed ``<style>`` or ``<textarea>`` would make an
HTML parser treat the rest of the text as its own).
"""

from __future__ import annotations

import functools
import html as _html
import re

import markdown as _markdown
import nh3
from flask import current_app, has_app_context
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
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

OUTSIDE_PICTURE_MESSAGE = ("Only pictures uploaded to Involve can be shown. Please take out the "
                           "picture from another website: {src}")

# The addresses of pictures uploaded to Involve (newsletter pictures, and their signed
# addresses for mail clients), as a path on the site or at the site's BASE_URL.
OWN_PICTURE_PATH = re.compile(r"/newsletters/(?:images/\d+|mail-images/[\w.-]+)\.jpg")

# Tags after which an HTML parser reads the text as theirs (raw text, foreign content, a
# template) rather than as the page's, so an unclosed one would swallow everything after it.
SWALLOWING_TAGS = ("style", "script", "math", "svg", "textarea", "title", "noscript",
                   "iframe", "xmp", "noembed", "noframes", "plaintext", "template", "select",
                   "object", "embed", "applet", "frameset", "frame", "head")
_NAMES = "|".join(SWALLOWING_TAGS)
# Code spans are kept as they are; a closed script or style element goes with its content
# (as nh3 would drop it); any other swallowing tag is escaped, so it shows as the text typed.
_GUARD = re.compile(rf"(?P<code>(`+)[\s\S]*?(?<!`)\2(?!`))"
                    rf"|(?P<element><(script|style)\b[^>]*>[\s\S]*?</\4\s*>)"
                    rf"|<(?=/?(?:{_NAMES})(?:[\s/>]|$))", re.IGNORECASE)
_IMG = re.compile(r"<img\b[^>]*>")
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def _guard(match: re.Match[str]) -> str:
    if match.group("code"):
        return match.group(0)
    if match.group("element"):
        return ""
    return "&lt;"


class _NoSwallowing(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return _GUARD.sub(_guard, "\n".join(lines)).split("\n")


class _NoSwallowingExtension(Extension):
    def extendMarkdown(self, md: _markdown.Markdown) -> None:  # noqa: N802 (Markdown's name)
        # Before the raw-HTML block preprocessor (20), so Markdown never sees these tags.
        md.preprocessors.register(_NoSwallowing(md), "involve_no_swallowing", 25)


def is_own_picture(src: str) -> bool:
    """Whether ``src`` is a picture uploaded to Involve (on this site, not another)."""
    base = current_app.config.get("BASE_URL", "").rstrip("/") if has_app_context() else ""
    path = src[len(base):] if base and src.startswith(base + "/") else src
    return OWN_PICTURE_PATH.fullmatch(path) is not None


def _render(source: str | None, keep_lines: bool = False) -> tuple[str, list[str]]:
    extensions: list = ["sane_lists", "tables", _NoSwallowingExtension()]
    if keep_lines:
        # Text typed as lines (an agenda item's list, an address) keeps them: each line break
        # is a <br>, and a list still needs its blank line before it, as in every editor.
        extensions.append("nl2br")
    html = _markdown.markdown(source or "", output_format="html", extensions=extensions)
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=ALLOWED_SCHEMES, link_rel="noopener noreferrer")
    outside: list[str] = []

    def picture(match: re.Match[str]) -> str:
        # nh3 writes every attribute as name="value" with quotes escaped, so this reads it.
        attributes = dict(_ATTRIBUTE.findall(match.group(0)))
        src = _html.unescape(attributes.get("src", ""))
        if not is_own_picture(src):
            outside.append(src)
            return ""
        if not _html.unescape(attributes.get("alt", "")).strip():
            return ""  # a picture nobody can hear described is left out
        return match.group(0)

    return _IMG.sub(picture, clean), outside


def render_markdown(source: str | None, keep_lines: bool = False) -> Markup:
    """Turn Markdown into HTML that is safe to put in a page or an email.

    With ``keep_lines``, every line break typed is kept (for short texts people type as
    lines, such as agenda items, where Markdown would join them into one paragraph).

    The result depends on the text (and the site's address, for its own pictures) alone, so
    each process keeps the latest few hundred: a newsletter, minutes or a statement read by
    many is converted once, not on every view.
    """
    base = current_app.config.get("BASE_URL", "") if has_app_context() else ""
    return _render_cached(source or "", base, keep_lines)


@functools.lru_cache(maxsize=512)
def _render_cached(source: str, base: str, keep_lines: bool = False) -> Markup:
    return Markup(_render(source, keep_lines)[0])


def outside_pictures(source: str | None) -> list[str]:
    """The addresses of pictures in ``source`` that were not uploaded to Involve."""
    return _render(source)[1]


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
