"""Contract tests over every process definition, and the establishment process against DOMAIN §9.3.

The generic tests run over every process of the registry (``workflows.PROCESSES``), so a new
process joins them by being registered.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any

import pytest

from models.case_state import Context
from models.establishment import EstablishmentCase
from models.people import Directory
from models.policy import ClockPolicy, Policy
from models.proposal import Proposal
from tests.unit.helpers import new_case, ready_case
from workflows import PROCESSES
from workflows._definition import ProcessDefinition
from workflows.correction_of_errors.definition import COE
from workflows.establishment.definition import ESTABLISHMENT
from workflows.lifecycle.definition import LIFECYCLE

DEFINITIONS: list[ProcessDefinition[Any]] = [process.definition for process in PROCESSES]

by_name = pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)


def state_names(definition: ProcessDefinition[Any]) -> set[str]:
    return {s.name for s in definition.states}


# -- generic contract ---------------------------------------------------------------------------


@by_name
def test_state_names_are_unique(definition: ProcessDefinition[Any]) -> None:
    names = [s.name for s in definition.states]
    assert len(names) == len(set(names))


@by_name
def test_initial_state_is_a_non_terminal_state(definition: ProcessDefinition[Any]) -> None:
    assert definition.initial in state_names(definition)
    assert not definition.state(definition.initial).terminal


@by_name
def test_every_state_is_reachable_from_the_initial_state(
    definition: ProcessDefinition[Any],
) -> None:
    reached = {definition.initial}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for t in definition.leaving(state):
            target = t.target(state)
            if target not in reached:
                reached.add(target)
                queue.append(target)
    assert state_names(definition) - reached == set()


@by_name
def test_terminal_states_have_no_exits(definition: ProcessDefinition[Any]) -> None:
    exits = {s.name: [t.id for t in definition.leaving(s.name)] for s in definition.states}
    terminal = {s.name for s in definition.states if s.terminal}
    assert terminal
    assert {name: ids for name, ids in exits.items() if name in terminal and ids} == {}


@by_name
def test_non_terminal_states_have_at_least_one_exit(definition: ProcessDefinition[Any]) -> None:
    stuck = [s.name for s in definition.states if not s.terminal and not definition.leaving(s.name)]
    assert stuck == []


@by_name
def test_non_terminal_states_can_leave_themselves(definition: ProcessDefinition[Any]) -> None:
    """An exit that only loops back (E7, E8) does not count: some move must change the state."""
    stuck = [
        s.name
        for s in definition.states
        if not s.terminal and all(t.target(s.name) == s.name for t in definition.leaving(s.name))
    ]
    assert stuck == []


@by_name
def test_triggers_are_unique(definition: ProcessDefinition[Any]) -> None:
    triggers = [t.trigger for t in definition.transitions] + [definition.start[1]]
    assert len(triggers) == len(set(triggers))


@by_name
def test_transition_ids_are_unique(definition: ProcessDefinition[Any]) -> None:
    ids = [t.id for t in definition.transitions] + [definition.start[0]]
    assert len(ids) == len(set(ids))


@by_name
def test_every_transition_sources_and_dest_are_states(definition: ProcessDefinition[Any]) -> None:
    names = state_names(definition)
    for t in definition.transitions:
        assert t.source, t.id
        assert set(t.source) <= names, t.id
        assert t.dest is None or t.dest in names, t.id


@by_name
def test_every_transition_has_a_permit(definition: ProcessDefinition[Any]) -> None:
    # only the transitions the engine fires itself have no people
    assert [t.id for t in definition.transitions if not t.who and not t.automatic] == []


@by_name
def test_every_clock_named_by_a_state_is_defined_and_in_the_policy(
    definition: ProcessDefinition[Any],
) -> None:
    defined = {c.name for c in definition.clocks}
    named = {c for s in definition.states for c in s.clocks}
    assert named <= defined
    for clock in named:
        spec = definition.clock(clock)
        assert spec.name == clock
        # timed by the policy's working days, or by the definition's own due date
        if spec.due is None:
            assert isinstance(Policy().clock(definition.name, clock), ClockPolicy)


@by_name
def test_every_defined_clock_is_used_and_has_people_to_tell(
    definition: ProcessDefinition[Any],
) -> None:
    named = {c for s in definition.states for c in s.clocks}
    for clock in definition.clocks:
        assert clock.name in named
        # a clock either tells people at its due date or performs a recurring duty
        assert clock.on_due or clock.escalate_to


@by_name
def test_terminal_states_run_no_clock(definition: ProcessDefinition[Any]) -> None:
    assert [s.name for s in definition.states if s.terminal and s.clocks] == []


@by_name
def test_every_artefact_spec_names_existing_states(definition: ProcessDefinition[Any]) -> None:
    names = state_names(definition)
    for spec in definition.artefacts:
        assert spec.states, spec.kind
        assert set(spec.states) <= names, spec.kind
        assert not any(definition.state(s).terminal for s in spec.states), spec.kind
        assert spec.who, spec.kind


@by_name
def test_every_effect_named_by_a_transition_is_declared(
    definition: ProcessDefinition[Any],
) -> None:
    undeclared = {
        (t.id, effect)
        for t in definition.transitions
        for effect in t.effects
        if effect not in definition.effects
    }
    assert undeclared == set()


# Requirements met from outside the case name no supplier: time passing (the assessment date)
# and the reports an assessment's own panel publishes.
OUTSIDE_THE_CASE = {"assessment": {""}, "lifecycle": {""}, "coe_review": {""}}


@by_name
def test_every_requirement_names_a_trigger_or_artefact_that_supplies_it(
    definition: ProcessDefinition[Any],
) -> None:
    for t in definition.transitions:
        for requirement in t.needs:
            supplier = requirement.supplied_by
            if supplier in OUTSIDE_THE_CASE.get(definition.name, set()):
                continue
            assert definition.transition(supplier) or definition.artefact(supplier), (
                t.id,
                requirement.name,
            )
            assert definition.permits_for(supplier), (t.id, requirement.name)


@by_name
def test_internal_transitions_do_not_count_as_progress(
    definition: ProcessDefinition[Any],
) -> None:
    assert [t.id for t in definition.transitions if t.dest is None and t.progress] == []


# -- the establishment process against DOMAIN §9.3 ----------------------------------------------

# DOMAIN §9.3 table: id -> (trigger, sources, destination; None = stays in the same state).
PRE_ESTABLISHED = {"PROPOSED", "IN_TRIAGE", "APPROVED", "CONTRACT_DRAFTING", "READY_TO_ESTABLISH"}
DOMAIN_9_3: dict[str, tuple[str, set[str], str | None]] = {
    "E2": ("triage_started", {"PROPOSED"}, "IN_TRIAGE"),
    "E3": ("routed_to_existing_service", {"IN_TRIAGE"}, "ROUTED_TO_EXISTING"),
    "E4": ("proposal_declined", {"IN_TRIAGE"}, "DECLINED"),
    "E5": ("proposal_approved", {"IN_TRIAGE"}, "APPROVED"),
    "E6": ("drafting_started", {"APPROVED"}, "CONTRACT_DRAFTING"),
    "E7": ("sm_appointed", {"CONTRACT_DRAFTING"}, None),
    "E8": ("discovery_budget_allocated", {"CONTRACT_DRAFTING"}, None),
    "E9": ("draft_completed", {"CONTRACT_DRAFTING"}, "READY_TO_ESTABLISH"),
    "E10": ("service_established", {"READY_TO_ESTABLISH"}, "ESTABLISHED"),
    "E11": ("proposal_withdrawn", PRE_ESTABLISHED, "WITHDRAWN"),
}
# Transitions whose DOMAIN row asks for a reason or for data: E3 (target, consultation),
# E4 (reason), E7 (the person), E8 (amount), E11 (reason).
DOMAIN_WITH_INPUT = {"E3", "E4", "E7", "E8", "E11"}
# Per process (by definition name): the transitions the domain lets take a reason or data.
TAKES_INPUT: dict[str, set[str]] = {
    "establishment": DOMAIN_WITH_INPUT,
    # every lifecycle move people make carries its report, budget, reasons or new content
    "lifecycle": {t.id for t in LIFECYCLE.transitions if not t.automatic},
    "assessment": {"A2", "A3", "A4", "A5", "A6", "A7", "A10"},
    # C10a (asking to close) and C13 (archived by the engine) take nothing
    "coe": {t.id for t in COE.transitions} - {"C10a", "C10", "C13"},
    "coe_review": {"R2", "R2b", "R3", "R4", "R5"},
}


def test_establishment_starts_with_e1_demand_raised_in_proposed() -> None:
    assert ESTABLISHMENT.start == ("E1", "demand_raised")
    assert ESTABLISHMENT.initial == "PROPOSED"


def test_establishment_states_are_those_of_domain() -> None:
    assert state_names(ESTABLISHMENT) == PRE_ESTABLISHED | {
        "ROUTED_TO_EXISTING",
        "DECLINED",
        "ESTABLISHED",
        "WITHDRAWN",
    }
    terminal = {s.name for s in ESTABLISHMENT.states if s.terminal}
    assert terminal == {"ROUTED_TO_EXISTING", "DECLINED", "ESTABLISHED", "WITHDRAWN"}


def test_establishment_transition_ids_are_e2_to_e11() -> None:
    assert [t.id for t in ESTABLISHMENT.transitions] == [f"E{i}" for i in range(2, 12)]


@pytest.mark.parametrize("transition_id", sorted(DOMAIN_9_3))
def test_establishment_transition_matches_domain_table(transition_id: str) -> None:
    trigger, sources, dest = DOMAIN_9_3[transition_id]
    spec = ESTABLISHMENT.transition(trigger)
    assert spec is not None
    assert spec.id == transition_id
    assert set(spec.source) == sources
    assert spec.dest == dest


def test_withdrawal_is_possible_from_every_non_terminal_state() -> None:
    spec = ESTABLISHMENT.transition("proposal_withdrawn")
    assert spec is not None
    assert set(spec.source) == {s.name for s in ESTABLISHMENT.states if not s.terminal}


@by_name
def test_only_domain_transitions_take_a_reason_or_data(
    definition: ProcessDefinition[Any],
) -> None:
    with_input = {t.id for t in definition.transitions if t.reason_required or t.data}
    assert with_input <= TAKES_INPUT[definition.name]


def test_establishment_reasons_are_required_where_domain_asks_for_one() -> None:
    required = {t.id for t in ESTABLISHMENT.transitions if t.reason_required}
    assert {"E4", "E11"} <= required


def test_establishment_data_models_are_given_for_e3_e7_e8() -> None:
    assert {t.id for t in ESTABLISHMENT.transitions if t.data} == {"E3", "E7", "E8"}


def test_establishment_clocks_are_triage_and_drafting_as_in_domain_timers() -> None:
    clocks = {s.name: s.clocks for s in ESTABLISHMENT.states}
    assert clocks["PROPOSED"] == clocks["IN_TRIAGE"] == ("triage",)
    assert clocks["APPROVED"] == clocks["CONTRACT_DRAFTING"] == ("drafting",)
    assert clocks["READY_TO_ESTABLISH"] == ("drafting",)


# -- derived views: blockers and the diagram ------------------------------------------------------


# A view of the case: made at some moment, by no one (SYSTEM).
VIEW = Context(now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def triggers_from(state: str) -> list[str]:
    return [t.trigger for t in ESTABLISHMENT.leaving(state)]


def test_blockers_list_what_e9_still_needs_and_who_supplies_it(
    directory: Directory, policy: Policy, proposal: Proposal
) -> None:
    case: EstablishmentCase = new_case(directory, policy, proposal, state="CONTRACT_DRAFTING")
    blockers = {
        b.id: b for b in ESTABLISHMENT.blockers(case, triggers_from("CONTRACT_DRAFTING"), VIEW)
    }
    assert set(blockers) == {"E9"}  # E7, E8 and E11 are not progress
    e9 = blockers["E9"]
    assert e9.missing == [
        "service contract draft: no service_contract draft has been submitted",
        "Service Manager: no Service Manager has been appointed (sm_appointed)",
        "discovery budget: no discovery budget has been allocated (discovery_budget_allocated)",
    ]
    # who can supply: the contract's submitters, then those who may fire E7 and E8
    assert "APPOINTED_SM" in e9.who
    assert "ETM with 'appoint_service_manager'" in e9.who
    assert "ETM with 'allocate_budget'" in e9.who


def test_blockers_name_the_permits_of_the_move_once_nothing_is_missing(
    directory: Directory, policy: Policy, proposal: Proposal
) -> None:
    case = ready_case(directory, policy, proposal)
    [e10] = ESTABLISHMENT.blockers(case, triggers_from("READY_TO_ESTABLISH"), VIEW)
    assert e10.id == "E10"
    assert e10.missing == []
    assert e10.who == ["EXEC", "ETM with 'publish_contract'"]


def test_mermaid_has_every_transition_and_marks_the_current_state() -> None:
    text = ESTABLISHMENT.mermaid(current="IN_TRIAGE")
    assert text.startswith("stateDiagram-v2\n")
    assert "[*] --> PROPOSED: E1 demand_raised" in text
    for t in ESTABLISHMENT.transitions:
        for source in t.source:
            assert f"{source} --> {t.target(source)}: {t.id} {t.trigger} by " in text
    for s in ESTABLISHMENT.states:
        assert (f"{s.name} --> [*]" in text) == s.terminal
    assert "class IN_TRIAGE current" in text
    assert "class " not in ESTABLISHMENT.mermaid()


def test_every_effect_is_a_notification_or_performed_by_the_workflow() -> None:
    from workflows import PROCESSES

    for process in PROCESSES:
        definition = process.definition
        # The steps map only names bound methods: an instance that never ran can list them.
        performed = set(process.workflow.steps(object.__new__(process.workflow)))
        without_recipients = {name for name, e in definition.effects.items() if not e.recipients}
        assert performed == without_recipients, f"{definition.name}: a step without a handler"
        for name in definition.start_effects:
            assert name in definition.effects


@by_name
def test_people_are_never_offered_a_trigger_the_engine_fires_itself(
    definition: ProcessDefinition[Any],
) -> None:
    from workflows._view import people_triggers

    every = [t.trigger for t in definition.transitions]
    offered = people_triggers(definition, every)
    assert offered == [t.trigger for t in definition.transitions if not t.automatic]
