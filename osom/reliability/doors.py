"""The engine's two front doors as people and systems use them: ``osom.cases`` (as the CLI
calls it) and the HTTP API, and what one send of a command came back with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import httpx
import yaml
from temporalio.client import Client

from models.commands import ArtefactSubmission, CommandResult, Decision
from models.errors import CommandQueued, NoAnswer, OsomError
from osom import cases
from osom.settings import EXAMPLES

ARTEFACTS = EXAMPLES / "artefacts"

Kind = Literal["applied", "refused", "queued", "no_answer", "error"]
Door = Literal["client", "http"]


@dataclass(frozen=True)
class Outcome:
    """What one send of a command came back with."""

    kind: Kind
    error_type: str | None = None
    http_status: int | None = None
    result: CommandResult | None = None
    message: str = ""


def as_json(data: dict[str, object]) -> dict[str, object]:
    """Example data as JSON would carry it (dates as strings), the same at both doors."""
    document: dict[str, object] = json.loads(json.dumps(data, default=str))
    return document


def example(name: str) -> dict[str, object]:
    data = yaml.safe_load((ARTEFACTS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    data.pop("kind", None)
    return as_json(data)


@dataclass
class Doors:
    """The engine's two front doors as people and systems use them."""

    client: Client
    http: httpx.AsyncClient
    tokens: dict[str, str]
    task_queue: str
    server_errors: list[str] = field(default_factory=list)

    async def send(
        self, door: Door, workflow_id: str, cmd: Decision | ArtefactSubmission
    ) -> Outcome:
        if door == "client":
            return await self._through_cases(workflow_id, cmd)
        if isinstance(cmd, Decision):
            path = f"/v1/cases/{workflow_id}/decisions"
            body: dict[str, object] = {"trigger": cmd.trigger, "data": cmd.data}
        else:
            path = f"/v1/cases/{workflow_id}/artefacts"
            body = {"kind": cmd.kind, "content": cmd.content}
        body |= {"decision_id": cmd.decision_id} | ({"reason": cmd.reason} if cmd.reason else {})
        return await self.post(cmd.actor, path, json.dumps(body).encode())

    async def _through_cases(self, workflow_id: str, cmd: Decision | ArtefactSubmission) -> Outcome:
        try:
            if isinstance(cmd, Decision):
                result = await cases.decide(self.client, workflow_id, cmd)
            else:
                result = await cases.submit(self.client, workflow_id, cmd)
        except CommandQueued as err:
            return Outcome("queued", err.type, message=err.message)
        except NoAnswer as err:
            return Outcome("no_answer", err.type, message=err.message)
        except OsomError as err:
            return Outcome("refused", err.type, message=err.message)
        except Exception as err:  # anything untyped is a finding, not a crash of the campaign
            return Outcome("error", type(err).__name__, message=str(err))
        return Outcome("applied", result=result)

    async def post(self, person: str, path: str, body: bytes) -> Outcome:
        headers = {
            "Authorization": f"Bearer {self.tokens[person]}",
            "Content-Type": "application/json",
        }
        try:
            response = await self.http.post(path, content=body, headers=headers)
        except Exception as err:
            return Outcome("error", type(err).__name__, message=str(err))
        status = response.status_code
        if status >= 500:
            self.server_errors.append(f"{status} from POST {path}: {response.text[:300]}")
        if status == 200:
            return Outcome("applied", http_status=status, result=CommandResult(**response.json()))
        title = str(response.json().get("title")) if _is_json(response) else None
        detail = str(response.json().get("detail", "")) if _is_json(response) else response.text
        if status == 202:
            return Outcome("queued", title, status, message=detail)
        if status in (503, 504):
            return Outcome("no_answer", title, status, message=detail)
        if 400 <= status < 500:
            return Outcome("refused", title, status, message=detail)
        return Outcome("error", title, status, message=detail)


def _is_json(response: httpx.Response) -> bool:
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False
