"""Which deadline clocks a case should be running, and which event comes next (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from models.case_state import CaseState, ClockState
from models.policy import ClockPolicy
from workflows import _clock
from workflows._definition import ClockSpec, ProcessDefinition

C = TypeVar("C", bound=CaseState)


def clock_policy(definition: ProcessDefinition[C], case: C, name: str) -> ClockPolicy | None:
    """The pinned policy's working days for a clock; None for clocks the definition times."""
    spec = definition.clock(name)
    return spec.policy(case.policy) if spec.policy else None


def reconcile(definition: ProcessDefinition[C], case: C, now: datetime) -> dict[str, ClockState]:
    """The clocks that should run now: those of the current state whose condition holds. A
    running clock keeps its schedule (and reminders sent) unless its epoch changed."""
    state = definition.state(case.state)
    if state.terminal:
        return {}
    wanted: dict[str, ClockState] = {}
    for name in state.clocks:
        spec = definition.clock(name)
        if spec.active is not None and not spec.active(case):
            continue
        epoch = spec.epoch(case) if spec.epoch else ""
        running = case.clocks.get(name)
        if running is not None and running.epoch == epoch:
            wanted[name] = running
        else:
            wanted[name] = start(definition, spec, case, now, epoch)
    return wanted


def start(
    definition: ProcessDefinition[C],
    spec: ClockSpec[C],
    case: C,
    now: datetime,
    epoch: str = "",
) -> ClockState:
    policy = clock_policy(definition, case, spec.name)
    if spec.due is not None:
        due = spec.due(case, now)
    elif policy is not None:
        due = _clock.add_working_days(now, policy.due_wd)
    else:
        raise ValueError(f"clock {spec.name} has neither a policy entry nor a due function")
    reminders = policy.reminder_wd if policy else None
    return _clock.start_clock(spec.name, spec.label, now, due, reminders, epoch)


def next_deadline(case: CaseState) -> tuple[str, datetime, str] | None:
    """The clock whose event comes first: its name, when, and 'remind' or 'escalate'."""
    events = []
    for name, clock in sorted(case.clocks.items()):
        at, kind = _clock.next_event(clock)
        events.append((at, name, kind))
    if not events:
        return None
    at, name, kind = min(events)
    return name, at, kind
