"""Writing files safely under a root folder chosen by the operator."""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from pathlib import Path

# Workflow ids, kinds and notification ids become path parts: letters, digits and ._-: only
# (a colon comes with the time in the ids of scheduled review sessions).
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


class UnsafePath(ValueError):
    """A name that would not stay a plain folder or file name under the root."""


def under(root: Path, *names: str) -> Path:
    """``root`` joined with ``names`` (each may hold '/'), refusing anything that could escape."""
    parts = [part for name in names for part in name.split("/")]
    bad = [part for part in parts if not _SAFE_PART.fullmatch(part) or part in {".", ".."}]
    if bad:
        raise UnsafePath(f"refusing to write under {root}: unsafe path part(s) {bad}")
    return root.joinpath(*parts)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of one, and
    the new one survives a power cut once this returns (the file and its folder are fsynced)."""
    _make_folders(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            # Held until the file is renamed and closed, or its writer dies: how a cleaner
            # tells a temporary file being written from one a killed writer left behind.
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)  # the rename lives in the folder, not in the file


def remove_debris(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` that killed writers left (not a live one's)."""
    folder = path.parent
    if not folder.is_dir():
        return []
    return [tmp for tmp in folder.glob(f".{path.name}.*.tmp") if _remove_if_abandoned(tmp)]


def sweep_debris(*roots: Path, older_than: float = 60.0) -> list[Path]:
    """Remove every abandoned temporary file under ``roots`` older than ``older_than`` seconds
    (for the worker to call when it starts)."""
    cutoff = time.time() - older_than
    removed: list[Path] = []
    for root in roots:
        for tmp in root.rglob(".*.tmp") if root.is_dir() else ():
            try:
                old = tmp.stat().st_mtime < cutoff
            except FileNotFoundError:  # renamed or removed meanwhile (roots may overlap)
                continue
            if old and _remove_if_abandoned(tmp):
                removed.append(tmp)
    return removed


def _remove_if_abandoned(tmp: Path) -> bool:
    """Unlink ``tmp`` unless its writer still holds it; whether it was unlinked."""
    try:
        fd = os.open(tmp, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        tmp.unlink(missing_ok=True)
        return True
    except BlockingIOError:
        return False  # its writer is alive
    finally:
        os.close(fd)


def _make_folders(folder: Path) -> None:
    """``folder`` and any missing parents, each new one's entry fsynced into its parent."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        _fsync_folder(new.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
