"""The artefact store: each accepted artefact version as JSON and as readable Markdown.

Files are written atomically (temporary file, then rename) and versions are immutable: writing the
same version again with the same content is a no-op (so activity retries are safe); writing it with
different content is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import render_markdown
from activities.files import UnsafePath, remove_debris, under, write_atomically
from models.activity_io import StoreRequest
from models.commands import ArtefactRef
from models.errors import ArtefactConflict
from workflows.activity_contracts import StoreActivities


class ArtefactStore(StoreActivities):
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, case_id: str, kind: str) -> Path:
        # Workflow ids hold a slash (new-service/PRO-004): it becomes a folder level.
        return under(self.root, case_id, kind)

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
        # The JSON is written last: it marks the version as taken, so a write that fails half
        # way leaves nothing that would refuse the next attempt at this version.
        markdown = render_markdown(request.kind, request.version, request.case_id, request.content)
        for path in (md_path, json_path):  # what an attempt killed half way left behind
            remove_debris(path)
        write_atomically(md_path, markdown)
        if not json_path.exists():
            write_atomically(json_path, body)
        return ArtefactRef(
            kind=request.kind,
            version=request.version,
            sha256=digest,
            json_path=str(json_path),
            markdown_path=str(md_path),
        )

    @activity.defn
    def store_artefact(self, request: StoreRequest) -> ArtefactRef:
        """Write one artefact version; idempotent for the same content."""
        try:
            return self.store(request)
        except ArtefactConflict as err:
            raise ApplicationError(err.message, type=err.type, non_retryable=True) from err
        except UnsafePath as err:
            raise ApplicationError(str(err), type="UnsafePath", non_retryable=True) from err

    def read(self, ref: ArtefactRef) -> dict[str, object]:
        """The content of a stored version, if it is under the store and unchanged since."""
        path = Path(ref.json_path).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise UnsafePath(f"{ref.json_path} is not in the artefact store")
        body = path.read_text(encoding="utf-8")
        if hashlib.sha256(body.encode()).hexdigest() != ref.sha256:
            raise ArtefactConflict(f"{ref.json_path} does not match its recorded sha256")
        content: dict[str, object] = json.loads(body)
        return content

    @activity.defn
    def read_artefact(self, ref: ArtefactRef) -> dict[str, object]:
        """Read one stored version back, checking it is the one that was recorded."""
        try:
            return self.read(ref)
        except (ArtefactConflict, UnsafePath, OSError) as err:
            raise ApplicationError(str(err), type="UnreadableArtefact", non_retryable=True) from err
