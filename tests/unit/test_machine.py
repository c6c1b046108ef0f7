"""The ``transitions`` machine built from a definition: legal moves, refusals, where moves land."""

from __future__ import annotations

from typing import Any

import pytest

from workflows._definition import ProcessDefinition, TransitionSpec
from workflows._machine import ProcessMachine
from workflows.establishment.definition import ESTABLISHMENT

DEFINITIONS: list[ProcessDefinition[Any]] = [ESTABLISHMENT]


class Holder:
    """The case's one copy of the state, read and written by the machine through callables."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.writes: list[str] = []

    def read(self) -> str:
        return self.state

    def write(self, value: str) -> None:
        self.writes.append(value)
        self.state = value


def machine_in(definition: ProcessDefinition[Any], state: str) -> tuple[ProcessMachine, Holder]:
    holder = Holder(state)
    return ProcessMachine(definition, holder.read, holder.write), holder


def _cases(legal: bool) -> list[Any]:
    cases = []
    for definition in DEFINITIONS:
        for t in definition.transitions:
            for s in definition.states:
                if (s.name in t.source) == legal:
                    cases.append(
                        pytest.param(definition, t, s.name, id=f"{t.id}-{t.trigger}-{s.name}")
                    )
    return cases


@pytest.mark.parametrize(("definition", "transition", "source"), _cases(legal=True))
def test_transition_is_legal_from_its_source_and_lands_in_its_dest(
    definition: ProcessDefinition[Any], transition: TransitionSpec[Any, Any], source: str
) -> None:
    machine, holder = machine_in(definition, source)
    assert machine.is_legal(transition.trigger)
    assert transition.trigger in machine.legal_triggers()
    expected = transition.dest if transition.dest is not None else source
    assert machine.fire(transition.trigger) == expected
    assert holder.state == expected
    assert machine.state == expected


@pytest.mark.parametrize(("definition", "transition", "source"), _cases(legal=False))
def test_transition_is_refused_from_every_other_state(
    definition: ProcessDefinition[Any], transition: TransitionSpec[Any, Any], source: str
) -> None:
    machine, holder = machine_in(definition, source)
    assert not machine.is_legal(transition.trigger)
    assert transition.trigger not in machine.legal_triggers()
    with pytest.raises(RuntimeError, match="not legal from"):
        machine.fire(transition.trigger)
    assert holder.state == source


def test_internal_transitions_e7_e8_stay_in_contract_drafting() -> None:
    machine, holder = machine_in(ESTABLISHMENT, "CONTRACT_DRAFTING")
    assert machine.fire("sm_appointed") == "CONTRACT_DRAFTING"
    assert machine.fire("discovery_budget_allocated") == "CONTRACT_DRAFTING"
    assert holder.state == "CONTRACT_DRAFTING"


@pytest.mark.parametrize("state", [s.name for s in ESTABLISHMENT.states])
def test_legal_triggers_are_exactly_those_leaving_the_state(state: str) -> None:
    machine, _ = machine_in(ESTABLISHMENT, state)
    assert sorted(machine.legal_triggers()) == sorted(
        t.trigger for t in ESTABLISHMENT.leaving(state)
    )


def test_unknown_trigger_is_not_legal_and_does_not_fire() -> None:
    machine, holder = machine_in(ESTABLISHMENT, "PROPOSED")
    assert not machine.is_legal("no_such_trigger")
    with pytest.raises(RuntimeError, match="no_such_trigger is not legal from PROPOSED"):
        machine.fire("no_such_trigger")
    assert holder.state == "PROPOSED"


def test_machine_has_no_auto_transitions() -> None:
    machine, _ = machine_in(ESTABLISHMENT, "PROPOSED")
    assert not any(t.startswith("to_") for t in machine.legal_triggers())
    assert not machine.is_legal("to_ESTABLISHED")


def test_machine_follows_the_holder_when_the_state_changes_outside_it() -> None:
    """The case state stays the one copy of the truth (e.g. restored from workflow history)."""
    machine, holder = machine_in(ESTABLISHMENT, "PROPOSED")
    holder.state = "READY_TO_ESTABLISH"
    assert machine.state == "READY_TO_ESTABLISH"
    assert machine.is_legal("service_established")
    assert not machine.is_legal("triage_started")
    assert machine.fire("service_established") == "ESTABLISHED"
    assert holder.state == "ESTABLISHED"


def test_a_whole_path_through_the_process_writes_each_state_to_the_holder() -> None:
    machine, holder = machine_in(ESTABLISHMENT, "PROPOSED")
    holder.writes.clear()
    for trigger in (
        "triage_started",
        "proposal_approved",
        "drafting_started",
        "sm_appointed",
        "discovery_budget_allocated",
        "draft_completed",
        "service_established",
    ):
        machine.fire(trigger)
    assert holder.state == "ESTABLISHED"
    assert [w for w in holder.writes if w != "CONTRACT_DRAFTING"] == [
        "IN_TRIAGE",
        "APPROVED",
        "READY_TO_ESTABLISH",
        "ESTABLISHED",
    ]
    assert machine.legal_triggers() == []
