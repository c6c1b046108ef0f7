"""``osom start``: start a case (a new service, an onboarded one, a Correction of Error)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.contract import BudgetAllocation, ServiceContract
from osom import cases
from osom.cli.common import Actor, model, run, wait_for_verdict
from osom.client import connect
from osom.documents import load_document
from osom.settings import Settings

start_app = typer.Typer(help="Start a case.", no_args_is_help=True)


@start_app.command("new-service")
def start_new_service(proposal_file: Path, actor: Actor) -> None:
    """Start establishing a new service from a proposal (demand record); prints the workflow id."""

    async def action() -> str:
        proposal = cases.parse_proposal(load_document(proposal_file))
        client = await connect()
        workflow_id = await cases.start_new_service(
            client, proposal, actor, Settings.from_env().task_queue
        )
        # The worker checks the demand against its directory: wait for its yes or no.
        await wait_for_verdict(client, workflow_id)
        return workflow_id

    typer.echo(run(action))


@start_app.command("onboard")
def onboard(
    contract_file: Path,
    actor: Actor,
    budget_file: Annotated[
        Path, typer.Option("--budget", help="the service's current budget (YAML/JSON)")
    ],
    team: Annotated[
        list[str] | None,
        typer.Option("--team", help="a team member (repeat); they may not assess the service"),
    ] = None,
) -> None:
    """Onboard an existing service (L2) at the stage its contract states; prints the workflow
    id. The contract names its service_manager and lifecycle_stage."""

    async def action() -> str:
        contract = model(ServiceContract, load_document(contract_file), "the contract")
        budget = model(BudgetAllocation, load_document(budget_file), "the budget")
        client = await connect()
        workflow_id = await cases.onboard_service(
            client, contract, actor, budget, tuple(team or ()), Settings.from_env().task_queue
        )
        await wait_for_verdict(client, workflow_id)
        return workflow_id

    typer.echo(run(action))


@start_app.command("coe")
def open_coe(
    actor: Actor,
    service: Annotated[str, typer.Option(help="the service where the problem arose (SVC-nnn)")],
    problem: Annotated[str, typer.Option(help="what went wrong, in a sentence")],
    detected: Annotated[str, typer.Option(help="when it was detected (ISO 8601 with zone)")],
    mitigated: Annotated[str, typer.Option(help="when it was mitigated (ISO 8601 with zone)")],
    coe_id: Annotated[
        str | None, typer.Option("--id", help="CoE id (default: the next COE-<year>-<nnn>)")
    ] = None,
    users_impacted: Annotated[
        int | None, typer.Option(help="users affected (0 for a near miss)")
    ] = None,
    severity: Annotated[str | None, typer.Option(help="SEV1 to SEV4 (orders reviews)")] = None,
    related: Annotated[
        list[str] | None, typer.Option("--related", help="a ticket or link (repeat)")
    ] = None,
) -> None:
    """Open a Correction of Error for a problem in a service (C1, with or without user impact);
    prints the workflow id. The Service Manager, or a team member for them, opens it."""
    opening: dict[str, object] = {
        "service_id": service,
        "problem": problem,
        "detected_at": detected,
        "mitigated_at": mitigated,
        "opened_by": actor,
        "users_impacted": users_impacted,
        "severity": severity,
        "related_items": related or [],
    }
    if coe_id:
        opening["coe_id"] = coe_id

    async def action() -> str:
        client = await connect()
        workflow_id = await cases.open_coe(client, opening, Settings.from_env().task_queue)
        await wait_for_verdict(client, workflow_id)
        return workflow_id

    typer.echo(run(action))
