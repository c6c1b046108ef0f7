"""What people and systems send to a case, and what they get back (DESIGN §4.2)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.people import PersonId

DecisionId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$",
        description="chosen by the sender; the same id is applied once",
    ),
]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
# How deep a command's data may nest: every artefact the processes take nests far less, and
# serialisers and parsers fail somewhere past 200 levels (a 500 instead of a refusal).
MAX_DEPTH = 32


def nesting_depth(value: object) -> int:
    """How many levels of objects and arrays ``value`` nests (counted without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        for child in _children(item):
            if isinstance(child, dict | list):
                if level + 1 > MAX_DEPTH + 1:
                    return level + 1
                stack.append((child, level + 1))
        deepest = max(deepest, level)
    return deepest


def _children(item: object) -> Iterable[object]:
    if isinstance(item, dict):
        return [*item.keys(), *item.values()]
    return item if isinstance(item, list) else ()


def _unsendable(value: object) -> str | None:
    """Why a value would not survive the trip as JSON: NaN and infinities turn into null, a
    lone surrogate cannot be encoded at all."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return f"{item} is not a number JSON can carry"
        if isinstance(item, str) and not _encodable(item):
            return "a text holds a lone surrogate, which is not valid Unicode"
        stack.extend(_children(item))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain_json(value: object) -> object:
    """Data a command carries: shallow enough to read, and plain JSON that arrives as sent."""
    if nesting_depth(value) > MAX_DEPTH:
        raise ValueError(f"nests deeper than {MAX_DEPTH} levels")
    if (problem := _unsendable(value)) is not None:
        raise ValueError(problem)
    return value


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision_id: DecisionId
    actor: PersonId
    reason: Reason | None = None

    def fingerprint(self) -> str:
        """What the command says, apart from its id: a repeat of an id must say the same."""
        said = self.model_dump(mode="json", exclude={"decision_id"})
        return hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()[:32]


class Decision(_Command):
    """Fire one trigger of the process, with the data that trigger needs."""

    trigger: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,59}$")]
    data: dict[str, Any] = Field(default_factory=dict)

    _data_plain = field_validator("data", mode="before")(_plain_json)

    def name(self) -> str:
        return self.trigger


class DirectoryReload(_Command):
    """Take in the current directory of people (new delegations, people who left)."""

    def name(self) -> str:
        return "reload_directory"


class ArtefactSubmission(_Command):
    """Submit a new version of an artefact the case needs."""

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,59}$")]
    content: dict[str, Any]

    _content_plain = field_validator("content", mode="before")(_plain_json)

    def name(self) -> str:
        return f"submit:{self.kind}"


class ArtefactRef(BaseModel):
    """One accepted artefact version in the record: the case it belongs to, its kind, version
    and sha256, and where the HTTP API serves it. Never a path on a worker's disk.

    Histories recorded before the record existed carry ``json_path``/``markdown_path`` (files
    on the worker that wrote them) and no ``case_id``; they are kept only so that those
    histories replay and their versions can be found after ``osom migrate-store``.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    version: int
    sha256: str
    case_id: str = ""
    url: str = ""
    json_path: str | None = Field(default=None, exclude_if=lambda v: v is None)
    markdown_path: str | None = Field(default=None, exclude_if=lambda v: v is None)

    def stored_under(self, case_id: str) -> bool:
        """Whether this version was recorded by ``case_id`` (the provenance a message from
        another case must show before the version it names is read)."""
        if self.case_id or self.json_path is None:
            return self.case_id == case_id
        return f"{case_id}/{self.kind}/" in self.json_path  # a version from the file store

    @property
    def label(self) -> str:
        return f"{self.kind} v{self.version}"


class CommandResult(BaseModel):
    """The answer to an accepted command (a repeat of the same decision id gets it again)."""

    decision_id: str
    outcome: Literal["applied"] = "applied"
    command: str
    from_state: str
    to_state: str
    message: str
    artefact: ArtefactRef | None = None
    replayed: bool = False
