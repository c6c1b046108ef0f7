"""A reliability report: one bounded campaign against a private engine, and what it found.

    make reliability                       # 6 cases, 3 worker SIGKILLs, 1 dev-server restart
    make reliability RELIABILITY_ARGS="--cases 2 --worker-kills 1 --server-restarts 0"

It starts a Temporal dev server of its own (free loopback ports, its SQLite file in a temporary
folder) and `osom worker` as a subprocess, then takes N new-service proposals through the README
walkthrough, a step at a time, through both front doors: ``osom.cases`` and the HTTP API (served
in this process over httpx's ASGI transport). Before each valid command it sends an invalid one
(a person without the role, an unknown person, an illegal or unknown trigger, a reused decision id,
missing artefacts, an invalid artefact, an unknown case, and at the HTTP door a body that is not
JSON, too large, too deep, or names an actor). Between steps it SIGKILLs the worker (at a gate;
for two steps, whose commands are sent while none runs; or while a step's commands are in
flight) and SIGKILLs the dev server and starts it again on the same database. A command answered
``CommandQueued`` (202) or ``NoAnswer`` is sent again with its decision id, as the engine asks of
its senders.

Then it checks what the engine promises: every valid command applied exactly once and in the
order sent (the audit log), every invalid one refused with its typed error leaving the case as it
was (status, audit log and history length), no 5xx, every case finished, and every workflow's
history (finished or not) replaying on today's code (``temporalio.worker.Replayer``). It prints a
table and exits 1 if a promise is broken: any of lost, duplicated, out of order, accepted wrongly,
refused wrongly, valid refused, 5xx, unexpected errors (no answer after every resend, or an
error that is not a typed refusal) or unfinished cases not 0, a restart not survived, or a
replay that failed.

Like the benchmarks, this is a tool beside the engine: it borrows the worker's sandbox
(``worker.workflow_runner``) so that the replay runs the workflows exactly as the worker does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from models.commands import ArtefactSubmission, CommandResult, Decision
from models.errors import CommandQueued, NoAnswer, OsomError, TemporalUnreachable
from models.proposal import Proposal
from osom import cases
from osom.api import create_app
from osom.devserver import DevServer, ensure_search_attributes, wait_for_server
from osom.settings import EXAMPLES, REPO_ROOT
from osom.tokens import TokenBook
from workflows import WORKFLOWS

ARTEFACTS = EXAMPLES / "artefacts"
RESERVED_PORTS = {7233, 7243, 7244, 8233, 8000}
# Bounds: every wait and loop of the campaign ends.
SERVER_READY_SECONDS = 60.0
WORKER_READY_SECONDS = 30.0
STOP_SECONDS = 20.0
IDLE_POLLS = 150
IDLE_POLL_SECONDS = 0.1
RESEND_ATTEMPTS = 8
RESEND_PAUSE_SECONDS = 1.0
FINISH_SECONDS = 120.0
ANSWER_SECONDS = 60.0
# How long after sending a step's commands the worker is killed "in flight".
IN_FLIGHT_DELAY_SECONDS = 0.01
MAX_CASES = 50
MAX_WORKER_KILLS = 4
MAX_SERVER_RESTARTS = 4
MAX_DISRUPTIONS = 4  # two steps apart over the eight after the first

# The README walkthrough after the start: (verb, trigger or kind, actor, example file, state after).
STEPS: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("decide", "triage_started", "P-002", None, "IN_TRIAGE"),
    ("decide", "proposal_approved", "P-001", None, "APPROVED"),
    ("decide", "drafting_started", "P-001", None, "CONTRACT_DRAFTING"),
    ("decide", "sm_appointed", "P-001", "sm-appointment.yaml", "CONTRACT_DRAFTING"),
    ("submit", "service_contract", "P-013", "service-contract.yaml", "CONTRACT_DRAFTING"),
    ("decide", "discovery_budget_allocated", "P-002", "discovery-budget.yaml", "CONTRACT_DRAFTING"),
    ("decide", "draft_completed", "P-013", None, "READY_TO_ESTABLISH"),
    ("submit", "discovery_plan", "P-013", "discovery-plan.yaml", "READY_TO_ESTABLISH"),
    ("decide", "service_established", "P-001", None, "ESTABLISHED"),
)
PROPOSER = "P-015"
OUTSIDER = "P-015"  # an SM of another service: may send none of the walkthrough's commands
UNKNOWN_PERSON = "P-099"
PEOPLE = ("P-001", "P-002", "P-013", "P-015", UNKNOWN_PERSON)


# -- the engine's processes ---------------------------------------------------------------------


def free_port(taken: set[int] | frozenset[int] = frozenset()) -> int:
    """A free loopback port, not one a developer's engine may be using."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS | set(taken):
            return port
    raise RuntimeError("no free loopback port")


def worker_command() -> list[str]:
    """`osom worker` as installed beside this Python (or through the module, if not)."""
    script = Path(sys.executable).parent / "osom"
    if script.exists():
        return [str(script), "worker"]
    return [sys.executable, "-m", "osom.cli", "worker"]


def _reap(process: subprocess.Popen[bytes], sig: signal.Signals) -> int:
    """Send ``sig`` to a process we started and wait for it (SIGKILL if it lingers)."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
    return process.returncode


@dataclass
class EngineProcesses:
    """A dev server and `osom worker`, each started, SIGKILLed and started again on demand.

    The server keeps its SQLite file, so a restart finds every case; the worker's and the
    server's output go to log files in ``folder``.
    """

    server: DevServer
    worker_env: Mapping[str, str]
    folder: Path
    server_process: subprocess.Popen[bytes] | None = None
    worker_process: subprocess.Popen[bytes] | None = None
    worker_kills: int = 0
    server_kills: int = 0

    @property
    def worker_log(self) -> Path:
        return self.folder / "worker.log"

    async def start_server(self, connect: Callable[[str], Awaitable[Client]]) -> Client:
        """Start the server (on its database and ports) and return a client once it answers."""
        assert self.server_process is None or self.server_process.poll() is not None
        self.server_process = self.server.start(self.folder / "temporal-server.log")
        client = await wait_for_server(
            connect, self.server.address, SERVER_READY_SECONDS, self.server_process
        )
        await ensure_search_attributes(client)
        return client

    def kill_server(self) -> None:
        """SIGKILL the dev server: no chance to flush or say goodbye."""
        if self.server_process is not None:
            _reap(self.server_process, signal.SIGKILL)
            self.server_kills += 1

    async def start_worker(self) -> None:
        """Start `osom worker` and wait until it says it is polling."""
        assert self.worker_process is None or self.worker_process.poll() is not None
        since = self.worker_log.stat().st_size if self.worker_log.exists() else 0
        self.worker_process = self._spawn_worker()
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while "worker.started" not in self._worker_output(since):
            if self.worker_process.poll() is not None:
                raise RuntimeError(f"osom worker exited early:\n{self._worker_output(since)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"osom worker did not start:\n{self._worker_output(since)}")
            await asyncio.sleep(0.05)

    def _spawn_worker(self) -> subprocess.Popen[bytes]:
        with self.worker_log.open("ab") as log:
            return subprocess.Popen(
                worker_command(),
                cwd=REPO_ROOT,
                env=dict(self.worker_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _worker_output(self, since: int) -> str:
        with self.worker_log.open("rb") as log:
            log.seek(since)
            return log.read().decode("utf-8", errors="replace")

    def kill_worker(self) -> None:
        """SIGKILL the worker, whatever it is doing."""
        if self.worker_process is not None:
            _reap(self.worker_process, signal.SIGKILL)
            self.worker_kills += 1

    def worker_alive(self) -> bool:
        return self.worker_process is not None and self.worker_process.poll() is None

    def stop(self) -> None:
        """Stop both (SIGTERM, then SIGKILL if they linger); for a finally block."""
        for process in (self.worker_process, self.server_process):
            if process is not None:
                _reap(process, signal.SIGTERM)


async def connect_to(address: str) -> Client:
    """A client of the private server only: no TEMPORAL_* setting or profile applies."""
    try:
        return await Client.connect(
            address, namespace="default", data_converter=pydantic_data_converter
        )
    except RuntimeError as err:
        raise TemporalUnreachable(f"cannot reach Temporal at {address}: {err}") from err


def engine_env(folder: Path, address: str, task_queue: str) -> dict[str, str]:
    """The worker's environment: this server and folder, nothing inherited from TEMPORAL_* or
    OSOM_* settings of the shell."""
    profile = folder / "temporal.toml"
    profile.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "OSOM_"))}
    env.update(
        TEMPORAL_ADDRESS=address,
        TEMPORAL_NAMESPACE="default",
        TEMPORAL_CONFIG_FILE=str(profile),
        OSOM_DATA_DIR=str(folder / "data"),
        OSOM_DIRECTORY=str(EXAMPLES / "directory.yaml"),
        OSOM_POLICY=str(EXAMPLES / "policy.yaml"),
        OSOM_TASK_QUEUE=task_queue,
        OSOM_REVIEW_SCHEDULE="off",
        NO_COLOR="1",
    )
    return env


# -- commands through the two front doors -------------------------------------------------------

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


def _json(data: Any) -> Any:
    """Example data as JSON would carry it (dates as strings), the same at both doors."""
    return json.loads(json.dumps(data, default=str))


def example(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ARTEFACTS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    data.pop("kind", None)
    result: dict[str, Any] = _json(data)
    return result


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
            body: dict[str, Any] = {"trigger": cmd.trigger, "data": cmd.data}
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


# -- the campaign -------------------------------------------------------------------------------


@dataclass
class Journey:
    """One proposal taken through the walkthrough; the valid decision ids in the order sent."""

    number: int
    workflow_id: str
    sent: list[str] = field(default_factory=list)
    # Valid commands the sender was told were refused, or got no answer at all in the end.
    not_taken: set[str] = field(default_factory=set)

    @property
    def proposal_id(self) -> str:
        return f"PRO-{self.number}"

    @property
    def service_id(self) -> str:
        return f"SVC-{self.number}"

    def door(self, index: int) -> Door:
        """Commands alternate between the doors; journeys start on different ones."""
        return "client" if (index + self.number) % 2 == 0 else "http"


@dataclass
class Figures:
    cases: int = 0
    valid: int = 0
    invalid: int = 0
    refused_correctly: int = 0
    refused_wrongly: int = 0
    accepted_wrongly: int = 0
    valid_refused: int = 0
    resent: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    server_errors: int = 0
    unexpected_errors: int = 0
    unfinished: int = 0
    disruptions: int = 0
    survived: int = 0
    recovery_seconds: float = 0.0
    # Commands of a step still unanswered when the worker was killed during it.
    in_flight_at_kills: int = 0
    # Commands the front doors kept as signals because no worker ran.
    queued_while_down: int = 0
    replays: int = 0
    replays_ok: int = 0
    invalid_kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("cases", str(self.cases)),
            ("commands sent", str(self.valid + self.invalid)),
            ("  valid", str(self.valid)),
            ("  invalid", str(self.invalid)),
            ("refused correctly", str(self.refused_correctly)),
            ("refused wrongly", str(self.refused_wrongly)),
            ("accepted wrongly", str(self.accepted_wrongly)),
            ("valid refused", str(self.valid_refused)),
            ("resent (queued, no answer)", str(self.resent)),
            ("lost", str(self.lost)),
            ("duplicated", str(self.duplicated)),
            ("out of order", str(self.out_of_order)),
            ("5xx", str(self.server_errors)),
            ("unexpected errors", str(self.unexpected_errors)),
            ("unfinished cases", str(self.unfinished)),
            ("restarts survived", f"{self.survived}/{self.disruptions}"),
            ("  in flight at a kill", str(self.in_flight_at_kills)),
            ("  queued while down", str(self.queued_while_down)),
            ("  slowest recovery (s)", f"{self.recovery_seconds:.1f}"),
            ("replay checks", f"{self.replays_ok}/{self.replays}"),
        ]

    def table(self) -> str:
        width = max(len(label) for label, _ in self.rows()) + 2
        lines = [f"{'figure':<{width}}{'value':>8}"]
        lines += [f"{label:<{width}}{value:>8}" for label, value in self.rows()]
        return "\n".join(lines)

    def broken(self) -> bool:
        """Whether any promise is broken (the campaign's exit status)."""
        zeros = (
            self.lost,
            self.duplicated,
            self.out_of_order,
            self.accepted_wrongly,
            self.refused_wrongly,
            self.valid_refused,
            self.server_errors,
            self.unexpected_errors,
            self.unfinished,
        )
        return any(zeros) or self.survived != self.disruptions or self.replays_ok != self.replays


@dataclass(frozen=True)
class Snapshot:
    status: dict[str, Any]
    audit: list[dict[str, Any]]
    history_length: int


async def idle_history_length(handle: WorkflowHandle[Any, Any]) -> int:
    """The case's history length once nothing is pending (the notifications a command queues
    are sent just after it) and two looks agree."""
    previous = -1
    for _ in range(IDLE_POLLS):
        described = await handle.describe()
        raw = described.raw_description
        busy = bool(raw.pending_activities) or raw.HasField("pending_workflow_task")
        if not busy and described.history_length == previous:
            return previous
        previous = described.history_length
        await asyncio.sleep(IDLE_POLL_SECONDS)
    raise RuntimeError(f"{handle.id} never became idle")


async def snapshot(client: Client, workflow_id: str) -> Snapshot:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    length = await idle_history_length(handle)
    status = await cases.status(client, workflow_id)
    audit = await cases.audit_log(client, workflow_id)
    return Snapshot(
        status.model_dump(mode="json"), [e.model_dump(mode="json") for e in audit], length
    )


@dataclass(frozen=True)
class Invalid:
    """An invalid command: what it is, the refusal it must get, how it is sent."""

    what: str
    expected: str
    send: Callable[[Doors, Door], Awaitable[Outcome]]


def _decision(decision_id: str, trigger: str, actor: str, data: dict[str, Any]) -> Decision:
    return Decision(decision_id=decision_id, trigger=trigger, actor=actor, data=data)


class Campaign:
    def __init__(self, doors: Doors, processes: EngineProcesses, seed: int) -> None:
        self.doors = doors
        self.processes = processes
        self.random = random.Random(seed)
        self.figures = Figures()
        self._invalid_ids = 0
        self.worker_died = False

    # -- valid commands ---------------------------------------------------------------------

    def valid_command(self, journey: Journey, step: int) -> Decision | ArtefactSubmission:
        verb, name, actor, file, _ = STEPS[step]
        data = example(file) if file else {}
        decision_id = f"{journey.proposal_id}-{step + 1}-{name}"
        if verb == "submit":
            if name == "service_contract":
                data["service_id"] = journey.service_id
            return ArtefactSubmission(decision_id=decision_id, actor=actor, kind=name, content=data)
        reason = "reliability campaign" if name == "service_established" else None
        return Decision(
            decision_id=decision_id, trigger=name, actor=actor, data=data, reason=reason
        )

    async def send_valid(self, journey: Journey, step: int, first: Awaitable[Outcome]) -> None:
        """Await the first send, then resend with the same decision id while the answer is
        'queued' or 'no answer' (bounded)."""
        cmd = self.valid_command(journey, step)
        journey.sent.append(cmd.decision_id)
        self.figures.valid += 1
        outcome = await first
        for _ in range(RESEND_ATTEMPTS):
            if outcome.kind not in ("queued", "no_answer"):
                break
            self.figures.resent += 1
            await asyncio.sleep(RESEND_PAUSE_SECONDS)
            outcome = await self.doors.send(journey.door(step), journey.workflow_id, cmd)
        if outcome.kind == "applied":
            return
        journey.not_taken.add(cmd.decision_id)
        if outcome.kind == "refused":
            self.figures.valid_refused += 1
        else:
            self.figures.unexpected_errors += 1
        self.figures.problems.append(
            f"{journey.workflow_id} step {step + 1} {cmd.decision_id}: {outcome.kind} "
            f"{outcome.error_type}: {outcome.message[:300]}"
        )

    def first_send(self, journey: Journey, step: int) -> Awaitable[Outcome]:
        cmd = self.valid_command(journey, step)
        return self.doors.send(journey.door(step), journey.workflow_id, cmd)

    # -- invalid commands -------------------------------------------------------------------

    def _new_id(self, journey: Journey) -> str:
        self._invalid_ids += 1
        return f"{journey.proposal_id}-invalid-{self._invalid_ids}"

    def invalid_commands(self, journey: Journey, step: int, door: Door) -> list[Invalid]:
        """The invalid commands that make sense before ``step`` at ``door``."""
        verb, name, _, _, _ = STEPS[step]
        state = STEPS[step - 1][4] if step else "PROPOSED"
        case = journey.workflow_id
        valid = self.valid_command(journey, step)
        new_id = self._new_id(journey)

        def as_person(person: str) -> Decision | ArtefactSubmission:
            return valid.model_copy(update={"decision_id": new_id, "actor": person})

        def command(cmd: Decision | ArtefactSubmission) -> Callable[[Doors, Door], Any]:
            return lambda doors, door: doors.send(door, case, cmd)

        illegal = "triage_started" if state == "READY_TO_ESTABLISH" else "service_established"
        found = [
            Invalid("a person without the role", "NotAuthorised", command(as_person(OUTSIDER))),
            Invalid(
                "a person not in the directory", "UnknownPerson", command(as_person(UNKNOWN_PERSON))
            ),
            Invalid(
                f"{illegal} from {state}",
                "IllegalTransition",
                command(_decision(new_id, illegal, "P-001", {})),
            ),
            Invalid(
                "a trigger the process does not have",
                "IllegalTransition",
                command(_decision(new_id, "made_up_move", "P-001", {})),
            ),
            Invalid(
                "a case that does not exist",
                "UnknownCase",
                lambda doors, door: doors.send(
                    door, f"new-service/PRO-{journey.number}-NOPE", valid
                ),
            ),
        ]
        if journey.sent:
            reused = valid.model_copy(update={"decision_id": journey.sent[-1]})
            found.append(Invalid("a reused decision id", "DecisionIdReused", command(reused)))
        if step in (3, 4, 5):  # drafting, before everything the draft needs is in
            found.append(
                Invalid(
                    "draft_completed before the draft is complete",
                    "ArtefactsMissing",
                    command(_decision(new_id, "draft_completed", "P-001", {})),
                )
            )
            bad = ArtefactSubmission(
                decision_id=new_id,
                actor="P-001",
                kind="service_contract",
                content={"service_id": "seven", "colour": "blue"},
            )
            found.append(Invalid("an invalid contract", "InvalidArtefact", command(bad)))
        if step == 7:  # ready, but no discovery plan yet
            found.append(
                Invalid(
                    "service_established without a discovery plan",
                    "ArtefactsMissing",
                    command(_decision(new_id, "service_established", "P-001", {})),
                )
            )
        if door == "http":
            path = f"/v1/cases/{case}/{'decisions' if verb == 'decide' else 'artefacts'}"
            body = {"trigger": name} if verb == "decide" else {"kind": name, "content": {}}
            deep: Any = "leaf"
            for _ in range(40):
                deep = [deep]
            actor = STEPS[step][2]

            def post(raw: bytes) -> Callable[[Doors, Door], Awaitable[Outcome]]:
                return lambda doors, door: doors.post(actor, path, raw)

            found += [
                Invalid("a body that is not JSON", "MalformedInput", post(b'{"trigger": ')),
                Invalid(
                    "a body naming an actor",
                    "InvalidArtefact",
                    post(json.dumps(body | {"actor": "P-001"}).encode()),
                ),
                Invalid(
                    "a body nested 40 levels deep",
                    "MalformedInput",
                    post(json.dumps(body | {"data": {"deep": deep}}).encode()),
                ),
                Invalid(
                    "a body larger than the limit",
                    "PayloadTooLarge",
                    post(json.dumps(body | {"reason": "x" * 70_000}).encode()),
                ),
            ]
        return found

    async def send_invalid(self, journey: Journey, step: int) -> None:
        door = journey.door(step + 1)  # the other door than this step's valid command
        chosen = self.random.choice(self.invalid_commands(journey, step, door))
        self.figures.invalid += 1
        self.figures.invalid_kinds[f"{chosen.what} ({chosen.expected})"] += 1
        client = self.doors.client
        before = await snapshot(client, journey.workflow_id)
        outcome = await chosen.send(self.doors, door)
        after = await snapshot(client, journey.workflow_id)
        where = f"{journey.workflow_id} before step {step + 1}, {chosen.what} at the {door} door"
        if outcome.kind == "applied":
            self.figures.accepted_wrongly += 1
            self.figures.problems.append(f"{where}: accepted")
            return
        if outcome.kind != "refused":
            self.figures.unexpected_errors += 1
            self.figures.problems.append(
                f"{where}: {outcome.kind} {outcome.error_type}: {outcome.message[:300]}"
            )
            return
        changed = [
            what
            for what, same in (
                ("status", before.status == after.status),
                ("audit log", before.audit == after.audit),
                ("history length", before.history_length == after.history_length),
            )
            if not same
        ]
        if outcome.error_type == chosen.expected and not changed:
            self.figures.refused_correctly += 1
            return
        self.figures.refused_wrongly += 1
        self.figures.problems.append(
            f"{where}: refused {outcome.error_type} (expected {chosen.expected})"
            + (f", and the {', '.join(changed)} changed" if changed else "")
        )

    # -- disruptions ------------------------------------------------------------------------

    async def restart_worker(self) -> None:
        self.processes.kill_worker()
        await self.processes.start_worker()

    async def restart_server(self) -> None:
        self.processes.kill_server()
        await self.processes.start_server(connect_to)
        if not self.processes.worker_alive():  # a worker must ride out its server's restart
            self.worker_died = True
            await self.processes.start_worker()

    async def survived(self, journeys: list[Journey], step: int, what: str) -> None:
        """After a disruption: within ANSWER_SECONDS the worker runs and every case answers
        with its state (a case the dead worker had cached waits for its sticky queue to time
        out first). The slowest answer is kept as the recovery time."""
        self.figures.disruptions += 1
        expected = STEPS[step - 1][4] if step else "PROPOSED"
        began = time.monotonic()
        wrong: list[str] = []
        for journey in journeys:
            last = "no answer"
            while time.monotonic() - began < ANSWER_SECONDS:
                try:
                    state = (await cases.status(self.doors.client, journey.workflow_id)).state
                except OsomError as err:
                    last = f"{err.type}: {err.message[:200]}"
                    await asyncio.sleep(RESEND_PAUSE_SECONDS)
                    continue
                last = "" if state == expected else f"is {state}, not {expected}"
                break
            if last:
                wrong.append(f"{journey.workflow_id} {last}")
        self.figures.recovery_seconds = max(self.figures.recovery_seconds, time.monotonic() - began)
        if self.worker_died or not self.processes.worker_alive():
            wrong.append("the worker did not keep running")
            self.worker_died = False
        if wrong:
            self.figures.problems.append(f"after {what}: {'; '.join(wrong)}")
        else:
            self.figures.survived += 1

    # -- the whole run ----------------------------------------------------------------------

    async def start(self, number: int) -> Journey:
        """Start a copy of the example proposal, at the HTTP door for odd numbers."""
        document = _json(yaml.safe_load((EXAMPLES / "proposal.yaml").read_text(encoding="utf-8")))
        document["id"] = f"PRO-{number}"
        workflow_id = cases.new_service_id(document["id"])
        if number % 2:
            response = await self.doors.http.post(
                "/v1/proposals",
                json=document,
                headers={"Authorization": f"Bearer {self.doors.tokens[PROPOSER]}"},
            )
            if response.status_code != 201:
                raise RuntimeError(f"{workflow_id} did not start: {response.text}")
        else:
            proposal = Proposal.model_validate(document)
            await cases.start_new_service(
                self.doors.client, proposal, PROPOSER, self.doors.task_queue
            )
        opened = await cases.wait_until_open(self.doors.client, workflow_id, ANSWER_SECONDS)
        if opened is None or opened.state != "PROPOSED":
            raise RuntimeError(f"{workflow_id} did not open: {opened}")
        self.figures.cases += 1
        return Journey(number, workflow_id)

    async def run(self, total: int, disruptions: dict[int, str]) -> Figures:
        journeys = [await self.start(500 + n) for n in range(total)]
        step = 0
        while step < len(STEPS):
            kind = disruptions.get(step)
            if kind == "worker down":
                step = await self.while_worker_down(journeys, step)
                continue
            if kind == "worker at a gate":
                await self.restart_worker()
                await self.survived(journeys, step, f"a worker SIGKILL before step {step + 1}")
            elif kind == "server":
                await self.restart_server()
                await self.survived(journeys, step, f"a server SIGKILL before step {step + 1}")
            await asyncio.gather(*(self.send_invalid(j, step) for j in journeys))
            sends = [asyncio.ensure_future(self.first_send(journey, step)) for journey in journeys]
            if kind == "worker in flight":
                await asyncio.sleep(IN_FLIGHT_DELAY_SECONDS)
                self.figures.in_flight_at_kills += sum(not send.done() for send in sends)
                await self.restart_worker()
            await asyncio.gather(
                *(self.send_valid(j, step, first) for j, first in zip(journeys, sends, strict=True))
            )
            if kind == "worker in flight":
                await self.survived(journeys, step + 1, f"a worker SIGKILL during step {step + 1}")
            step += 1
        await self.check(journeys)
        self.figures.server_errors = len(self.doors.server_errors)
        self.figures.problems += self.doors.server_errors
        return self.figures

    async def while_worker_down(self, journeys: list[Journey], step: int) -> int:
        """SIGKILL the worker and send the next two steps of every case while none runs (each
        waits for a worker, then is queued as a signal), start it again and resend them with
        their decision ids, in order. Returns the step after them."""
        last = min(step + 2, len(STEPS))
        self.processes.kill_worker()
        firsts: dict[tuple[int, int], Outcome] = {}
        for down_step in range(step, last):
            outcomes = await asyncio.gather(*(self.first_send(j, down_step) for j in journeys))
            for journey, outcome in zip(journeys, outcomes, strict=True):
                firsts[journey.number, down_step] = outcome
                if outcome.kind == "queued":
                    self.figures.queued_while_down += 1
        await self.processes.start_worker()

        async def answered(outcome: Outcome) -> Outcome:
            return outcome

        for down_step in range(step, last):
            await asyncio.gather(
                *(
                    self.send_valid(j, down_step, answered(firsts[j.number, down_step]))
                    for j in journeys
                )
            )
        await self.survived(
            journeys, last, f"commands sent while no worker ran (steps {step + 1}-{last})"
        )
        return last

    async def check(self, journeys: list[Journey]) -> None:
        client = self.doors.client
        for journey in journeys:
            handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(journey.workflow_id)
            if not await finished(handle):
                self.figures.unfinished += 1
                self.figures.problems.append(f"{journey.workflow_id} did not finish")
            audit = await cases.audit_log(client, journey.workflow_id)
            mine = set(journey.sent)
            accepted = [e.decision_id for e in audit if e.outcome == "accepted"]
            twice = {i: n for i, n in Counter(accepted).items() if i in mine and n > 1}
            # A valid command a case refused when it arrived (a queued signal is judged then).
            refused = [e for e in audit if e.outcome == "refused" and e.decision_id in mine]
            # Lost: the engine took the command (an answer, or a promise to apply it) and the
            # case does not have it.
            lost = [i for i in journey.sent if i not in accepted and i not in journey.not_taken]
            applied = list(dict.fromkeys(i for i in accepted if i in mine))
            self.figures.lost += len(lost)
            self.figures.duplicated += sum(n - 1 for n in twice.values())
            self.figures.valid_refused += len({e.decision_id for e in refused} - journey.not_taken)
            if applied != [i for i in journey.sent if i in applied]:
                self.figures.out_of_order += 1
                self.figures.problems.append(f"{journey.workflow_id} applied {applied}")
            self.figures.problems += [
                f"{journey.workflow_id}: {e.decision_id} refused on arrival ({e.error_type}) "
                f"from {e.from_state}: {e.message}"
                for e in refused
            ]
            if lost:
                self.figures.problems.append(f"{journey.workflow_id} lost {lost}")
            if twice:
                self.figures.problems.append(f"{journey.workflow_id} applied twice {twice}")
        await self.replay_all()

    async def replay_all(self) -> None:
        """Replay every workflow on the server (finished and running) on today's code."""
        from worker import workflow_runner  # the worker's own sandbox, as it runs the cases

        replayer = Replayer(
            workflows=WORKFLOWS,
            data_converter=pydantic_data_converter,
            workflow_runner=workflow_runner(),
        )
        client = self.doors.client
        async for execution in client.list_workflows(""):
            history = await client.get_workflow_handle(
                execution.id, run_id=execution.run_id
            ).fetch_history()
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            self.figures.replays += 1
            if result.replay_failure is None:
                self.figures.replays_ok += 1
            else:
                self.figures.problems.append(
                    f"replay of {execution.id}: {result.replay_failure!r}"[:500]
                )


async def finished(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the case completed within FINISH_SECONDS."""
    deadline = time.monotonic() + FINISH_SECONDS
    while time.monotonic() < deadline:
        if (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
            return True
        await asyncio.sleep(0.5)
    return False


WORKER_KILLS = ("worker at a gate", "worker down", "worker in flight")


def schedule(steps: int, worker_kills: int, server_restarts: int) -> dict[int, str]:
    """Which step each disruption comes before (or during), spread over the journey at least
    two steps apart: worker kills (at a gate, while down for two steps, in flight, by turns)
    interleaved with server restarts."""
    kinds: list[str] = []
    kills, restarts = worker_kills, server_restarts
    while kills or restarts:
        if kills:
            kinds.append(WORKER_KILLS[(worker_kills - kills) % len(WORKER_KILLS)])
            kills -= 1
        if restarts:
            kinds.append("server")
            restarts -= 1
    span = steps - 1
    assert 2 * len(kinds) <= span, "disruptions come at least two steps apart"
    offset = span // (2 * len(kinds)) if kinds else 0
    return {1 + (n * span) // len(kinds) + offset: kind for n, kind in enumerate(kinds)}


@contextlib.contextmanager
def private_folder(keep: bool) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="osom-reliability-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


async def campaign(
    total: int, worker_kills: int, server_restarts: int, seed: int, keep: bool
) -> Figures:
    began = time.monotonic()
    with private_folder(keep) as folder:
        port = free_port()
        server = DevServer(db_file=folder / "temporal.db", port=port, ui_port=free_port({port}))
        task_queue = "osom-reliability"
        processes = EngineProcesses(server, engine_env(folder, server.address, task_queue), folder)
        try:
            client = await processes.start_server(connect_to)
            await processes.start_worker()
            book = TokenBook()
            tokens = {person: book.issue(person, "reliability") for person in PEOPLE}

            async def temporal() -> Client:
                return client

            app = create_app(temporal, lambda: book, task_queue)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://osom", timeout=2 * ANSWER_SECONDS
            ) as http:
                doors = Doors(client, http, tokens, task_queue)
                plan = schedule(len(STEPS), worker_kills, server_restarts)
                print(
                    f"OSOM reliability campaign: {total} cases, {worker_kills} worker SIGKILLs, "
                    f"{server_restarts} dev-server SIGKILLs and restarts, seed {seed}, "
                    f"dev server {server.address}"
                )
                for step, kind in sorted(plan.items()):
                    when = {"worker in flight": "during", "worker down": "from"}.get(kind)
                    print(f"  {when or 'before'} step {step + 1}: {kind}")
                figures = await Campaign(doors, processes, seed).run(total, plan)
        finally:
            processes.stop()
    print(f"took {time.monotonic() - began:.0f} s")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=6, help=f"proposals (1-{MAX_CASES})")
    parser.add_argument(
        "--worker-kills", type=int, default=3, help=f"worker SIGKILLs (0-{MAX_WORKER_KILLS})"
    )
    parser.add_argument(
        "--server-restarts",
        type=int,
        default=1,
        help=f"dev-server SIGKILLs and restarts (0-{MAX_SERVER_RESTARTS})",
    )
    parser.add_argument("--seed", type=int, default=10, help="which invalid commands are sent")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    for name, value, most in (
        ("--cases", args.cases, MAX_CASES),
        ("--worker-kills", args.worker_kills, MAX_WORKER_KILLS),
        ("--server-restarts", args.server_restarts, MAX_SERVER_RESTARTS),
    ):
        if not (1 if name == "--cases" else 0) <= value <= most:
            parser.error(f"{name} must be between {1 if name == '--cases' else 0} and {most}")
    if args.worker_kills + args.server_restarts > MAX_DISRUPTIONS:
        parser.error(f"at most {MAX_DISRUPTIONS} disruptions in all (two steps apart)")
    figures = asyncio.run(
        campaign(args.cases, args.worker_kills, args.server_restarts, args.seed, args.keep)
    )
    print(figures.table())
    print("invalid commands sent:")
    for what, count in sorted(figures.invalid_kinds.items()):
        print(f"  {count:3} {what}")
    for problem in figures.problems:
        print(f"problem: {problem}")
    broken = figures.broken()
    print("promises broken" if broken else "every promise kept")
    return 1 if broken else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The SDK's native threads can abort a finishing interpreter (DESIGN §7): keep our status.
    os._exit(code)
