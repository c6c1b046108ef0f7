"""A service's whole life on a real server, over simulated months (DOMAIN §3, §4, §9.1, §9.2)."""

from __future__ import annotations

from models.criteria import AssessmentType
from tests.examples import artefact
from tests.workflows.conftest import Engine
from tests.workflows.services import established_service


async def test_establishment_hands_the_service_to_its_lifecycle_with_contract_v1(
    engine: Engine, unique: str
) -> None:
    service = await established_service(engine, unique)

    status = await service.status()
    assert status.process == "lifecycle"
    assert status.state == "DISCOVERY"
    assert status.artefacts["service_contract"].version == 1
    assert status.facts["Service Manager"] == "P-013"
    first = await service.next_assessment(AssessmentType.DISCOVERY_EXIT)
    assert (await first.status()).service_id == service.service_id


async def test_a_service_lives_its_whole_life_through_gates_and_reassessments(
    engine: Engine, unique: str
) -> None:
    service = await established_service(engine, unique)
    exec_, finance = "P-001", "P-002"

    # Discovery, round 1: the panel asks for more research; a second round with a new budget.
    discovery = await service.next_assessment(AssessmentType.DISCOVERY_EXIT)
    report = await discovery.run_through("MORE_RESEARCH")
    await service.decide(
        "further_discovery_approved",
        exec_,
        data={"report": report, "budget": artefact("second-discovery-budget.yaml")},
    )
    status = await service.status()
    assert (status.state, status.facts["Round"]) == ("DISCOVERY", "2")

    # Round 2 progresses to alpha, once the contract names a validated need.
    discovery = await service.next_assessment(AssessmentType.DISCOVERY_EXIT)
    report = await discovery.run_through("PROGRESS_TO_ALPHA")
    await service.alter_contract("contract-for-alpha.yaml")
    await service.decide(
        "progress_to_alpha", exec_, data={"report": report, "budget": artefact("alpha-budget.yaml")}
    )
    assert (await service.status()).state == "ALPHA"

    alpha = await service.next_assessment(AssessmentType.ALPHA_EXIT)
    report = await alpha.run_through("PROGRESS_TO_BETA")
    await service.alter_contract("contract-for-beta.yaml")
    await service.decide("budget_changed", finance, data=artefact("beta-budget.yaml"))
    await service.decide("progress_to_beta", exec_, data={"report": report})
    assert (await service.status()).state == "BETA"

    # Beta: NOT_MET first; the service stays in beta and is reassessed.
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    report = await beta.run_through("CONTINUE_BETA", not_met=("C5",))
    await service.decide("beta_continued", exec_, data={"report": report})
    beta = await service.next_assessment(AssessmentType.BETA_EXIT)
    report = await beta.run_through("GO_LIVE")
    await service.alter_contract("contract-for-live.yaml")
    await service.report_metrics("2027-09")
    await service.decide(
        "go_live_approved", exec_, data={"report": report, "budget": artefact("live-budget.yaml")}
    )
    status = await service.status()
    assert status.state == "LIVE"
    assert status.next_assessment_due is not None

    # Live: the cadence requests a periodic assessment every six months.
    for done in (1, 2):
        assert status.next_assessment_due is not None
        await service.skip(status.next_assessment_due - await service.now())
        periodic = await service.next_assessment(AssessmentType.LIVE_PERIODIC)
        await periodic.run_through("NONE")  # returns once the lifecycle recorded it
        status = await service.status()
        trail = [e.command for e in await service.audit_log()]
        assert trail.count("periodic_assessment_recorded") == done

    await service.decide(
        "decommissioning_started", exec_, data=artefact("decommission.yaml"), reason="replaced"
    )
    await service.decide("decommission_completed", exec_)
    status = await service.status()
    assert status.state == "DECOMMISSIONED"
    contract = status.artefacts["service_contract"]
    trail = [e.command for e in await service.audit_log() if e.outcome != "refused"]
    assert trail.count("periodic_assessment_recorded") == 2
    assert contract.version >= 8
