"""Writing files safely under a root folder chosen by the operator."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

# Workflow ids, kinds and notification ids become path parts: letters, digits and ._-: only
# (a colon comes with the time in the ids of scheduled review sessions).
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


class UnsafePath(ValueError):
    """A name that would not stay a plain folder or file name under the root."""


def under(root: Path, *names: str) -> Path:
    """``root`` joined with ``names`` (each may hold '/'), refusing anything that could escape."""
    parts = [part for name in names for part in name.split("/")]
    bad = [part for part in parts if not _SAFE_PART.match(part) or part in {".", ".."}]
    if bad:
        raise UnsafePath(f"refusing to write under {root}: unsafe path part(s) {bad}")
    return root.joinpath(*parts)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
