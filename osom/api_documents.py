"""How the API serves one recorded artefact version: the representation the Accept header ranks
highest (JSON, its Markdown document, or that document as a page that runs nothing)."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

from models.record import StoredArtefact

# What one artefact version is served as, chosen by the Accept header (JSON when it names none
# of these, or nothing).
REPRESENTATIONS = ("application/json", "text/markdown", "text/html")
# The HTML page runs nothing and loads nothing: what people typed stays text in any case.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def negotiate(accept: str, offered: tuple[str, ...] = REPRESENTATIONS) -> str:
    """The offered media type the Accept header ranks highest: the first offered on a tie,
    and when the header is empty or accepts nothing offered."""
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.count("/") != 1:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # also NaN
                    quality = 0.0
        ranges.append((media.lower(), quality))
    best, best_quality = offered[0], 0.0
    for candidate in offered:
        quality = _quality(candidate, ranges)
        if quality > best_quality:
            best, best_quality = candidate, quality
    return best


def _quality(media: str, ranges: list[tuple[str, float]]) -> float:
    """The quality the most specific matching range gives ``media`` (0: none matches)."""
    kind = media.partition("/")[0]
    found, specificity = 0.0, -1
    for accepted, quality in ranges:
        if accepted == media:
            rank = 2
        elif accepted == f"{kind}/*":
            rank = 1
        elif accepted == "*/*":
            rank = 0
        else:
            continue
        if rank > specificity:
            found, specificity = quality, rank
    return found


def artefact_page(stored: StoredArtefact) -> str:
    """The version's Markdown document as a minimal HTML page. The document holds what people
    typed escaped as Markdown text; raw HTML in it is never passed through."""
    title = f"{stored.kind.replace('_', ' ')} v{stored.version} of {stored.case_id}"
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<main>\n"
        f"{markdown_html()(stored.document)}</main>\n</body>\n</html>\n"
    )


@functools.cache
def markdown_html() -> Callable[[str], str]:
    """Markdown to HTML with markdown-it-py (CommonMark and tables, raw HTML escaped, only
    safe link targets) if it is installed, else the text escaped and shown as it is."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # not a declared dependency of the engine (it comes with rich)
        return preformatted
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return renderer.render


def preformatted(text: str) -> str:
    """``text`` escaped, as it is, in a ``<pre>`` block."""
    return f"<pre>{html.escape(text)}</pre>\n"
