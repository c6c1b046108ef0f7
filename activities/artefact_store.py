"""The artefact store: each accepted artefact version as JSON and as readable Markdown.

Files are written atomically (temporary file, then rename) and versions are immutable: writing the
same version again with the same content is a no-op (so activity retries are safe); writing it with
different content is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import render_markdown
from models.commands import ArtefactRef
from models.errors import ArtefactConflict


class StoreRequest(BaseModel):
    case_id: str
    kind: str
    version: int
    content: dict[str, Any]


def _write_atomically(path: Path, text: str) -> None:
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


class ArtefactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, case_id: str, kind: str) -> Path:
        # Workflow ids hold a slash (new-service/PRO-004): it becomes a folder level.
        return self.root.joinpath(*case_id.split("/"), kind)

    def store(self, request: StoreRequest) -> ArtefactRef:
        body = json.dumps(request.content, indent=2, sort_keys=True, default=str) + "\n"
        digest = hashlib.sha256(body.encode()).hexdigest()
        folder = self.folder(request.case_id, request.kind)
        json_path = folder / f"v{request.version}.json"
        md_path = folder / f"v{request.version}.md"
        if json_path.exists() and json_path.read_text(encoding="utf-8") != body:
            raise ArtefactConflict(
                f"{request.kind} v{request.version} of {request.case_id} already exists with "
                "different content; versions are immutable",
                path=str(json_path),
            )
        if not json_path.exists():
            _write_atomically(json_path, body)
        markdown = render_markdown(request.kind, request.version, request.case_id, request.content)
        _write_atomically(md_path, markdown)
        return ArtefactRef(
            kind=request.kind,
            version=request.version,
            sha256=digest,
            json_path=str(json_path),
            markdown_path=str(md_path),
        )

    @activity.defn(name="store_artefact")
    def store_artefact(self, request: StoreRequest) -> ArtefactRef:
        """Write one artefact version; idempotent for the same content."""
        try:
            return self.store(request)
        except ArtefactConflict as err:
            raise ApplicationError(err.message, type=err.type, non_retryable=True) from err
