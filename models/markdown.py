"""Put user-supplied text into Markdown without letting it add structure.

Names, reasons and artefact fields end up in the artefact documents and the Web UI's case page.
Whatever they contain, they must read as plain text on the line where the template puts them:
no heading, list item, block quote, link, image, emphasis, code, table or HTML element of their
own. Pure functions: the case page is rendered inside workflow code.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Every line break ``str.splitlines`` knows: a renderer may honour any of them.
_LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Punctuation that opens or forms Markdown syntax anywhere on a line (backslash first, so the
# escapes added here are not escaped again).
_ALWAYS = {c: "\\" + c for c in "\\`*[]#|~"} | {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# At the start of a line: an ordered list marker ("1." or "1)" then a space or the end).
_ORDERED = re.compile(r"^([0-9]+)([.)])(?=\s|$)")
_BACKTICKS = re.compile("`+")


def one_line(text: object) -> str:
    """``text`` as one line: every line break folded to a space, no space at either end."""
    return _LINE_BREAKS.sub(" ", str(text)).strip()


def inline(text: object) -> str:
    """``text`` as plain inline Markdown on one line, wherever the template puts it.

    Ordinary text stays as it is ("Apply for a permit", "SVC-007", "2027-01-29").
    """
    line = one_line(text)
    out: list[str] = []
    for i, char in enumerate(line):
        if char in _ALWAYS:
            out.append(_ALWAYS[char])
        elif char == "_" and not _between_word_chars(line, i):
            out.append("\\_")  # "a_b" cannot emphasise, "_a_" can
        else:
            out.append(char)
    escaped = "".join(out)
    # A line starting "- ", "+ ", "---" or "===" would be a list item, rule or heading underline.
    if escaped[:1] in ("-", "+", "=") and not escaped[1:2].isalnum():
        escaped = "\\" + escaped
    return _ORDERED.sub(r"\1\\\2", escaped)


def code(text: object) -> str:
    """``text`` as a code span on one line that its own backticks cannot close."""
    line = _LINE_BREAKS.sub(" ", str(text))
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(line)), default=0) + 1)
    # A space on both sides is stripped by the renderer: it keeps a leading or trailing
    # backtick off the fence and the text's own edge spaces where they are.
    pad = " " if line[:1] in ("`", " ") or line[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{line or ' '}{pad}{fence}"


def link(label: object, url: str) -> str:
    """A link to an http(s) address (the record's artefacts through the API's public URL);
    anything else is shown as plain text. The address is percent-encoded wherever a character
    could end the link early or start markup."""
    if not re.match(r"^https?://[^\s]+$", url):
        return inline(label)
    return f"[{inline(label)}]({quote(url, safe=':/?&=#%~._-')})"


def _between_word_chars(line: str, i: int) -> bool:
    return 0 < i < len(line) - 1 and line[i - 1].isalnum() and line[i + 1].isalnum()
