"""What people and systems send to a case, and what they get back (DESIGN §4.2)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.people import PersonId

DecisionId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$",
        description="chosen by the sender; the same id is applied once",
    ),
]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


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

    trigger: Annotated[str, Field(pattern=r"^[a-z_]{1,60}$")]
    data: dict[str, Any] = Field(default_factory=dict)

    def name(self) -> str:
        return self.trigger


class DirectoryReload(_Command):
    """Take in the current directory of people (new delegations, people who left)."""

    def name(self) -> str:
        return "reload_directory"


class ArtefactSubmission(_Command):
    """Submit a new version of an artefact the case needs."""

    kind: Annotated[str, Field(pattern=r"^[a-z_]{1,60}$")]
    content: dict[str, Any]

    def name(self) -> str:
        return f"submit:{self.kind}"


class ArtefactRef(BaseModel):
    """Where one accepted artefact version lives in the artefact store."""

    model_config = ConfigDict(frozen=True)

    kind: str
    version: int
    sha256: str
    json_path: str
    markdown_path: str


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
