"""Example cases in different states (``osom seed``), to try the inbox, the service network and
the Web UI on a fresh engine: Fenmoor's proposal waiting for triage, two services onboarded
(live and in beta), a published Correction of Error and a near miss being drafted."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import yaml
from temporalio.client import Client

from models.commands import ArtefactSubmission, Decision
from models.contract import BudgetAllocation, ServiceContract
from models.errors import CaseExists
from osom import cases
from osom.settings import EXAMPLES

Step = tuple[str, Callable[[], Awaitable[object]]]


def _example(name: str) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    data.pop("kind", None)
    return data


def _contract(example: str, service_id: str, manager: str, stage: str) -> ServiceContract:
    contract = _example(f"artefacts/{example}")["contract"]
    assert isinstance(contract, dict)
    contract["dependencies"] = [d for d in contract["dependencies"] if d != service_id]
    return ServiceContract.model_validate(
        contract | {"service_id": service_id, "service_manager": manager, "lifecycle_stage": stage}
    )


def seed_steps(client: Client, task_queue: str) -> list[Step]:
    mitigated = datetime.now(UTC) - timedelta(hours=2)

    async def proposal() -> object:
        started = await cases.start_new_service(
            client, cases.parse_proposal(_example("proposal.yaml")), "P-015", task_queue
        )
        return await cases.wait_until_open(client, started)

    async def onboard(example: str, service_id: str, manager: str, stage: str) -> object:
        budget = BudgetAllocation.model_validate(
            _example("artefacts/live-budget.yaml") | {"phase": stage}
        )
        contract = _contract(example, service_id, manager, stage)
        started = await cases.onboard_service(client, contract, "P-001", budget, (), task_queue)
        return await cases.wait_until_open(client, started)

    async def coe(
        coe_id: str, service_id: str, manager: str, document: str, publish: bool
    ) -> object:
        opening = {
            "coe_id": coe_id,
            "service_id": service_id,
            "problem": _example(f"artefacts/{document}")["title"],
            "detected_at": (mitigated - timedelta(minutes=45)).isoformat(),
            "mitigated_at": mitigated.isoformat(),
            "opened_by": manager,
        }
        workflow_id = await cases.open_coe(client, opening, task_queue)
        await cases.wait_until_open(client, workflow_id)
        draft = ArtefactSubmission(
            decision_id=uuid.uuid4().hex,
            actor=manager,
            kind="coe_document",
            content=_example(f"artefacts/{document}"),
        )
        await cases.submit(client, workflow_id, draft)
        if publish:
            decision = Decision(
                decision_id=uuid.uuid4().hex, actor=manager, trigger="coe_published"
            )
            await cases.decide(client, workflow_id, decision)
        return workflow_id

    return [
        ("proposal PRO-004 (waiting for triage)", proposal),
        (
            "service SVC-101, live",
            lambda: onboard("contract-for-live.yaml", "SVC-101", "P-013", "LIVE"),
        ),
        (
            "service SVC-102, in beta",
            lambda: onboard("contract-for-beta.yaml", "SVC-102", "P-014", "BETA"),
        ),
        (
            "COE-SEED-1 for SVC-101, published",
            lambda: coe("COE-SEED-1", "SVC-101", "P-013", "coe-document.yaml", publish=True),
        ),
        (
            "COE-SEED-2 for SVC-003, a near miss being drafted",
            lambda: coe("COE-SEED-2", "SVC-003", "P-012", "coe-near-miss.yaml", publish=False),
        ),
    ]


async def seed(client: Client, task_queue: str, report: Callable[[str], None]) -> None:
    """Run each step, saying how far it got; a case that exists already is left as it is."""
    steps = seed_steps(client, task_queue)
    for number, (what, step) in enumerate(steps, start=1):
        try:
            await step()
            report(f"[{number}/{len(steps)}] {what}")
        except CaseExists:
            report(f"[{number}/{len(steps)}] {what}: already there")
