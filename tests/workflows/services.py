"""Driving lifecycle and assessment cases in tests, through the client code the CLI uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models.assessment import Verdict, assessment_id_for
from models.commands import CommandResult
from models.contract import BudgetAllocation, ServiceContract
from models.criteria import AssessmentType
from models.ids import assessment_workflow_id
from osom import cases
from tests.examples import artefact
from tests.workflows.conftest import Engine
from tests.workflows.driver import Case, Tracked
from workflows._clock import add_working_days


class Service(Tracked):
    def __init__(self, engine: Engine, service_id: str) -> None:
        super().__init__(engine, f"service/{service_id}")
        self.service_id = service_id
        self.requested = 0

    async def next_assessment(self, kind: AssessmentType) -> Assessment:
        """The assessment the lifecycle requests next (ids count up per service)."""
        self.requested += 1
        assessment = Assessment(
            self.engine,
            assessment_workflow_id(assessment_id_for(self.service_id, self.requested)),
            self,
            kind,
        )
        status = await assessment.until(lambda s: s.state == "REQUESTED", "requested")
        assert status.facts["Type"] == kind
        return assessment

    async def alter_contract(self, example: str) -> CommandResult:
        data = artefact(example)
        data["contract"]["service_id"] = self.service_id
        return await self.decide("contract_altered", "P-001", data=data)

    async def report_metrics(self, period: str, decision_id: str | None = None) -> CommandResult:
        data = artefact("metric-report.yaml")
        data["period"] = period
        return await self.submit_artefact("metric_report", "P-013", data, decision_id)


class Assessment(Tracked):
    def __init__(self, engine: Engine, workflow_id: str, service: Service, kind: str) -> None:
        super().__init__(engine, workflow_id)
        self.service = service
        self.kind = kind

    @property
    def assessment_id(self) -> str:
        return self.workflow_id.split("/", 1)[1]

    async def schedule(self, in_working_days: int = 10) -> datetime:
        data = artefact("assessment-schedule.yaml")
        date = add_working_days(await self.now(), in_working_days)
        data["date"] = date.isoformat()
        await self.decide("assessment_scheduled", "P-004", data=data)
        return date

    async def held(self) -> list[str]:
        """Schedule, publish the agenda and hold the assessment; return the agenda's criteria."""
        date = await self.schedule()
        await self.decide("agenda_published", "P-004")
        await self.skip(date - await self.now() + timedelta(minutes=1))
        await self.decide("assessment_held", "P-004", data={"service_manager_attended": True})
        return (await self.status()).facts["Criteria"].split(", ")

    async def drafted(self, not_met: tuple[str, ...] = ()) -> None:
        """Held, and a decision recorded for every criterion (NOT_MET for ``not_met``)."""
        criteria = await self.held()
        await self.decide("decisions_recorded", "P-003", data=decisions(criteria, not_met))

    async def run_through(
        self,
        decision: str,
        *,
        not_met: tuple[str, ...] = (),
        override: Verdict | None = None,
        rationale: str | None = None,
    ) -> str:
        """Schedule, publish the agenda, hold it, record decisions and publish the report;
        return the report's assessment id once the lifecycle has it."""
        await self.drafted(not_met)
        publication: dict[str, Any] = {"lifecycle_decision": decision}
        if override is not None:
            publication |= {"result_override": override, "overall_rationale": rationale}
        await self.decide("report_published", "P-004", data=publication)
        await self.service.until(
            lambda s: self.assessment_id not in s.facts.get("Open assessments", ""),
            f"{self.assessment_id} reported",
        )
        return self.assessment_id


def decisions(criteria: list[str], not_met: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "criteria": [
            {
                "code": code,
                "decision": "NOT_MET" if code in not_met else "MET",
                "done_well": f"{code}: evidence shown",
                "to_improve": f"{code}: keep testing with users",
            }
            for code in criteria
        ]
    }


def contract_for(service_id: str, stage: str, example: str = "contract-for-live.yaml") -> Any:
    """An existing service's contract, as an organisation brings it to the engine (L2)."""
    contract = artefact(example)["contract"]
    contract["dependencies"] = [d for d in contract["dependencies"] if d != service_id]
    return ServiceContract.model_validate(
        contract | {"service_id": service_id, "service_manager": "P-013", "lifecycle_stage": stage}
    )


async def onboarded_service(
    engine: Engine,
    service_id: str,
    stage: str,
    example: str = "contract-for-live.yaml",
    actor: str = "P-001",
) -> Service:
    """An existing service brought under the engine at ``stage`` (L2)."""
    budget = BudgetAllocation.model_validate(artefact("live-budget.yaml") | {"phase": stage})
    workflow_id = await cases.onboard_service(
        engine.client,
        contract_for(service_id, stage, example),
        actor,
        budget,
        task_queue=engine.settings.task_queue,
    )
    await cases.wait_until_open(engine.client, workflow_id)
    return Service(engine, service_id)


async def established_service(engine: Engine, number: str) -> Service:
    """A proposal taken through establishment (E1-E10): its service is in Discovery."""
    case = await Case.start(engine, number)
    await case.to_ready()
    await case.submit("discovery-plan.yaml", "P-013", "discovery_plan")
    await case.decide("service_established", "P-001")
    service = Service(engine, case.service_id)
    await service.until(lambda s: s.state == "DISCOVERY", "in discovery")
    return service
