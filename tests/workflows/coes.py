"""Driving Corrections of Error and review sessions in tests, through the client code the CLI
uses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from models.coe_review import ReviewSessionInput
from models.commands import CommandResult
from models.ids import coe_workflow_id
from osom import cases
from tests.examples import artefact
from tests.workflows.conftest import Engine
from tests.workflows.driver import Tracked
from workflows import ReviewSessionWorkflow


class Coe(Tracked):
    def __init__(self, engine: Engine, coe_id: str, service_id: str, manager: str) -> None:
        super().__init__(engine, coe_workflow_id(coe_id))
        self.coe_id = coe_id
        self.service_id = service_id
        self.manager = manager

    @classmethod
    async def open(
        cls,
        engine: Engine,
        coe_id: str,
        service_id: str,
        manager: str,
        opened_by: str | None = None,
        mitigated_hours_ago: float = 1,
    ) -> Coe:
        """Open a CoE as the CLI does, for a problem mitigated a little while ago."""
        mitigated = datetime.now(UTC) - timedelta(hours=mitigated_hours_ago)
        opening: dict[str, Any] = {
            "coe_id": coe_id,
            "service_id": service_id,
            "problem": "The shared ingress served an expired certificate",
            "detected_at": (mitigated - timedelta(minutes=45)).isoformat(),
            "mitigated_at": mitigated.isoformat(),
            "opened_by": opened_by or manager,
        }
        workflow_id = await cases.open_coe(engine.client, opening, engine.settings.task_queue)
        await cases.wait_until_open(engine.client, workflow_id)
        return cls(engine, coe_id, service_id, manager)

    async def document(
        self, example: str = "coe-document.yaml", due_in_days: tuple[int, ...] = (20, 30)
    ) -> dict[str, Any]:
        """The example document, its actions due the given days after the case's now."""
        content = artefact(example)
        today = (await self.now()).date()
        for action, days in zip(content["corrective_actions"], due_in_days, strict=False):
            action["due"] = (today + timedelta(days=days)).isoformat()
        return content

    async def write(self, content: dict[str, Any] | None = None) -> CommandResult:
        return await self.submit_artefact(
            "coe_document", self.manager, content or await self.document()
        )

    async def publish(self, acknowledged: str | None = None) -> CommandResult:
        data = {"names_acknowledged": acknowledged} if acknowledged else {}
        return await self.decide("coe_published", self.manager, data=data)

    async def in_the_pool(self) -> None:
        """Visibility lists the CoE as published (a session's draw reads the pool there)."""
        query = f"OsomCaseId = '{self.coe_id}' AND OsomState = 'PUBLISHED'"
        for _ in range(100):
            if (await self.engine.client.count_workflows(query)).count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.coe_id} never showed in the review pool")

    async def complete(self, action_id: str, actor: str) -> CommandResult:
        data = {"action_id": action_id, "evidence": f"https://evidence.example/{action_id}"}
        return await self.decide("action_completed", actor, data=data)


class Session(Tracked):
    """A review session, started by hand (the schedule's own start is tested on its own)."""

    @classmethod
    async def start(cls, engine: Engine, name: str, services: tuple[str, ...]) -> Session:
        workflow_id = f"coe-review-{name}"
        await engine.client.start_workflow(
            ReviewSessionWorkflow.run,
            ReviewSessionInput(services=services, started_by="P-001"),
            id=workflow_id,
            task_queue=engine.settings.task_queue,
        )
        session = cls(engine, workflow_id)
        await session.until(lambda s: s.state != "STARTING", "drawn")
        return session
