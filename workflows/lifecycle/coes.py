"""The service's Corrections of Error, as its lifecycle sees them (DOMAIN §9.4).

A CoE of this service tells the lifecycle where its newest corrective actions register is
stored; the open actions in it count for the service's gates, and one long overdue holds them
(a timer of the lifecycle's own). The CoEs ask the lifecycle who the service is. Runs only
inside the lifecycle workflow.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.coe import ServiceProfile
    from models.coe_actions import ActionsRegister, CoeActionsNotice, CoeSeen
    from models.ids import coe_workflow_id
    from models.lifecycle import LifecycleCase
    from workflows import _records
    from workflows._case import SYSTEM, CaseEngine
    from workflows._timers import TimerEvent
    from workflows.lifecycle.rules import gate_hold_key, next_gate_hold


def profile(case: LifecycleCase) -> ServiceProfile:
    """The service's name, phase, Service Manager and team (for its CoEs)."""
    return ServiceProfile(
        service_id=case.contract.service_id,
        name=case.contract.name,
        service_manager=case.service_manager,
        stage=case.state,
        team=case.team,
        in_engine=True,
    )


async def actions_changed(engine: CaseEngine[LifecycleCase], notice: CoeActionsNotice) -> bool:
    """Counts only a register the store holds for that CoE and this service, newer than
    the last one taken in: the signal itself is trusted for nothing else."""
    case = engine.case
    register = await stored_register(case, notice)
    seen = case.coes.get(notice.coe_id)
    if register is None or (seen is not None and register.version <= seen.register_version):
        workflow.logger.warning("coe.register_ignored", extra={"coe": notice.coe_id})
        return False
    case.coes[notice.coe_id] = CoeSeen(
        register_version=register.version,
        ended=register.ended,
        open_actions=register.open_actions(),
    )
    current = {
        gate_hold_key(coe_id, a) for coe_id, seen in case.coes.items() for a in seen.open_actions
    }
    case.gate_holds = [key for key in case.gate_holds if key in current]
    return True


async def stored_register(case: LifecycleCase, notice: CoeActionsNotice) -> ActionsRegister | None:
    """The register the store holds where that CoE writes it, if it is this service's."""
    ref = notice.actions
    if ref.kind != "corrective_actions" or not ref.stored_under(coe_workflow_id(notice.coe_id)):
        return None
    summary = f"read the corrective actions of {notice.coe_id}"
    register = await _records.read_stored(ref, ActionsRegister, summary)
    if (
        register is None
        or register.coe_id != notice.coe_id
        or register.service_id != case.contract.service_id
        or register.version != ref.version
    ):
        return None
    return register


class GateHolds:
    """The timer that holds the gates when a corrective action becomes long overdue: what
    ``TimerLoop.keep`` takes (the next hold, firing it, its summary)."""

    def __init__(self, engine: CaseEngine[LifecycleCase]) -> None:
        self._engine = engine

    def next_hold(self) -> TimerEvent | None:
        engine = self._engine
        return None if engine.final() else next_gate_hold(engine.case)

    async def held(self, key: str, kind: str) -> None:
        """An action has just become long overdue: progress and go-live wait for it. Say so
        (the case page and who the case waits for change now, not at the next command)."""
        engine = self._engine
        case = engine.case
        case.gate_holds.append(key)
        coe_id, action_id, due = key.split("/")
        reason = (
            f"{coe_id} {action_id} (due {due}) is more than {case.policy.coe.gate_overdue_wd} "
            "working days overdue: progress and go-live wait until it is done or cancelled"
        )
        engine.audit(SYSTEM, "gate_held_by_action", case.state, case.state, "system", reason)
        engine.notify(
            "escalation",
            [case.service_manager, case.directory.executive.id],
            f"{case.title}: gates held by {coe_id} {action_id}",
            reason,
        )

    def summary(self, key: str, kind: str) -> str:
        return f"corrective action {key} holds the gates"
