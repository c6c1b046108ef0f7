"""The campaign: every journey a step at a time, an invalid command before each valid one, and
the worker or the dev server SIGKILLed between (or during) steps."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable

import yaml

from models.errors import OsomError
from models.ids import proposal_workflow_id
from models.proposal import Proposal
from osom import cases
from osom.reliability.checks import check
from osom.reliability.doors import Door, Doors, Outcome, as_json
from osom.reliability.figures import Figures
from osom.reliability.invalid import Invalid, invalid_commands
from osom.reliability.journeys import PROPOSER, STEPS, Journey, snapshot, valid_command
from osom.reliability.processes import EngineProcesses, connect_to
from osom.settings import EXAMPLES

# Bounds: every wait and loop of the campaign ends.
RESEND_ATTEMPTS = 8
RESEND_PAUSE_SECONDS = 1.0
ANSWER_SECONDS = 60.0
# How long after sending a step's commands the worker is killed "in flight".
IN_FLIGHT_DELAY_SECONDS = 0.01


class Campaign:
    def __init__(self, doors: Doors, processes: EngineProcesses, seed: int) -> None:
        self.doors = doors
        self.processes = processes
        self.random = random.Random(seed)
        self.figures = Figures()
        self._invalid_ids = 0
        self.worker_died = False

    # -- valid commands ---------------------------------------------------------------------

    async def send_valid(self, journey: Journey, step: int, first: Awaitable[Outcome]) -> None:
        """Await the first send, then resend with the same decision id while the answer is
        'queued' or 'no answer' (bounded)."""
        cmd = valid_command(journey, step)
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
        cmd = valid_command(journey, step)
        return self.doors.send(journey.door(step), journey.workflow_id, cmd)

    # -- invalid commands -------------------------------------------------------------------

    def _new_id(self, journey: Journey) -> str:
        self._invalid_ids += 1
        return f"{journey.proposal_id}-invalid-{self._invalid_ids}"

    def invalid_commands(self, journey: Journey, step: int, door: Door) -> list[Invalid]:
        """The invalid commands that make sense before ``step`` at ``door``."""
        return invalid_commands(journey, step, door, self._new_id(journey))

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
        document = as_json(yaml.safe_load((EXAMPLES / "proposal.yaml").read_text(encoding="utf-8")))
        proposal_id = f"PRO-{number}"
        document["id"] = proposal_id
        workflow_id = proposal_workflow_id(proposal_id)
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
        await check(self.doors.client, journeys, self.figures)
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
