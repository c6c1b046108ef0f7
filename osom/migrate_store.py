"""``osom migrate-store``: the file store of earlier releases taken into the record, without loss.

What the file store kept, under the data folder:

* ``artefacts/<case>/<kind>/v<N>.json`` (the content, written as ``artefact_body``) with
  ``v<N>.md`` beside it (its document). Each becomes version N of ``kind`` of ``<case>`` in the
  record; a missing document is rendered again. The record hashes the same canonical JSON the
  file store wrote, so a version keeps the sha256 its workflows recorded: that is checked for
  every version, before it is written (a file whose bytes are not that canonical JSON, edited
  by hand or damaged, is reported and left out: the record never rewrites a version, so a wrong
  one could not be put right later) and after (the record's own hash, read back).
* ``outbox/<case>/<id>.json``: one notification each, recorded as ``recorded``: read in the
  outbox, never delivered now (the file store only kept them, and they are old news).
* ``api-tokens.yaml``: the issued tokens' hashes, with whose they are.

Running it again adds nothing and says so. Nothing is skipped silently: a file that cannot be
read, parsed or checked is a problem (listed, exit status 1, the rest is still migrated);
what the file store itself left behind and never counted (the temporary files of interrupted
writes, a document whose version was never written) is listed as left out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from pydantic import ValidationError

from activities.documents import render_markdown
from activities.record import RecordStore, chain
from models.activity_io import Notification
from models.errors import ArtefactConflict
from osom.tokens import TokensUnavailable, import_tokens, read_token_file

_VERSION = re.compile(r"^v([0-9]+)\.(json|md)$")
# The file store's temporary files (its atomic writes): ".<name>.<random>.tmp" beside the file.
_DEBRIS = re.compile(r"^\..+\.tmp$")


@dataclass
class Tally:
    added: int = 0
    present: int = 0  # already in the record, the same

    def __str__(self) -> str:
        return f"{self.added} added, {self.present} already in the record"


@dataclass
class Migration:
    """What one run found and did; ``problems`` make it fail, ``left_out`` are explained."""

    data_dir: Path
    artefacts: Tally = field(default_factory=Tally)
    notifications: Tally = field(default_factory=Tally)
    tokens: Tally = field(default_factory=Tally)
    artefact_files: int = 0  # v<N>.json files found
    checked: int = 0  # of those, in the record with the file's sha256
    problems: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    found_store: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> bool:
        return bool(self.artefacts.added or self.notifications.added or self.tokens.added)

    def where(self, path: Path) -> str:
        """``path`` as the operator finds it from the data folder."""
        if path.is_relative_to(self.data_dir):
            return str(path.relative_to(self.data_dir))
        return str(path)

    def problem(self, path: Path, what: str) -> None:
        self.problems.append(f"{self.where(path)}: {what}")

    def leave_out(self, path: Path, why: str) -> None:
        self.left_out.append(f"{self.where(path)}: {why}")


def migrate_store(
    record: RecordStore,
    data_dir: Path,
    artefact_root: Path | None = None,
    outbox_root: Path | None = None,
    tokens_path: Path | None = None,
) -> Migration:
    """Take the file store under ``data_dir`` (its three parts where the settings put them, if
    elsewhere) into ``record``. Never changes or removes a file."""
    data_dir = data_dir.resolve()
    report = Migration(data_dir)
    if not data_dir.is_dir():
        report.problems.append(f"{data_dir}: no such folder")
        return report
    artefacts = artefact_root or data_dir / "artefacts"
    outbox = outbox_root or data_dir / "outbox"
    tokens = tokens_path or data_dir / "api-tokens.yaml"
    report.found_store = artefacts.is_dir() or outbox.is_dir() or tokens.is_file()
    if artefacts.is_dir():
        _artefacts(record, artefacts, report)
    if outbox.is_dir():
        _outbox(record, outbox, report)
    if tokens.is_file():
        _tokens(record, tokens, report)
    return report


# -- artefacts -------------------------------------------------------------------------------------


def _files(root: Path) -> Iterator[Path]:
    """Every file under ``root``, in a stable order (symbolic links are followed only as files:
    the file store made none)."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def _artefacts(record: RecordStore, root: Path, report: Migration) -> None:
    versions: dict[tuple[str, str, int], dict[str, Path]] = {}
    for path in _files(root):
        parts = path.relative_to(root).parts
        if _DEBRIS.match(path.name):
            report.leave_out(path, "a temporary file of a write that was interrupted")
            continue
        matched = _VERSION.match(path.name)
        if not matched or len(parts) < 3:
            report.problem(path, "not an artefact version (<case>/<kind>/v<N>.json or .md)")
            continue
        key = ("/".join(parts[:-2]), parts[-2], int(matched.group(1)))
        versions.setdefault(key, {})[matched.group(2)] = path
    for (case_id, kind, version), paths in sorted(versions.items()):
        if "json" not in paths:
            # The store wrote the document first and the JSON last: without the JSON the
            # version was never accepted (the retried write took it, or nothing did).
            report.leave_out(paths["md"], f"no v{version}.json beside it: never stored")
            continue
        report.artefact_files += 1
        _artefact(record, case_id, kind, version, paths["json"], paths.get("md"), report)


def _artefact(
    record: RecordStore,
    case_id: str,
    kind: str,
    version: int,
    json_path: Path,
    md_path: Path | None,
    report: Migration,
) -> None:
    try:
        raw = json_path.read_bytes()
        content = json.loads(raw.decode("utf-8"))
    except OSError as err:
        report.problem(json_path, f"cannot be read: {err.strerror}")
        return
    except UnicodeDecodeError:
        report.problem(json_path, "not UTF-8 text")
        return
    except json.JSONDecodeError as err:
        report.problem(json_path, f"not valid JSON (line {err.lineno}, column {err.colno})")
        return
    try:
        document = md_path.read_text(encoding="utf-8") if md_path else None
    except OSError as err:
        report.problem(md_path or json_path, f"cannot be read: {err.strerror}")
        return
    except UnicodeDecodeError:
        report.problem(md_path or json_path, "not UTF-8 text")
        return
    if not isinstance(content, dict):
        report.problem(json_path, "does not hold a JSON object")
        return
    file_sha = hashlib.sha256(raw).hexdigest()
    if chain.sha256(chain.artefact_body(content)) != file_sha:
        report.problem(
            json_path,
            f"sha256 mismatch: the file's bytes hash to {file_sha}, the record would hash its "
            f"content to {chain.sha256(chain.artefact_body(content))} (not the file store's "
            "canonical JSON: changed after it was written?); not migrated",
        )
        return
    existing = record.artefact(case_id, kind, version)
    if existing is None:
        if document is None:
            document = render_markdown(kind, version, case_id, content)
        # Recorded meanwhile with other content: the check below says so.
        with suppress(ArtefactConflict):
            record.put_artefact(case_id, kind, version, content, document)
        stored = record.artefact(case_id, kind, version)
        if stored is not None and stored.sha256 == file_sha:
            report.artefacts.added += 1
    else:
        stored = existing
        if existing.sha256 == file_sha:
            report.artefacts.present += 1
    # Checked against what the record holds now: its column and its content hashed again.
    if (
        stored is not None
        and stored.sha256 == file_sha
        and chain.sha256(chain.artefact_body(stored.content)) == file_sha
    ):
        report.checked += 1
    else:
        held = stored.sha256 if stored else "nothing"
        report.problem(
            json_path,
            f"sha256 mismatch: the file hashes to {file_sha}, the record holds {held} for "
            f"{kind} v{version} of {case_id}",
        )


# -- the outbox ------------------------------------------------------------------------------------


def _outbox(record: RecordStore, root: Path, report: Migration) -> None:
    for path in _files(root):
        if _DEBRIS.match(path.name):
            report.leave_out(path, "a temporary file of a write that was interrupted")
            continue
        if path.suffix != ".json" or len(path.relative_to(root).parts) < 2:
            report.problem(path, "not a notification (<case>/<id>.json)")
            continue
        try:
            notification = Notification.model_validate_json(path.read_bytes())
        except OSError as err:
            report.problem(path, f"cannot be read: {err.strerror}")
            continue
        except ValidationError as err:
            fields = sorted({".".join(map(str, e["loc"])) or "(file)" for e in err.errors()})
            report.problem(path, f"not a notification: {', '.join(fields)}")
            continue
        # The same moment in UTC: how the record keeps every moment.
        notification = notification.model_copy(update={"at": notification.at.astimezone(UTC)})
        case_path = "/".join(path.relative_to(root).parts[:-1])
        if (notification.case_id, notification.id) != (case_path, path.stem):
            report.problem(
                path,
                f"names case {notification.case_id} and id {notification.id}, not where it "
                "is kept; not migrated",
            )
            continue
        _notification(record, notification, path, report)


def _notification(
    record: RecordStore, notification: Notification, path: Path, report: Migration
) -> None:
    existing = record.notification(notification.case_id, notification.id)
    if existing is None:
        recorded = record.put_notification(notification)
        if recorded.state == "pending" and recorded.attempts == 0:
            record.finish_notification(notification.case_id, notification.id, "recorded", None)
        report.notifications.added += 1
        existing = record.notification(notification.case_id, notification.id)
    else:
        report.notifications.present += 1
    assert existing is not None
    kept = (existing.kind, existing.to, existing.subject, existing.body, existing.at)
    sent = (notification.kind, notification.to, notification.subject, notification.body)
    if kept != (*sent, notification.at):
        report.problem(path, f"the record holds notification {notification.id} otherwise")


# -- API tokens ------------------------------------------------------------------------------------


def _tokens(record: RecordStore, path: Path, report: Migration) -> None:
    try:
        issued = read_token_file(path)
    except TokensUnavailable as err:
        report.problem(path, err.message)
        return
    report.tokens.added += import_tokens(record, issued)
    for token in issued:
        kept = record.token(token.sha256)
        if kept is None or kept.person != token.person:
            # Only ever the person: the file holds no token, and its hash is not printed.
            held = f"as {kept.person}'s" if kept else "not at all"
            report.problem(path, f"a token of {token.person} is in the record {held}")
    report.tokens.present = len(issued) - report.tokens.added
