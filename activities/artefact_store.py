"""The artefact store: each accepted artefact version, with its readable document, in the record.

Versions are immutable by the database's own rule ((case, kind, version) is unique), so on every
host: writing the same version again with the same content is a no-op (activity retries are
safe); writing it with different content is refused.
"""

from __future__ import annotations

from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import render_markdown
from activities.record import RecordStore
from models.activity_io import StoreRequest
from models.commands import ArtefactRef
from models.errors import ArtefactConflict, RecordUnavailable
from models.record import StoredArtefact
from workflows.activity_contracts import StoreActivities


def artefact_url(public_url: str, case_id: str, kind: str, version: int) -> str:
    """Where the HTTP API serves one version (JSON, Markdown or HTML by Accept)."""
    return f"{public_url.rstrip('/')}/v1/cases/{case_id}/artefacts/{kind}/v{version}"


class ArtefactStore(StoreActivities):
    def __init__(
        self, record: RecordStore, public_url: str, legacy_root: Path | None = None
    ) -> None:
        self.record = record
        self.public_url = public_url
        # Where the file store kept versions, for references recorded before the record.
        self.legacy_root = legacy_root

    def ref(self, stored: StoredArtefact) -> ArtefactRef:
        return ArtefactRef(
            kind=stored.kind,
            version=stored.version,
            sha256=stored.sha256,
            case_id=stored.case_id,
            url=artefact_url(self.public_url, stored.case_id, stored.kind, stored.version),
        )

    def store(self, request: StoreRequest) -> ArtefactRef:
        document = render_markdown(request.kind, request.version, request.case_id, request.content)
        stored = self.record.put_artefact(
            request.case_id,
            request.kind,
            request.version,
            request.content,
            document,
            submitted_by=request.submitted_by,
            submitted_at=request.submitted_at,
        )
        return self.ref(stored)

    @activity.defn
    def store_artefact(self, request: StoreRequest) -> ArtefactRef:
        """Write one artefact version; idempotent for the same content."""
        try:
            return self.store(request)
        except ArtefactConflict as err:
            raise ApplicationError(err.message, type=err.type, non_retryable=True) from err
        except RecordUnavailable as err:  # retried by the activity's policy, then refused
            raise ApplicationError(err.message, type=err.type) from err

    def read(self, ref: ArtefactRef) -> dict[str, object]:
        """The content of a recorded version, if it is the one the reference names."""
        case_id = ref.case_id or self._legacy_case(ref)
        stored = self.record.artefact(case_id, ref.kind, ref.version)
        if stored is None:
            raise ArtefactConflict(f"{ref.label} of {case_id} is not in the record")
        if stored.sha256 != ref.sha256:
            raise ArtefactConflict(f"{ref.label} of {case_id} does not match its recorded sha256")
        return stored.content

    def _legacy_case(self, ref: ArtefactRef) -> str:
        """The case a file-store reference names: its path under the old root, less the
        ``kind/vN.json`` the store added."""
        if ref.json_path is None or self.legacy_root is None:
            raise ArtefactConflict(f"{ref.label} names no case")
        path = Path(ref.json_path)
        if not path.is_relative_to(self.legacy_root):
            raise ArtefactConflict(f"{ref.label} was not stored under {self.legacy_root}")
        return "/".join(path.relative_to(self.legacy_root).parts[:-2])

    @activity.defn
    def read_artefact(self, ref: ArtefactRef) -> dict[str, object]:
        """Read one stored version back, checking it is the one that was recorded."""
        try:
            return self.read(ref)
        except RecordUnavailable as err:
            raise ApplicationError(err.message, type=err.type) from err
        except ArtefactConflict as err:
            raise ApplicationError(str(err), type="UnreadableArtefact", non_retryable=True) from err
